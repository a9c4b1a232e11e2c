"""``monitor run`` (the service) and ``monitor poll`` (one run on demand)."""

from __future__ import annotations

import argparse

from monitor.app import App
from monitor.commands import add_command
from monitor.service import Service


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add_command(commands, "run", run, "run the service: poll every account on its schedule and send digests")
    poll_parser = add_command(commands, "poll", poll, "poll accounts once now, classify, and send urgent alerts")
    poll_parser.add_argument("--account", metavar="NAME", help="poll only this account")


def run(args: argparse.Namespace, app: App) -> int:
    settings = app.settings
    settings.require_secrets([a for a in settings.accounts if a.enabled], notify=True)
    Service(app).run()
    return 0


def poll(args: argparse.Namespace, app: App) -> int:
    settings = app.settings
    accounts = [settings.account(args.account)] if args.account else [a for a in settings.accounts if a.enabled]
    if not accounts:
        print("No accounts to poll: add [[accounts]] to the config.")
        return 1
    settings.require_secrets(accounts, notify=True)
    service = Service(app)
    failed = 0
    for account in accounts:
        if not service.take_account(account.name):
            print(f"{account.name}: skipped; a running service is polling it")
            continue
        try:
            outcome = service.pipeline.poll(account)
        finally:
            service.release_leases()
        flagged = ", ".join(f"{category} {count}" for category, count in outcome.flagged.most_common()) or "none"
        line = f"{account.name}: {outcome.status}; {outcome.new} new, {outcome.edited} edited; flagged: {flagged}"
        if outcome.rechecked or outcome.recheck_requests:
            line += (
                f"; {outcome.rechecked} open flags re-checked in {outcome.recheck_requests} requests"
                f" ({outcome.gone} hidden or deleted)"
            )
        if outcome.own_posts_checked:
            line += f"; {outcome.own_posts_checked} own posts checked"
        if outcome.own_posts_rechecked:
            line += f" ({outcome.own_posts_rechecked} again, because the consent register changed)"
        if outcome.error:
            line += f"; {outcome.error}"
        print(line)
        failed += outcome.status in ("failed", "retry", "auth_failed")
    service.after_poll()
    for failure in service.undelivered:
        print(f"urgent alert not delivered: {failure}")
    return 1 if failed or service.undelivered else 0
