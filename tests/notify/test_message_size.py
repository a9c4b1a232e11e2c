"""M5: every field and the whole message are bounded; a server that refuses the size gets a smaller message that
still lists every flag."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from structlog.testing import capture_logs

from monitor.notify import Notifier
from monitor.store import Store
from tests.notify.factory import Clock, Factory, make_settings, store_dir
from tests.smtp import MailServer, start


@pytest.fixture
def small_server() -> Iterator[MailServer]:
    controller, server = start(data_size_limit=300_000)
    yield server
    controller.stop()


def send(store: Store, clock: Clock, server: MailServer, kind: str) -> int:
    smtp = {"host": "127.0.0.1", "port": server.port, "security": "none", "timeout": 5}
    settings = make_settings(store_dir(store), smtp=smtp, urgent_alerts=kind == "alert")
    notifier = Notifier(settings, store, clock, sleep=lambda _: None)
    with capture_logs():
        report = notifier.send_urgent_alerts() if kind == "alert" else notifier.send_digest()
    assert report.failures == []
    return report.sent


def test_m5_a_huge_author_name_makes_a_small_alert(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    factory.flag(author="Spam" * 25_000)

    assert send(store, clock, smtp_server, "alert") == 1

    assert len(smtp_server.raw[0]) < 60_000
    assert "Spam" * 10 in smtp_server.received[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_m5_a_digest_too_big_for_the_server_falls_back_to_one_that_lists_every_flag(
    store: Store, factory: Factory, clock: Clock, small_server: MailServer
) -> None:
    ids = [
        factory.flag(f"Disgraceful {n} " + "shameful " * 5_000, severity="high", categories=("allegation",), match=None)
        for n in range(200)
    ]

    assert send(store, clock, small_server, "digest") == 1

    (message,) = small_server.received
    attachment = next(message.iter_attachments())
    rows = list(csv.DictReader(io.StringIO(attachment.get_content())))
    assert sorted(int(row["flag"]) for row in rows) == sorted(ids)
    assert all(row["comment"].startswith("Disgraceful") for row in rows)
    assert len(small_server.raw[0]) < 300_000
    assert small_server.data_attempts + len(small_server.rcpt_attempts) >= 2, "the full-size message was tried first"
