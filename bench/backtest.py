"""`monitor rules backtest` over many stored comments: how long it takes, and its peak memory.

Run: .venv/bin/python -m bench.backtest [--comments N] [--db PATH] [--workers N]

Fills a fresh SQLite file with N comments (default 1,000,000; Davidson's tweets, care_dev and the bundled
samples over and over, one in ten a reply) and a stored verdict for each, as the service would have left
them, then times the real command (`monitor rules backtest`, the default packs) in a child process. With
--db, an existing file made by an earlier run is used as it is, so the filling is done once.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.filter_throughput import CARE_DEV, comments
from bench.machine import describe
from monitor.filter import Classifier, FilterSettings
from monitor.filter.batching import batches, cores
from monitor.models import Comment, Verdict
from monitor.store import Store

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "monitor" / "sample_data" / "comments.jsonl"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _texts() -> list[str]:
    texts, _ = comments(10**6)
    if CARE_DEV.is_file():
        texts += [json.loads(line)["text"] for line in CARE_DEV.read_text(encoding="utf-8").splitlines() if line]
    texts += [json.loads(line)["text"] for line in SAMPLES.read_text(encoding="utf-8").splitlines() if line]
    return texts


def _rows(count: int, texts: list[str]) -> Iterator[dict[str, Any]]:
    for number in range(count):
        yield {
            "account_id": 1,
            "platform": "facebook",
            "external_id": f"c{number}",
            "parent_external_id": f"c{number - 1}" if number % 10 == 9 else None,
            "author_id": f"u{number % 5000}",
            "author_name": f"Person {number % 5000}",
            "text": texts[number % len(texts)],
            "by_owner": number % 50 == 0,
            "hidden": False,
            "created_at": NOW - timedelta(seconds=count - number),
            "classified_at": NOW,
        }


def fill(path: Path, count: int) -> None:
    """``count`` comments, each with the verdict the default packs give it."""
    texts = _texts()
    classifier = Classifier.from_settings(FilterSettings())
    verdicts = [verdict.to_dict() for verdict in classifier.classify_many(texts)]
    store = Store(f"sqlite:///{path}")
    store.create_schema()
    store.ensure_account("facebook-page", "facebook")
    with store.session() as session:
        connection = session.connection()
        for number, batch in enumerate(batches(_rows(count, texts), 20000)):
            connection.execute(insert(Comment.__table__), batch)  # type: ignore[arg-type]
            first_id = number * 20000 + 1
            connection.execute(
                insert(Verdict.__table__),  # type: ignore[arg-type]
                [
                    {
                        "comment_id": first_id + offset,
                        "flagged": verdict["flagged"],
                        "severity": verdict["severity"],
                        "categories": verdict["categories"],
                        "reasons": verdict["reasons"],
                        "sentiment": verdict["sentiment"],
                        "classified_at": NOW,
                    }
                    for offset, verdict in enumerate(
                        verdicts[(first_id - 1 + index) % len(texts)] for index in range(len(batch))
                    )
                ],
            )
        session.commit()
    store.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="use (or make, if absent) this SQLite file")
    parser.add_argument("--workers", type=int, default=cores())
    args = parser.parse_args(argv)
    print(describe())
    with tempfile.TemporaryDirectory() as folder:
        path = args.db or Path(folder) / "backtest.db"
        if not path.exists():
            started = time.monotonic()
            fill(path, args.comments)
            print(f"filled {path} with {args.comments} comments and verdicts in {time.monotonic() - started:.0f} s")
        environment = {**os.environ, "MONITOR_DATABASE_URL": f"sqlite:///{path}"}
        environment.pop("MONITOR_CONFIG", None)
        command = [str(Path(sys.executable).parent / "monitor"), "rules", "backtest", "--limit", "2"]
        command += ["--workers", str(args.workers)]
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        started = time.monotonic()
        result = subprocess.run(command, env=environment, cwd=folder, capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - started
        if result.returncode != 0:
            print(result.stderr)
            return 1
        child = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(result.stdout.splitlines()[0])
        print(f"backtest: {elapsed:.0f} s wall ({args.workers} workers), {child.ru_utime + child.ru_stime:.0f} s CPU")
        print(f"peak RSS of the largest process: {child.ru_maxrss / 1024:.0f} MB")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
