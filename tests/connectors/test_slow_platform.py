"""A slow or huge platform on real loopback sockets: every request has a total deadline and a size limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
import responses

from connectors.base import classify_by_status
from connectors.errors import FatalError, RetryableError
from connectors.http import HttpClient, StoppingError
from tests.loopback import serving

TRICKLE_SECONDS = 20.0  # how long the server keeps trickling if nobody stops listening


class SlowPlatform(BaseHTTPRequestHandler):
    """``/trickle-body``: headers at once, then one byte of body every 0.2 s; ``/trickle-headers``: the
    status line, then one header byte every 0.2 s; ``/endless``: a chunked body with no end and no length."""

    protocol_version = "HTTP/1.1"
    served: list[str] = []

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        self.served.append(self.path)
        try:
            if self.path.startswith("/trickle-body"):
                self._trickle_body()
            elif self.path.startswith("/trickle-headers"):
                self._trickle_headers()
            elif self.path.startswith("/endless"):
                self._endless()
        except OSError:
            return  # the client hung up: what a deadline should do

    def _trickle_body(self) -> None:
        body = b'{"data": [' + b" " * 400 + b"]}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self._drip(body)

    def _trickle_headers(self) -> None:
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        self._drip(b"X-Slow: " + b"a" * 400 + b"\r\n\r\n")

    def _drip(self, data: bytes) -> None:
        ends = time.monotonic() + TRICKLE_SECONDS
        for byte in data:
            if time.monotonic() > ends:
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(0.2)

    def _endless(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"[" + b"1," * 32 * 1024
        for _ in range(4096):  # 256 MB if nobody stops reading
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")


@pytest.fixture
def platform() -> Iterator[str]:
    SlowPlatform.served = []
    with serving(SlowPlatform) as base:
        yield base


def client(base: str) -> HttpClient:
    http = HttpClient(base, classify_by_status, timeout=(1.0, 1.0), sleep=lambda _seconds: None)
    http.deadline = 2.0
    return http


@pytest.mark.parametrize("path", ["trickle-body", "trickle-headers"])
def test_h7_a_byte_a_second_cannot_hold_a_request_past_its_deadline(platform: str, path: str) -> None:
    http = client(platform)
    started = time.monotonic()

    with pytest.raises(RetryableError, match="did not finish within 2 s") as caught:
        http.get_json(path)

    # Each byte arrives well inside the 1 s read timeout; only the 2 s deadline can end this.
    assert time.monotonic() - started < TRICKLE_SECONDS / 2
    assert SlowPlatform.served == [f"/{path}"]  # not retried inline: the next poll tries again
    assert caught.value.retry_after is None


def test_l4_an_endless_body_without_a_length_is_cut_at_the_limit(platform: str) -> None:
    http = client(platform)
    http.deadline = 30.0
    http.max_body_bytes = 2 * 1024 * 1024

    with pytest.raises(FatalError, match="larger than 2 MB"):
        http.get_json("endless")

    assert SlowPlatform.served == ["/endless"]


def test_h7_a_request_in_flight_is_abandoned_when_the_service_stops(platform: str) -> None:
    http = client(platform)
    http.deadline = 30.0
    http.interrupt = threading.Event()
    threading.Timer(0.5, http.interrupt.set).start()
    started = time.monotonic()

    with pytest.raises(StoppingError, match="the service is stopping"):
        http.get_json("trickle-body")

    assert time.monotonic() - started < 5.0


@responses.activate
def test_h7_the_wait_before_a_retry_ends_when_the_service_stops() -> None:
    responses.get("https://api.example.test/items", status=503)
    http = HttpClient("https://api.example.test", classify_by_status, backoff=20.0, max_inline_wait=60.0)
    http.interrupt = threading.Event()
    threading.Timer(0.5, http.interrupt.set).start()
    started = time.monotonic()

    with pytest.raises(StoppingError):
        http.get_json("items")

    assert time.monotonic() - started < 5.0  # the backoff alone would be 10-30 s
    assert len(responses.calls) == 1
