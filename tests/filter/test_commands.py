from __future__ import annotations

import argparse
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from monitor.commands import classify as classify_command
from monitor.commands import eval as eval_command
from monitor.commands import rules as rules_command
from monitor.filter import Classifier, FilterSettings
from tests.filter.test_model import model_that_fears


def parse(module: Any, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.register(parser.add_subparsers())
    return parser.parse_args(argv)


def fake_app(classifier: Classifier) -> Any:
    settings = SimpleNamespace(organisation=SimpleNamespace(names=[]), config_dir=Path("."))
    return SimpleNamespace(classifier=classifier, settings=settings, now=lambda: datetime.now(UTC))


def test_rules_test_readable(default_classifier: Classifier, capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(rules_command, ["rules", "test", "I'll burn the place down"])
    assert args.handler(args, fake_app(default_classifier)) == 0
    out = capsys.readouterr().out
    assert out.startswith("Flagged urgent: threat")
    assert "rule threat-arson-damage" in out
    assert "“burn the place down”" in out


def test_rules_test_json(default_classifier: Classifier, capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(rules_command, ["rules", "test", "--json", "lovely day"])
    args.handler(args, fake_app(default_classifier))
    assert json.loads(capsys.readouterr().out)["flagged"] is False


def test_classify_jsonl_passes_other_fields_through(
    tmp_path: Path, default_classifier: Classifier, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": 7, "text": "you idiots"}\n{"id": 8, "text": "thanks"}\n', encoding="utf-8")
    args = parse(classify_command, ["classify", str(path)])
    assert args.handler(args, fake_app(default_classifier)) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    summary = [(line["id"], line["flagged"], line["severity"]) for line in lines]
    assert summary == [(7, True, "medium"), (8, False, None)]
    assert lines[0]["categories"] == ["abuse"] and lines[0]["reasons"][0]["rule"] == "insults"


def test_classify_csv_and_stdin(
    tmp_path: Path, default_classifier: Classifier, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "in.csv"
    path.write_text("text,who\nyou idiots,a\n", encoding="utf-8")
    args = parse(classify_command, ["classify", str(path)])
    args.handler(args, fake_app(default_classifier))
    assert json.loads(capsys.readouterr().out)["who"] == "a"
    monkeypatch.setattr("sys.stdin", SimpleNamespace(buffer=io.BytesIO(b'{"text": "hello"}\nnot json\n')))
    args = parse(classify_command, ["classify", "-"])
    assert args.handler(args, fake_app(default_classifier)) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out.splitlines()[0])["flagged"] is False
    assert "line 2: not JSON" in captured.err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_large_file_is_classified_in_order_on_two_processes_with_a_progress_bar_on_a_terminal(
    tmp_path: Path, default_classifier: Classifier, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["you idiots", "thanks so much", "what a load of sh1t", "lovely day"] * 700
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"id": n, "text": t}) + "\n" for n, t in enumerate(texts)), encoding="utf-8")
    args = parse(classify_command, ["classify", str(path), "--workers", "2"])
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert args.handler(args, fake_app(default_classifier)) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["id"] for line in lines] == list(range(len(texts)))
    assert [line["flagged"] for line in lines[:4]] == [True, False, True, False]
    drawn = terminal.getvalue()
    # How often tqdm redraws depends on the machine's speed: a count with a rate was drawn, then cleared.
    assert re.search(r"\r[1-9][\d.]*k? comments \[[\d:]+, [\d.]+k? comments/s\]", drawn), drawn
    assert drawn.endswith("\r")


def test_no_progress_bar_when_standard_error_is_not_a_terminal(
    tmp_path: Path, default_classifier: Classifier, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "you idiots"}\n' * 600, encoding="utf-8")
    args = parse(classify_command, ["classify", str(path)])
    assert args.handler(args, fake_app(default_classifier)) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 600
    assert captured.err == ""


def test_eval_prints_scores(tmp_path: Path, default_classifier: Classifier, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "labelled.jsonl"
    path.write_text('{"text": "you idiots", "flag": true, "category": "abuse"}\n', encoding="utf-8")
    args = parse(eval_command, ["eval", str(path)])
    assert args.handler(args, fake_app(default_classifier)) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 comments: precision 1.000  recall 1.000  F1 1.000")
    assert "abuse" in out


def test_rules_test_names_the_model_and_quotes_its_words(capsys: pytest.CaptureFixture[str]) -> None:
    classifier = Classifier.from_settings(FilterSettings(), model=model_that_fears("torch"))
    args = parse(rules_command, ["rules", "test", "gonna torch it"])
    assert args.handler(args, fake_app(classifier)) == 0
    out = capsys.readouterr().out
    assert out.startswith("Flagged urgent: threat")
    assert "threat - the model\n" in out
    assert "the words that weighed most: “torch”" in out


def test_eval_prints_category_accuracy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    classifier = Classifier.from_settings(FilterSettings.model_validate({"model": {"enabled": False}}))
    path = tmp_path / "labelled.jsonl"
    rows = [
        {"text": "you idiots", "flag": True, "category": "abuse"},
        {"text": "you idiots, I'll burn the place down", "flag": True, "category": "abuse"},
        {"text": "you idiots", "flag": True, "category": "hate"},
        {"text": "a lovely day", "flag": True, "category": "allegation"},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    args = parse(eval_command, ["eval", "--json", str(path)])
    assert args.handler(args, fake_app(classifier)) == 0
    report = json.loads(capsys.readouterr().out)
    # three caught; abuse named in the first two, first only in the first (the threat outranks it in the second)
    assert report["category_accuracy"] == {
        "accuracy": 0.6667,
        "first_accuracy": 0.3333,
        "caught": 3,
        "named": 2,
        "named_first": 1,
    }
