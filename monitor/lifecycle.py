"""The life of a flag: how it opens, changes severity, closes and reopens, and the event each change leaves.

Every transition is a function here that returns a ``Change``: the columns to
set, the status the flag must still have for the change to apply, and the
audit event that records it. The store applies a change as one conditional
UPDATE and writes its event in the same transaction, so two processes acting
on the same flag cannot both succeed, and no change goes unrecorded.

    (none) --opened--> open --severity-changed / changed--> open
    open --auto-resolved (edited harmless, or answered) / hidden--> resolved
    open --resolved / dismissed (by a person)--> resolved / dismissed
    resolved / dismissed --reopened (edited into something flagged)--> open
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from monitor.filter.verdict import severity_rank

MONITOR = "monitor"  # the actor of every automatic change
OPEN = "open"
EDITED_HARMLESS = "The comment was edited and is no longer flagged."
HIDDEN_NOTE = "Hidden on the platform"


class Action(StrEnum):
    OPENED = "opened"
    SEVERITY_CHANGED = "severity-changed"
    CHANGED = "changed"  # same severity, other categories
    AUTO_RESOLVED = "auto-resolved"
    HIDDEN = "hidden"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"
    REOPENED = "reopened"


CLOSED_BY_HAND = {"resolved": Action.RESOLVED, "dismissed": Action.DISMISSED}
CLOSED_BY_MONITOR = frozenset({Action.AUTO_RESOLVED, Action.HIDDEN})


class FlagStateError(Exception):
    """A change a person asked for cannot be made (no such flag, already closed, no reason given)."""


class VerdictLike(Protocol):
    flagged: bool
    severity: str | None
    categories: list[str]


class FlagLike(Protocol):
    id: int | None
    status: str
    severity: str
    categories: list[str] | None


@dataclass(frozen=True, slots=True)
class Change:
    """One transition of one flag: applied only while the flag's status is still ``expected_status``."""

    flag_id: int
    expected_status: str
    values: dict[str, Any]
    action: Action
    actor: str
    note: str | None
    at: datetime
    event: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        event = {"flag_id": self.flag_id, "at": self.at, "actor": self.actor, "action": str(self.action)}
        object.__setattr__(self, "event", {**event, "note": self.note})


def opened(comment_id: int, verdict: VerdictLike, now: datetime) -> dict[str, Any]:
    """The columns of a new flag for a flagged verdict (its ``opened`` event follows once it has an id)."""
    return {
        "comment_id": comment_id,
        "severity": verdict.severity,
        "categories": list(verdict.categories),
        "status": OPEN,
        "created_at": now,
        "updated_at": now,
        "resolved_at": None,
        "resolution": None,
        "reopened_at": None,
    }


def opened_event(flag_id: int, severity: str, now: datetime) -> dict[str, Any]:
    return {"flag_id": flag_id, "at": now, "actor": MONITOR, "action": str(Action.OPENED), "note": severity}


def reclassified(flag: FlagLike, verdict: VerdictLike, last_closed_by: str | None, now: datetime) -> Change | None:
    """The change a new verdict on an edited comment makes to its existing flag, if any.

    ``last_closed_by`` is the action that closed the flag (None while open).
    An edit that is still flagged reopens a flag the monitor closed; one a
    person closed reopens only when the edit made it more serious than they saw.
    """
    assert flag.id is not None
    flagged = verdict.flagged and verdict.severity is not None
    if flag.status == OPEN:
        if not flagged:
            return _close(flag.id, "resolved", Action.AUTO_RESOLVED, actor=MONITOR, note=EDITED_HARMLESS, now=now)
        return _updated(flag, verdict, now)
    if not flagged:
        return None
    assert verdict.severity is not None
    more_serious = severity_rank(verdict.severity) > severity_rank(flag.severity)
    if last_closed_by not in CLOSED_BY_MONITOR and not more_serious:
        return None
    values = {
        "status": OPEN,
        "severity": verdict.severity,
        "categories": list(verdict.categories),
        "resolved_at": None,
        "resolution": None,
        "reopened_at": now,
        "updated_at": now,
    }
    note = f"the comment was edited; now {verdict.severity} ({', '.join(verdict.categories) or 'flagged'})"
    return Change(flag.id, flag.status, values, Action.REOPENED, MONITOR, note, now)


def closed_by_hand(flag_id: int, status: str, note: str, actor: str, now: datetime) -> Change:
    """A person resolves (dealt with) or dismisses (false alarm) an open flag, saying why."""
    action = CLOSED_BY_HAND.get(status)
    if action is None:
        raise FlagStateError(f"unknown status {status!r}")
    note, actor = note.strip(), actor.strip()
    if not note:
        raise FlagStateError("say why: the note is what the audit trail keeps")
    if not actor:
        raise FlagStateError("say who: the audit trail names a person")
    return _close(flag_id, status, action, actor=actor, note=note, now=now)


def answered(flag_id: int, how: str, now: datetime) -> Change:
    """The organisation replied on the platform: the flag resolves itself."""
    return _close(flag_id, "resolved", Action.AUTO_RESOLVED, actor=MONITOR, note=how, now=now)


def hidden(flag_id: int, now: datetime) -> Change:
    """The comment was hidden on the platform: the flag resolves itself."""
    return _close(flag_id, "resolved", Action.HIDDEN, actor=MONITOR, note=HIDDEN_NOTE, now=now)


def deleted(flag_id: int, where: str, now: datetime) -> Change:
    """The comment was deleted on the platform (``where``): the flag resolves itself."""
    return _close(flag_id, "resolved", Action.AUTO_RESOLVED, actor=MONITOR, note=f"Deleted on {where}", now=now)


def _close(flag_id: int, status: str, action: Action, *, actor: str, note: str, now: datetime) -> Change:
    values = {"status": status, "resolution": note, "resolved_at": now, "updated_at": now}
    return Change(flag_id, OPEN, values, action, actor, note, now)


def _updated(flag: FlagLike, verdict: VerdictLike, now: datetime) -> Change | None:
    assert flag.id is not None and verdict.severity is not None
    categories = list(verdict.categories)
    if verdict.severity == flag.severity and categories == list(flag.categories or ()):
        return None
    values = {"severity": verdict.severity, "categories": categories, "updated_at": now}
    if verdict.severity != flag.severity:
        note = f"{flag.severity} → {verdict.severity}: the comment was edited"
        return Change(flag.id, OPEN, values, Action.SEVERITY_CHANGED, MONITOR, note, now)
    note = f"categories now {', '.join(categories)}: the comment was edited"
    return Change(flag.id, OPEN, values, Action.CHANGED, MONITOR, note, now)
