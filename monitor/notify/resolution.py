"""Flags close themselves when the organisation has answered: it replied on the platform, or hid the comment.

A reply does not close a threat, an allegation or a safeguarding concern: a
public "please message us" is where dealing with those starts, not where it
ends. Such a flag gets one "page-replied" event (the email and the review page
say "the page replied") and stays open until a person marks it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from monitor import lifecycle
from monitor.lifecycle import Action
from monitor.models import Comment
from monitor.notify.present import PLATFORM_NAMES
from monitor.store import Store

NOT_CLOSED_BY_A_REPLY = frozenset({"threat", "allegation", "safeguarding"})


def auto_resolve(store: Store, now: datetime, zone: ZoneInfo | None = None) -> int:
    """Resolve every open flag the organisation has dealt with on the platform. Returns how many."""
    zone = zone or ZoneInfo("UTC")
    changes = []
    open_flags = store.open_flags_with_owner_replies()
    ids = [flag.id for flag, _, _ in open_flags if flag.id is not None]
    noted = store.flags_with_action(ids, Action.PAGE_REPLIED)
    hidden_by_monitor = store.flags_with_action(ids, Action.AUTO_HIDDEN)  # a person still decides on these
    for flag, comment, reply in open_flags:
        assert flag.id is not None
        if comment.hidden and flag.id in hidden_by_monitor:
            continue
        if comment.hidden:
            changes.append(lifecycle.hidden(flag.id, now))
        elif reply is not None and _after_last_edit(comment, reply):
            how = _replied(comment, reply, zone)
            if not NOT_CLOSED_BY_A_REPLY.intersection(flag.categories or ()):
                changes.append(lifecycle.answered(flag.id, how, now))
            elif flag.id not in noted:
                note = f"{how}; a reply does not deal with this, so it stays open"
                changes.append(lifecycle.noted(flag.id, Action.PAGE_REPLIED, lifecycle.MONITOR, note, now))
    applied = store.apply_flag_changes(changes)
    return sum(1 for change in applied if change.action is not Action.PAGE_REPLIED)


def _after_last_edit(comment: Comment, reply: Comment) -> bool:
    """A reply answers the comment as it read then; one written before the latest edit does not answer the edit."""
    return comment.edited_at is None or reply.created_at is None or reply.created_at >= comment.edited_at


def _replied(comment: Comment, reply: Comment, zone: ZoneInfo) -> str:
    platform = PLATFORM_NAMES.get(comment.platform, comment.platform)
    written = (reply.created_at or datetime.min.replace(tzinfo=UTC)).astimezone(zone)
    day = f"{written.day} {written:%b}"
    suffix = "" if zone.key != "UTC" else " UTC"
    return f"The organisation replied on {platform} on {day} at {written:%H:%M}{suffix}"
