"""Urgent alert latency: from a comment appearing on the platform to the alert accepted by SMTP.

The service runs as ``monitor run`` runs it (App and Service in a subprocess
with its own config file), polling a fake Facebook Page (tests/fake_platform.py) every
``--interval`` seconds and sending alerts to a real SMTP server on loopback
(aiosmtpd). Urgent comments are added at random moments over a few poll
cycles; each one's latency is the time from its appearance to the moment the
SMTP server accepted the alert that names it.

    python -m bench.urgent_latency           # 60 s interval, about 4-5 minutes
    python -m bench.urgent_latency --quick   # 10 s interval, about a minute

Target: every latency under the poll interval plus 5 seconds.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from bench.machine import describe
from tests import smtp
from tests.fake_platform import PAGE_ID, Dataset, FakeGraph
from tests.smtp import MailServer

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TOKEN_VARIABLE = "BENCH_LATENCY_FACEBOOK_TOKEN"
TOKEN = "EAAG-bench-latency-token"
MARGIN = 5.0
# What `monitor run --config PATH` does, without loading the other commands.
SERVICE = (
    "import sys; from pathlib import Path; from monitor.app import App; from monitor.commands.run import run; "
    "from monitor.logging import configure; configure(); app = App(Path(sys.argv[1])); "
    "code = run(None, app); app.close(); sys.exit(code)"
)
URGENT_TEXTS = (
    "I know where you all work. I'll burn that place down.",
    "Does anyone know where Margaret Owen lives now? She was moved from Elm Lodge",
    "Joan Walsh at Harbour View has dementia, her room is number 4, call me on 07700 900123",
    "Tell Kwame Okafor I know where he lives and I'm coming for him",
    "My nan Lorna Reid at Elm Lodge, NHS number 943 476 5919, is being moved",
)


@dataclass
class Urgent:
    comment_id: str
    text: str
    added_at: float
    alerted_at: float | None = None

    @property
    def latency(self) -> float | None:
        return None if self.alerted_at is None else self.alerted_at - self.added_at


def config_text(url: str, workdir: Path, smtp_port: int, interval: int) -> str:
    return f"""
[organisation]
name = "Brightwater Care"

[database]
url = "sqlite:///{workdir / "latency.db"}"

[logging]
level = "info"
format = "json"

[notify]
recipients = ["gm@brightwater.example"]
sender = "monitor@brightwater.example"
alert_cap_per_hour = 100

