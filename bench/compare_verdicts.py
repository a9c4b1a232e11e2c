"""Do two builds of the filter give the same verdicts? Runs each in its own interpreter over the same comments.

Run: .venv/bin/python bench/compare_verdicts.py --old-python /path/to/other/venv/bin/python

The comments: Davidson's tweets, care_dev and care_val (from ../shared/eval, when present), the bundled
samples, every string constant in tests/, and generated evasions (pack words disguised with leetspeak,
spacing, dots, look-alike letters, invisible characters, stretched letters, symbols, full-width forms,
accents, quotation, negation), some with a comment context. Each is classified with the default packs, and
again with 5,000 extra keywords and 200 extra regexes drawn from the comments' own words (so that they
fire). Each side writes every verdict as a JSON line (Verdict.to_dict()); the lines are compared one by one.
Both sides import `monitor.filter`, so each runs isolated (python -I) from a folder without the project in it.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import random
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# ../shared/eval beside the checkout (a worktree's checkout sits one folder deeper)
EVAL_DIR = next((p / "shared" / "eval" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared").is_dir()), ROOT)
DAVIDSON = EVAL_DIR / "davidson_labeled_data.csv"
CARE = [EVAL_DIR / "care_dev.jsonl", EVAL_DIR / "care_val.jsonl"]
SAMPLES = ROOT / "monitor" / "sample_data" / "comments.jsonl"
TESTS = ROOT / "tests"
BATCH = 500

Item = dict[str, Any]  # {"source": ..., "text": ..., "context": {...} or None}


# The side that classifies: run in each interpreter with --dump.


def dump(config_path: Path, items_path: Path) -> int:
    from monitor.filter import Classifier, CommentContext, FilterSettings

    settings = FilterSettings.model_validate(json.loads(config_path.read_text(encoding="utf-8")))
    classifier = Classifier.from_settings(settings, organisation_names=["Brightwater Care"])
    items = [json.loads(line) for line in items_path.read_text(encoding="utf-8").splitlines()]
    out = sys.stdout
    for start in range(0, len(items), BATCH):
        batch = items[start : start + BATCH]
        contexts = [CommentContext(**item["context"]) if item["context"] else None for item in batch]
        for verdict in classifier.classify_many([item["text"] for item in batch], contexts):
            out.write(json.dumps(verdict.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
    return 0


# The comments.


def _davidson() -> Iterator[str]:
    with DAVIDSON.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            yield row["tweet"]


def _jsonl_texts(path: Path) -> Iterator[str]:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield json.loads(line)["text"]


def _test_strings() -> Iterator[str]:
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _is_comment_text(node.value):
                yield node.value


def _is_comment_text(text: str) -> bool:
    """Not blank, and encodable: a lone surrogate never reaches the filter (the store rejects it first)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return bool(text.strip())


_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7", "l": "1", "g": "9", "b": "8"}
_LOOK_ALIKE = dict(zip("aeocpxisy", "\u0430\u0435\u043e\u0441\u0440\u0445\u0456\u0455\u0443", strict=True))
_CARRIERS = [
    "{w}",
    "you are a {w}",
    "what a {w} this place is",
    "honestly the staff are {w}!!",
    "I am not {w} about it",
    'he called the carers "{w}" and that is not on',
    "never {w}. never again",
    "Mrs Patel said the home was {w}",
    "Brightwater Care is {w}, call 07700 900123",
    "{w} {w} {w}",
    "#{w} @someone",
    "no one is {w} here, thank you all",
    "my mum was {w} at 12 Oak Road, flat 3",
]


