from __future__ import annotations

import argparse
import csv
import io
import json
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from connectors.base import Batch
from connectors.base import Comment as FetchedComment
from monitor import config
from monitor.app import App
from monitor.commands import comments
from monitor.filter.verdict import Reason, Verdict
from monitor.models import Comment, FlagEvent
from monitor.retention import stored_comments
from monitor.store import Store

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    path = tmp_path / "config.toml"
    settings = config.from_mapping({"database": {"url": "sqlite:///monitor.db"}}, path)
    app = App(path, now=lambda: NOW, settings=settings)
    yield app
    app.close()


def fetched(external_id: str, author_id: str, text: str, age_days: int = 1) -> FetchedComment:
    return FetchedComment(
        external_id=external_id,
        text=text,
        created_at=NOW - timedelta(days=age_days),
        post_id="post-1",
        post_url="https://example.org/posts/1",
        post_title="Open day",
        author_id=author_id,
        author_name=f"Name of {author_id}",
        permalink=f"https://example.org/posts/1#{external_id}",
    )


def save(store: Store, account: str, platform: str, items: list[FetchedComment]) -> None:
    row = store.ensure_account(account, platform)
    assert row.id is not None
    store.save_batch(row.id, platform, Batch(items), NOW)


def comment_id(store: Store, external_id: str) -> int:
    return next(row.id or 0 for row in store.iter_comments() if row.external_id == external_id)


def allegation() -> Verdict:
    reason = Reason("neglect", "allegation", "high", "An allegation: “left alone”.", ["left alone"], [(4, 14)])
    return Verdict.from_reasons([reason], {"compound": -0.7})


@pytest.fixture
def stocked(app: App) -> Store:
    store = app.store
    save(
        store, "page", "facebook", [fetched("fb-1", "u-7", "Mum was left alone all day"), fetched("fb-2", "u-8", "Hi")]
    )
    save(store, "feed", "x", [fetched("x-1", "u-7", '=HYPERLINK("https://bad.example")'), fetched("x-2", "u-9", "Yo")])
    [flag] = store.save_verdicts([(comment_id(store, "fb-1"), allegation())], NOW)
    assert flag is not None and flag.id is not None
    with store.session() as session:
        session.add(FlagEvent(flag_id=flag.id, at=NOW, actor="Pat Lee", action="resolved", note="Called the family"))
        session.commit()
    return store