[notify.smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"

[[accounts]]
name = "bench-facebook"
platform = "facebook"
page_id = "{PAGE_ID}"
access_token = {{ env = "{TOKEN_VARIABLE}" }}
base_url = "{url}"
poll_interval = "{interval}s"
jitter = "0s"
"""


def names_comment(message: EmailMessage, comment_id: str) -> bool:
    """True when the alert links to the comment (its id appears in the permalink)."""
    comment_key = comment_id.rsplit("_", 1)[-1]
    for part in message.walk():
        if part.get_content_maintype() == "text" and comment_key in str(part.get_content()):
            return True
    return False


def match_alerts(inbox: MailServer, urgent: list[Urgent]) -> None:
    for received, accepted_at in zip(inbox.received, inbox.accepted_at, strict=False):
        for item in urgent:
            if (
                item.alerted_at is None
                and accepted_at >= item.added_at
                and names_comment(received, item.comment_id)
            ):
                item.alerted_at = accepted_at


def wait_for(condition: Any, timeout: float, inbox: MailServer) -> bool:
    deadline = time.monotonic() + timeout
    with inbox.arrived:
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            inbox.arrived.wait(min(left, 0.5))
    return True


def start_service(config_path: Path, log_path: Path) -> subprocess.Popen[bytes]:
    environment = {**os.environ, TOKEN_VARIABLE: TOKEN, "PYTHONPATH": str(PROJECT_ROOT)}
    environment.pop("MONITOR_DATABASE_URL", None)
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-c", SERVICE, str(config_path)],
            cwd=config_path.parent,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def stop_service(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run(interval: int, comments: int, cycles: int, seed: int) -> tuple[list[Urgent], str]:
    rng = random.Random(seed)
    inbox = MailServer()
    controller, server = smtp.start(inbox)
    fake = FakeGraph(dataset=Dataset(200, posts=10, flaggable_percent=0), token=TOKEN)
    urgent: list[Urgent] = []
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as directory, fake:
        workdir = Path(directory)
        config_path = workdir / "config.toml"
        config_path.write_text(config_text(fake.url, workdir, server.port, interval), encoding="utf-8")
        service = start_service(config_path, workdir / "monitor.log")
        try:
            if not _first_poll_done(fake, service, timeout=60):
                return urgent, (workdir / "monitor.log").read_text(encoding="utf-8")[-3000:]
            started = time.monotonic()
            moments = sorted(rng.uniform(0, interval * cycles) for _ in range(comments))
            for number, moment in enumerate(moments):
                time.sleep(max(0.0, started + moment - time.monotonic()))
                text = URGENT_TEXTS[number % len(URGENT_TEXTS)]
                comment_id = fake.add_comment(rng.randrange(3), text, author=f"Visitor {number}")
                urgent.append(Urgent(comment_id, text, time.monotonic()))
                print(f"  added urgent comment {number + 1} at +{moment:5.1f} s", flush=True)

            def all_alerted() -> bool:
                match_alerts(inbox, urgent)
                return all(item.alerted_at is not None for item in urgent)

            wait_for(all_alerted, interval + 30, inbox)
            log_tail = ""
        finally:
            stop_service(service)
            controller.stop()
    return urgent, log_tail


def _first_poll_done(fake: FakeGraph, service: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait until the service has read the Page once (and had a moment to classify it)."""
    deadline = time.monotonic() + timeout
    while fake.requests["posts"] == 0:
        if service.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    time.sleep(2)
    return True


def report(urgent: list[Urgent], interval: int) -> str:
    target = interval + MARGIN
    lines = [f"machine: {describe()}", f"urgent latency: poll interval {interval} s, target < {target:.0f} s"]
    for number, item in enumerate(urgent, start=1):
        latency = item.latency
        shown = f"{latency:6.1f} s" if latency is not None else "  not delivered"
        lines.append(f"  comment {number}: {shown}  ({item.text[:50]})")
    latencies = [item.latency for item in urgent if item.latency is not None]
    if latencies:
        missing = len(urgent) - len(latencies)
        met = "met" if not missing and max(latencies) < target else "MISSED"
        lines.append(
            f"  max {max(latencies):.1f} s; mean {statistics.mean(latencies):.1f} s; "
            f"delivered {len(latencies)}/{len(urgent)} (target < {target:.0f} s: {met})"
        )
    else:
        lines.append("  no alert was delivered (target MISSED)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Seconds from an urgent comment appearing to its alert email.")
    parser.add_argument("--interval", type=int, default=None, help="poll interval in seconds (default 60)")
    parser.add_argument("--comments", type=int, default=5, help="urgent comments to add (default 5)")
    parser.add_argument("--cycles", type=int, default=3, help="poll cycles to spread them over (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10 s interval")
    arguments = parser.parse_args(argv)
    interval = arguments.interval or (10 if arguments.quick else 60)
    print(f"running `monitor run` with a {interval} s poll interval...", flush=True)
    urgent, log_tail = run(interval, arguments.comments, arguments.cycles, arguments.seed)
    print(report(urgent, interval))
    if log_tail:
        print("the service did not poll; the end of its log:\n" + log_tail)
    delivered = urgent and all(item.latency is not None and item.latency < interval + MARGIN for item in urgent)
    return 0 if delivered else 1


if __name__ == "__main__":
    sys.exit(main())
