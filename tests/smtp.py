"""A real SMTP server on loopback (aiosmtpd) that keeps what it accepts.

One handler serves every test and bench: it can refuse recipients, answer
DATA from a script ("ok", "disconnect" to drop the connection mid-DATA, or an
SMTP reply such as "451 ..."), and wait before its 250 so that a sender killed
in that gap has delivered without knowing it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller

# The test server's own INFO lines (each connection opened and lost) say nothing about the monitor.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@dataclass
class MailServer:
    port: int = 0
    host: str = "127.0.0.1"
    script: list[str] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    delay: float = 0.0
    received: list[EmailMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    accepted_at: list[float] = field(default_factory=list)  # time.monotonic() of each acceptance
    rcpt_attempts: list[str] = field(default_factory=list)
    data_attempts: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.rcpt_attempts.append(address)
        if address in self.refused:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.data_attempts += 1
        action = self.script.pop(0) if self.script else "ok"
        if action == "disconnect":
            server.transport.close()
            return "421 closing"
        if action != "ok":
            return action
        content = envelope.original_content or envelope.content
        message = BytesParser(policy=policy.default).parsebytes(content)
        assert isinstance(message, EmailMessage)
        with self.arrived:
            self.raw.append(content)
            self.received.append(message)
            self.accepted_at.append(time.monotonic())
            self.arrived.notify_all()
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 2.0.0 accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.received if message["To"] == address]

    def snapshot(self) -> list[EmailMessage]:
        with self.arrived:
            return list(self.received)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(server: MailServer | None = None, **options: Any) -> tuple[Controller, MailServer]:
    """Serve ``server`` (a new one by default) on a free loopback port; aiosmtpd ``options`` pass through."""
    server = server if server is not None else MailServer()
    server.port = free_port()
    controller = Controller(server, hostname=server.host, port=server.port, **options)
    controller.start()
    return controller, server


class SlowGreeting:
    """A server that accepts connections and sends its greeting one byte a second, for ever (a slow loris)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._trickle, args=(connection,), daemon=True).start()

    def _trickle(self, connection: socket.socket) -> None:
        with connection:
            while not self.stopping.wait(1.0):
                try:
                    connection.sendall(b"2")
                except OSError:
                    return

    def close(self) -> None:
        self.stopping.set()
        self.thread.join()
        self.listener.close()
