"""What is kept about people: removing old comment text, and exporting what is stored."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from monitor.models import Account, Comment, Flag, FlagEvent, Post, Verdict
from monitor.store import Store

PAGE_SIZE = 500
REMOVED = "[removed]"
MESSAGE_SUFFIXES = (".eml", ".html")


def purge_comment_text(store: Store, older_than: timedelta, now: datetime, page_size: int = PAGE_SIZE) -> int:
    """Remove the text and author name of comments written before ``now - older_than``; return how many.

    Ids, times, links, verdict rules and flags with their audit trail stay, so reports and the
    notification log still add up. The words a verdict quoted from the comment go with its text.
    """
    cutoff = now - older_than
    purged = 0
    while True:
        with store.session() as session:
            ids = list(session.exec(_still_identifiable(cutoff).limit(page_size)))
            if not ids:
                return purged
            session.execute(
                update(Comment).where(col(Comment.id).in_(ids)).values(text=None, author_name=None, updated_at=now)
            )
            for verdict in session.exec(select(Verdict).where(col(Verdict.comment_id).in_(ids))):
                verdict.reasons = [_without_quotes(reason) for reason in verdict.reasons or []]
                session.add(verdict)
            session.commit()
        purged += len(ids)


def purge_message_files(directory: Path | None, older_than: timedelta, now: datetime) -> int:
    """Remove the copies of messages (.eml, .html) written to ``directory`` before ``now - older_than``."""
    if directory is None or not directory.is_dir():
        return 0
    cutoff = (now - older_than).timestamp()
    removed = 0
    for path in directory.iterdir():
        if path.suffix in MESSAGE_SUFFIXES and path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _still_identifiable(cutoff: datetime) -> Any:
    return (
        select(Comment.id)
        .where(col(Comment.created_at) < cutoff)
        .where(or_(col(Comment.text).is_not(None), col(Comment.author_name).is_not(None)))
        .order_by(col(Comment.id))
    )


def _without_quotes(reason: dict[str, Any]) -> dict[str, Any]:
    explanation = str(reason.get("explanation", ""))
    for quoted in reason.get("matched") or []:
        if quoted:
            explanation = explanation.replace(f"“{quoted}”", f"“{REMOVED}”")
    return {**reason, "explanation": explanation, "matched": [], "spans": []}


def by_author(author: str) -> Any:
    """Comments whose author id is ``author``, or whose display name is, ignoring case and spacing."""
    name = " ".join(author.split()).lower()
    return or_(col(Comment.author_id) == author, func.lower(func.trim(col(Comment.author_name))) == name)


def matching_authors(store: Store, author: str) -> list[tuple[str, str, str | None]]:
    """(platform, author id, display name) of everyone ``author`` matches, for the operator to check."""
    with store.session() as session:
        query = select(Comment.platform, Comment.author_id, Comment.author_name).where(by_author(author)).distinct()
        return sorted((str(p), str(i), n) for p, i, n in session.exec(query))


def stored_comments(store: Store, author: str | None = None, page_size: int = PAGE_SIZE) -> Iterator[dict[str, Any]]:
    """Every stored comment (or every one by ``author``, an id or a display name, on any platform) with its
    verdict and flag.

    Reads a page of comments at a time, so memory stays flat however many are stored.
    """
    last_id = 0
    while True:
        with store.session() as session:
            query = select(Comment).where(col(Comment.id) > last_id)
            if author is not None:
                query = query.where(by_author(author))
            comments = list(session.exec(query.order_by(col(Comment.id)).limit(page_size)))
            if not comments:
                return
            related = _Related.load(session, comments)
        yield from (related.record(comment) for comment in comments)
        last_id = comments[-1].id or last_id


@dataclass(frozen=True)
class _Related:
    """The rows a page of comments refers to, fetched with one query per table."""

    accounts: dict[int, Account]
    posts: dict[int, Post]
    verdicts: dict[int, Verdict]
    flags: dict[int, Flag]
    events: dict[int, list[FlagEvent]]

    @classmethod
    def load(cls, session: Session, comments: Sequence[Comment]) -> _Related:
        ids = [comment.id for comment in comments]
        flags = _rows_by(session, Flag.comment_id, ids)
        events: dict[int, list[FlagEvent]] = {}
        query = select(FlagEvent).where(col(FlagEvent.flag_id).in_([flag.id for flag in flags.values()]))
        for event in session.exec(query.order_by(col(FlagEvent.id))):
            events.setdefault(event.flag_id, []).append(event)
        return cls(
            accounts=_rows_by(session, Account.id, {comment.account_id for comment in comments}),
            posts=_rows_by(session, Post.id, {comment.post_id for comment in comments if comment.post_id}),
            verdicts=_rows_by(session, Verdict.comment_id, ids),
            flags=flags,
            events=events,
        )

    def record(self, comment: Comment) -> dict[str, Any]:
        account = self.accounts.get(comment.account_id)
        post = self.posts.get(comment.post_id or 0)
        verdict = self.verdicts.get(comment.id or 0)
        flag = self.flags.get(comment.id or 0)
        return {
            "platform": comment.platform,
            "account": account.name if account else None,
            "external_id": comment.external_id,
            "post_url": post.url if post else None,
            "post_title": post.title if post else None,
            "parent_external_id": comment.parent_external_id,
            "author_id": comment.author_id,
            "author_name": comment.author_name,
            "text": comment.text,
            "permalink": comment.permalink,
            "by_owner": comment.by_owner,
            "hidden": comment.hidden,
            "created_at": _iso(comment.created_at),
            "edited_at": _iso(comment.edited_at),
            "first_seen_at": _iso(comment.first_seen_at),
            "verdict": _verdict(verdict) if verdict else None,
            "flag": _flag(flag, self.events.get(flag.id or 0, [])) if flag else None,
        }


def _rows_by(session: Session, key: Any, values: Iterable[Any]) -> dict[Any, Any]:
    model = key.class_
    return {getattr(row, key.key): row for row in session.exec(select(model).where(col(key).in_(list(values))))}


def _verdict(verdict: Verdict) -> dict[str, Any]:
    return {
        "flagged": verdict.flagged,
        "severity": verdict.severity,
        "categories": list(verdict.categories or []),
        "reasons": list(verdict.reasons or []),
        "sentiment": dict(verdict.sentiment or {}),
        "classified_at": _iso(verdict.classified_at),
    }


def _flag(flag: Flag, events: Sequence[FlagEvent]) -> dict[str, Any]:
    return {
        "status": flag.status,
        "severity": flag.severity,
        "categories": list(flag.categories or []),
        "created_at": _iso(flag.created_at),
        "resolved_at": _iso(flag.resolved_at),
        "resolution": flag.resolution,
        "events": [
            {"at": _iso(event.at), "actor": event.actor, "action": event.action, "note": event.note} for event in events
        ],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
