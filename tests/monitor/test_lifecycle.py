"""Every transition of a flag, as the pipeline, the notifier and people make them, with the audit trail each leaves."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel, select
from structlog.testing import capture_logs

from connectors.base import Batch
from monitor.models import Flag, FlagEvent
from monitor.notify import Notifier
from monitor.notify.resolution import auto_resolve
from monitor.notify.review import ReviewError, close_flag
from monitor.store import Store
from tests.conftest import postgres_url
from tests.monitor.test_store import NOW, FakeVerdict, comment
from tests.notify.factory import Clock, make_settings
from tests.smtp import MailServer

MEDIUM = FakeVerdict(True, "medium", ["abuse"])
HIGH = FakeVerdict(True, "high", ["allegation"])
HIGH_OTHER = FakeVerdict(True, "high", ["misrepresentation"])
URGENT = FakeVerdict(True, "urgent", ["threat"])
HARMLESS = FakeVerdict(False)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    else:
        store = Store(postgres_url())
        SQLModel.metadata.drop_all(store.engine)
        with store.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    store.create_schema()
    yield store
    store.close()


class Page:
    """One account whose single comment the test writes, edits and classifies, as the pipeline would."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        account = store.ensure_account("brightwater-page", "facebook")
        assert account.id is not None
        self.account_id = account.id
        self.comment_id: int | None = None

    def says(self, words: str, verdict: FakeVerdict, **extra: object) -> Flag | None:
        self.clock.advance(minutes=10)
        batch = Batch([comment("c-1", words, edited_at=self.clock() if self.comment_id else None, **extra)])
        self.store.save_batch(self.account_id, "facebook", batch, self.clock())
        pending = self.store.comments_to_classify(account_id=self.account_id)
        if not pending:  # not an edit of the text: nothing to classify again
            return None
        (row,) = pending
        self.comment_id = row.id
        return self.store.save_verdict(row.id, verdict, self.clock())

    def flag(self) -> Flag:
        (flag,) = self.store.flags()
        return flag


def events(store: Store) -> list[tuple[str, str, str | None]]:
    with store.session() as session:
        rows = session.exec(select(FlagEvent).order_by(FlagEvent.id))  # type: ignore[arg-type]
        return [(event.action, event.actor, event.note) for event in rows]


def actions(store: Store) -> list[str]:
    return [action for action, _, _ in events(store)]


def test_every_transition_leaves_its_event(store: Store) -> None:
    clock = Clock()
    page = Page(store, clock)

    page.says("you lot are useless", MEDIUM)
    page.says("you neglected my mum", HIGH)
    page.says("they are closing down, neglect", HIGH_OTHER)
    page.says("thanks for the lovely day", HARMLESS)
    assert (page.flag().status, page.flag().resolution) == (
        "resolved",
        "The comment was edited and is no longer flagged.",
    )
    page.says("I know where you all work", URGENT)
    assert page.flag().status == "open" and page.flag().reopened_at == clock()

    clock.advance(minutes=1)
    owner_reply = comment("r-1", "Please call us", parent_id="c-1", by_owner=True, created_at=clock())
    store.save_batch(page.account_id, "facebook", Batch([owner_reply]), clock())
    (reply,) = store.comments_to_classify()
    store.save_verdict(reply.id, HARMLESS, clock())
    assert auto_resolve(store, clock()) == 1
    page.says("I know where you all work, and I will wait", URGENT)  # the reply predates this edit
    assert auto_resolve(store, clock()) == 0
    assert page.flag().status == "open"

    flag_id = page.flag().id
    assert flag_id is not None
    close_flag(store, flag_id, status="dismissed", note="a joke between friends", actor="Ann Smith", now=clock())
    page.says("I know where you work, ha", URGENT)  # a person judged this severity already
    assert page.flag().status == "dismissed"
    page.says("I know where you all work", FakeVerdict(True, "high", ["allegation"]))
    assert page.flag().status == "dismissed"

    page.says("I know where you all work", URGENT, hidden=True)  # the page hides it
    assert auto_resolve(store, clock()) == 0  # a closed flag stays closed

    assert actions(store) == [
        "opened",
        "severity-changed",
        "changed",
        "auto-resolved",
        "reopened",
        "auto-resolved",
        "reopened",
        "dismissed",
    ]
    trail = events(store)
    assert trail[0] == ("opened", "monitor", "medium")
    assert trail[1] == ("severity-changed", "monitor", "medium → high: the comment was edited")
    assert trail[4][2] == "the comment was edited; now urgent (threat)"
    assert trail[5][2] is not None and trail[5][2].startswith("The organisation replied on Facebook")
    assert trail[7] == ("dismissed", "Ann Smith", "a joke between friends")


def test_a_hidden_comment_resolves_its_flag_as_hidden_and_an_edit_reopens_it(store: Store) -> None:
    page = Page(store, Clock())
    page.says("I know where you all work", URGENT)
    page.says("I know where you all work", URGENT, hidden=True)
    assert auto_resolve(store, page.clock()) == 1
    assert (page.flag().status, page.flag().resolution) == ("resolved", "Hidden on the platform")
    page.says("I know where you all work and I will be there", URGENT, hidden=False)
    assert page.flag().status == "open"
    assert actions(store) == ["opened", "hidden", "reopened"]


