"""Digests and alerts through a real SMTP server on loopback, failures included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from structlog.testing import capture_logs

from monitor.models import Flag, JobStatus, NotificationLog
from monitor.notify import Notifier
from monitor.notify import log as notification_log
from monitor.store import Store
from tests.notify.factory import Clock, Factory, make_settings, reopen, store_dir
from tests.smtp import MailServer

GM = "gm@brightwater.example"
DEPUTY = "deputy@brightwater.example"


def notifier(
    store: Store, clock: Clock, server: MailServer, waits: list[float] | None = None, **notify: Any
) -> Notifier:
    notify.setdefault("urgent_alerts", False)
    smtp = {"host": "127.0.0.1", "port": server.port, "security": "none", "timeout": 5}
    settings = make_settings(store_dir(store), smtp=smtp, **notify)
    sleeps = waits if waits is not None else []
    return Notifier(settings, store, clock, sleep=sleeps.append)


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def log_rows(store: Store) -> list[NotificationLog]:
    with store.session() as session:
        return list(session.exec(select(NotificationLog).order_by(NotificationLog.flag_id)))


def seed_mixed(factory: Factory) -> list[int]:
    ids = [factory.flag(author=f"Urgent {n}") for n in range(2)]
    ids += [
        factory.flag(
            f"You neglected my mum {n}",
            severity="high",
            categories=("allegation",),
            match="neglected",
            explanation="Alleges neglect of someone in care.",
            author=f"High {n}",
            post=f"post-{n}",
        )
        for n in range(3)
    ]
    ids.append(factory.flag("You lot are idiots", severity="medium", categories=("abuse",), match="idiots"))
    return ids


def test_digest_arrives_once_with_counts_items_and_both_parts(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    ids = seed_mixed(factory)

    report = notifier(store, clock, smtp_server).send_digest()

    assert (report.sent, report.items, report.failures) == (1, 6, [])
    assert len(smtp_server.received) == 1
    message = smtp_server.received[0]
    assert message["Subject"] == "Social media digest: 2 urgent, 3 high, 1 medium"
    assert message["To"] == GM
    assert message["From"] == "monitor@brightwater.example"
    text, html = parts(message)
    for author in ("Urgent 0", "Urgent 1", "High 0", "High 1", "High 2"):
        assert author in html and author in text
    assert html.index("Urgent: please look today") < html.index("High: needs a response") < html.index("Medium")
    assert "Alleges neglect of someone in care." in html
    assert "very negative" in html
    assert "Fri 20 Nov 2026, 08:00 GMT" in html
    assert 'href="https://www.facebook.com/brightwater/posts/post-0?comment_id=' in html
    assert '<mark style="background-color:#fde68a;color:#111827;padding:0 2px;">neglected</mark>' in html
    assert "[neglected]" in text
    assert [row.flag_id for row in log_rows(store)] == ids
    assert {(row.channel, row.recipient, row.kind, row.send_count) for row in log_rows(store)} == {
        ("email", GM, "digest", 1)
    }


def test_a_second_run_sends_nothing_new(store: Store, factory: Factory, clock: Clock, smtp_server: MailServer) -> None:
    seed_mixed(factory)
    first = notifier(store, clock, smtp_server)
    first.send_digest()
    clock.advance(hours=1)

    report = first.send_digest()

    assert len(smtp_server.received) == 1
    assert report.sent == 0 and report.skipped == "nothing new to report"


def test_local_time_follows_summer_time(store: Store, factory: Factory, clock: Clock, smtp_server: MailServer) -> None:
    factory.flag(written=datetime(2026, 7, 1, 13, 2, tzinfo=UTC))

    notifier(store, clock, smtp_server).send_digest()

    assert "Wed 1 Jul 2026, 14:02 BST" in parts(smtp_server.received[0])[1]


def test_script_in_a_comment_arrives_as_text(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    factory.flag(
        "Hello <script>alert(1)</script> & <img src=x onerror=alert(2)>",
        match="<script>",
        author='<b onmouseover="alert(3)">Mallory</b>',
    )

    notifier(store, clock, smtp_server).send_digest()

    text, html = parts(smtp_server.received[0])
    assert "<script" not in html and "<img" not in html and "<b " not in html
    assert "&lt;script&gt;</mark>alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&lt;b onmouseover=&#34;alert(3)&#34;&gt;Mallory&lt;/b&gt;" in html
    assert "Hello [<script>]alert(1)</script> & <img src=x onerror=alert(2)>" in text


def test_line_breaks_in_an_author_name_never_make_a_header(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    hostile = "Eve\r\nBcc: victim@example.com\r\nX-Injected: yes"
    factory.flag(author=hostile)
    factory.flag("Line one\r\n\r\nX-Injected: body", severity="high", categories=("allegation",), author=hostile)
    sender = notifier(store, clock, smtp_server, urgent_alerts=True)

    sender.send_urgent_alerts()
    sender.send_digest()

    assert len(smtp_server.received) == 2
    for message, raw in zip(smtp_server.received, smtp_server.raw, strict=True):
        assert message["Bcc"] is None and message["X-Injected"] is None
        header_block = raw.split(b"\r\n\r\n", 1)[0]
        assert b"Eve" not in header_block and b"victim" not in header_block
    assert "Eve Bcc: victim@example.com X-Injected: yes" in parts(smtp_server.received[1])[1]


def test_links_off_the_platform_are_not_shown(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    factory.flag(permalink="https://facebook.com.evil.example/phish")
    factory.flag(permalink="javascript:alert(1)", author="Second")

    notifier(store, clock, smtp_server).send_digest()

    text, html = parts(smtp_server.received[0])
    assert "evil.example" not in html and "javascript:" not in html
    assert html.count("No direct link: find it on Facebook.") == 2
    assert "evil.example" not in text


def test_a_refused_recipient_is_reported_once_and_the_other_still_gets_it(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    flag_id = factory.flag(severity="high", categories=("allegation",))
    smtp_server.refused.add(DEPUTY)
    waits: list[float] = []
    sender = notifier(store, clock, smtp_server, waits, recipients=[GM, DEPUTY])

    report = sender.send_digest()

    assert report.sent == 1 and len(smtp_server.received) == 1
    assert smtp_server.received[0]["To"] == GM
    assert len(report.failures) == 1
    assert DEPUTY in report.failures[0] and "550" in report.failures[0]
    assert smtp_server.rcpt_attempts.count(DEPUTY) == 1 and waits == []
    assert [(row.flag_id, row.recipient) for row in log_rows(store)] == [(flag_id, GM)]
    with store.session() as session:
        status = session.get(JobStatus, "digest")
    assert status is not None and status.last_error is not None and DEPUTY in status.last_error


def test_a_disconnect_in_the_middle_of_data_is_retried_and_delivered_once(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    factory.flag()
    smtp_server.script = ["disconnect"]
    waits: list[float] = []

    report = notifier(store, clock, smtp_server, waits).send_digest()

    assert (report.sent, report.failures) == (1, [])
    assert smtp_server.data_attempts == 2 and len(smtp_server.received) == 1
    assert waits == [2.0]
    assert len(log_rows(store)) == 1


def test_a_temporary_refusal_is_retried_with_backoff(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    factory.flag()
    smtp_server.script = ["451 4.3.0 try again later", "452 4.3.1 insufficient storage"]
    waits: list[float] = []

    report = notifier(store, clock, smtp_server, waits).send_digest()

    assert (report.sent, report.failures) == (1, [])
    assert waits == [2.0, 4.0]
    assert len(smtp_server.received) == 1


def test_a_permanent_refusal_is_not_retried(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    factory.flag()
    smtp_server.script = ["554 5.7.1 message rejected as spam"]
    waits: list[float] = []

    report = notifier(store, clock, smtp_server, waits).send_digest()

    assert report.sent == 0 and smtp_server.data_attempts == 1 and waits == []
    assert report.failures == [
        "SMTP 127.0.0.1:" + str(smtp_server.port) + ": the server answered 554 5.7.1 message rejected as spam"
    ]
    assert log_rows(store) == []


def test_after_giving_up_a_restarted_notifier_delivers_what_was_not_sent(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    factory.flag()
    smtp_server.script = ["451 4.3.0 busy"] * 4

    failed = notifier(store, clock, smtp_server).send_digest()
    restarted_store = reopen(store)
    clock.advance(minutes=10)
    report = notifier(restarted_store, clock, smtp_server).send_digest()
    again = notifier(restarted_store, clock, smtp_server).send_digest()
    restarted_store.close()

    assert failed.sent == 0 and "gave up after 4 attempts" in failed.failures[0]
    assert report.sent == 1 and again.sent == 0
    assert len(smtp_server.received) == 1


def test_a_crash_after_the_server_accepted_repeats_the_send_with_the_same_message_id(
    store: Store,
    factory: Factory,
    clock: Clock,
    smtp_server: MailServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    factory.flag()
    factory.flag(severity="high", categories=("allegation",), author="Other")

    def crash(*_args: Any, **_kwargs: Any) -> None:
        raise SystemExit("power cut")

    with monkeypatch.context() as patch:
        patch.setattr(notification_log, "record_sent", crash)
        with pytest.raises(SystemExit):
            notifier(store, clock, smtp_server).send_digest()
    restarted = reopen(store)
    resent = notifier(restarted, clock, smtp_server).send_digest()
    settled = notifier(restarted, clock, smtp_server).send_digest()
    restarted.close()

    assert resent.sent == 1 and settled.sent == 0
    assert len(smtp_server.received) == 2
    first, second = smtp_server.received
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Message-ID"].endswith("@brightwater.example>")


def test_a_reminder_carries_a_new_message_id(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    factory.flag(severity="high", categories=("allegation",))
    sender = notifier(store, clock, smtp_server)
    sender.send_digest()
    clock.advance(hours=24)

    sender.send_digest()

    first, reminder = smtp_server.received
    assert first["Message-ID"] != reminder["Message-ID"]


def test_a_refused_login_is_permanent_and_the_password_never_appears(
    store: Store,
    factory: Factory,
    clock: Clock,
    smtp_server_refusing_logins: MailServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_SMTP_USER", "monitor-user")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "correct-horse-battery")
    factory.flag()
    server = smtp_server_refusing_logins
    smtp = {
        "host": "127.0.0.1",
        "port": server.port,
        "security": "none",
        "username": {"env": "TEST_SMTP_USER"},
        "password": {"env": "TEST_SMTP_PASSWORD"},
        "allow_plaintext_auth": True,  # loopback
    }
    waits: list[float] = []
    settings = make_settings(store_dir(store), smtp=smtp, urgent_alerts=False)

    with capture_logs() as logs:
        report = Notifier(settings, store, clock, sleep=waits.append).send_digest()

    assert report.sent == 0 and waits == [] and server.received == []
    assert len(report.failures) == 1 and "refused the login (535)" in report.failures[0]
    assert server.logins and server.logins[0][1] == "monitor-user"
    assert [entry["event"] for entry in logs] == ["notification not delivered"]
    assert "correct-horse-battery" not in report.failures[0] + repr(logs)


def test_every_urgent_alert_is_its_own_message_until_the_cap(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    ids = [factory.flag(author=f"Angry {n}", written=clock() - timedelta(minutes=60 - n)) for n in range(15)]
    factory.flag("You lot are idiots", severity="medium", categories=("abuse",), match="idiots")
    sender = notifier(store, clock, smtp_server, urgent_alerts=True, alert_cap_per_hour=10)

    report = sender.send_urgent_alerts()

    assert (report.sent, report.items) == (11, 15)
    assert len(smtp_server.received) == 11
    singles, follow_up = smtp_server.received[:10], smtp_server.received[10]
    assert all(m["Subject"] == "Urgent: a comment on Facebook needs you (threat)" for m in singles)
    assert follow_up["Subject"] == "Urgent: 5 more comments need you (the hourly alert limit was reached)"
    follow_up_html = parts(follow_up)[1]
    assert all(f"Angry {n}<" in follow_up_html for n in range(10, 15))
    assert len({m["Message-ID"] for m in smtp_server.received}) == 11
    assert [row.flag_id for row in log_rows(store)] == ids
    assert {row.kind for row in log_rows(store)} == {"alert"}


def test_past_the_cap_and_its_follow_up_new_urgent_flags_wait_for_the_next_hour(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    for n in range(4):
        factory.flag(author=f"Angry {n}")
    sender = notifier(store, clock, smtp_server, urgent_alerts=True, alert_cap_per_hour=2)
    sender.send_urgent_alerts()
    late = factory.flag(author="Late")
    clock.advance(minutes=30)

    held = sender.send_urgent_alerts()
    clock.advance(minutes=31)
    released = sender.send_urgent_alerts()

    assert len(smtp_server.received) == 4
    assert held.sent == 0 and held.skipped
    assert released.sent == 1 and "Late" in parts(smtp_server.received[3])[1]
    assert late in {row.flag_id for row in log_rows(store)}


def test_alerted_flags_are_listed_once_in_the_next_digest_not_counted_again(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    factory.flag(author="Threatening")
    factory.flag("You neglected my mum", severity="high", categories=("allegation",), author="Worried")
    sender = notifier(store, clock, smtp_server, urgent_alerts=True)
    sender.send_urgent_alerts()
    clock.advance(hours=2)

    sender.send_digest()
    clock.advance(hours=2)
    later = sender.send_digest()

    alert, digest = smtp_server.received
    assert alert["Subject"].startswith("Urgent:")
    assert digest["Subject"] == "Social media digest: 1 high"
    html = parts(digest)[1]
    assert "Already sent to you as alerts (1)" in html and "Threatening" in html
    assert later.sent == 0


def test_reminders_for_urgent_and_high_flags_still_open(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    high = factory.flag("You neglected my mum", severity="high", categories=("allegation",), author="Worried")
    factory.flag("You lot are idiots", severity="medium", categories=("abuse",), author="Rude")
    answered = factory.flag(severity="high", categories=("allegation",), author="Answered")
    sender = notifier(store, clock, smtp_server)
    sender.send_digest()
    from monitor.notify.review import close_flag

    close_flag(store, answered, status="resolved", note="Phoned the family", actor="gm", now=clock())
    clock.advance(hours=23)
    early = sender.send_digest()
    clock.advance(hours=1)
    due = sender.send_digest()

    assert early.sent == 0 and due.sent == 1
    reminder = smtp_server.received[1]
    assert reminder["Subject"] == "Social media digest: 1 still open"
    html = parts(reminder)[1]
    assert "Still open (1)" in html and "Worried" in html
    assert "Rude" not in html and "Answered" not in html
    rows = {row.flag_id: row for row in log_rows(store)}
    assert (rows[high].kind, rows[high].send_count) == ("reminder", 2)


def test_all_clear_only_when_asked_for(tmp_path: Path, store: Store, clock: Clock, smtp_server: MailServer) -> None:
    quiet = notifier(store, clock, smtp_server).send_digest()
    told = notifier(store, clock, smtp_server, send_all_clear=True).send_digest()

    assert quiet.sent == 0 and told.sent == 1
    assert smtp_server.received[0]["Subject"] == "Social media digest: nothing flagged"
    assert "Nothing new was flagged" in parts(smtp_server.received[0])[1]


def test_a_pile_on_is_one_digest_with_the_full_list_attached(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    for n in range(200):
        factory.flag(
            f"Disgraceful {n}",
            severity="high",
            categories=("allegation",),
            match="Disgraceful",
            author=f"Crowd {n}",
            post="viral",
        )

    report = notifier(store, clock, smtp_server).send_digest()

    assert (report.sent, report.items) == (1, 200)
    message = smtp_server.received[0]
    assert message["Subject"] == "Social media digest: 200 high"
    html = parts(message)[1]
    assert html.count("Open the comment on Facebook") == 5
    assert "and 195 more high comments under this post" in html
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "flags.csv"
    assert len(attachment.get_content().strip().splitlines()) == 201
    assert len(log_rows(store)) == 200


def test_a_comment_cannot_forge_a_mime_part(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    forged = "ok\n--=_fake_0\nContent-Type: text/html\n\n<script>alert(1)</script>\n--=_fake_0--\n"
    factory.flag(forged, match=None)

    notifier(store, clock, smtp_server).send_digest()

    message = smtp_server.received[0]
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert all(part["Content-Transfer-Encoding"] == "quoted-printable" for part in message.iter_parts())
    assert "<script>" not in parts(message)[1]
    assert message.get_boundary().startswith("=_")


def test_a_flag_raised_to_urgent_after_its_digest_is_alerted_once(
    store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    flag_id = factory.flag("You neglected my mum", severity="high", categories=("allegation",), match="neglected")
    notifier(store, clock, smtp_server).send_digest()
    with store.session() as session:
        flag = session.get(Flag, flag_id)
        assert flag is not None
        flag.severity = "urgent"  # the comment was edited into a threat
        session.add(flag)
        session.commit()
    clock.advance(minutes=5)
    alerting = notifier(store, clock, smtp_server, urgent_alerts=True)

    alerting.send_urgent_alerts()
    alerting.send_urgent_alerts()

    assert len(smtp_server.received) == 2
    assert "urgent" in smtp_server.received[1]["Subject"].lower()
    (row,) = log_rows(store)
    assert (row.kind, row.severity, row.send_count) == ("alert", "urgent", 2)
