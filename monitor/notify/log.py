"""The notification log: what the server accepted, for which flag, channel and recipient.

A row is written only after delivery succeeded, so a crash can at most
repeat a send (with the same Message-ID), never lose one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.models import Flag, JobStatus, NotificationLog
from monitor.notify.decision import Sent
from monitor.store import Store

DIGEST_JOB = "digest"


def sent_entries(store: Store, channel: str, recipient: str) -> dict[int, Sent]:
    query = select(NotificationLog).where(NotificationLog.channel == channel, NotificationLog.recipient == recipient)
    with store.session() as session:
        return {
            row.flag_id: Sent(  # type: ignore[arg-type]
                kind=row.kind, sent_at=row.sent_at, send_count=row.send_count, severity=row.severity
            )
            for row in session.exec(query)
            if row.sent_at is not None
        }


def alert_messages_since(store: Store, channel: str, recipient: str, since: datetime) -> int:
    """Alert messages (not flags: a follow-up covers many) sent to this recipient since then."""
    query = select(func.count(func.distinct(NotificationLog.message_id))).where(
        NotificationLog.channel == channel,
        NotificationLog.recipient == recipient,
        NotificationLog.kind == "alert",
        col(NotificationLog.sent_at) >= since,
    )
    with store.session() as session:
        return int(session.exec(query).one())


def alerted_since(store: Store, channel: str, recipient: str, since: datetime) -> list[int]:
    query = select(NotificationLog.flag_id).where(
        NotificationLog.channel == channel,
        NotificationLog.recipient == recipient,
        NotificationLog.kind == "alert",
        col(NotificationLog.sent_at) >= since,
    )
    with store.session() as session:
        return sorted(set(session.exec(query)))


def record_sent(
    store: Store, channel: str, recipient: str, *, kinds: Mapping[int, str], message_id: str, now: datetime
) -> None:
    """Write the log for one accepted message, in one transaction."""
    for attempt in range(2):
        with store.session() as session:
            try:
                _upsert(session, channel, recipient, kinds=kinds, message_id=message_id, now=now)
                session.commit()
                return
            except IntegrityError:  # another process recorded one of these flags just now
                session.rollback()
                if attempt:
                    raise


def _upsert(
    session: Session, channel: str, recipient: str, *, kinds: Mapping[int, str], message_id: str, now: datetime
) -> None:
    existing = {
        row.flag_id: row
        for row in session.exec(
            select(NotificationLog).where(
                NotificationLog.channel == channel,
                NotificationLog.recipient == recipient,
                col(NotificationLog.flag_id).in_(list(kinds)),
            )
        )
    }
    query = select(Flag.id, Flag.severity).where(col(Flag.id).in_(list(kinds)))
    severities = {flag_id: severity for flag_id, severity in session.exec(query)}
    for flag_id, kind in kinds.items():
        row = existing.get(flag_id)
        if row is None:
            row = NotificationLog(flag_id=flag_id, channel=channel, recipient=recipient, kind=kind, send_count=0)
        row.kind = kind
        row.severity = severities.get(flag_id)
        row.message_id = message_id
        row.sent_at = now
        row.send_count += 1
        session.add(row)


def last_digest_at(store: Store) -> datetime | None:
    with store.session() as session:
        row = session.get(JobStatus, DIGEST_JOB)
        return row.last_ok_at if row is not None else None


def record_digest_run(store: Store, now: datetime, error: str | None) -> None:
    with store.session() as session:
        row = session.get(JobStatus, DIGEST_JOB) or JobStatus(name=DIGEST_JOB)
        row.last_run_at = now
        row.last_error = error
        if error is None:
            row.last_ok_at = now
        session.add(row)
        session.commit()


def log_rows(store: Store, flag_ids: Iterable[int]) -> list[NotificationLog]:
    query = select(NotificationLog).where(col(NotificationLog.flag_id).in_(list(flag_ids)))
    with store.session() as session:
        return list(session.exec(query.order_by(NotificationLog.sent_at)))