def test_h3_edit_into_threat_reopens_dismissed_flag_and_alerts(
    store: Store, tmp_path: Path, smtp_server: MailServer
) -> None:
    clock = Clock()
    page = Page(store, clock)
    page.says("you lot are useless", MEDIUM)
    flag_id = page.flag().id
    assert flag_id is not None
    close_flag(store, flag_id, status="dismissed", note="just letting off steam", actor="Ann Smith", now=clock())

    page.says("I know where you all work and I will be waiting", URGENT)

    flag = page.flag()
    assert (flag.status, flag.severity, flag.categories) == ("open", "urgent", ["threat"])
    assert actions(store) == ["opened", "dismissed", "reopened"]
    smtp = {"host": "127.0.0.1", "port": smtp_server.port, "security": "none", "timeout": 5}
    settings = make_settings(tmp_path, smtp=smtp)
    with capture_logs():
        report = Notifier(settings, store, clock, sleep=lambda _: None).send_urgent_alerts()
    assert report.sent == 1
    assert "I know where you all work" in smtp_server.received[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_h3_threat_edited_harmless_is_resolved_with_an_event_and_reopens_with_an_alert(
    store: Store, tmp_path: Path, smtp_server: MailServer
) -> None:
    clock = Clock()
    page = Page(store, clock)
    smtp = {"host": "127.0.0.1", "port": smtp_server.port, "security": "none", "timeout": 5}
    notifier = Notifier(make_settings(tmp_path, smtp=smtp), store, clock, sleep=lambda _: None)
    page.says("I know where you all work", URGENT)
    with capture_logs():
        assert notifier.send_urgent_alerts().sent == 1

    page.says("Lovely summer fair, thank you", HARMLESS)
    assert page.flag().status == "resolved"
    page.says("I know where you all work. Tonight.", URGENT)
    clock.advance(minutes=1)

    assert page.flag().status == "open"
    assert actions(store) == ["opened", "auto-resolved", "reopened"]
    with capture_logs():
        assert notifier.send_urgent_alerts().sent == 1  # told again: the reopened flag is news
    assert len(smtp_server.received) == 2


def test_a_person_closing_a_closed_flag_is_refused(store: Store) -> None:
    page = Page(store, Clock())
    page.says("you neglected my mum", HIGH)
    flag_id = page.flag().id
    assert flag_id is not None
    close_flag(store, flag_id, status="resolved", note="called her", actor="Ann Smith", now=NOW)
    with pytest.raises(ReviewError, match="already resolved"):
        close_flag(store, flag_id, status="dismissed", note="oops", actor="Bob Jones", now=NOW)
    assert actions(store) == ["opened", "resolved"]


def test_l1_two_processes_closing_one_flag_exactly_one_wins(store: Store) -> None:
    page = Page(store, Clock())
    flag_ids = []
    for index in range(12):
        batch = Batch([comment(f"race-{index}", "you neglected my mum")])
        store.save_batch(page.account_id, "facebook", batch, NOW)
    for pending in store.comments_to_classify():
        flag = store.save_verdict(pending.id, HIGH, NOW)
        assert flag is not None and flag.id is not None
        flag_ids.append(flag.id)
    other = Store(store.url)
    outcomes: list[str] = []

    def close(target: Store, flag_id: int, status: str, start: threading.Barrier) -> None:
        start.wait()
        try:
            close_flag(target, flag_id, status=status, note="dealt with", actor="Ann Smith", now=NOW)
            outcomes.append(status)
        except ReviewError:
            outcomes.append("refused")

    try:
        for flag_id in flag_ids:
            start = threading.Barrier(2)
            threads = [
                threading.Thread(target=close, args=(store, flag_id, "resolved", start)),
                threading.Thread(target=close, args=(other, flag_id, "dismissed", start)),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
    finally:
        other.close()

    assert outcomes.count("refused") == len(flag_ids)
    with store.session() as session:
        closing = list(session.exec(select(FlagEvent).where(FlagEvent.action != "opened")))
    assert sorted(event.flag_id for event in closing) == sorted(flag_ids)  # one event per flag, never two
    statuses = {flag.id: flag.status for flag in store.flags()}
    for event in closing:
        assert statuses[event.flag_id] == event.action


def test_flags_by_validates_the_actor_name(store: Store) -> None:
    page = Page(store, Clock())
    page.says("you neglected my mum", HIGH)
    flag_id = page.flag().id
    assert flag_id is not None
    for bad in ("", "monitor", "x" * 65, "Ann\nSmith", "\x1b[31mAnn"):
        with pytest.raises(ReviewError, match="--by"):
            close_flag(store, flag_id, status="resolved", note="called", actor=bad, now=NOW)
    assert page.flag().status == "open"


def test_events_of_a_new_flag_carry_its_time(store: Store) -> None:
    page = Page(store, Clock())
    page.says("you neglected my mum", HIGH)
    with store.session() as session:
        (event,) = session.exec(select(FlagEvent))
    assert event.at == page.clock() and event.at - NOW == timedelta(minutes=10)
