"""µs per comment and comments per second: VADER alone, and the whole filter (VADER included) with the default
packs and with the default packs plus 5,000 keywords and 200 regexes; each filter figure as a ratio of VADER's
rate (0.35 means the whole filter classifies 0.35 comments in the time VADER alone scores one).

Run: .venv/bin/python bench/filter_throughput.py [--limit N]
Reads Davidson's tweets (or --comments care: care_dev) from ../shared/eval when present,
else generates comments.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import string
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from monitor.filter import Classifier, FilterSettings
from monitor.filter.batching import BATCH_SIZE, batches
from monitor.filter.settings import RuleSettings

ROOT = Path(__file__).resolve().parent.parent
# ../shared/eval beside the checkout (a worktree's checkout sits one folder deeper)
EVAL_DIR = next((p / "shared" / "eval" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared").is_dir()), ROOT)
DAVIDSON = EVAL_DIR / "davidson_labeled_data.csv"
CARE_DEV = EVAL_DIR / "care_dev.jsonl"
_SAMPLE = (
    "the staff were lovely today but nobody answered my call about mum and the office is closed again "
    "thank you so much for the trip great photos when is the next coffee morning see you all soon"
)
_WORDS = _SAMPLE.split(" ")


def comments(limit: int, source: str = "davidson") -> tuple[list[str], str]:
    """Comments to classify and where they came from."""
    if source == "davidson" and DAVIDSON.is_file():
        with DAVIDSON.open(encoding="utf-8", newline="") as fh:
            return [row["tweet"] for _, row in zip(range(limit), csv.DictReader(fh), strict=False)], "Davidson tweets"
    if source == "care" and CARE_DEV.is_file():
        texts = [json.loads(line)["text"] for line in CARE_DEV.read_text(encoding="utf-8").splitlines() if line]
        return (texts * (limit // len(texts) + 1))[:limit], "care_dev comments, repeated"
    rng = random.Random(7)
    return [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 25))) for _ in range(limit)], "generated"


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(5, 10)))


def extra_rules(keywords: int = 5000, regexes: int = 200) -> list[RuleSettings]:
    rng = random.Random(42)
    rules = [
        RuleSettings(
            name=f"extra-words-{n}",
            category="abuse",
            words=[_word(rng) + ("*" if i % 5 == 0 else "") for i in range(50)],
        )
        for n in range(keywords // 50)
    ]
    rules += [
        RuleSettings(name=f"extra-regex-{n}", category="controversial", regex=[rf"\b{_word(rng)}\w*\s+\d{{2,4}}\b"])
        for n in range(regexes)
    ]
    return rules


def rates(runs: Sequence[Callable[[Sequence[str]], object]], texts: Sequence[str], repeats: int = 7) -> list[float]:
    """Best comments per CPU-second of each run over all of ``texts``, taking turns so that a busy machine
    slows them alike."""
    best = [0.0] * len(runs)
    for _ in range(repeats):
        for index, run in enumerate(runs):
            start = time.process_time()
            run(texts)
            best[index] = max(best[index], len(texts) / max(time.process_time() - start, 1e-9))
    return best


def one_by_one(score: Callable[[str], object]) -> Callable[[Sequence[str]], None]:
    def run(texts: Sequence[str]) -> None:
        for text in texts:
            score(text)

    return run


def in_batches(classifier: Classifier) -> Callable[[Sequence[str]], None]:
    """classify_many() over batches of BATCH_SIZE, as the service (each page of new comments), `monitor classify`,
    `monitor eval` and backtests call it."""

    def run(texts: Sequence[str]) -> None:
        for batch in batches(texts):
            classifier.classify_many(batch)

    return run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=5000, help="comments to classify (default 5000)")
    parser.add_argument(
        "--comments",
        choices=("davidson", "care", "generated"),
        default="davidson",
        help="davidson: tweets, mostly offensive (worst case); care: care_dev comments; generated: no files needed",
    )
    args = parser.parse_args(argv)
    texts, source = comments(args.limit, args.comments)
    vader = SentimentIntensityAnalyzer()
    default = Classifier.from_settings(FilterSettings())
    loaded = Classifier.from_settings(FilterSettings(rules=extra_rules()))
    for classifier in (default, loaded):
        classifier.classify_many(texts[:200])
    vader_rate, default_rate, loaded_rate, loaded_single_rate = rates(
        [one_by_one(vader.polarity_scores), in_batches(default), in_batches(loaded), one_by_one(loaded.classify)],
        texts,
    )
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"comments: {len(texts)} ({source}); classified in batches of {BATCH_SIZE} (classify_many)")
    print(f"{'':38} {'µs per comment':>14} {'comments/s':>11}  ratio to VADER alone")
    rows = [
        ("VADER alone", vader_rate),
        ("whole filter, default packs", default_rate),
        ("whole filter, + 5000 keywords, 200 regex", loaded_rate),
        ("  the same, one classify() per comment", loaded_single_rate),
    ]
    for label, rate in rows:
        print(f"{label:40} {1e6 / rate:12.1f} {rate:11.0f}  {rate / vader_rate:.2f}")
    beyond = (1 / loaded_rate - 1 / vader_rate) * 1e6
    print(f"filter work beyond VADER (loaded): {beyond:.1f} µs per comment")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
