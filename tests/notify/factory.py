"""Flags built straight into a real SQLite store, in the shapes the pipeline writes."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select

from monitor import config
from monitor.config import Settings
from monitor.models import Comment, Flag, Post, Verdict
from monitor.store import Store

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ACCOUNT = "brightwater-page"


def make_settings(tmp_path: Path, accounts: Sequence[dict[str, Any]] = (), **notify: Any) -> Settings:
    values: dict[str, Any] = {
        "recipients": ["gm@brightwater.example"],
        "sender": "monitor@brightwater.example",
        "smtp": {"host": "127.0.0.1", "port": 2525, "security": "none", "timeout": 5},
    }
    values.update(notify)
    return config.from_mapping(
        {
            "organisation": {"name": "Brightwater Care", "timezone": "Europe/London"},
            "notify": values,
            "accounts": list(accounts),
        },
        tmp_path / "config.toml",
    )


def open_store(path: Path) -> Store:
    store = Store(f"sqlite:///{path}")
    store.create_schema()
    return store


def store_dir(store: Store) -> Path:
    return Path(store.url.removeprefix("sqlite:///")).parent


def reopen(store: Store) -> Store:
    """The same database through a new Store, as after a restart."""
    store.close()
    return open_store(Path(store.url.removeprefix("sqlite:///")))


class Clock:
    """An injected clock the test moves by hand."""

    def __init__(self, start: datetime = NOW) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


class Factory:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._ids = itertools.count(1)

    def flag(
        self,
        text: str = "I know where you all work and I will be waiting",
        *,
        severity: str = "urgent",
        categories: Sequence[str] = ("threat",),
        author: str | None = "Jane Doe",
        match: str | None = "I know where you all work",
        explanation: str = 'Threatens staff: "I know where you all work".',
        compound: float = -0.8,
        written: datetime = NOW - timedelta(hours=1),
        post: str = "post-1",
        post_title: str = "Summer fair photos",
        platform: str = "facebook",
        account: str = ACCOUNT,
        permalink: str | None = "default",
        status: str = "open",
        external_id: str | None = None,
    ) -> int:
        external_id = external_id or f"{post}_{next(self._ids)}"
        if permalink == "default":
            permalink = f"https://www.facebook.com/brightwater/posts/{post}?comment_id={external_id}"
        comment_id = self.comment(
            text,
            author=author,
            written=written,
            post=post,
            post_title=post_title,
            platform=platform,
            account=account,
            permalink=permalink,
            external_id=external_id,
        )
        spans = _spans(text, match)
        reason = {
            "rule": f"{categories[0]}-rule",
            "category": categories[0],
            "severity": severity,
            "explanation": explanation,
            "matched": [text[start:end] for start, end in spans],
            "spans": [list(span) for span in spans],
        }
        with self.store.session() as session:
            session.add(
                Verdict(
                    comment_id=comment_id,
                    flagged=True,
                    severity=severity,
                    categories=list(categories),
                    reasons=[reason],
                    sentiment={"compound": compound},
                    classified_at=written,
                )
            )
            flag = Flag(
                comment_id=comment_id,
                severity=severity,
                categories=list(categories),
                status=status,
                created_at=written,
                updated_at=written,
            )
            session.add(flag)
            session.commit()
            assert flag.id is not None
            return flag.id

    def comment(
        self,
        text: str,
        *,
        author: str | None = "Jane Doe",
        written: datetime = NOW - timedelta(hours=1),
        post: str = "post-1",
        post_title: str = "Summer fair photos",
        platform: str = "facebook",
        account: str = ACCOUNT,
        permalink: str | None = None,
        external_id: str | None = None,
        parent: str | None = None,
        by_owner: bool = False,
        hidden: bool = False,
    ) -> int:
        account_id = self.store.ensure_account(account, platform).id
        assert account_id is not None
        with self.store.session() as session:
            row = session.exec(select(Post).where(Post.account_id == account_id, Post.external_id == post)).first()
            if row is None:
                row = Post(
                    account_id=account_id,
                    external_id=post,
                    title=post_title,
                    url=f"https://www.facebook.com/brightwater/posts/{post}",
                )
                session.add(row)
                session.flush()
            comment = Comment(
                account_id=account_id,
                platform=platform,
                external_id=external_id or f"{post}_{next(self._ids)}",
                post_id=row.id,
                parent_external_id=parent,
                author_name=author,
                text=text,
                permalink=permalink,
                by_owner=by_owner,
                hidden=hidden,
                created_at=written,
                first_seen_at=written,
                updated_at=written,
                classified_at=written,
            )
            session.add(comment)
            session.commit()
            assert comment.id is not None
            return comment.id

    def hide(self, flag_id: int) -> None:
        with self.store.session() as session:
            flag = session.get(Flag, flag_id)
            assert flag is not None
            comment = session.get(Comment, flag.comment_id)
            assert comment is not None
            comment.hidden = True
            session.add(comment)
            session.commit()

    def external_id(self, flag_id: int) -> str:
        with self.store.session() as session:
            flag = session.get(Flag, flag_id)
            assert flag is not None
            comment = session.get(Comment, flag.comment_id)
            assert comment is not None
            return comment.external_id


def _spans(text: str, match: str | None) -> list[tuple[int, int]]:
    if not match or match not in text:
        return []
    start = text.index(match)
    return [(start, start + len(match))]
