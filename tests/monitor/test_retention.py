from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.base import Batch
from connectors.base import Comment as FetchedComment
from monitor.filter.verdict import Reason, Verdict
from monitor.models import Comment, FlagEvent
from monitor.retention import purge_comment_text, purge_message_files
from monitor.store import Store

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
YEAR = timedelta(days=365)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    store.create_schema()
    yield store
    store.close()


def fetched(external_id: str, text: str, age: timedelta) -> FetchedComment:
    return FetchedComment(
        external_id=external_id,
        text=text,
        created_at=NOW - age,
        post_id="post-1",
        post_url="https://www.facebook.com/1/posts/1",
        author_id=f"author-{external_id}",
        author_name=f"Person {external_id}",
        permalink=f"https://www.facebook.com/1/posts/1?comment_id={external_id}",
    )


def phone_verdict(number: str) -> Verdict:
    reason = Reason(
        rule="phone-number",
        category="confidentiality",
        severity="urgent",
        explanation=f"Shares personal details (a phone number): “{number}”.",
        matched=[number],
        spans=[(10, 10 + len(number))],
    )
    return Verdict.from_reasons([reason], {"compound": -0.1})


def stored(store: Store, comments: list[FetchedComment]) -> dict[str, int]:
    account = store.ensure_account("page", "facebook")
    assert account.id is not None
    store.save_batch(account.id, "facebook", Batch(comments), NOW - timedelta(days=400))
    return {row.external_id: row.id or 0 for row in store.iter_comments()}


def test_old_comments_lose_their_text_and_what_quoted_it(store: Store) -> None:
    ids = stored(
        store,
        [
            fetched("old", "Call Jane 07700 900123 she lives at number 4", timedelta(days=400)),
            fetched("recent", "Call me on 07700 900456", timedelta(days=30)),
        ],
    )
    flags = store.save_verdicts(
        [(ids["old"], phone_verdict("07700 900123")), (ids["recent"], phone_verdict("07700 900456"))],
        NOW - timedelta(days=30),
    )
    old_flag = flags[0]
    assert old_flag is not None and old_flag.id is not None
    with store.session() as session:
        session.add(FlagEvent(flag_id=old_flag.id, at=NOW - timedelta(days=30), actor="Pat", action="resolved"))
        session.commit()

    assert purge_comment_text(store, YEAR, NOW) == 1

    old = store.comment(ids["old"])
    assert old is not None
    assert (old.text, old.author_name) == (None, None)
    assert old.external_id == "old" and old.author_id == "author-old"
    assert old.created_at == NOW - timedelta(days=400)
    assert old.permalink == "https://www.facebook.com/1/posts/1?comment_id=old"
    verdict = store.verdict(ids["old"])
    assert verdict is not None and verdict.reasons is not None
    [reason] = verdict.reasons
    assert (reason["rule"], reason["category"], reason["severity"]) == ("phone-number", "confidentiality", "urgent")
    assert reason["matched"] == [] and reason["spans"] == []
    assert "07700" not in reason["explanation"]
    assert reason["explanation"] == "Shares personal details (a phone number): “[removed]”."
    assert (verdict.flagged, verdict.severity, verdict.categories) == (True, "urgent", ["confidentiality"])
    assert [flag.severity for flag in store.flags()] == ["urgent", "urgent"]
    assert store.count(FlagEvent) == 3  # each flag's "opened", and the resolution: the audit trail is kept

    recent = store.comment(ids["recent"])
    assert recent is not None and recent.text == "Call me on 07700 900456"
    recent_verdict = store.verdict(ids["recent"])
    assert recent_verdict is not None and recent_verdict.reasons is not None
    assert recent_verdict.reasons[0]["matched"] == ["07700 900456"]


def test_purging_again_changes_nothing(store: Store) -> None:
    stored(store, [fetched(f"c{n}", f"comment {n}", timedelta(days=366 + n)) for n in range(5)])
    assert purge_comment_text(store, YEAR, NOW, page_size=2) == 5
    assert purge_comment_text(store, YEAR, NOW, page_size=2) == 0
    assert all(row.text is None and row.author_name is None for row in store.iter_comments())
    assert store.count(Comment) == 5


def test_a_comment_exactly_at_the_limit_is_kept(store: Store) -> None:
    ids = stored(store, [fetched("edge", "still within the year", YEAR)])
    assert purge_comment_text(store, YEAR, NOW) == 0
    kept = store.comment(ids["edge"])
    assert kept is not None and kept.text == "still within the year"


def test_a_purged_comment_is_not_refilled_when_fetched_again(store: Store) -> None:
    ids = stored(store, [fetched("old", "my neighbour's dad is in room 12", timedelta(days=400))])
    purge_comment_text(store, YEAR, NOW)
    account = store.account("page")
    assert account is not None and account.id is not None
    store.save_batch(
        account.id, "facebook", Batch([fetched("old", "my neighbour's dad is in room 12", timedelta(days=400))]), NOW
    )
    again = store.comment(ids["old"])
    assert again is not None and again.text is None


def test_copies_of_old_messages_are_removed_with_the_comment_text(tmp_path: Path) -> None:
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    folder = tmp_path / "sent"
    folder.mkdir()
    ages = {"old.eml": 40, "old.html": 40, "recent.eml": 2, "recent.html": 2, "notes.txt": 400}
    for name, days in ages.items():
        path = folder / name
        path.write_text("Comment text: my neighbour Ann at 4 Elm Road")
        written = (now - timedelta(days=days)).timestamp()
        os.utime(path, (written, written))

    assert purge_message_files(folder, timedelta(days=30), now) == 2
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt", "recent.eml", "recent.html"]


def test_no_output_folder_means_nothing_to_remove(tmp_path: Path) -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert purge_message_files(None, timedelta(days=1), now) == 0
    assert purge_message_files(tmp_path / "never-made", timedelta(days=1), now) == 0
