"""Every benchmark, one after another, each in its own process with a time limit.

    python -m bench.run_all           # every bench with its default options
    python -m bench.run_all --quick   # a smoke run: fewer comments, a short poll interval
    python -m bench.run_all --only ingest --only api_economy

The long ingest run (1,000,000 comments) is separate:
``python -m bench.ingest --comments 1000000``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.machine import describe

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Bench:
    name: str
    arguments: tuple[str, ...] = ()
    quick_arguments: tuple[str, ...] = ()
    timeout: float = 600.0


BENCHES = (
    Bench("filter_throughput", quick_arguments=("--limit", "1000")),
    Bench("ingest", quick_arguments=("--comments", "10000"), timeout=1200.0),
    Bench("api_economy"),
    Bench("urgent_latency", quick_arguments=("--quick",), timeout=600.0),
    Bench("digest_render"),
)


@dataclass(frozen=True)
class Outcome:
    name: str
    status: str
    seconds: float


def run(bench: Bench, quick: bool) -> Outcome:
    """Run one bench, echoing its output as it comes; stop it at its time limit."""
    module = PROJECT_ROOT / "bench" / f"{bench.name}.py"
    if not module.is_file():
        print(f"(bench/{bench.name}.py does not exist yet: not yet measured)")
        return Outcome(bench.name, "not yet measured", 0.0)
    command = [sys.executable, "-m", f"bench.{bench.name}", *(bench.quick_arguments if quick else bench.arguments)]
    print(f"$ {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    timer = threading.Timer(bench.timeout, process.kill)
    timer.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
        code = process.wait()
    finally:
        timer.cancel()
    seconds = time.monotonic() - started
    if seconds >= bench.timeout:
        return Outcome(bench.name, f"stopped at its {bench.timeout:.0f} s limit", seconds)
    return Outcome(bench.name, "ok" if code == 0 else f"exit {code} (a target missed or an error)", seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every benchmark.")
    parser.add_argument("--quick", action="store_true", help="a smoke run with smaller inputs")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this bench (repeatable)")
    arguments = parser.parse_args(argv)
    chosen = [bench for bench in BENCHES if not arguments.only or bench.name in arguments.only]
    print(f"machine: {describe()}\n", flush=True)
    outcomes = []
    for bench in chosen:
        print(f"=== {bench.name} ===", flush=True)
        outcomes.append(run(bench, arguments.quick))
        print(flush=True)
    print("=== summary ===")
    for outcome in outcomes:
        print(f"  {outcome.name:<18} {outcome.seconds:7.1f} s  {outcome.status}")
    return 0 if all(outcome.status in ("ok", "not yet measured") for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
