"""``monitor health``: exit non-zero when an account or the digest has been failing too long."""

from __future__ import annotations

import argparse
from datetime import datetime

from monitor.app import App
from monitor.commands import add_command
from monitor.durations import parse_duration
from monitor.models import Account, JobStatus


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        commands,
        "health",
        health,
        "report accounts or digests that have been failing; exit 1 when any has failed for too long",
    )
    parser.add_argument(
        "--max-failing",
        default="1h",
        metavar="DURATION",
        help="how long an account may fail before it counts as unhealthy (default: 1h)",
    )


def health(args: argparse.Namespace, app: App) -> int:
    limit = parse_duration(args.max_failing)
    now = app.now()
    enabled = {account.name for account in app.settings.accounts if account.enabled}
    problems = [
        problem
        for account in app.store.accounts()
        if account.name in enabled and (problem := account_problem(account, now, limit.total_seconds()))
    ]
    with app.store.session() as session:
        digest = session.get(JobStatus, "digest")
    if digest is not None and digest.last_error:
        problems.append(f"the last digest failed: {digest.last_error}")
    for problem in problems:
        print(f"unhealthy: {problem}")
    if not problems:
        print(f"healthy: {len(enabled)} accounts")
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

