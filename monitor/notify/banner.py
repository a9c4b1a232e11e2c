"""What the digest says first: anything that keeps the monitor from watching or telling, or that all is well.

An account not read for longer than ``[notify] not_read_after`` (or two of its
poll intervals, whichever is longer), an account whose token the platform
refused, a token that will expire within 14 days and cannot be renewed here,
a database that cannot be written or a disk nearly full, a lease held by an
instance that is no longer running, and emails that could not be delivered
(the last digest, or an urgent alert since the last digest) each make one line. When there are none and
``[notify] all_is_well`` is set, one line says so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.health_checks import lease_problems, storage_problems
from monitor.models import JobStatus
from monitor.notify.channels import Status
from monitor.notify.present import local_time, one_line
from monitor.store import Store

if TYPE_CHECKING:
    from connectors import Connector
    from monitor.config import AccountConfig, Settings

ALERTS_JOB = "alerts"
ERROR_CHARS = 160


def status_for(
    settings: Settings,
    store: Store,
    now: datetime,
    connector_for: Callable[[AccountConfig], Connector] | None = None,
) -> Status:
    """``connector_for`` builds an account's connector (no request is made) to ask when its token expires."""
    zone = settings.organisation.zone
    floor = settings.notify.not_read_after
    enabled = {account.name: account for account in settings.accounts if account.enabled}
    problems: list[str] = []
    for row in store.accounts():
        account = enabled.get(row.name)
        if account is None:
            continue
        if row.status == "auth_failed":
            problems.append(
                f"{row.name}: the platform refused the monitor's token, so it is not being read. "
                f"Ask whoever set it up to renew the token and run `monitor check`. ({_short(row.last_error)})"
            )
            continue
        limit = max(floor, 2 * account.poll_interval)
        last = row.last_success_at
        if row.last_attempt_at is not None and (last is None or now - last > limit):
            since = f"since {local_time(last, zone)}" if last is not None else "yet"
            problems.append(f"{row.name} has not been read {since}. ({_short(row.last_error)})")
    if connector_for is not None:
        problems.extend(_expiring(settings, connector_for, now))
    problems.extend(problem[:1].upper() + problem[1:] + "." for problem in storage_problems(store, now))
    problems.extend(problem[:1].upper() + problem[1:] + "." for problem in lease_problems(store, now))
    with store.session() as session:
        digest = session.get(JobStatus, "digest")
        alerts = session.get(JobStatus, ALERTS_JOB)
    if digest is not None and digest.last_error:
        problems.append(f"The last digest could not be sent to everyone: {_short(digest.last_error)}")
    if alerts is not None and alerts.last_error:
        when = f" at {local_time(alerts.last_run_at, zone)}" if alerts.last_run_at else ""
        problems.append(f"An urgent alert could not be delivered{when}: {_short(alerts.last_error)}")
    if problems or not settings.notify.all_is_well:
        return Status(problems=tuple(problems))
    count = len(enabled)
    return Status(
        all_is_well=f"All is well: {count} account{'s' if count != 1 else ''} read on schedule, every email delivered."
    )


def record_alerts_run(store: Store, now: datetime, error: str | None) -> None:
    """Remember whether the last urgent alerts went out (the digest's banner reads it)."""
    with store.session() as session:
        row = session.get(JobStatus, ALERTS_JOB) or JobStatus(name=ALERTS_JOB)
        row.last_run_at = now
        if error is None:
            row.last_ok_at = now
        else:
            row.last_error = error
        session.add(row)
        session.commit()


def clear_alert_failures(store: Store) -> None:
    """Once a digest has told of them, alert failures are not repeated."""
    with store.session() as session:
        row = session.get(JobStatus, ALERTS_JOB)
        if row is not None and row.last_error:
            row.last_error = None
            session.add(row)
            session.commit()


def _expiring(settings: Settings, connector_for: Callable[[AccountConfig], Connector], now: datetime) -> list[str]:
    from monitor.expiry import expiring_credentials

    lines = []
    for account in settings.accounts:
        try:
            notices = expiring_credentials([account], connector_for, now)
        except Exception:  # an account that cannot be built is reported by check and health, not here
            continue
        lines += [
            f"{notice.account}: {notice.message}." for notice in notices
        ]
    return lines


def _short(text: str | None) -> str:
    line = one_line(text or "no error recorded")
    return line if len(line) <= ERROR_CHARS else line[: ERROR_CHARS - 1] + "…"


