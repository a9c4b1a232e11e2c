"""Flags close themselves when the organisation has answered: it replied on the platform, or hid the comment."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from monitor import lifecycle
from monitor.models import Comment
from monitor.notify.present import PLATFORM_NAMES
from monitor.store import Store


def auto_resolve(store: Store, now: datetime, zone: ZoneInfo | None = None) -> int:
    """Resolve every open flag the organisation has dealt with on the platform. Returns how many."""
    zone = zone or ZoneInfo("UTC")
    changes = []
    for flag, comment, reply in store.open_flags_with_owner_replies():
        assert flag.id is not None
        if comment.hidden:
            changes.append(lifecycle.hidden(flag.id, now))
        elif reply is not None and _after_last_edit(comment, reply):
            changes.append(lifecycle.answered(flag.id, _replied(comment, reply, zone), now))
    return len(store.apply_flag_changes(changes))


def _after_last_edit(comment: Comment, reply: Comment) -> bool:
    """A reply answers the comment as it read then; one written before the latest edit does not answer the edit."""
    return comment.edited_at is None or reply.created_at is None or reply.created_at >= comment.edited_at


def _replied(comment: Comment, reply: Comment, zone: ZoneInfo) -> str:
    platform = PLATFORM_NAMES.get(comment.platform, comment.platform)
    written = (reply.created_at or datetime.min.replace(tzinfo=UTC)).astimezone(zone)
    day = f"{written.day} {written:%b}"
    suffix = "" if zone.key != "UTC" else " UTC"
    return f"The organisation replied on {platform} on {day} at {written:%H:%M}{suffix}"
