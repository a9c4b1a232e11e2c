"""``monitor health``: exit non-zero, saying why, when the service is not doing its job.

Unhealthy: an account failing too long, stopped by authentication, postponed
beyond a day or no longer polled; a digest that failed or is overdue; an
urgent flag not alerted; a database that cannot be written; a lease held by
an instance that is no longer running.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta

from monitor.app import App
from monitor.commands import add_command
from monitor.config import Settings
from monitor.durations import parse_duration
from monitor.health_checks import lease_problems, storage_problems
from monitor.models import Account, JobStatus
from monitor.schedule import cron_trigger
from monitor.store import Store

FAILED_POLLS = 2  # without --max-failing, an account failing for this many poll intervals is unhealthy
DEFAULT_MAX_FAILING = "1h"  # what an account's polls may miss before they count as stalled
POLLS_MISSED = 3  # an account not polled for this many intervals (and at least --max-failing) has stalled
ALERT_GRACE = timedelta(minutes=15)
DIGEST_GRACE = timedelta(hours=1)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        commands,
        "health",
        health,
        "report what keeps the service from doing its job; exit 1 when anything does",
    )
    parser.add_argument(
        "--max-failing",
        default=None,
        metavar="DURATION",
        help="how long an account may fail before it counts as unhealthy (default: two of its poll intervals)",
    )


def health(args: argparse.Namespace, app: App) -> int:
    explicit = args.max_failing is not None
    limit = parse_duration(args.max_failing or DEFAULT_MAX_FAILING)
    now = app.now()
    settings = app.settings
    store = app.store
    problems = storage_problems(store, now)
    intervals = {account.name: account.poll_interval for account in settings.accounts if account.enabled}
    for account in store.accounts():
        if account.name in intervals:
            stalled_after = max(limit, intervals[account.name] * POLLS_MISSED)
            failing_limit = limit if explicit else intervals[account.name] * FAILED_POLLS
            problems.extend(account_problems(account, now, failing_limit, stalled_after))
    problems.extend(digest_problems(store, settings, now))
    problems.extend(alert_problems(app, now))
    problems.extend(lease_problems(store, now))
    for problem in problems:
        print(f"unhealthy: {problem}")
    if not problems:
        print(f"healthy: {len(intervals)} accounts")
    return 1 if problems else 0


def account_problem(account: Account, now: datetime, max_failing_seconds: float) -> str | None:
    if account.status == "auth_failed":
        return f"{account.name}: authentication failed: {account.last_error}"
    postponed = account.not_before
    if postponed is not None and (postponed - now).total_seconds() > max_failing_seconds:
        # The platform asked us to wait (capped at a day): the account will go unread longer than it may fail.
        why = f": {account.last_error}" if account.last_error else " at the platform's request"
        return f"{account.name}: not polled until {postponed.isoformat(timespec='minutes')}{why}"
    if account.status == "failing" and account.failing_since is not None:
        failing_for = (now - account.failing_since).total_seconds()
        if failing_for > max_failing_seconds:
            return f"{account.name}: failing for {int(failing_for // 60)} minutes: {account.last_error}"
    return None


def account_problems(account: Account, now: datetime, limit: timedelta, stalled_after: timedelta) -> list[str]:
    found = []
    if (problem := account_problem(account, now, limit.total_seconds())) is not None:
        found.append(problem)
    if account.status != "auth_failed" and account.last_attempt_at is not None:
        quiet = now - account.last_attempt_at
        postponed = account.not_before is not None and account.not_before > now
        if quiet > stalled_after and not postponed:
            found.append(f"{account.name}: no poll has started for {int(quiet.total_seconds() // 60)} minutes")
    return found


def digest_problems(store: Store, settings: Settings, now: datetime) -> list[str]:
    with store.session() as session:
        digest = session.get(JobStatus, "digest")
    if digest is None:
        return []
    if digest.last_error:
        return [f"the last digest failed: {digest.last_error}"]
    if digest.last_ok_at is None:
        return []
    trigger = cron_trigger(settings.notify.digest_schedule, settings.organisation.zone)
    due = trigger.get_next_fire_time(None, digest.last_ok_at + timedelta(seconds=1))
    if due is not None and now - due > DIGEST_GRACE:
        return [f"the digest due at {due:%Y-%m-%d %H:%M %Z} has not been sent"]
    return []


def alert_problems(app: App, now: datetime) -> list[str]:
    from monitor.notify.notifier import Notifier

    overdue = Notifier(app.settings, app.store, app.now).overdue_alerts(ALERT_GRACE)
    found = []
    for (channel, recipient), waiting in sorted(overdue.items()):
        oldest = int((now - min(waiting)).total_seconds() // 60)
        noun = "flag" if len(waiting) == 1 else "flags"
        found.append(
            f"{len(waiting)} urgent {noun} not alerted to {recipient} by {channel}; the oldest for {oldest} minutes"
        )
    return found
