"""End-to-end ingest: comments served over loopback HTTP, polled, stored, classified, flagged.

The fake Graph API (tests/fake_platform.py) runs in its own process so the
figures are the monitor's alone. One first poll of a Facebook Page through the
real connector, Pipeline and Store reads every comment into a fresh SQLite
file and classifies it with the default rule packs.

    python -m bench.ingest                     # 100,000 comments
    python -m bench.ingest --comments 1000000  # the long run: memory must stay flat
    python -m bench.ingest --profile           # where the time goes

Targets: at least 2,000 comments/s end to end; peak RSS under 300 MB, and
flat when the comment count grows tenfold.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.machine import describe
from connectors import Connector
from connectors.base import Batch
from monitor import config
from monitor.app import App
from monitor.config import AccountConfig
from monitor.filter import Classifier, CommentContext
from monitor.logging import configure as configure_logging
from monitor.models import Flag
from monitor.pipeline import Pipeline, PollOutcome

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PAGE_ID = "104512345678901"
TOKEN_VARIABLE = "BENCH_INGEST_FACEBOOK_TOKEN"
TARGET_RATE = 2000.0
TARGET_RSS_MB = 300.0
CLASSIFY = "classify (Classifier.classify_many)"


@dataclass
class MemoryWatch:
    """Samples this process's resident memory (VmRSS) until stopped."""

    progress: Callable[[], str]
    interval: float = 0.25
    report_every: float = 30.0
    samples: list[tuple[float, float]] = field(default_factory=list)
    stopped: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        started = last_report = time.perf_counter()
        while not self.stopped.wait(self.interval):
            now = time.perf_counter()
            self.samples.append((now - started, rss_mb("VmRSS")))
            if now - last_report >= self.report_every:
                last_report = now
                print(f"  ... {now - started:5.0f} s: {self.progress()}, RSS {self.samples[-1][1]:.0f} MB", flush=True)

    def profile(self, parts: int = 10) -> list[float]:
        """The highest RSS in each tenth of the run: flat means the run does not grow."""
        if not self.samples:
            return []
        end = self.samples[-1][0] or 1.0
        peaks = [0.0] * parts
        for at, mb in self.samples:
            index = min(parts - 1, int(at / end * parts))
            peaks[index] = max(peaks[index], mb)
        return peaks


class Stopwatch:
    """Time spent in named methods of the objects under test (the split of a run between its stages)."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def wrap(self, target: object, method: str, label: str) -> None:
        setattr(target, method, self.timed(getattr(target, method), label))

    def timed(self, inner: Callable[..., Any], label: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started
                self.calls[label] += 1

        return timed


class TimedClassifier:
    """The classifier with its classify_many() timed, as a wrapper that leaves the classifier as it is."""

    def __init__(self, classifier: Classifier, stopwatch: Stopwatch) -> None:
        self.classified = 0
        timed = stopwatch.timed(classifier.classify_many, CLASSIFY)

        def classify_many(texts: Sequence[str], contexts: Sequence[CommentContext | None] | None = None) -> Any:
            self.classified += len(texts)
            return timed(texts, contexts)

        self.classify_many = classify_many


@dataclass
class Result:
    comments: int
    seconds: float
    fetch_store_seconds: float
    classify_seconds: float
    outcome: PollOutcome
    requests: int
    flags: int
    peak_rss_mb: float
    rss_by_tenth: list[float]
    stages: Counter[str]

    @property
    def rate(self) -> float:
        return self.outcome.fetched / self.seconds if self.seconds else 0.0


def rss_mb(field_name: str = "VmHWM") -> float:
    """A memory figure from /proc/self/status in MB (VmHWM: the peak), or ru_maxrss where there is no /proc."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith(f"{field_name}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def fake_platform(comments: int, seed: int) -> Iterator[str]:
    """The fake Graph API in a child process; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_platform", "--comments", str(comments), "--seed", str(seed)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError("the fake platform did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def settings_for(url: str, workdir: Path, comments_limit: int) -> config.Settings:
    os.environ[TOKEN_VARIABLE] = "EAAG-bench-ingest-token"
    return config.from_mapping(
        {
            "organisation": {"name": "Brightwater Care", "aliases": ["Brightwater"]},
            "database": {"url": f"sqlite:///{workdir / 'ingest.db'}"},
            "logging": {"level": "warning"},
            "accounts": [
                {
                    "name": "bench-facebook",
                    "platform": "facebook",
                    "page_id": PAGE_ID,
                    "access_token": {"env": TOKEN_VARIABLE},
                    "base_url": url,
                    "comments_limit": comments_limit,
                }
            ],
        },
        workdir / "config.toml",
    )


class TimedConnectors:
    """The app's connectors, noting when a fetch has been read to the end (fetch and store are done then)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.made: list[Connector] = []
        self.fetched_at: float | None = None
        self.fetched = 0

    def __call__(self, account: AccountConfig) -> Connector:
        connector = self.app.connector(account)
        fetch = connector.fetch

        def fetch_and_mark(bookmark: Mapping[str, Any] | None) -> Iterator[Batch]:
            for batch in fetch(bookmark):
                self.fetched += len(batch.comments)
                yield batch
            self.fetched_at = time.perf_counter()

        connector.fetch = fetch_and_mark  # type: ignore[method-assign]
        self.made.append(connector)
        return connector

    @property
    def requests(self) -> int:
        return sum(connector.http.requests_made for connector in self.made)