def _disguise(word: str, rng: random.Random) -> str:
    how = rng.randrange(14)
    letters = list(word)
    if how == 0:
        return "".join(_LEET.get(c, c) if rng.random() < 0.6 else c for c in letters)
    if how == 1:
        return " ".join(letters)
    if how == 2:
        return rng.choice(".-_|~").join(letters)
    if how == 3:
        return "\u200b".join(letters)
    if how == 4:
        return "".join(_LOOK_ALIKE.get(c, c) for c in letters)
    if how == 5:
        return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalpha() else c for c in letters)
    if how == 6:
        index = rng.randrange(len(letters))
        letters[index] = letters[index] * rng.randint(3, 6)
        return "".join(letters)
    if how == 7:
        return word.replace("i", rng.choice("!|")).replace("a", "@")
    if how == 8:
        return "".join(c.upper() if rng.random() < 0.5 else c for c in letters)
    if how == 9:
        index = rng.randrange(len(letters))
        letters[index] = rng.choice("*#'")
        return "".join(letters)
    if how == 10:
        return word.replace("a", "\u00e0").replace("e", "\u00e9").replace("o", "\u00f6")
    if how == 11:
        return "\x07".join(letters)
    if how == 12:
        return "".join(_LEET.get(c, c) for c in letters) + "".join(rng.choice("!?.") for _ in range(3))
    return "".join(rng.choice([c, c.upper(), _LEET.get(c, c), _LOOK_ALIKE.get(c, c)]) for c in letters)


def _evasions(count: int, seed: int = 15) -> Iterator[Item]:
    from monitor.filter.packs import load_packs

    phrases = sorted(
        {w.rstrip("*") for pack in load_packs().values() for rule in pack.rules for g in rule.groups() for w in g.words}
    )
    rng = random.Random(seed)
    for _ in range(count):
        phrase = rng.choice(phrases)
        text = " ".join(_disguise(word, rng) for word in phrase.split())
        context = None
        if rng.random() < 0.3:
            context = {
                "account": rng.choice([None, "facebook-page"]),
                "platform": "facebook",
                "author_id": rng.choice(["1001", "staff-1", None]),
                "author_name": rng.choice(["Sue Pemberton", "Brightwater Care", None]),
                "is_reply": rng.random() < 0.5,
                "parent_author_id": rng.choice([None, "1001"]),
                "by_owner": rng.random() < 0.2,
            }
        yield {"source": "evasions", "text": rng.choice(_CARRIERS).format(w=text), "context": context}


def gather(evasions: int) -> list[Item]:
    items: list[Item] = []
    if DAVIDSON.is_file():
        items += [{"source": "davidson", "text": text, "context": None} for text in _davidson()]
    for path in CARE:
        if path.is_file():
            items += [{"source": path.stem, "text": text, "context": None} for text in _jsonl_texts(path)]
    for line in SAMPLES.read_text(encoding="utf-8").splitlines():
        sample = json.loads(line)
        context = {"author_id": sample.get("author_id"), "author_name": sample.get("author_name")}
        items.append({"source": "samples", "text": sample["text"], "context": context})
    items += [{"source": "test strings", "text": text, "context": None} for text in dict.fromkeys(_test_strings())]
    items += list(_evasions(evasions))
    return items


# The extra rules: 5,000 keywords and 200 regexes made from the comments' own words.


