"""Flags close themselves when the organisation replied on the platform or hid the comment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from monitor.models import Flag, FlagEvent
from monitor.notify.resolution import auto_resolve
from monitor.store import Store
from tests.notify.factory import NOW, Factory

LONDON = ZoneInfo("Europe/London")


def flag(store: Store, flag_id: int) -> Flag:
    with store.session() as session:
        row = session.get(Flag, flag_id)
        assert row is not None
        return row


def test_an_owner_reply_resolves_the_flag_and_says_how(store: Store, factory: Factory) -> None:
    flag_id = factory.flag(severity="medium", categories=("abuse",), written=datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    parent = factory.external_id(flag_id)
    factory.comment(
        "We have called you.", parent=parent, by_owner=True, written=datetime(2026, 7, 1, 13, 2, tzinfo=UTC)
    )
    factory.comment("Earlier? no, later.", parent=parent, by_owner=True, written=datetime(2026, 7, 2, 9, 0, tzinfo=UTC))

    resolved = auto_resolve(store, NOW, LONDON)

    row = flag(store, flag_id)
    assert resolved == 1
    assert (row.status, row.resolved_at) == ("resolved", NOW)
    assert row.resolution == "The organisation replied on Facebook on 1 Jul at 14:02"
    with store.session() as session:
        events = list(session.exec(select(FlagEvent)))
    assert [(e.flag_id, e.actor, e.action, e.note) for e in events] == [
        (flag_id, "monitor", "auto-resolved", row.resolution)
    ]


def test_a_hidden_comment_resolves_its_flag(store: Store, factory: Factory) -> None:
    flag_id = factory.flag()
    factory.hide(flag_id)

    assert auto_resolve(store, NOW) == 1
    assert flag(store, flag_id).resolution == "Hidden on the platform"


def test_replies_by_others_or_on_another_platform_change_nothing(store: Store, factory: Factory) -> None:
    flag_id = factory.flag()
    parent = factory.external_id(flag_id)
    factory.comment("I agree with you", parent=parent, by_owner=False)
    factory.comment("Owner, elsewhere", parent=parent, by_owner=True, platform="instagram", account="insta")
    factory.comment("Owner, top level", by_owner=True)

    assert auto_resolve(store, NOW) == 0
    assert flag(store, flag_id).status == "open"


def test_closed_flags_are_left_alone_and_a_second_run_does_nothing(store: Store, factory: Factory) -> None:
    dismissed = factory.flag(status="dismissed")
    factory.hide(dismissed)
    open_flag = factory.flag(severity="medium", categories=("abuse",))
    factory.comment(
        "Sorted, thanks", parent=factory.external_id(open_flag), by_owner=True, written=NOW - timedelta(minutes=5)
    )

    assert auto_resolve(store, NOW) == 1
    assert auto_resolve(store, NOW) == 0
    assert flag(store, dismissed).status == "dismissed"
    assert flag(store, open_flag).resolution == "The organisation replied on Facebook on 20 Nov at 08:55 UTC"


def test_a_holding_reply_leaves_an_allegation_open_and_notes_it_once(store: Store, factory: Factory) -> None:
    flag_id = factory.flag(
        "My dad was left without food all day", severity="high", categories=("allegation",), match="without food"
    )
    factory.comment(
        "Hi Dan, we're so sorry, please DM us",
        parent=factory.external_id(flag_id),
        by_owner=True,
        written=NOW - timedelta(minutes=10),
    )

    assert auto_resolve(store, NOW, LONDON) == 0
    assert auto_resolve(store, NOW, LONDON) == 0

    assert flag(store, flag_id).status == "open"
    with store.session() as session:
        events = [(e.actor, e.action, e.note) for e in session.exec(select(FlagEvent))]
    assert events == [
        (
            "monitor",
            "page-replied",
            "The organisation replied on Facebook on 20 Nov at 08:50;"
            " a reply does not deal with this, so it stays open",
        )
    ]
