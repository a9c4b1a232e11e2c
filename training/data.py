"""The labelled comments the model learns from: the project's own corpus and the public sets.

Every set is read into Examples with the categories it stands for. The public sets are read from where they
are kept (``--shared``, ../shared by default) and never copied into the repository.
"""

from __future__ import annotations

import csv
import html
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from monitor.filter.verdict import CATEGORIES as FILTER_CATEGORIES

# The model learns every category but "negative", which is VADER's alone.
CATEGORIES = tuple(category for category in FILTER_CATEGORIES if category != "negative")
# The made-up organisations the corpus's comments name; the model reads comments without their names (see
# monitor/filter/features.name_words), as the running filter reads them without the configured organisation's.
CORPUS_ORGANISATIONS = (
    "Brightwater Care",
    "Oakfield Care",
    "Hollybank Support",
    "Kindred Care",
    "Cedarwood Support",
    "Oakleigh Care",
    "Rowan Care",
    "Hollin Care",
    "Ashgrove Care",
    "Meadowbank Care",
    "Fernlea Care",
    "Fernlea Homecare",
    "Moorside Care",
)
VALIDATION_SHARE = 5  # one comment in five is kept back for thresholds and measuring


@dataclass(frozen=True)
class Example:
    text: str
    categories: tuple[str, ...]
    source: str


def is_held_out(key: str) -> bool:
    """Whether a comment belongs to the validation split: a fixed hash, so adding comments moves none."""
    return zlib.crc32(key.encode("utf-8")) % VALIDATION_SHARE == 0


def read_corpus(folder: Path) -> Iterator[Example]:
    """The project's corpus: JSONL files with text, categories (a list, empty for no flag) and kind."""
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    text = str(record["text"])
                    categories = tuple(record["categories"])
                except (ValueError, KeyError, TypeError) as exc:
                    raise ValueError(f"{path}:{number}: not a corpus record ({exc})") from None
                unknown = set(categories) - set(CATEGORIES)
                if unknown:
                    raise ValueError(f"{path}:{number}: unknown category {sorted(unknown)[0]!r}")
                yield Example(text, categories, f"corpus/{path.stem}")


def read_davidson(path: Path) -> Iterator[tuple[int, Example]]:
    """Davidson et al.'s tweets with their row number: class 0 (hate speech) is hate, 1 (offensive) abuse."""
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            label = {"0": ("hate",), "1": ("abuse",)}.get(row["class"], ())
            yield int(row[""]), Example(html.unescape(row["tweet"]), label, "davidson")


def read_sms_spam(folder: Path) -> Iterator[Example]:
    """SMS Spam Collection: spam (prizes, premium numbers, 'claim now') stands for scams."""
    with (folder / "sms_spam_collection" / "SMSSpamCollection.tsv").open(encoding="utf-8") as fh:
        for line in fh:
            label, _, text = line.rstrip("\n").partition("\t")
            yield Example(text, ("misrepresentation",) if label == "spam" else (), "sms_spam")


def read_youtube_spam(folder: Path) -> Iterator[Example]:
    """YouTube Spam Collection: comments promoting channels and links, and ordinary comments."""
    for path in sorted((folder / "youtube_spam_collection").glob("Youtube0*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                label = ("misrepresentation",) if row["CLASS"].strip() == "1" else ()
                yield Example(row["CONTENT"], label, "youtube_spam")


def read_stormfront(folder: Path) -> Iterator[Example]:
    """de Gibert et al.'s forum sentences: hate and noHate (the undecided and context-only ones are left out)."""
    with (folder / "stormfront_hate" / "stormfront_sentences.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["label"] in ("hate", "noHate"):
                yield Example(row["text"], ("hate",) if row["label"] == "hate" else (), "stormfront")
