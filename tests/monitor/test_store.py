from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from connectors.base import Batch, Comment
from monitor.models import Comment as CommentRow
from monitor.models import Flag, Post
from monitor.store import Store
from tests.conftest import postgres_url

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@dataclass
class FakeReason:
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule}


@dataclass
class FakeVerdict:
    flagged: bool
    severity: str | None = None
    categories: list[str] = field(default_factory=list)
    reasons: list[FakeReason] = field(default_factory=list)
    sentiment: dict[str, float] = field(default_factory=lambda: {"compound": -0.5})


def comment(external_id: str, text: str = "hello", **extra: Any) -> Comment:
    values: dict[str, Any] = {
        "created_at": NOW - timedelta(hours=1),
        "post_id": "post-1",
        "post_url": "https://www.facebook.com/1/posts/1",
    }
    values.update(extra)
    return Comment(external_id=external_id, text=text, **values)


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


def account_id(store: Store) -> int:
    account = store.ensure_account("page", "facebook")
    assert account.id is not None
    return account.id


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'wal.db'}")
    store.create_schema()
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_upsert_stores_each_comment_once_and_reports_counts(store: Store) -> None:
    aid = account_id(store)
    first = store.save_batch(aid, "facebook", Batch([comment("a"), comment("b")], {"since": "1"}), NOW)
    again = store.save_batch(aid, "facebook", Batch([comment("a"), comment("b"), comment("c")]), NOW)
    assert (first.new, first.edited, first.unchanged) == (2, 0, 0)
    assert (again.new, again.edited, again.unchanged) == (1, 0, 2)
    assert store.count(CommentRow) == 3
    assert store.count(Post) == 1


def test_the_same_item_twice_in_one_batch_is_stored_once(store: Store) -> None:
    aid = account_id(store)
    result = store.save_batch(aid, "facebook", Batch([comment("a", "first"), comment("a", "second")]), NOW)
    assert result.new == 1
    (row,) = list(store.iter_comments())
    assert row.text == "second"


def test_an_edit_is_marked_for_classification_again(store: Store) -> None:
    aid = account_id(store)
    store.save_batch(aid, "facebook", Batch([comment("a", "nice")]), NOW)
    (row,) = store.comments_to_classify()
    assert row.id is not None
    store.save_verdict(row.id, FakeVerdict(flagged=False), NOW)
    assert store.comments_to_classify() == []
    later = NOW + timedelta(minutes=5)
    result = store.save_batch(aid, "facebook", Batch([comment("a", "nasty now")]), later)
    assert result.edited == 1
    (edited,) = store.comments_to_classify()
    assert edited.text == "nasty now"
    assert store.comment(edited.id).edited_at == later  # type: ignore[union-attr]


def test_bookmark_moves_only_with_a_batch_that_carries_one(store: Store) -> None:
    aid = account_id(store)
    assert store.bookmark(aid) is None
    store.save_batch(aid, "facebook", Batch([comment("a")], {"since": "100"}), NOW)
    store.save_batch(aid, "facebook", Batch([comment("b")]), NOW)
    assert store.bookmark(aid) == {"since": "100"}


def test_a_failed_batch_moves_neither_comments_nor_bookmark(store: Store) -> None:
    aid = account_id(store)
    store.save_batch(aid, "facebook", Batch([comment("a")], {"since": "1"}), NOW)
    broken = Batch([comment("b"), comment("c")], {"since": "2"})
    object.__setattr__(broken.comments[1], "created_at", "not a time")
    with pytest.raises(Exception):  # noqa: B017 - any database error will do
        store.save_batch(aid, "facebook", broken, NOW)
    assert store.bookmark(aid) == {"since": "1"}
    assert store.count(CommentRow) == 1


def test_verdict_opens_updates_and_closes_a_flag(store: Store) -> None:
    aid = account_id(store)
    store.save_batch(aid, "facebook", Batch([comment("a", "bad")]), NOW)
    (row,) = store.comments_to_classify()
    assert row.id is not None
    flag = store.save_verdict(row.id, FakeVerdict(True, "high", ["allegation"], [FakeReason("r1")]), NOW)
    assert flag is not None and flag.severity == "high" and flag.status == "open"
    assert store.verdict(row.id).reasons == [{"rule": "r1"}]  # type: ignore[union-attr]
    store.save_verdict(row.id, FakeVerdict(True, "urgent", ["threat"]), NOW)
    (updated,) = store.flags()
    assert updated.id == flag.id and updated.severity == "urgent" and updated.categories == ["threat"]
    assert store.save_verdict(row.id, FakeVerdict(False), NOW) is None
    (closed,) = store.flags()
    assert closed.status == "resolved" and "edited" in (closed.resolution or "")