def extra_config(items: Sequence[Item], keywords: int = 5000, regexes: int = 200, seed: int = 42) -> dict[str, Any]:
    rng = random.Random(seed)
    counts = Counter(word for item in items for word in re.findall(r"[a-z]{3,}", item["text"].lower()))
    vocabulary = [word for word, _ in counts.most_common(8000)][40:]
    phrases: list[str] = []
    while len(phrases) < keywords:
        word = rng.choice(vocabulary)
        kind = rng.random()
        if kind < 0.55:
            phrases.append(word)
        elif kind < 0.75:
            phrases.append(word[: rng.randint(3, max(3, len(word) - 1))] + "*")
        elif kind < 0.9:
            phrases.append(f"{word} {rng.choice(vocabulary)}")
        else:
            phrases.append(f"{word} * {rng.choice(vocabulary)}*")
    categories = ["abuse", "hate", "controversial", "allegation", "negative"]
    rules: list[dict[str, Any]] = []
    for n in range(0, keywords, 50):
        rule: dict[str, Any] = {"name": f"extra-words-{n // 50}", "category": categories[n // 50 % 5]}
        rule["words"] = phrases[n : n + 50]
        variant = n // 50 % 7
        if variant == 1:
            rule["unless_words"] = [rng.choice(vocabulary)]
        elif variant == 2:
            rule["counter_speech"] = "downgrade"
        elif variant == 3:
            rule["negatable"] = False
        elif variant == 4:
            rule["sentiment_below"] = 0.2
        elif variant == 5:
            rule["also"] = [{"words": [rng.choice(vocabulary) + "*" for _ in range(20)]}]
        elif variant == 6:
            rule["explanation"] = "Says {match}, which we watch for."
        rules.append(rule)
    for n in range(regexes):
        word = rng.choice(vocabulary)
        rule = {"name": f"extra-regex-{n}", "category": categories[n % 5]}
        if n % 4 == 3:
            rule["raw_regex"] = [rf"(?i)\b{word}\w*\s+[A-Za-z]+"]
        else:
            rule["regex"] = [rf"\b{word}\w*\s+\w+"]
        rules.append(rule)
    return {"rules": rules}


# Comparing.


def _run_side(python: str, config: Path, items: Path, out: Path, workdir: Path) -> None:
    with out.open("w", encoding="utf-8") as fh:
        subprocess.run(
            [python, "-I", str(Path(__file__).resolve()), "--dump", str(config), str(items)],
            stdout=fh,
            cwd=workdir,
            check=True,
        )


def compare(old_python: str, new_python: str, evasions: int) -> int:
    items = gather(evasions)
    configs = {"default packs": {}, "default + 5,000 keywords + 200 regexes": extra_config(items)}
    total_compared = total_differ = 0
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        items_path = workdir / "items.jsonl"
        items_path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
        for label, config in configs.items():
            config_path = workdir / "config.json"
            config_path.write_text(json.dumps(config), encoding="utf-8")
            old_out, new_out = workdir / "old.jsonl", workdir / "new.jsonl"
            _run_side(old_python, config_path, items_path, old_out, workdir)
            _run_side(new_python, config_path, items_path, new_out, workdir)
            old_lines = old_out.read_text(encoding="utf-8").splitlines()
            new_lines = new_out.read_text(encoding="utf-8").splitlines()
            if len(old_lines) != len(items) or len(new_lines) != len(items):
                print(f"{label}: {len(items)} comments but {len(old_lines)} old and {len(new_lines)} new verdicts")
                return 2
            compared: Counter[str] = Counter()
            differ: Counter[str] = Counter()
            flagged: Counter[str] = Counter()
            shown = 0
            for item, old, new in zip(items, old_lines, new_lines, strict=True):
                compared[item["source"]] += 1
                flagged[item["source"]] += json.loads(new)["flagged"]
                if old != new:
                    differ[item["source"]] += 1
                    if shown < 5:
                        shown += 1
                        print(f"  differs: {item['text']!r}\n    old {old}\n    new {new}")
            print(f"{label}:")
            for source in compared:
                print(
                    f"  {source:14} {compared[source]:6} compared, {flagged[source]:6} flagged, "
                    f"{differ[source]:4} differ"
                )
            print(f"  {'all':14} {sum(compared.values()):6} compared, {sum(differ.values()):4} differ")
            total_compared += sum(compared.values())
            total_differ += sum(differ.values())
    print(f"total: {total_compared} verdicts compared, {total_differ} differ")
    return 1 if total_differ else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old-python", help="the interpreter of the other build (its venv's bin/python)")
    parser.add_argument("--new-python", default=sys.executable, help="default: this interpreter")
    parser.add_argument("--evasions", type=int, default=4000, help="generated evasions (default 4000)")
    parser.add_argument("--dump", nargs=2, metavar=("CONFIG", "ITEMS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.dump:
        return dump(Path(args.dump[0]), Path(args.dump[1]))
    if not args.old_python:
        parser.error("--old-python is required")
    return compare(args.old_python, args.new_python, args.evasions)


if __name__ == "__main__":
    raise SystemExit(main())
