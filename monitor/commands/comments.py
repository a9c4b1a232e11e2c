"""``monitor comments``: export what is stored (a subject access request), and purge old comment text."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

from monitor.app import App
from monitor.commands import add_command
from monitor.notify.export import cell
from monitor.notify.present import one_line
from monitor.retention import matching_authors, purge_comment_text, purge_message_files, stored_comments

CSV_COLUMNS = (
    "platform",
    "account",
    "external_id",
    "post_url",
    "post_title",
    "parent_external_id",
    "author_id",
    "author_name",
    "text",
    "permalink",
    "by_owner",
    "hidden",
    "created_at",
    "edited_at",
    "first_seen_at",
    "flagged",
    "severity",
    "categories",
    "reasons",
    "flag_status",
    "flag_severity",
    "flag_created_at",
    "flag_resolved_at",
    "flag_resolution",
    "flag_history",
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = commands.add_parser(
        "comments",
        help="export stored comments, or purge old comment text",
        description="stored comments and the personal data in them",
    )
    actions = group.add_subparsers(title="actions", metavar="ACTION", required=True)
    export = add_command(
        actions,
        "export",
        export_comments,
        "write stored comments with their verdicts and flags: all of them, or one author's",
    )
    export.add_argument(
        "--author",
        metavar="ID_OR_NAME",
        help="only comments by this author: a platform's author id, or a display name (any case), on any platform",
    )
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl", help="default: jsonl")
    export.add_argument("--output", metavar="FILE", type=Path, help="write here (readable by the owner only)")
    purge = add_command(
        actions,
        "purge",
        purge_comments,
        "remove the text and author names of comments older than a number of days",
    )
    purge.add_argument("--older-than", metavar="DAYS", type=positive_days, required=True)


def positive_days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of days") from None
    if days < 1:
        raise argparse.ArgumentTypeError("must be at least 1 day")
    return days


def export_comments(args: argparse.Namespace, app: App) -> int:
    if args.author is not None:
        matches = matching_authors(app.store, args.author)
        identities = "identity matches" if len(matches) == 1 else "identities match"
        print(f"{len(matches)} author {identities} {args.author!r}:", file=sys.stderr)
        for platform, author_id, name in matches:
            print(f"  {platform} {one_line(author_id)} {one_line(name or '(name removed)')}", file=sys.stderr)
    records = stored_comments(app.store, author=args.author)
    write = write_csv if args.format == "csv" else write_jsonl
    with _destination(args.output) as stream:
        count = write(records, stream)
    where = f" to {args.output}" if args.output else ""
    print(f"exported {count} comment{'s' if count != 1 else ''}{where}", file=sys.stderr)
    return 0


def purge_comments(args: argparse.Namespace, app: App) -> int:
    older_than = timedelta(days=args.older_than)
    purged = purge_comment_text(app.store, older_than, app.now())
    files = purge_message_files(app.settings.output_dir, older_than, app.now())
    print(
        f"removed the text of {purged} comment{'s' if purged != 1 else ''} and {files} message "
        f"cop{'ies' if files != 1 else 'y'} older than {args.older_than} days"
    )
    return 0


def write_jsonl(records: Iterable[dict[str, Any]], stream: TextIO) -> int:
    count = 0
    for record in records:
        stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(records: Iterable[dict[str, Any]], stream: TextIO) -> int:
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for record in records:
        row = csv_row(record)
        writer.writerow(cell("" if row[column] is None else row[column]) for column in CSV_COLUMNS)
        count += 1
    return count


def csv_row(record: dict[str, Any]) -> dict[str, Any]:
    verdict = record["verdict"] or {}
    flag = record["flag"] or {}
    return {
        **record,
        "flagged": verdict.get("flagged"),
        "severity": verdict.get("severity"),
        "categories": " ".join(verdict.get("categories", [])),
        "reasons": " ".join(reason.get("explanation", "") for reason in verdict.get("reasons", [])),
        "flag_status": flag.get("status"),
        "flag_severity": flag.get("severity"),
        "flag_created_at": flag.get("created_at"),
        "flag_resolved_at": flag.get("resolved_at"),
        "flag_resolution": flag.get("resolution"),
        "flag_history": "; ".join(_event_line(event) for event in flag.get("events", [])),
    }


def _event_line(event: dict[str, Any]) -> str:
    note = f": {event['note']}" if event.get("note") else ""
    return f"{event['at']} {event['action']} by {event['actor']}{note}"


@contextmanager
def _destination(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # the mode above applies only to a new file
    with open(descriptor, "w", encoding="utf-8", newline="") as stream:
        yield stream
