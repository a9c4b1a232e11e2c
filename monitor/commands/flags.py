"""``monitor flags``: list, show, resolve, dismiss and export flags. Every change goes to the audit trail."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

from monitor.app import App
from monitor.commands import add_command, config_option
from monitor.notify.content import SEVERITIES
from monitor.notify.export import csv_text
from monitor.notify.files import write_private
from monitor.notify.notifier import presenter_for
from monitor.notify.present import Presenter, explanations, local_time, one_line, safe_link
from monitor.notify.records import FlagRecord, load_flags
from monitor.notify.review import ReviewError, close_flag, history

EXCERPT = 60


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    nested = config_option(nested=True)
    parser = add_command(commands, "flags", flags, "list, show, resolve, dismiss or export flagged comments")
    actions = parser.add_subparsers(title="actions", dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="list flags, newest comment last", parents=[nested])
    listing.add_argument("--open", action="store_true", help="only flags still open")
    listing.add_argument("--severity", choices=SEVERITIES, help="only flags of this severity")
    listing.add_argument("--json", action="store_true", help="one JSON document instead of a table")

    show = actions.add_parser("show", help="one flag: the comment, why, and its history", parents=[nested])
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true", help="the flag and its history as JSON")

    for name, verb, option in (
        ("resolve", "mark a flag as dealt with", "--note"),
        ("dismiss", "mark a flag as a false alarm", "--reason"),
    ):
        closing = actions.add_parser(name, help=verb, parents=[nested])
        closing.add_argument("id", type=int)
        closing.add_argument(option, dest="note", required=True, metavar="TEXT", help="what was done, or why")
        closing.add_argument("--by", metavar="NAME", help="who (default: $USER)")

    export = actions.add_parser("export", help="write every flag as CSV or JSON", parents=[nested])
    export.add_argument("--format", choices=("csv", "json"), default="csv", help="default: csv")
    export.add_argument("--csv", dest="format", action="store_const", const="csv", help=argparse.SUPPRESS)
    export.add_argument("--open", action="store_true", help="only flags still open")
    export.add_argument("file", nargs="?", type=Path, help="where to write it (default: standard output)")


def flags(args: argparse.Namespace, app: App) -> int:
    handlers = {
        "list": list_flags,
        "show": show_flag,
        "resolve": close,
        "dismiss": close,
        "export": export_flags,
    }
    return handlers[args.action](args, app)


def list_flags(args: argparse.Namespace, app: App) -> int:
    records = load_flags(app.store, status="open" if args.open else None)
    if args.severity:
        records = [record for record in records if record.severity == args.severity]
    presenter = presenter_for(app.settings)
    if args.json:
        print(json.dumps([_as_json(record, presenter) for record in records], indent=2, ensure_ascii=False))
        return 0
    if not records:
        print("No flags.")
        return 0
    print(f"{'id':>5}  {'severity':<8}  {'status':<9}  {'written':<26}  {'account':<20}  author: comment")
    for record in records:
        when = local_time(record.written_at, presenter.zone)
        author = one_line(record.author or "someone")[:30]
        print(
            f"{record.flag_id:>5}  {record.severity:<8}  {record.status:<9}  {when:<26}  "
            f"{one_line(record.account)[:20]:<20}  {author}: {_excerpt(record.text)}"
        )
    return 0


def show_flag(args: argparse.Namespace, app: App) -> int:
    records = load_flags(app.store, status=None, flag_ids=[args.id])
    if not records:
        print(f"error: there is no flag {args.id}", file=sys.stderr)
        return 1
    record, presenter = records[0], presenter_for(app.settings)
    item = presenter.item(record)
    trail = history(app.store, args.id)
    if args.json:
        events = [
            {"at": e.at.isoformat(), "action": e.action, "actor": e.actor, "note": e.note} for e in trail.events
        ]
        sent = [
            {"at": s.sent_at.isoformat(), "kind": s.kind, "channel": s.channel, "recipient": s.recipient}
            for s in trail.notifications
        ]
        document = {**_as_json(record, presenter), "events": events, "notifications": sent}
        print(json.dumps(document, indent=2, ensure_ascii=False))
        return 0
    print(f"Flag {record.flag_id}: {record.severity}, {record.status} ({item.what})")
    print(f"  {item.author} on {item.platform} ({one_line(record.account)}), {item.when}")
    print(f"  under {item.post_title}")
    for line in record.text.splitlines() or [""]:
        print(f"  | {one_line(line)}")
    for reason in item.reasons:
        print(f"  why: {reason}")
    if item.tone:
        print(f"  tone: {item.tone}")
    print(f"  link: {item.link or 'none that is safe to show'}")
    if record.resolution:
        print(f"  resolution: {one_line(record.resolution)}")
    for event in trail.events:
        note = f": {one_line(event.note)}" if event.note else ""
        print(f"  {_when(event.at, presenter)} {event.action} by {one_line(event.actor)}{note}")
    for sent in trail.notifications:
        times = f"{sent.send_count} time{'s' if sent.send_count != 1 else ''}"
        print(f"  {_when(sent.sent_at, presenter)} sent as {sent.kind} by {sent.channel} to {sent.recipient} ({times})")
    return 0


def close(args: argparse.Namespace, app: App) -> int:
    status = "resolved" if args.action == "resolve" else "dismissed"
    actor = args.by or os.environ.get("USER") or _login_name()
    try:
        close_flag(app.store, args.id, status=status, note=args.note, actor=actor, now=app.now())
    except ReviewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Flag {args.id} {status} by {one_line(actor)}.")
    return 0


def export_flags(args: argparse.Namespace, app: App) -> int:
    records = load_flags(app.store, status="open" if args.open else None)
    presenter = presenter_for(app.settings)
    if args.format == "json":
        text = json.dumps([_as_json(record, presenter) for record in records], indent=2, ensure_ascii=False) + "\n"
    else:
        text = csv_text(records, presenter)
    if args.file is None:
        sys.stdout.write(text)
    else:
        write_private(args.file, text.encode("utf-8"))
        print(f"{len(records)} flags written to {args.file}")
    return 0


def _as_json(record: FlagRecord, presenter: Presenter) -> dict[str, Any]:
    return {
        "id": record.flag_id,
        "severity": record.severity,
        "status": record.status,
        "categories": list(record.categories),
        "account": record.account,
        "platform": record.platform,
        "author": record.author,
        "written_at": record.written_at.isoformat(),
        "text": record.text,
        "why": list(explanations(record.reasons)),
        "link": safe_link(record.permalink, presenter.hosts_for(record.account, record.platform)),
        "resolution": record.resolution,
    }


def _excerpt(text: str) -> str:
    line = one_line(text)
    return line if len(line) <= EXCERPT else line[: EXCERPT - 1] + "…"


def _when(moment: Any, presenter: Presenter) -> str:
    return local_time(moment, presenter.zone) if moment is not None else "-"


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"
