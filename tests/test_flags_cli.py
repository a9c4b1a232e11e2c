"""``monitor flags`` and ``monitor digest``: every change lands in the audit trail; hostile text stays inert."""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select
from structlog.testing import capture_logs

from monitor.app import App
from monitor.commands import digest, flags
from monitor.models import Flag, FlagEvent, NotificationLog
from monitor.store import Store
from tests.notify.factory import NOW, Clock, Factory, make_settings, open_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(tmp_path / "monitor.db")
    yield store
    store.close()


@pytest.fixture
def factory(store: Store) -> Factory:
    return Factory(store)


@pytest.fixture
def run(tmp_path: Path, store: Store, capsys: pytest.CaptureFixture[str]) -> Iterator[object]:
    settings = make_settings(tmp_path, recipients=[], output_dir="sent")
    app = App(tmp_path / "config.toml", now=Clock(), settings=settings)
    app.__dict__["store"] = store
    parser = argparse.ArgumentParser(prog="monitor")
    commands = parser.add_subparsers()
    flags.register(commands)
    digest.register(commands)

    def invoke(*argv: str) -> tuple[int, str, str]:
        args = parser.parse_args(argv)
        with capture_logs():
            code = args.handler(args, app)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    yield invoke


def events(store: Store) -> list[tuple[int, str, str, str | None]]:
    with store.session() as session:
        return [(e.flag_id, e.actor, e.action, e.note) for e in session.exec(select(FlagEvent).order_by(FlagEvent.id))]


def test_list_shows_open_flags_with_terminal_escapes_neutralised(run: object, factory: Factory) -> None:
    factory.flag("Evil \x1b[2J\x1b[31mred\nsecond line", author="Eve\x1b]0;pwned\x07")
    factory.flag("fine", severity="low", categories=("negative",), status="dismissed")

    code, out, _ = run("flags", "list", "--open")  # type: ignore[operator]

    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "Eve ]0;pwned: Evil [2J [31mred second line" in out
    assert len(out.strip().splitlines()) == 2


def test_list_as_json_filtered_by_severity(run: object, factory: Factory) -> None:
    urgent = factory.flag()
    factory.flag("meh", severity="low", categories=("negative",))

    code, out, _ = run("flags", "list", "--severity", "urgent", "--json")  # type: ignore[operator]

    listed = json.loads(out)
    assert code == 0 and [item["id"] for item in listed] == [urgent]
    assert listed[0]["why"] == ['Threatens staff: "I know where you all work".']
    assert listed[0]["link"].startswith("https://www.facebook.com/")


def test_resolve_records_who_when_and_why(run: object, factory: Factory, store: Store) -> None:
    flag_id = factory.flag()

    code, out, _ = run("flags", "resolve", str(flag_id), "--note", "Called the family", "--by", "Sam Manager")  # type: ignore[operator]

    with store.session() as session:
        flag = session.get(Flag, flag_id)
    assert code == 0 and out.strip() == f"Flag {flag_id} resolved by Sam Manager."
    assert flag is not None and (flag.status, flag.resolution, flag.resolved_at) == (
        "resolved",
        "Called the family",
        NOW,
    )
    assert events(store) == [(flag_id, "Sam Manager", "resolved", "Called the family")]


def test_dismiss_defaults_to_the_user_and_counts_as_a_false_alarm(
    run: object, factory: Factory, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "office.manager")
    flag_id = factory.flag()

    code, _, _ = run("flags", "dismiss", str(flag_id), "--reason", "Banter between regulars")  # type: ignore[operator]
    again, _, err = run("flags", "dismiss", str(flag_id), "--reason", "twice")  # type: ignore[operator]

    assert (code, again) == (0, 1)
    assert err.strip() == f"error: flag {flag_id} is already dismissed"
    assert events(store) == [(flag_id, "office.manager", "dismissed", "Banter between regulars")]


