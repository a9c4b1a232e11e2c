"""A secret never leaves the place it is meant for. One sentinel value is every secret (platform tokens, the
app secret, the SMTP login, the webhook URLs); the main commands run against servers that accept it, refuse
it, fail with 5xx, or are not there at all; then the sentinel is looked for everywhere the monitor writes:
its output, its logs, every row of the database, every email and webhook body, every file."""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.fake_platform import PAGE_ID, FakeGraph
from tests.process.conftest import (
    HIGH_TEXTS,
    URGENT_TEXTS,
    Launcher,
    MonitorProcess,
    base_tables,
    deliveries,
    wait_until,
    write_config,
)
from tests.smtp import MailServer, free_port, start

pytestmark = pytest.mark.slow

SENTINEL = "EAAB-SENTINEL-7f3a9c"
FRAGMENTS = (b"eaab-sentinel", b"sentinel-7f3a9c")  # either half of it, in any case
TOKEN_VARIABLES = ("FB_TOKEN_OK", "FB_TOKEN_REVOKED", "FB_TOKEN_FLAKY", "FB_TOKEN_OFFLINE", "META_APP_SECRET")


def start_mail_server(accept_logins: bool) -> tuple[Controller, MailServer]:
    server = MailServer()

    def authenticate(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
        server.logins.append((bytes(data.login).decode(), bytes(data.password).decode()))
        return AuthResult(success=accept_logins, handled=False)

    return start(server, authenticator=authenticate, auth_require_tls=False)


class EchoingWebhook(BaseHTTPRequestHandler):
    """A webhook that fails with 500 and, carelessly, echoes the path it was called on (the secret part)."""

    server: WebhookServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.server.bodies.append(self.rfile.read(length))
        reply = f"no service at {self.path}".encode()
        self.send_response(500)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class WebhookServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), EchoingWebhook)
        self.bodies: list[bytes] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


@dataclass
class Servers:
    """Graph APIs that accept the sentinel, refuse it (revoked) or mostly fail (5xx, throttling); mail
    servers that accept and refuse the login; a failing webhook."""

    graphs: dict[str, FakeGraph]
    accepting: MailServer
    refusing: MailServer
    webhook: WebhookServer


