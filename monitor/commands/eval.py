"""``monitor eval``: precision, recall and F1 of the filter on labelled comments."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from monitor.app import App
from monitor.commands import add_command
from monitor.filter.evaluate import evaluate


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        commands,
        "eval",
        run_eval,
        "measure the filter on labelled comments (JSONL text/flag/category, or Davidson's CSV)",
        config_optional=True,
    )
    parser.add_argument("file", type=Path, help="labelled comments: .jsonl or .csv")
    parser.add_argument("--json", action="store_true", help="the full report as JSON")
    parser.add_argument("--limit", type=int, default=50, help="misses and false alarms listed (default 50)")


def run_eval(args: argparse.Namespace, app: App) -> int:
    if not args.file.is_file():
        print(f"error: {args.file}: no such file", file=sys.stderr)
        return 2
    try:
        report = evaluate(args.file, app.classifier)
    except (ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(report.lines(args.limit)))
    return 0
