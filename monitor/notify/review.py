"""People closing flags by hand. Every change is written to the audit trail in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from monitor.models import Flag, FlagEvent, NotificationLog
from monitor.store import Store

CLOSED_BY = {"resolved": "resolved", "dismissed": "dismissed"}


class ReviewError(Exception):
    """The change cannot be made (no such flag, already closed, nothing said about why)."""


@dataclass(frozen=True, slots=True)
class FlagHistory:
    flag: Flag
    events: list[FlagEvent]
    notifications: list[NotificationLog]


def close_flag(store: Store, flag_id: int, *, status: str, note: str, actor: str, now: datetime) -> Flag:
    """Resolve or dismiss an open flag. A dismissal records a false alarm; the note says why."""
    if status not in CLOSED_BY:
        raise ReviewError(f"unknown status {status!r}")
    note = note.strip()
    if not note:
        raise ReviewError("say why: the note is what the audit trail keeps")
    with store.session() as session:
        flag = session.get(Flag, flag_id)
        if flag is None:
            raise ReviewError(f"there is no flag {flag_id}")
        if flag.status != "open":
            raise ReviewError(f"flag {flag_id} is already {flag.status}")
        flag.status = status
        flag.resolution = note
        flag.resolved_at = now
        flag.updated_at = now
        session.add(flag)
        session.add(FlagEvent(flag_id=flag_id, at=now, actor=actor, action=CLOSED_BY[status], note=note))
        session.commit()
        return flag


def history(store: Store, flag_id: int) -> FlagHistory:
    with store.session() as session:
        flag = session.get(Flag, flag_id)
        if flag is None:
            raise ReviewError(f"there is no flag {flag_id}")
        events = list(session.exec(select(FlagEvent).where(FlagEvent.flag_id == flag_id).order_by(FlagEvent.id)))
        sent = list(
            session.exec(select(NotificationLog).where(NotificationLog.flag_id == flag_id).order_by(NotificationLog.id))
        )
        return FlagHistory(flag=flag, events=events, notifications=sent)
