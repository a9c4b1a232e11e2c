"""``monitor run`` against a platform that answers one byte at a time (issue 19, H7): SIGTERM still stops it."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.loopback import serving
from tests.process.conftest import Launcher, MailServer, base_tables, sqlite_url, wait_until, write_config

pytestmark = pytest.mark.slow

STOP_WITHIN = 10.0
TOKEN = "EAAB-slow-platform-token-4242"


class Trickle(BaseHTTPRequestHandler):
    """Every GET: a 200 with a Graph-shaped body sent half a byte a second, for up to two minutes."""

    protocol_version = "HTTP/1.1"
    requests: list[str] = []

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        self.requests.append(self.path)
        body = b'{"data": [], "paging": {}}' + b" " * 300
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        ends = time.monotonic() + 120
        try:
            for byte in body:
                if time.monotonic() > ends:
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            return


@pytest.fixture
def slow_platform() -> Iterator[str]:
    Trickle.requests = []
    with serving(Trickle) as base:
        yield base


def test_h7_sigterm_stops_the_service_while_a_platform_trickles_its_answer(
    tmp_path: Path, launcher: Launcher, mail: MailServer, slow_platform: str
) -> None:
    tables = base_tables(smtp_port=mail.port, database_url=sqlite_url(tmp_path / "monitor.db"))
    account = {
        "name": "slow-page",
        "platform": "facebook",
        "page_id": "104512345678901",
        "access_token": {"env": "SLOW_PLATFORM_TOKEN"},
        "base_url": slow_platform,
    }
    config = write_config(tmp_path / "config.toml", tables, [account])
    process = launcher.start(config, env={"SLOW_PLATFORM_TOKEN": TOKEN})
    process.wait_started()
    wait_until(lambda: Trickle.requests, 20, "the poll to reach the slow platform")
    time.sleep(2.0)  # well into the trickle: each byte arrives long before the read timeout

    sent = time.monotonic()
    process.send(signal.SIGTERM)
    code = process.wait_exit(STOP_WITHIN)
    took = time.monotonic() - sent

    if code is None:
        process.kill()
        raise AssertionError(f"still running {STOP_WITHIN:.0f}s after SIGTERM:\n{process.log_text()[-3000:]}")
    assert code == 0, process.log_text()
    assert took < STOP_WITHIN
    assert process.events("poll abandoned: the service is stopping"), process.log_text()
    assert process.events("service stopped")
    assert TOKEN not in process.log_text()
