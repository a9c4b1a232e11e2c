"""``monitor classify``: verdicts for comments read from a file, one JSON line per comment."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path
from typing import Any, TextIO

from monitor.app import App
from monitor.commands import add_command
from monitor.commands.progress import add_workers_option, progress_bar
from monitor.filter import CommentContext
from monitor.filter.batching import classified


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        commands,
        "classify",
        classify,
        "classify comments from a file and write one JSON verdict per line",
        description="Reads JSONL ({\"text\": ...} per line; other fields are passed through) or CSV with a "
        "text column (or Davidson's tweet column), and writes one JSON line per comment with flagged, "
        "severity, categories, reasons and sentiment.",
        config_optional=True,
    )
    parser.add_argument("file", nargs="?", default="-", help="the file to read, or - for standard input (default)")
    parser.add_argument("--account", metavar="NAME", help="apply this account's overrides")
    add_workers_option(parser)


def records(stream: TextIO, is_csv: bool) -> Iterator[dict[str, Any]]:
    if is_csv:
        for row in csv.DictReader(stream):
            text = row.get("text") if row.get("text") is not None else row.get("tweet", "")
            yield {**row, "text": text}
        return
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise ValueError(f"line {number}: needs a \"text\" string")
        yield record


def classify(args: argparse.Namespace, app: App) -> int:
    is_csv = args.file.lower().endswith(".csv")
    context = CommentContext(account=args.account)
    try:
        with _open(args.file) as stream, progress_bar(None) as done:
            found = classified(
                app.classifier,
                records(stream, is_csv),
                itemgetter("text"),
                lambda _: context,
                workers=args.workers,
                done=done,
            )
            for record, verdict in found:
                print(json.dumps({**record, **verdict.to_dict()}, ensure_ascii=False))
    except OSError as exc:
        print(f"error: {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {args.file}: {exc}", file=sys.stderr)
        return 2
    return 0


def _open(name: str) -> TextIO:
    if name == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", newline="")
    return Path(name).open(encoding="utf-8", newline="")
