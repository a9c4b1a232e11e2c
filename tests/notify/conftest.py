"""A real SMTP server on loopback, with failures the test can script, and a store in a tmp SQLite file."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from monitor.store import Store
from tests.notify.factory import Clock, Factory, open_store


@dataclass
class MailServer:
    """Accepts mail unless told otherwise. ``script`` says what the next DATA commands get:
    "ok", "disconnect" (the connection drops in the middle of DATA) or an SMTP reply such as "451 ..."."""

    port: int = 0
    script: list[str] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    received: list[EmailMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    rcpt_attempts: list[str] = field(default_factory=list)
    data_attempts: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802 (aiosmtpd hook name)
        self.rcpt_attempts.append(address)
        if address in self.refused:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd hook name)
        self.data_attempts += 1
        action = self.script.pop(0) if self.script else "ok"
        if action == "disconnect":
            server.transport.close()
            return "421 closing"
        if action != "ok":
            return action
        content = envelope.original_content or envelope.content
        self.raw.append(content)
        self.received.append(BytesParser(policy=policy.default).parsebytes(content))  # type: ignore[arg-type]
        return "250 2.0.0 accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.received if message["To"] == address]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(server: MailServer, **options: Any) -> Controller:
    server.port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=server.port, **options)
    controller.start()
    return controller


@pytest.fixture
def smtp_server() -> Iterator[MailServer]:
    server = MailServer()
    controller = _start(server)
    yield server
    controller.stop()


@pytest.fixture
def smtp_server_refusing_logins() -> Iterator[MailServer]:
    server = MailServer()

    def refuse(_server: Any, _session: Any, _envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        server.logins.append((mechanism, str(getattr(auth_data, "login", b""), "utf-8", "replace")))
        return AuthResult(success=False, handled=False)

    controller = _start(server, authenticator=refuse, auth_require_tls=False)
    yield server
    controller.stop()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "monitor.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    store = open_store(db_path)
    yield store
    store.close()


@pytest.fixture
def factory(store: Store) -> Factory:
    return Factory(store)


@pytest.fixture
def clock() -> Clock:
    return Clock()
