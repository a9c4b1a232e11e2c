from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlmodel import select

from connectors.base import Batch, OwnPost
from connectors.base import Comment as FetchedComment
from monitor.commands import rules as rules_command
from monitor.filter import Classifier, FilterSettings
from monitor.models import Flag
from monitor.store import Store
from tests.filter.test_model import model_that_fears

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    store.create_schema()
    yield store
    store.close()


def seed(store: Store, classifier: Classifier, texts: list[str]) -> None:
    account = store.ensure_account("facebook-page", "facebook")
    comments = [
        FetchedComment(external_id=f"c{i}", text=text, created_at=NOW - timedelta(hours=i), author_id=f"u{i}")
        for i, text in enumerate(texts)
    ]
    store.save_batch(account.id or 0, "facebook", Batch(comments), NOW)
    rows = list(store.iter_comments())
    store.save_verdicts([(row.id or 0, classifier.classify(row.text or "")) for row in rows], NOW)


def run(argv: list[str], store: Store, classifier: Classifier) -> None:
    parser = argparse.ArgumentParser()
    rules_command.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    settings = SimpleNamespace(organisation=SimpleNamespace(names=[]), config_dir=Path("."))
    app: Any = SimpleNamespace(classifier=classifier, settings=settings, store=store, now=lambda: NOW)
    assert args.handler(args, app) == 0


def test_backtest_with_new_rules(tmp_path: Path, store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    rules_only = Classifier.from_settings(FilterSettings.model_validate({"model": {"enabled": False}}))
    seed(store, rules_only, ["you idiots", "the minibus was late", "lovely day"])
    rules_file = tmp_path / "trial.toml"
    rules_file.write_text(
        '[filter]\ndisabled_packs = ["abuse"]\nmodel = { enabled = false }\n'
        '[[filter.rules]]\nname = "minibus"\ncategory = "allegation"\nwords = ["minibus * late"]\n',
        encoding="utf-8",
    )
    run(["rules", "backtest", "--rules", str(rules_file)], store, rules_only)
    out = capsys.readouterr().out
    assert "Re-classified 3 stored comments" in out
    assert "Would newly be flagged: 1" in out and "the minibus was late" in out
    assert "Would no longer be flagged: 1" in out and "[insults]" in out
    assert "     1  minibus" in out


def test_backtest_with_current_rules_changes_nothing(
    store: Store, default_classifier: Classifier, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(store, default_classifier, ["you idiots", "lovely day"])
    run(["rules", "backtest"], store, default_classifier)
    out = capsys.readouterr().out
    assert "Would newly be flagged: 0" in out
    assert "Would no longer be flagged: 0" in out


def test_stats_counts_hits_and_dismissals(
    store: Store, default_classifier: Classifier, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(store, default_classifier, ["you idiots", "you morons", "Brexit again"])
    with store.session() as session:
        flag = session.exec(select(Flag).order_by(Flag.id)).first()
        assert flag is not None
        flag.status = "dismissed"
        session.add(flag)
        session.commit()
    run(["rules", "stats", "--since", "7"], store, default_classifier)
    out = capsys.readouterr().out
    assert "3 flagged comments" in out
    assert "2 hits      1 dismissed ( 50%)  insults" in out
    assert "1 hits      0 dismissed (  0%)  politics" in out


def test_backtest_leaves_the_organisations_own_posts_out(
    store: Store, default_classifier: Classifier, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(store, default_classifier, ["you idiots", "lovely day"])
    account = store.ensure_account("facebook-page", "facebook")
    post = OwnPost(external_id="p1", text="I will burn the place down, said the villain in our panto", created_at=NOW)
    store.save_batch(account.id or 0, "facebook", Batch([], posts=[post]), NOW)
    assert len(list(store.iter_comments())) == 3

    run(["rules", "backtest"], store, default_classifier)

    out = capsys.readouterr().out
    assert "Re-classified 2 stored comments" in out
    assert "Would newly be flagged: 0" in out


def test_backtest_and_stats_show_the_models_part(
    store: Store, default_classifier: Classifier, capsys: pytest.CaptureFixture[str]
) -> None:
    rules_only = Classifier.from_settings(FilterSettings.model_validate({"model": {"enabled": False}}))
    with_model = Classifier.from_settings(FilterSettings(), model=model_that_fears("torch"))
    seed(store, with_model, ["gonna torch it", "torch it you idiots", "lovely day"])
    run(["rules", "stats", "--since", "7"], store, with_model)
    out = capsys.readouterr().out
    assert "2 hits      0 dismissed (  0%)  the model: threat" in out
    assert "Flagged by the model alone: 1, 0 dismissed (0%)" in out
    run(["rules", "backtest"], store, rules_only)
    out = capsys.readouterr().out
    assert "Would no longer be flagged: 1" in out and "[model:threat]" in out
    assert "Flagged by the model alone (no rule fired): 0" in out