def test_times_come_back_as_aware_utc(store: Store) -> None:
    aid = account_id(store)
    store.save_batch(aid, "facebook", Batch([comment("a")]), NOW)
    (row,) = list(store.iter_comments())
    assert row.created_at == NOW - timedelta(hours=1)
    assert row.created_at is not None and row.created_at.tzinfo is not None


def test_same_external_id_on_two_platforms_is_two_comments(store: Store) -> None:
    fb = account_id(store)
    ig = store.ensure_account("insta", "instagram").id
    assert ig is not None
    store.save_batch(fb, "facebook", Batch([comment("1")]), NOW)
    store.save_batch(ig, "instagram", Batch([comment("1")]), NOW)
    assert store.count(CommentRow) == 2


def test_reset_auth_failure(store: Store) -> None:
    aid = account_id(store)
    store.update_account(aid, status="auth_failed")
    store.reset_auth_failure("page")
    assert store.account("page").status == "failing"  # type: ignore[union-attr]
    assert store.flags() == [] and store.count(Flag) == 0


def test_a_lease_is_held_by_one_owner_until_it_expires(store: Store) -> None:
    ttl = timedelta(seconds=60)
    assert store.acquire_lease("account:page", "a", ttl, NOW)
    assert not store.acquire_lease("account:page", "b", ttl, NOW + timedelta(seconds=30))
    assert store.acquire_lease("account:page", "a", ttl, NOW + timedelta(seconds=30))  # renewal
    assert store.lease_holders(NOW + timedelta(seconds=60)) == {"account:page": "a"}
    assert not store.acquire_lease("account:page", "b", ttl, NOW + timedelta(seconds=89))
    assert store.acquire_lease("account:page", "b", ttl, NOW + timedelta(seconds=91))
    assert store.lease_holders(NOW + timedelta(seconds=92)) == {"account:page": "b"}


def test_a_released_lease_is_free_at_once(store: Store) -> None:
    ttl = timedelta(minutes=5)
    assert store.acquire_lease("notifier", "a", ttl, NOW)
    store.release_lease("notifier", "b")  # not b's to release
    assert not store.acquire_lease("notifier", "b", ttl, NOW)
    store.release_lease("notifier", "a")
    assert store.acquire_lease("notifier", "b", ttl, NOW)


def test_only_one_of_many_concurrent_claims_wins(store: Store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    owners = [f"instance-{n}" for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda o: store.acquire_lease("account:x", o, timedelta(minutes=1), NOW), owners))
    assert results.count(True) == 1


def test_authors_are_found_by_account_and_id(store: Store) -> None:
    fb = account_id(store)
    ig = store.ensure_account("insta", "instagram").id
    assert ig is not None
    store.save_batch(fb, "facebook", Batch([comment("1", author_id="fb-author")]), NOW)
    store.save_batch(ig, "instagram", Batch([comment("1", author_id="ig-author")]), NOW)
    found = store.authors_of({(fb, "1"), (ig, "1"), (fb, "absent")})
    assert found == {(fb, "1"): "fb-author", (ig, "1"): "ig-author"}


def test_author_lookup_uses_the_account_and_id_index(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'plan.db'}")
    store.create_schema()
    with store.engine.connect() as connection:
        plan = connection.execute(
            text("EXPLAIN QUERY PLAN SELECT author_id FROM comment WHERE account_id = 1 AND external_id IN ('1', '2')")
        ).all()
    assert "USING INDEX" in str(plan) and "SCAN comment" not in str(plan)


def test_h5_two_blogs_with_the_same_comment_ids_do_not_collide(store: Store) -> None:
    first = store.ensure_account("blog-one", "wordpress").id
    second = store.ensure_account("blog-two", "wordpress").id
    assert first is not None and second is not None
    for _ in range(2):  # every poll, in turn: nothing flips
        assert store.save_batch(first, "wordpress", Batch([comment("7", "first blog's words")]), NOW).edited == 0
        assert store.save_batch(second, "wordpress", Batch([comment("7", "second blog's words")]), NOW).edited == 0
    texts = {(row.account_id, row.text) for row in store.iter_comments()}
    assert texts == {(first, "first blog's words"), (second, "second blog's words")}


def test_h5_an_owner_reply_on_one_blog_does_not_resolve_a_flag_on_another(store: Store) -> None:
    from monitor.notify.resolution import auto_resolve

    first = store.ensure_account("blog-one", "wordpress").id
    second = store.ensure_account("blog-two", "wordpress").id
    assert first is not None and second is not None
    store.save_batch(first, "wordpress", Batch([comment("7", "you neglected my dad")]), NOW)
    (pending,) = store.comments_to_classify()
    assert store.save_verdict(pending.id, FakeVerdict(True, "high", ["allegation"]), NOW) is not None
    reply = comment("8", "Please call us", parent_id="7", by_owner=True)
    store.save_batch(second, "wordpress", Batch([reply]), NOW)
    assert auto_resolve(store, NOW) == 0
    assert [flag.status for flag in store.flags()] == ["open"]
