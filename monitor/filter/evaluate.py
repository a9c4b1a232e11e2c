"""Measure the filter against labelled comments: precision, recall and F1, overall and per category."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any

from monitor.filter.batching import classified
from monitor.filter.classifier import Classifier
from monitor.filter.verdict import CATEGORIES, Verdict


@dataclass(frozen=True)
class Example:
    text: str
    flag: bool
    category: str | None


@dataclass
class Score:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 0.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "tp": self.true_positives,
            "fp": self.false_positives,
            "fn": self.false_negatives,
        }


@dataclass
class Mistake:
    text: str
    category: str | None
    got: list[str]


@dataclass
class CategoryAccuracy:
    """Of the labelled flags the filter flagged too, how many it put in the labelled category: among its
    categories, and as its first (most severe) one."""

    caught: int = 0
    named: int = 0
    named_first: int = 0

    @property
    def accuracy(self) -> float:
        return self.named / self.caught if self.caught else 0.0

    @property
    def first_accuracy(self) -> float:
        return self.named_first / self.caught if self.caught else 0.0

    def to_dict(self) -> dict[str, float | int]:
        return {
            "accuracy": round(self.accuracy, 4),
            "first_accuracy": round(self.first_accuracy, 4),
            "caught": self.caught,
            "named": self.named,
            "named_first": self.named_first,
        }


@dataclass
class Report:
    """Per category: a flagged example labelled with it counts as found when that category is among the
    verdict's; a false alarm counts against every category the verdict gave."""

    total: int = 0
    overall: Score = field(default_factory=Score)
    categories: dict[str, Score] = field(default_factory=dict)
    category_accuracy: CategoryAccuracy = field(default_factory=CategoryAccuracy)
    misses: list[Mistake] = field(default_factory=list)
    false_alarms: list[Mistake] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "overall": self.overall.to_dict(),
            "categories": {name: score.to_dict() for name, score in self.categories.items()},
            "category_accuracy": self.category_accuracy.to_dict(),
            "misses": [m.__dict__ for m in self.misses],
            "false_alarms": [m.__dict__ for m in self.false_alarms],
        }

    def lines(self, limit: int = 50) -> list[str]:
        o = self.overall
        out = [
            f"{self.total} comments: precision {o.precision:.3f}  recall {o.recall:.3f}  F1 {o.f1:.3f}"
            f"  (tp {o.true_positives}, fp {o.false_positives}, fn {o.false_negatives})"
        ]
        for name, s in sorted(self.categories.items()):
            out.append(
                f"  {name:18} P {s.precision:.3f}  R {s.recall:.3f}  F1 {s.f1:.3f}"
                f"  (tp {s.true_positives}, fp {s.false_positives}, fn {s.false_negatives})"
            )
        a = self.category_accuracy
        out.append(
            f"category accuracy {a.accuracy:.3f} (the labelled category among the filter's, {a.named} of "
            f"{a.caught} caught); as its first category {a.first_accuracy:.3f} ({a.named_first})"
        )
        for title, items in (("Missed", self.misses), ("False alarms", self.false_alarms)):
            out.append(f"{title}: {len(items)}")
            out += [f"  [{m.category or '-'} → {', '.join(m.got) or 'none'}] {m.text}" for m in items[:limit]]
            if len(items) > limit:
                out.append(f"  … and {len(items) - limit} more")
        return out


def read_examples(path: Path) -> Iterator[Example]:
    """JSONL with text, flag and an optional category; or CSV in Davidson's shape (class 0/1 = flag)."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if "class" in row:
                    cls = int(row["class"])
                    yield Example(row.get("tweet") or row.get("text", ""), cls in (0, 1), _davidson(cls))
                else:
                    yield Example(row["text"], row["flag"].strip().lower() in ("1", "true", "yes"), row.get("category"))
        return
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                yield Example(str(record["text"]), bool(record["flag"]), record.get("category"))
            except (ValueError, KeyError) as exc:
                raise ValueError(f"{path}:{number}: not a labelled comment ({exc})") from None


def _davidson(cls: int) -> str | None:
    return {0: "hate", 1: "abuse"}.get(cls)


def evaluate(path: Path | str, classifier: Classifier) -> Report:
    report = Report()
    for example, verdict in classified(classifier, read_examples(Path(path)), attrgetter("text")):
        _count(report, example, verdict)
    return report


def _count(report: Report, example: Example, verdict: Verdict) -> None:
    report.total += 1
    labelled = example.category if example.category in CATEGORIES else None
    if example.flag and verdict.flagged:
        report.overall.true_positives += 1
    elif example.flag:
        report.overall.false_negatives += 1
        report.misses.append(Mistake(example.text, example.category, verdict.categories))
    elif verdict.flagged:
        report.overall.false_positives += 1
        report.false_alarms.append(Mistake(example.text, example.category, verdict.categories))
    if example.flag and labelled and verdict.flagged:
        report.category_accuracy.caught += 1
        report.category_accuracy.named += labelled in verdict.categories
        report.category_accuracy.named_first += labelled == verdict.categories[0]
    if example.flag and labelled:
        score = report.categories.setdefault(labelled, Score())
        if labelled in verdict.categories:
            score.true_positives += 1
        else:
            score.false_negatives += 1
    if not example.flag:
        for category in verdict.categories:
            report.categories.setdefault(category, Score()).false_positives += 1
