"""The shared HTTP layer's defences, measured: their cost per request, and memory against a huge response.

A loopback server answers small JSON bodies and one huge body. The bench
times ``requests`` alone against ``HttpClient`` (whose exchange runs in its own
thread, under a deadline, streamed up to a size limit), then lets ``HttpClient``
meet 150 MB of body and reports how far the process's peak RSS moved, then
reads the same body with ``requests`` alone for comparison.

    python -m bench.http_edge                  # 2,000 small requests, a 150 MB body
    python -m bench.http_edge --requests 500   # a quick run
"""

from __future__ import annotations

import argparse
import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from bench.machine import describe
from connectors.base import classify_by_status
from connectors.errors import ConnectorError
from connectors.http import HttpClient

SMALL_BODY = b'{"data": [' + b'{"id": "1", "message": "Lovely day"},' * 20 + b'{"id": "2"}]}'
HUGE_MB = 150


class Platform(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # or each small answer waits out the client's delayed ACK

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        if self.path.startswith("/huge"):
            self._huge()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(SMALL_BODY)))
        self.end_headers()
        self.wfile.write(SMALL_BODY)

    def _huge(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"1," * 512 * 1024  # 1 MB
        try:
            for _ in range(HUGE_MB):
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            return


@contextmanager
def serving() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Platform)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def per_request_ms(call: object, count: int) -> float:
    assert callable(call)
    started = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - started) / count * 1000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    print(describe())
    with serving() as base:
        session = requests.Session()
        plain = per_request_ms(lambda: session.get(f"{base}/small", timeout=(5, 30)).json(), args.requests)
        http = HttpClient(base, classify_by_status)
        guarded = per_request_ms(lambda: http.get_json("small"), args.requests)
        print(f"{args.requests} small requests on loopback, mean per request:")
        print(f"  requests.Session.get + .json(): {plain:.3f} ms")
        print(f"  HttpClient.get_json (thread, deadline, size limit): {guarded:.3f} ms ({guarded - plain:+.3f} ms)")

        before = peak_rss_mb()
        started = time.perf_counter()
        try:
            http.get_json("huge")
            outcome = "read (no limit?)"
        except ConnectorError as exc:
            outcome = str(exc)
        took = time.perf_counter() - started
        print(f"a {HUGE_MB} MB response: {outcome}")
        print(f"  after {took:.2f} s; peak RSS {before:.0f} MB before, {peak_rss_mb():.0f} MB after")
        body = session.get(f"{base}/huge", timeout=(5, 30)).content
        kept = len(body) / 2**20
        print(f"the same response read by requests alone: {kept:.0f} MB kept; peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
