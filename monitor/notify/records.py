"""Flags with everything needed to tell someone about them, read in one query."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from monitor.models import Account, Comment, Flag, Post, Verdict
from monitor.notify.decision import FlagFacts
from monitor.store import Store

IN_CHUNK = 500


@dataclass(frozen=True, slots=True)
class FlagRecord:
    flag_id: int
    status: str
    severity: str
    categories: tuple[str, ...]
    flagged_at: datetime | None
    resolution: str | None
    account: str
    platform: str
    comment_external_id: str
    text: str
    author: str | None
    written_at: datetime
    permalink: str | None
    post_id: int | None
    post_title: str | None
    post_url: str | None
    reasons: tuple[dict[str, Any], ...]
    sentiment: dict[str, float] | None
    reopened_at: datetime | None = None
    page_replied: bool = False  # the page replied, which did not close it (monitor.notify.resolution)
    auto_hidden: bool = False  # hidden on the platform by [review.auto_hide]
    kind: str = "comment"  # or "post": the organisation's own post

    @property
    def facts(self) -> FlagFacts:
        return FlagFacts(id=self.flag_id, status=self.status, severity=self.severity, reopened_at=self.reopened_at)


_COLUMNS = (
    Flag.id,
    Flag.status,
    Flag.severity,
    Flag.categories,
    Flag.created_at,
    Flag.resolution,
    Account.name,
    Comment.platform,
    Comment.external_id,
    Comment.text,
    Comment.author_name,
    Comment.created_at,
    Comment.permalink,
    Comment.post_id,
    Post.title,
    Post.url,
    Verdict.reasons,
    Verdict.sentiment,
    Flag.reopened_at,
    Comment.kind,
)


def load_flags(
    store: Store,
    *,
    status: str | None = "open",
    severities: Iterable[str] | None = None,
    flag_ids: Iterable[int] | None = None,
) -> list[FlagRecord]:
    """Flags (open ones by default), oldest comment first."""
    query = (
        select(*_COLUMNS)
        .join(Comment, Comment.id == Flag.comment_id)  # type: ignore[arg-type]
        .join(Account, Account.id == Comment.account_id)  # type: ignore[arg-type]
        .outerjoin(Post, Post.id == Comment.post_id)  # type: ignore[arg-type]
        .outerjoin(Verdict, Verdict.comment_id == Comment.id)  # type: ignore[arg-type]
    )
    if status is not None:
        query = query.where(Flag.status == status)  # type: ignore[arg-type]
    if severities is not None:
        query = query.where(Flag.severity.in_(list(severities)))  # type: ignore[attr-defined]
    with store.session() as session:
        connection = session.connection()
        if flag_ids is None:
            rows = list(connection.execute(query))
        else:
            wanted = sorted(set(flag_ids))
            rows = []
            for start in range(0, len(wanted), IN_CHUNK):
                chunk = wanted[start : start + IN_CHUNK]
                rows.extend(connection.execute(query.where(Flag.id.in_(chunk))))  # type: ignore[union-attr]
    replied = store.flags_with_action([row[0] for row in rows], "page-replied")
    auto_hidden = store.flags_with_action([row[0] for row in rows], "auto-hidden")
    records = [_record(row, row[0] in replied, row[0] in auto_hidden) for row in rows]
    records.sort(key=lambda record: (record.written_at, record.flag_id))
    return records


def _record(row: Any, page_replied: bool, auto_hidden: bool) -> FlagRecord:
    (
        flag_id,
        status,
        severity,
        categories,
        flagged_at,
        resolution,
        account,
        platform,
        external_id,
        text,
        author,
        written_at,
        permalink,
        post_id,
        post_title,
        post_url,
        reasons,
        sentiment,
        reopened_at,
        kind,
    ) = row
    return FlagRecord(
        flag_id=flag_id,
        status=status,
        severity=severity,
        categories=tuple(categories or ()),
        flagged_at=flagged_at,
        resolution=resolution,
        account=account,
        platform=platform,
        comment_external_id=external_id,
        text=text or "",
        author=author,
        written_at=written_at,
        permalink=permalink,
        post_id=post_id,
        post_title=post_title,
        post_url=post_url,
        reasons=tuple(reason for reason in reasons or () if isinstance(reason, dict)),
        sentiment=sentiment if isinstance(sentiment, dict) else None,
        reopened_at=reopened_at,
        page_replied=page_replied,
        auto_hidden=auto_hidden,
        kind=kind or "comment",
    )
