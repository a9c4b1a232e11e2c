"""How long the digest takes to build and render with 10,000 open flags (target: under 2 s).

The flags are spread over 4 accounts, 400 posts and the four severities, each
with a reason, spans and a sentiment score, in a SQLite file. The figure is the
whole of ``write_digest_files``: read the flags, decide, group, render HTML and
plain text, attach the full list as CSV and write the .eml and .html.
Run it as a script to print the figures and the machine.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from monitor import config
from monitor.models import Account, Comment, Flag, Post, Verdict
from monitor.notify import Notifier
from monitor.store import Store

FLAGS = 10_000
ACCOUNTS = 4
POSTS = 400
RUNS = 5
TARGET_SECONDS = 2.0
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SEVERITIES = (("urgent", "threat"), ("high", "allegation"), ("medium", "abuse"), ("low", "negative"))
TEXT = "My dad was left without his medication for two days at Rosewood <b>again</b>. Disgraceful & nobody answers."


def seed(store: Store) -> None:
    accounts = [{"id": n + 1, "name": f"account-{n}", "platform": "facebook", "status": "ok"} for n in range(ACCOUNTS)]
    posts = [
        {
            "id": n + 1,
            "account_id": n % ACCOUNTS + 1,
            "external_id": f"post-{n}",
            "url": f"https://www.facebook.com/brightwater/posts/{n}",
            "title": f"Post number {n}",
        }
        for n in range(POSTS)
    ]
    comments, verdicts, flags = [], [], []
    for n in range(FLAGS):
        written = NOW - timedelta(minutes=n)
        severity, category = SEVERITIES[n % len(SEVERITIES)]
        post = n % POSTS
        comments.append(_comment(n, post, written))
        verdicts.append(_verdict(n, severity, category, written))
        flags.append(
            {
                "id": n + 1,
                "comment_id": n + 1,
                "severity": severity,
                "categories": [category],
                "status": "open",
                "created_at": written,
                "updated_at": written,
            }
        )
    with store.session() as session:
        for model, rows in (
            (Account, accounts),
            (Post, posts),
            (Comment, comments),
            (Verdict, verdicts),
            (Flag, flags),
        ):
            session.execute(insert(model), rows)
        session.commit()


def _comment(n: int, post: int, written: datetime) -> dict[str, Any]:
    return {
        "id": n + 1,
        "account_id": post % ACCOUNTS + 1,
        "platform": "facebook",
        "external_id": f"{post}_{n}",
        "post_id": post + 1,
        "author_name": f"Commenter {n}",
        "text": f"{TEXT} ({n})",
        "permalink": f"https://www.facebook.com/brightwater/posts/{post}?comment_id={n}",
        "by_owner": False,
        "hidden": False,
        "created_at": written,
        "first_seen_at": written,
        "updated_at": written,
        "classified_at": written,
    }


def _verdict(n: int, severity: str, category: str, written: datetime) -> dict[str, Any]:
    start = TEXT.index("without his medication")
    return {
        "id": n + 1,
        "comment_id": n + 1,
        "flagged": True,
        "severity": severity,
        "categories": [category],
        "reasons": [
            {
                "rule": f"{category}-rule",
                "category": category,
                "severity": severity,
                "explanation": "Alleges missed medication.",
                "matched": ["without his medication"],
                "spans": [[start, start + len("without his medication")]],
            }
        ],
        "sentiment": {"compound": -0.7},
        "classified_at": written,
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, Python {sys.version.split()[0]}"


def main() -> int:
    with tempfile.TemporaryDirectory() as work:
        directory = Path(work)
        store = Store(f"sqlite:///{directory / 'bench.db'}")
        store.create_schema()
        seed(store)
        settings = config.from_mapping(
            {"notify": {"recipients": ["gm@brightwater.example"]}}, directory / "config.toml"
        )
        notifier = Notifier(settings, store, lambda: NOW)
        timings, cpu = [], []
        for _ in range(RUNS):
            started, started_cpu = time.perf_counter(), time.process_time()
            eml, _html = notifier.write_digest_files(directory / "out")
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        size = eml.stat().st_size
        store.close()
    best, median = min(timings), statistics.median(timings)
    print(f"digest of {FLAGS:,} flags: build and render best {best:.2f} s, median {median:.2f} s over {RUNS} runs")
    cpu_median = statistics.median(cpu)
    print(
        f"CPU time (what other load on the machine does not inflate): best {min(cpu):.2f} s, median {cpu_median:.2f} s"
    )
    print(f"load average when run: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"message size {size / 1024:.0f} KiB (full list attached as CSV)")
    met = min(median, cpu_median) < TARGET_SECONDS
    verdict = "met" if met else "MISSED"
    print(f"target under {TARGET_SECONDS:.0f} s (median wall time, or CPU time on a busy machine): {verdict}")
    print(f"machine: {machine()}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
