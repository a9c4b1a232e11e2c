"""Open flags close when their comment was deleted or hidden on the platform (YouTube played by ``responses``,
answering "Comments: list" by id as its reference shows: absent when deleted, ``moderationStatus`` to the owner)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import responses
from sqlmodel import select

from connectors import Batch, Comment
from connectors.youtube import YouTubeConnector, YouTubeSettings
from monitor.models import Comment as Row
from monitor.models import FlagEvent
from monitor.recheck import recheck_open_flags
from monitor.secrets import Secret
from monitor.store import Store
from tests.monitor.test_store import FakeVerdict

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_deleted_and_hidden_comments_close_their_flags_in_one_request(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    store.create_schema()
    account = store.ensure_account("willow-youtube", "youtube")
    assert account.id is not None
    texts = {"UgyKept": "They never answer", "UgyHeld": "Ring me on 07700 900123", "UgyGone": "I know where you live"}
    comments = [
        Comment(external_id=key, text=text, created_at=NOW - timedelta(hours=n), post_id="vWillow0001")
        for n, (key, text) in enumerate(texts.items())
    ]
    store.save_batch(account.id, "youtube", Batch(comments), NOW)
    with store.session() as session:
        rows = {row.external_id: row.id for row in session.exec(select(Row))}
    for key in texts:
        store.save_verdict(rows[key], FakeVerdict(True, "high", ["allegation"]), NOW)  # type: ignore[arg-type]
    settings = YouTubeSettings(
        name="y", platform="youtube", channel_id="UC1", access_token=Secret("ya29.rc-owner", "t")
    )
    connector = YouTubeConnector(settings, now=lambda: NOW)
    items = [
        {"kind": "youtube#comment", "id": "UgyKept", "snippet": {"moderationStatus": "published"}},
        {"kind": "youtube#comment", "id": "UgyHeld", "snippet": {"moderationStatus": "heldForReview"}},
    ]
    later = NOW + timedelta(minutes=5)
    with responses.RequestsMock() as rsps:
        rsps.get("https://www.googleapis.com/youtube/v3/comments", json={"items": items})
        outcome = recheck_open_flags(store, connector, account.id, later)
        again = recheck_open_flags(store, connector, account.id, later)
        asked_again = rsps.calls[-1].request.params["id"]

    assert (outcome.asked, outcome.deleted, outcome.hidden, outcome.requests) == (3, 1, 1, 1)
    flags = {flag.comment_id: flag for flag in store.flags()}
    assert flags[rows["UgyKept"]].status == "open"
    assert (flags[rows["UgyGone"]].status, flags[rows["UgyGone"]].resolution) == ("resolved", "Deleted on YouTube")
    assert (flags[rows["UgyHeld"]].status, flags[rows["UgyHeld"]].resolution) == ("resolved", "Hidden on the platform")
    assert store.comment(rows["UgyGone"]).hidden  # type: ignore[union-attr]
    with store.session() as session:
        trail = session.exec(select(FlagEvent).where(FlagEvent.actor == "monitor", FlagEvent.action != "opened"))
        events = [(e.action, e.note) for e in trail]
    assert sorted(events) == [("auto-resolved", "Deleted on YouTube"), ("hidden", "Hidden on the platform")]
    assert (again.asked, asked_again) == (1, "UgyKept")  # only the flag still open is asked about next time
    store.close()