def run(app: App, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    comments.register(parser.add_subparsers())
    args = parser.parse_args(["comments", *argv])
    return int(args.handler(args, app))


def test_a_subject_access_request_finds_the_authors_comments_on_every_platform(
    app: App, stocked: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(app, "export", "--author", "u-7") == 0
    out, err = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines()]
    assert [(r["platform"], r["account"], r["external_id"]) for r in records] == [
        ("facebook", "page", "fb-1"),
        ("x", "feed", "x-1"),
    ]
    facebook = records[0]
    assert facebook["text"] == "Mum was left alone all day"
    assert facebook["author_name"] == "Name of u-7"
    assert facebook["post_title"] == "Open day"
    assert facebook["created_at"] == "2026-11-19T09:00:00+00:00"
    assert facebook["verdict"]["severity"] == "high"
    assert facebook["verdict"]["reasons"][0]["matched"] == ["left alone"]
    assert facebook["flag"]["status"] == "open"
    assert facebook["flag"]["events"] == [
        {"at": "2026-11-20T09:00:00+00:00", "actor": "monitor", "action": "opened", "note": "high"},
        {"at": "2026-11-20T09:00:00+00:00", "actor": "Pat Lee", "action": "resolved", "note": "Called the family"},
    ]
    assert records[1]["verdict"] is None and records[1]["flag"] is None
    assert err.splitlines()[-1] == "exported 2 comments"


def test_csv_export_defuses_spreadsheet_formulas(app: App, stocked: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(app, "export", "--author", "u-7", "--format", "csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["external_id"] for row in rows] == ["fb-1", "x-1"]
    assert rows[0]["flag_status"] == "open" and rows[0]["severity"] == "high"
    assert rows[0]["reasons"] == "An allegation: “left alone”."
    assert rows[0]["flag_history"] == (
        "2026-11-20T09:00:00+00:00 opened by monitor: high; "
        "2026-11-20T09:00:00+00:00 resolved by Pat Lee: Called the family"
    )
    assert rows[1]["text"] == '\'=HYPERLINK("https://bad.example")'
    assert rows[1]["flagged"] == ""


def test_exporting_everything_to_a_file_only_the_owner_can_read(
    app: App, stocked: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "everything.jsonl"
    assert run(app, "export", "--format", "jsonl", "--output", str(target)) == 0
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["external_id"] for line in lines] == ["fb-1", "fb-2", "x-1", "x-2"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert capsys.readouterr().err.strip() == f"exported 4 comments to {target}"


def test_an_unknown_author_exports_nothing_and_says_so(
    app: App, stocked: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(app, "export", "--author", "nobody") == 0
    out, err = capsys.readouterr()
    assert out == "" and err.splitlines() == ["0 author identities match 'nobody':", "exported 0 comments"]


def test_a_subject_access_request_by_display_name_lists_who_it_matched(
    app: App, stocked: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    save(app.store, "blog", "wordpress", [fetched("wp-1", "77", "Lovely day")])
    with app.store.session() as session:
        session.execute(update(Comment).where(Comment.external_id == "wp-1").values(author_name="  name OF u-7 "))
        session.commit()

    assert run(app, "export", "--author", "Name  of U-7") == 0

    out, err = capsys.readouterr()
    assert [json.loads(line)["external_id"] for line in out.splitlines()] == ["fb-1", "x-1", "wp-1"]
    assert err.splitlines() == [
        "3 author identities match 'Name  of U-7':",
        "  facebook u-7 Name of u-7",
        "  wordpress 77 name OF u-7",
        "  x u-7 Name of u-7",
        "exported 3 comments",
    ]


def test_the_export_reads_a_page_at_a_time(stocked: Store) -> None:
    records = stored_comments(stocked, page_size=2)
    first: dict[str, Any] = next(records)
    account = stocked.account("feed")
    assert account is not None and account.id is not None
    stocked.save_batch(account.id, "x", Batch([fetched("x-3", "u-9", "arrived while exporting")]), NOW)
    rest = [record["external_id"] for record in records]
    assert [first["external_id"], *rest] == ["fb-1", "fb-2", "x-1", "x-2", "x-3"]


def test_purge_on_demand_reports_the_count(app: App, capsys: pytest.CaptureFixture[str]) -> None:
    save(app.store, "page", "facebook", [fetched("old", "u-1", "old words", 400), fetched("new", "u-2", "new", 3)])
    assert run(app, "purge", "--older-than", "365") == 0
    assert capsys.readouterr().out.strip() == "removed the text of 1 comment and 0 message copies older than 365 days"
    texts = {row.external_id: row.text for row in app.store.iter_comments()}
    assert texts == {"old": None, "new": "new"}


@pytest.mark.parametrize("days", ["0", "-5", "a year"])
def test_purge_refuses_a_limit_that_is_not_a_positive_number_of_days(app: App, days: str) -> None:
    with pytest.raises(SystemExit):
        run(app, "purge", "--older-than", days)


def test_l6_exporting_onto_an_existing_readable_file_makes_it_the_owners_only(
    app: App, stocked: Store, tmp_path: Path
) -> None:
    target = tmp_path / "everything.jsonl"
    target.write_text("", encoding="utf-8")
    target.chmod(0o644)
    assert run(app, "export", "--format", "jsonl", "--output", str(target)) == 0
    assert len(target.read_text(encoding="utf-8").splitlines()) == 4
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
