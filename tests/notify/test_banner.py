"""The digest opens with what keeps the monitor from its job, or one line saying all is well; urgent alerts are
marked important for mail programs."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from connectors import Connector, connector_class
from monitor.config import AccountConfig
from monitor.models import JobStatus
from monitor.notify import Notifier
from monitor.notify.banner import ALERTS_JOB
from monitor.store import Store
from tests.notify.factory import ACCOUNT, Clock, Factory, make_settings, store_dir
from tests.smtp import MailServer

OTHER = "brightwater-blog"


def notifier(store: Store, clock: Clock, server: MailServer, **notify: Any) -> Notifier:
    notify.setdefault("urgent_alerts", False)
    smtp = {"host": "127.0.0.1", "port": server.port, "security": "none", "timeout": 5}
    accounts = [
        {"name": ACCOUNT, "platform": "file", "path": "a.jsonl", "poll_interval": "5m"},
        {"name": OTHER, "platform": "file", "path": "b.jsonl", "poll_interval": "2h"},
    ]
    (store_dir(store) / "a.jsonl").touch()
    (store_dir(store) / "b.jsonl").touch()
    settings = make_settings(store_dir(store), accounts=accounts, smtp=smtp, retry_attempts=1, **notify)
    return Notifier(settings, store, clock, sleep=lambda _: None)


def plain(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def html(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("html",))
    assert body is not None
    return str(body.get_content())


def test_accounts_not_read_or_refused_and_failed_emails_open_the_digest(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    page = store.ensure_account(ACCOUNT, "file")
    blog = store.ensure_account(OTHER, "file")
    assert page.id is not None and blog.id is not None
    now = clock()
    store.update_account(page.id, last_attempt_at=now, last_success_at=now - timedelta(hours=3), last_error="timed out")
    store.update_account(blog.id, status="auth_failed", last_attempt_at=now, last_error="token expired (190)")
    with store.session() as session:
        session.add(JobStatus(name=ALERTS_JOB, last_run_at=now - timedelta(hours=2), last_error="SMTP refused"))
        session.commit()
    factory.flag(severity="low", categories=("negative",))

    assert notifier(store, clock, smtp_server).send_digest().ok

    text = plain(smtp_server.received[0])
    assert "The monitor needs attention" in html(smtp_server.received[0])
    lines = [line for line in text.splitlines() if line.startswith("!! ")]
    assert lines[1].startswith("!! brightwater-blog: the platform refused the monitor's token")
    assert lines[2] == "!! brightwater-page has not been read since Fri 20 Nov 2026, 06:00 GMT. (timed out)"
    assert lines[3] == "!! An urgent alert could not be delivered at Fri 20 Nov 2026, 07:00 GMT: SMTP refused"
    with store.session() as session:
        row = session.get(JobStatus, ALERTS_JOB)
        assert row is not None and row.last_error is None  # told once


def test_an_account_polled_every_two_hours_is_not_late_after_three(
    store: Store, clock: Clock, smtp_server: MailServer
) -> None:
    blog = store.ensure_account(OTHER, "file")
    assert blog.id is not None
    store.update_account(blog.id, last_attempt_at=clock(), last_success_at=clock() - timedelta(hours=3))

    notifier(store, clock, smtp_server, all_is_well=True).send_digest()

    assert "has not been read" not in plain(smtp_server.received[0])
    clock.advance(hours=2)
    notifier(store, clock, smtp_server, all_is_well=True).send_digest()
    assert "brightwater-blog has not been read since" in plain(smtp_server.received[1])


def test_a_quiet_day_sends_one_line_saying_all_is_well_when_asked(
    store: Store, clock: Clock, smtp_server: MailServer
) -> None:
    assert notifier(store, clock, smtp_server).send_digest().sent == 0

    notifier(store, clock, smtp_server, all_is_well=True).send_digest()

    assert len(smtp_server.received) == 1
    assert "All is well: 2 accounts read on schedule, every email delivered." in plain(smtp_server.received[0])


def test_a_problem_is_sent_even_on_a_day_with_nothing_flagged(
    store: Store, clock: Clock, smtp_server: MailServer
) -> None:
    blog = store.ensure_account(OTHER, "file")
    assert blog.id is not None
    store.update_account(blog.id, status="auth_failed", last_attempt_at=clock(), last_error="refused")

    assert notifier(store, clock, smtp_server).send_digest().sent == 1
    assert "the platform refused the monitor's token" in plain(smtp_server.received[0])


def test_urgent_alerts_are_marked_high_importance_and_digests_are_not(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    factory.flag()
    notifier(store, clock, smtp_server, urgent_alerts=True).send_urgent_alerts()
    factory.flag("meh", severity="low", categories=("negative",))
    notifier(store, clock, smtp_server).send_digest()

    alert, digest = smtp_server.received
    assert (alert["Importance"], alert["X-Priority"]) == ("high", "1 (Highest)")
    assert digest["Importance"] is None and digest["X-Priority"] is None


def test_an_undelivered_alert_is_remembered_for_the_digest(store: Store, factory: Factory, clock: Clock) -> None:
    factory.flag()
    dead = MailServer(port=1)  # nothing listens on port 1

    report = notifier(store, clock, dead, urgent_alerts=True).send_urgent_alerts()

    assert report.failures
    with store.session() as session:
        row = session.get(JobStatus, ALERTS_JOB)
        assert row is not None and row.last_error and "127.0.0.1:1" in row.last_error


def test_a_token_that_expires_within_14_days_and_cannot_be_renewed_opens_the_digest(
    store: Store, clock: Clock, smtp_server: MailServer
) -> None:
    expires = (clock() + timedelta(days=5)).date().isoformat()
    later = (clock() + timedelta(days=60)).date().isoformat()
    accounts = [
        {"name": ACCOUNT, "platform": "file", "path": "a.jsonl", "token_expires": expires},
        {"name": OTHER, "platform": "file", "path": "b.jsonl", "token_expires": later},
    ]
    (store_dir(store) / "a.jsonl").touch()
    (store_dir(store) / "b.jsonl").touch()
    smtp = {"host": "127.0.0.1", "port": smtp_server.port, "security": "none", "timeout": 5}
    settings = make_settings(store_dir(store), accounts=accounts, smtp=smtp, urgent_alerts=False)

    def connector_for(account: AccountConfig) -> Connector:
        return connector_class(account.platform)(account.connector, now=clock)

    assert Notifier(settings, store, clock, sleep=lambda _: None, connector_for=connector_for).send_digest().sent == 1

    lines = [line for line in plain(smtp_server.received[0]).splitlines() if line.startswith("!! ")]
    warned = [line for line in lines if "expires" in line]
    assert len(warned) == 1
    assert warned[0].startswith(f"!! {ACCOUNT}: access token expires ")
    assert warned[0].endswith("it cannot be renewed automatically, renew it before then.")


def test_a_lease_held_by_an_instance_that_is_gone_opens_the_digest(
    store: Store, clock: Clock, smtp_server: MailServer
) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    owner = f"{socket.gethostname()}:{child.pid}:abc123"
    assert store.acquire_lease("poll:brightwater-blog", owner, timedelta(minutes=15), clock())

    assert notifier(store, clock, smtp_server).send_digest().sent == 1

    lines = [line for line in plain(smtp_server.received[0]).splitlines() if line.startswith("!! ")]
    assert f"!! The lease poll:brightwater-blog is held by {owner}, which is no longer running" in "\n".join(lines)
