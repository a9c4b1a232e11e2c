"""People closing flags by hand, and reading a flag's history. The changes themselves are monitor.lifecycle's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.lifecycle import FlagStateError
from monitor.models import Flag, FlagEvent, NotificationLog
from monitor.store import Store

# The longest name a person may give for the audit trail.
ACTOR_MAX = 64

ReviewError = FlagStateError


@dataclass(frozen=True, slots=True)
class FlagHistory:
    flag: Flag
    events: list[FlagEvent]
    notifications: list[NotificationLog]


def close_flag(store: Store, flag_id: int, *, status: str, note: str, actor: str, now: datetime) -> Flag:
    """Resolve or dismiss an open flag. A dismissal records a false alarm; the note says why."""
    return store.close_flag(flag_id, status=status, note=note, actor=check_actor(actor), now=now)


def check_actor(actor: str) -> str:
    """A person's name as the audit trail keeps it; raises ReviewError for anything else."""
    name = actor.strip()
    if not name or len(name) > ACTOR_MAX:
        raise ReviewError(f"--by: give a person's name of 1 to {ACTOR_MAX} characters")
    if not all(ch.isalnum() or ch in " ._@'-" for ch in name):
        raise ReviewError("--by: a name may hold letters, digits, spaces and . _ @ ' - only")
    if name.lower() == "monitor":
        raise ReviewError("--by: 'monitor' is the name of the service's own changes; give a person's name")
    return name


def history(store: Store, flag_id: int) -> FlagHistory:
    found = store.flag_history(flag_id)
    if found is None:
        raise ReviewError(f"there is no flag {flag_id}")
    flag, events, notifications = found
    return FlagHistory(flag=flag, events=events, notifications=notifications)
