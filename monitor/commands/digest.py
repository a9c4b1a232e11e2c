"""``monitor digest``: one digest run now, or with --preview, its HTML written to a file and nothing sent."""

from __future__ import annotations

import argparse
from pathlib import Path

from monitor.app import App
from monitor.commands import add_command
from monitor.notify import Notifier
from monitor.notify.resolution import auto_resolve


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        commands,
        "digest",
        digest,
        "send the digest now (flags not yet sent, and reminders for those still open)",
    )
    parser.add_argument(
        "--preview",
        metavar="FILE",
        type=Path,
        help="write the digest's HTML to FILE instead of sending it; nothing is recorded as sent",
    )


def digest(args: argparse.Namespace, app: App) -> int:
    settings = app.settings
    notifier = Notifier(settings, app.store, app.now)
    if args.preview is not None:
        path = notifier.preview_digest(args.preview)
        print(f"Digest preview written to {path.resolve()} (nothing was sent)")
        return 0
    settings.require_secrets(notify=True)
    resolved = auto_resolve(app.store, app.now(), settings.organisation.zone)
    if resolved:
        print(f"{resolved} flags closed: the organisation already replied or hid the comment")
    report = notifier.send_digest()
    if report.skipped and not report.failures:
        print(f"No digest sent: {report.skipped}")
    else:
        print(f"Sent {report.sent} message(s) covering {report.items} flag(s)")
    for failure in report.failures:
        print(f"not delivered: {failure}")
    return 1 if report.failures else 0