@pytest.fixture
def servers() -> Iterator[Servers]:
    accepting = FakeGraph(comments=30, token=SENTINEL, seed=7)
    accepting.add_comment(0, URGENT_TEXTS[0])
    accepting.add_comment(0, HIGH_TEXTS[0])
    flaky = FakeGraph(comments=5, token=SENTINEL, retry_after=120)
    flaky.set_fault_rates({"500": 0.5, "503": 0.2, "429": 0.3}, seed=3)
    graphs = {"ok": accepting, "revoked": FakeGraph(comments=5, token="a-token-that-is-not-ours"), "flaky": flaky}
    for graph in graphs.values():
        graph.start()
    accepting_controller, accepting_mail = start_mail_server(accept_logins=True)
    refusing_controller, refusing_mail = start_mail_server(accept_logins=False)
    webhook = WebhookServer()
    thread = threading.Thread(target=webhook.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield Servers(graphs, accepting_mail, refusing_mail, webhook)
    webhook.shutdown()
    webhook.server_close()
    accepting_controller.stop()
    refusing_controller.stop()
    for graph in graphs.values():
        graph.stop()


def facebook_account(name: str, variable: str, base_url: str, app_secret: bool = False) -> dict[str, Any]:
    account: dict[str, Any] = {
        "name": name,
        "platform": "facebook",
        "page_id": PAGE_ID,
        "access_token": {"env": variable},
        "base_url": base_url,
    }
    if app_secret:
        account["app_secret"] = {"env": "META_APP_SECRET"}
    return account


@dataclass
class Transcript:
    """Everything the commands printed, by command."""

    outputs: dict[str, str] = field(default_factory=dict)

    def add(self, label: str, text: str) -> None:
        self.outputs[label] = self.outputs.get(label, "") + text


@pytest.mark.timeout(240)
def test_no_secret_is_written_anywhere(tmp_path: Path, launcher: Launcher, servers: Servers) -> None:
    closed = free_port()
    env = dict.fromkeys((*TOKEN_VARIABLES, "SMTP_USERNAME", "SMTP_PASSWORD"), SENTINEL)
    env["SLACK_WEBHOOK_URL"] = f"http://127.0.0.1:{servers.webhook.port}/services/{SENTINEL}"
    env["TEAMS_WEBHOOK_URL"] = f"http://127.0.0.1:{closed}/webhookb2/{SENTINEL}"
    accounts = [
        facebook_account("page", "FB_TOKEN_OK", servers.graphs["ok"].url, app_secret=True),
        facebook_account("revoked", "FB_TOKEN_REVOKED", servers.graphs["revoked"].url),
        facebook_account("flaky", "FB_TOKEN_FLAKY", servers.graphs["flaky"].url),
        facebook_account("offline", "FB_TOKEN_OFFLINE", f"http://127.0.0.1:{closed}"),
    ]

    def config(name: str, smtp_port: int) -> Path:
        tables = base_tables(smtp_port=smtp_port, database_url=f"sqlite:///{tmp_path / 'monitor.db'}")
        notify = tables["notify"]
        notify["output_dir"] = "out"
        notify["retry_attempts"] = 1
        login = {"username": {"env": "SMTP_USERNAME"}, "password": {"env": "SMTP_PASSWORD"}}
        notify["smtp"] = {**notify["smtp"], **login, "allow_plaintext_auth": True}  # loopback
        notify["slack"] = {"url": {"env": "SLACK_WEBHOOK_URL"}, "name": "gm-channel"}
        notify["teams"] = {"url": {"env": "TEAMS_WEBHOOK_URL"}, "name": "gm-teams"}
        return write_config(tmp_path / name, tables, accounts)

    refused = config("refused.toml", servers.refusing.port)
    accepted = config("accepted.toml", servers.accepting.port)
    transcript = Transcript()

    def run(label: str, path: Path, *args: str) -> str:
        result = launcher.run(path, *args, env=env, timeout=120)
        transcript.add(label, result.stdout + result.stderr)
        return result.stdout

    checked = run("check", accepted, "check")
    assert "revoked (facebook): auth failed" in checked
    assert "offline (facebook): unreachable" in checked
    assert "page (facebook): ok" in checked
    run("poll", refused, "poll")
    run_service_briefly(launcher, accepted, env, transcript)
    assert "not delivered" in run("digest, login refused", refused, "digest")
    assert "unhealthy" in run("health", refused, "health")
    run("digest, login accepted", accepted, "digest")
    assert json.loads(run("flags list", accepted, "flags", "list", "--json"))
    assert run("comments export", accepted, "comments", "export", "--format", "jsonl").count("\n") >= 30

    assert servers.refusing.logins and servers.accepting.logins, "the SMTP login was never tried"
    assert {password for _, password in servers.refusing.logins} == {SENTINEL}
    assert {delivery.kind for delivery in deliveries(servers.accepting)} >= {"alert", "digest"}
    assert servers.webhook.bodies, "the webhook was never called"
    assert servers.graphs["revoked"].request_count and servers.graphs["flaky"].faults_served
    assert "[REDACTED]" in transcript.outputs["run"], "the echoing webhook's reply was not redacted"

    places: dict[str, bytes] = {f"output of {label}": text.encode() for label, text in transcript.outputs.items()}
    places |= {f"email {index}": raw for index, raw in enumerate(servers.accepting.raw)}
    places |= {f"webhook body {index}": body for index, body in enumerate(servers.webhook.bodies)}
    places |= {f"table {table}": rows.encode() for table, rows in table_dumps(tmp_path / "monitor.db").items()}
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    places |= {f"file {path.relative_to(tmp_path)}": path.read_bytes() for path in files}
    assert any(name.startswith("file out/") for name in places), "the output directory was never written"
    leaks = {name: excerpt(content) for name, content in places.items() if leaked(content)}
    assert not leaks, f"the secret leaked into: {json.dumps(leaks, indent=2)}"


def run_service_briefly(launcher: Launcher, config: Path, env: dict[str, str], transcript: Transcript) -> None:
    """``monitor run`` until the alerts were tried and the accounts polled (but "flaky", which may be waiting
    out a Retry-After), then SIGTERM."""
    process = launcher.start(config, name="service", env=env)
    process.wait_started()
    wait_until(lambda: process.events("urgent alert not delivered"), 60, "the service to try the alerts")
    wait_until(lambda: {"page", "revoked", "offline"} <= polled(process), 60, "the accounts to be polled")
    process.send(signal.SIGTERM)
    assert process.wait_exit(30) == 0, process.log_text()
    transcript.add("run", process.log_text() + process.out_path.read_text())


def polled(process: MonitorProcess) -> set[str]:
    """The accounts the pipeline has logged about (its events carry the platform; the service's do not)."""
    return {str(event["account"]) for event in process.events() if "platform" in event and "account" in event}


def table_dumps(db_path: Path) -> dict[str, str]:
    """Every row of every table, as text."""
    with closing(sqlite3.connect(db_path)) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: repr(connection.execute(f'SELECT * FROM "{table}"').fetchall()) for table in tables}


def leaked(content: bytes) -> bool:
    lowered = content.lower()
    return any(fragment in lowered for fragment in FRAGMENTS)


def excerpt(content: bytes) -> str:
    at = min(found for fragment in FRAGMENTS if (found := content.lower().find(fragment)) >= 0)
    return content[max(0, at - 120) : at + 60].decode("utf-8", "replace")
