"""Flags close themselves when the organisation has answered: it replied on the platform, or hid the comment."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from monitor.models import Comment, Flag, FlagEvent
from monitor.notify.present import PLATFORM_NAMES
from monitor.store import Store

IN_CHUNK = 500
MONITOR = "monitor"


def auto_resolve(store: Store, now: datetime, zone: ZoneInfo | None = None) -> int:
    """Resolve every open flag the organisation has dealt with on the platform. Returns how many."""
    zone = zone or ZoneInfo("UTC")
    resolved = 0
    with store.session() as session:
        open_flags = list(
            session.exec(
                select(Flag, Comment).join(Comment, col(Comment.id) == Flag.comment_id).where(Flag.status == "open")
            )
        )
        replies = _owner_replies(session, [comment for _, comment in open_flags])
        for flag, comment in open_flags:
            how = _how_resolved(comment, replies.get((comment.platform, comment.external_id)), zone)
            if how is None:
                continue
            flag.status = "resolved"
            flag.resolution = how
            flag.resolved_at = now
            flag.updated_at = now
            session.add(flag)
            session.add(FlagEvent(flag_id=flag.id, at=now, actor=MONITOR, action="auto-resolved", note=how))  # type: ignore[arg-type]
            resolved += 1
        session.commit()
    return resolved


def _owner_replies(session: Session, comments: list[Comment]) -> dict[tuple[str, str], Comment]:
    """The organisation's earliest reply to each of these comments."""
    earliest: dict[tuple[str, str], Comment] = {}
    by_platform: dict[str, list[str]] = {}
    for comment in comments:
        if not comment.hidden:
            by_platform.setdefault(comment.platform, []).append(comment.external_id)
    for platform, external_ids in by_platform.items():
        for start in range(0, len(external_ids), IN_CHUNK):
            query = select(Comment).where(
                Comment.platform == platform,
                col(Comment.by_owner).is_(True),
                col(Comment.parent_external_id).in_(external_ids[start : start + IN_CHUNK]),
            )
            for reply in session.exec(query):
                key = (platform, reply.parent_external_id or "")
                known = earliest.get(key)
                if known is None or _written(reply) < _written(known):
                    earliest[key] = reply
    return earliest


def _how_resolved(comment: Comment, reply: Comment | None, zone: ZoneInfo) -> str | None:
    if comment.hidden:
        return "Hidden on the platform"
    if reply is None:
        return None
    platform = PLATFORM_NAMES.get(comment.platform, comment.platform)
    written = _written(reply).astimezone(zone)
    day = f"{written.day} {written:%b}"
    suffix = "" if zone.key != "UTC" else " UTC"
    return f"The organisation replied on {platform} on {day} at {written:%H:%M}{suffix}"


def _written(comment: Comment) -> datetime:
    return comment.created_at or datetime.min.replace(tzinfo=UTC)