def run(comments: int, seed: int, comments_limit: int, profiler: cProfile.Profile | None = None) -> Result:
    configure_logging("warning", "console")
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as directory, fake_platform(comments, seed) as url:
        workdir = Path(directory)
        settings = settings_for(url, workdir, comments_limit)
        app = App(workdir / "config.toml", settings=settings)
        connectors = TimedConnectors(app)
        stopwatch = Stopwatch()
        stopwatch.wrap(app.store, "save_batch", "store comments (Store.save_batch)")
        stopwatch.wrap(app.store, "comments_to_classify", "load comments to classify (Store.comments_to_classify)")
        stopwatch.wrap(app.store, "save_verdicts", "store verdicts and flags (Store.save_verdicts)")
        classifier = TimedClassifier(app.classifier, stopwatch)
        pipeline = Pipeline(app.store, classifier, connectors, app.now)
        watch = MemoryWatch(
            progress=lambda: f"{connectors.fetched:,} fetched and stored, {classifier.classified:,} classified"
        )
        watcher = threading.Thread(target=watch.run, daemon=True)
        watcher.start()
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        outcome = pipeline.poll(settings.accounts[0])
        if profiler is not None:
            profiler.disable()
        finished = time.perf_counter()
        watch.stopped.set()
        watcher.join()
        fetched_at = connectors.fetched_at or finished
        result = Result(
            comments=comments,
            seconds=finished - started,
            fetch_store_seconds=fetched_at - started,
            classify_seconds=finished - fetched_at,
            outcome=outcome,
            requests=connectors.requests,
            flags=app.store.count(Flag),
            peak_rss_mb=rss_mb("VmHWM"),
            rss_by_tenth=watch.profile(),
            stages=stopwatch.seconds,
        )
        app.close()
    return result


def report(result: Result) -> str:
    outcome = result.outcome
    flagged = ", ".join(f"{category} {count}" for category, count in outcome.flagged.most_common()) or "none"
    rate_met = "met" if result.rate >= TARGET_RATE else "MISSED"
    rss_met = "met" if result.peak_rss_mb < TARGET_RSS_MB else "MISSED"
    lines = [
        f"machine: {describe()}",
        f"ingest: {result.comments:,} comments served over loopback HTTP (fake Graph API in its own process)",
        f"  poll status {outcome.status}; fetched {outcome.fetched:,}; new {outcome.new:,}; "
        f"classified {outcome.classified:,}; unreadable {outcome.unreadable}; requests {result.requests:,}",
        f"  flags {result.flags:,} ({flagged})",
        f"  time {result.seconds:.1f} s = fetch+store {result.fetch_store_seconds:.1f} s "
        f"+ classify+flag {result.classify_seconds:.1f} s",
        f"  throughput {result.rate:,.0f} comments/s end to end (target >= {TARGET_RATE:,.0f}: {rate_met})",
        f"  peak RSS {result.peak_rss_mb:.0f} MB (target < {TARGET_RSS_MB:.0f} MB: {rss_met})",
        "  RSS by tenth of the run (MB): " + " ".join(f"{mb:.0f}" if mb else "-" for mb in result.rss_by_tenth),
    ]
    fetch_only = result.fetch_store_seconds - result.stages["store comments (Store.save_batch)"]
    stages = {"fetch and parse (HTTP + connector)": fetch_only, **result.stages}
    lines.append("  where the time goes:")
    lines.extend(f"    {seconds:6.1f} s  {label}" for label, seconds in stages.items())
    if outcome.error:
        lines.append(f"  error: {outcome.error}")
    return "\n".join(lines)


def profile_summary(profiler: cProfile.Profile, top: int = 30) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--comments", type=int, default=100_000, help="comments to serve (default 100000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--comments-limit", type=int, default=25, help="the account's comments_limit (default 25)")
    parser.add_argument("--profile", action="store_true", help="run under cProfile and print where the time goes")
    arguments = parser.parse_args(argv)
    profiler = cProfile.Profile() if arguments.profile else None
    result = run(arguments.comments, arguments.seed, arguments.comments_limit, profiler)
    print(report(result))
    if profiler is not None:
        print(profile_summary(profiler))
    met = result.rate >= TARGET_RATE and result.peak_rss_mb < TARGET_RSS_MB
    return 0 if result.outcome.status == "ok" and met else 1


if __name__ == "__main__":
    sys.exit(main())
