"""Every SMTP conversation ends by its deadline, or at once when the service stops, however slowly the server talks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.errors import NotifyError
from monitor.notify.channels import Outgoing
from monitor.notify.content import build_alert
from monitor.notify.notifier import presenter_for
from monitor.notify.records import load_flags
from monitor.notify.smtp import STOP_GRACE, EmailChannel
from monitor.store import Store
from tests.notify.factory import NOW, Factory, make_settings
from tests.smtp import SlowGreeting


@pytest.fixture
def slow_server() -> Iterator[SlowGreeting]:
    server = SlowGreeting()
    yield server
    server.close()


def outgoing(store: Store, factory: Factory, tmp_path: Path) -> Outgoing:
    factory.flag()
    presenter = presenter_for(make_settings(tmp_path))
    message = build_alert(load_flags(store), presenter, organisation="Brightwater Care", now=NOW)
    return Outgoing(message=message, message_id="<a@brightwater.example>", date=NOW)


def deliver_in_thread(channel: EmailChannel, message: Outgoing) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            channel.deliver(message, "gm@brightwater.example")
        except BaseException as exc:  # handed to the test
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def test_h8_a_slow_greeting_ends_at_the_conversation_deadline(
    store: Store, factory: Factory, tmp_path: Path, slow_server: SlowGreeting
) -> None:
    smtp = {"host": "127.0.0.1", "port": slow_server.port, "security": "none", "timeout": 2, "deadline": "3s"}
    settings = make_settings(tmp_path, smtp=smtp)
    channel = EmailChannel(settings.notify.smtp, settings.notify.sender, settings.notify.recipients)
    started = time.monotonic()
    thread, errors = deliver_in_thread(channel, outgoing(store, factory, tmp_path))
    thread.join(timeout=20)

    assert not thread.is_alive(), "the send was still waiting for the greeting after 20s"
    assert time.monotonic() - started < 6
    (error,) = errors
    assert isinstance(error, NotifyError) and not error.permanent
    assert "longer than its deadline (3s)" in str(error)


def test_h8_a_stop_request_cuts_a_slow_conversation_after_a_short_grace(
    store: Store, factory: Factory, tmp_path: Path, slow_server: SlowGreeting
) -> None:
    smtp = {"host": "127.0.0.1", "port": slow_server.port, "security": "none", "timeout": 30}
    settings = make_settings(tmp_path, smtp=smtp)
    stop = threading.Event()
    channel = EmailChannel(settings.notify.smtp, settings.notify.sender, settings.notify.recipients, stop)
    thread, errors = deliver_in_thread(channel, outgoing(store, factory, tmp_path))
    time.sleep(1.5)
    stopped = time.monotonic()
    stop.set()
    thread.join(timeout=10)

    assert not thread.is_alive()
    assert STOP_GRACE - 0.5 < time.monotonic() - stopped < STOP_GRACE + 2
    (error,) = errors
    assert isinstance(error, NotifyError) and "the service is stopping" in str(error)


def test_l3_an_infinite_timeout_or_a_deadline_shorter_than_it_is_refused(tmp_path: Path) -> None:
    from monitor.errors import ConfigError

    with pytest.raises(ConfigError, match=r"notify\.smtp\.timeout"):
        make_settings(tmp_path, smtp={"timeout": float("inf")})
    with pytest.raises(ConfigError, match=r"notify\.smtp.*deadline: must be at least timeout"):
        make_settings(tmp_path, smtp={"timeout": 60, "deadline": "30s"})
