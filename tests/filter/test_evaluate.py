from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.filter import Classifier
from monitor.filter.evaluate import evaluate

LABELLED = [
    {"text": "You lot are useless idiots", "flag": True, "category": "abuse"},
    {"text": "I will burn your office down", "flag": True, "category": "threat"},
    {"text": "The minibus trip was a delight", "flag": True, "category": "allegation"},
    {"text": "Thank you for a wonderful day", "flag": False, "category": "none"},
    {"text": "Brexit was a disaster", "flag": False, "category": "none"},
]


def test_scores_misses_and_false_alarms(tmp_path: Path, default_classifier: Classifier) -> None:
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in LABELLED) + "\n", encoding="utf-8")
    report = evaluate(path, default_classifier)
    assert report.total == 5
    assert (report.overall.true_positives, report.overall.false_positives, report.overall.false_negatives) == (2, 1, 1)
    assert report.overall.precision == pytest.approx(2 / 3)
    assert report.overall.recall == pytest.approx(2 / 3)
    assert report.categories["abuse"].recall == 1.0
    assert report.categories["allegation"].recall == 0.0
    assert report.categories["controversial"].false_positives == 1
    assert [m.text for m in report.misses] == ["The minibus trip was a delight"]
    assert [m.text for m in report.false_alarms] == ["Brexit was a disaster"]
    assert report.lines()[0].startswith("5 comments: precision 0.667")


def test_reads_davidson_csv(tmp_path: Path, default_classifier: Classifier) -> None:
    path = tmp_path / "labeled_data.csv"
    path.write_text(
        ",count,hate_speech,offensive_language,neither,class,tweet\n"
        "0,3,0,3,0,1,RT @someone: shut up you stupid bitch\n"
        "1,3,0,0,3,2,lovely weather at the match today\n",
        encoding="utf-8",
    )
    report = evaluate(path, default_classifier)
    assert (report.overall.true_positives, report.overall.false_positives, report.overall.false_negatives) == (1, 0, 0)


def test_bad_line_is_reported(tmp_path: Path, default_classifier: Classifier) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "hi"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:1"):
        evaluate(path, default_classifier)


def test_care_dev_meets_the_targets(shared_dir: Path, default_classifier: Classifier) -> None:
    report = evaluate(shared_dir / "eval" / "care_dev.jsonl", default_classifier)
    assert report.overall.precision >= 0.95
    assert report.overall.recall >= 0.95