def test_closing_a_missing_flag_or_without_a_reason_fails(run: object, factory: Factory, store: Store) -> None:
    flag_id = factory.flag()

    missing, _, err_missing = run("flags", "resolve", "999", "--note", "x")  # type: ignore[operator]
    blank, _, err_blank = run("flags", "resolve", str(flag_id), "--note", "  ")  # type: ignore[operator]

    assert (missing, blank) == (1, 1)
    assert "there is no flag 999" in err_missing and "say why" in err_blank
    assert events(store) == []


def test_show_tells_the_whole_story(run: object, factory: Factory) -> None:
    flag_id = factory.flag(author="Jane Doe")
    run("flags", "resolve", str(flag_id), "--note", "Replied by phone", "--by", "GM")  # type: ignore[operator]

    code, out, _ = run("flags", "show", str(flag_id))  # type: ignore[operator]

    assert code == 0
    assert f"Flag {flag_id}: urgent, resolved (a threat)" in out
    assert "Jane Doe on Facebook" in out
    assert "| I know where you all work and I will be waiting" in out
    assert 'why: Threatens staff: "I know where you all work".' in out
    assert "resolved by GM: Replied by phone" in out


def test_export_csv_defuses_formulas(run: object, factory: Factory, tmp_path: Path) -> None:
    factory.flag('=HYPERLINK("https://evil.example","click")', match=None, author="@attacker")
    target = tmp_path / "flags.csv"

    code, out, _ = run("flags", "export", "--csv", str(target))  # type: ignore[operator]

    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert code == 0 and out.strip() == f"1 flags written to {target}"
    assert rows[0]["comment"].startswith("'=HYPERLINK") and rows[0]["author"] == "'@attacker"


def test_export_as_json_to_standard_output(run: object, factory: Factory) -> None:
    urgent = factory.flag()
    code, out, _ = run("flags", "export", "--format", "json", "--open")  # type: ignore[operator]
    exported = json.loads(out)
    assert code == 0 and [item["id"] for item in exported] == [urgent]
    assert exported[0]["why"] == ['Threatens staff: "I know where you all work".']


def test_show_as_json_carries_the_history(run: object, factory: Factory) -> None:
    flag_id = factory.flag()
    run("flags", "resolve", str(flag_id), "--note", "Rang them", "--by", "GM")  # type: ignore[operator]

    code, out, _ = run("flags", "show", str(flag_id), "--json")  # type: ignore[operator]

    shown = json.loads(out)
    assert code == 0 and shown["id"] == flag_id and shown["status"] == "resolved"
    assert [(e["action"], e["actor"], e["note"]) for e in shown["events"]] == [("resolved", "GM", "Rang them")]


def test_digest_preview_then_send(run: object, factory: Factory, store: Store, tmp_path: Path) -> None:
    factory.flag(severity="high", categories=("allegation",))
    preview = tmp_path / "preview.html"

    previewed, out_preview, _ = run("digest", "--preview", str(preview))  # type: ignore[operator]
    logged_after_preview = store.count(NotificationLog)
    sent, out_sent, _ = run("digest")  # type: ignore[operator]
    again, out_again, _ = run("digest")  # type: ignore[operator]

    assert (previewed, sent, again) == (0, 0, 0)
    assert "Social media digest: 1 high" in preview.read_text(encoding="utf-8")
    assert logged_after_preview == 0 and "nothing was sent" in out_preview
    assert out_sent.strip() == "Sent 1 message(s) covering 1 flag(s)"
    assert out_again.strip() == "No digest sent: nothing new to report"


def test_l6_a_flags_export_only_the_owner_can_read(run: object, factory: Factory, tmp_path: Path) -> None:
    import stat

    factory.flag()
    target = tmp_path / "flags.csv"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o644)

    code, _, _ = run("flags", "export", "--csv", str(target))  # type: ignore[operator]

    assert code == 0 and "I know where you all work" in target.read_text(encoding="utf-8")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
