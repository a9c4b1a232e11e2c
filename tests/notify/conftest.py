"""A real SMTP server on loopback, with failures the test can script, and a store in a tmp SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult

from monitor.store import Store
from tests.notify.factory import Clock, Factory, open_store
from tests.smtp import MailServer, start


@pytest.fixture
def smtp_server_refusing_logins() -> Iterator[MailServer]:
    server = MailServer()

    def refuse(_server: Any, _session: Any, _envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        server.logins.append((mechanism, str(getattr(auth_data, "login", b""), "utf-8", "replace")))
        return AuthResult(success=False, handled=False)

    controller, _ = start(server, authenticator=refuse, auth_require_tls=False)
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
