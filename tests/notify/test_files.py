"""Preview and demo files: written without sending and without touching the log; the demo repeatable."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path

from monitor.models import NotificationLog
from monitor.notify import Notifier
from monitor.store import Store
from tests.notify.factory import Clock, Factory, make_settings, store_dir
from tests.smtp import MailServer


def mail_notifier(store: Store, clock: Clock, server: MailServer, **notify: object) -> Notifier:
    smtp = {"host": "127.0.0.1", "port": server.port, "security": "none"}
    return Notifier(make_settings(store_dir(store), smtp=smtp, **notify), store, clock)


def test_preview_writes_what_the_next_digest_would_say_and_sends_nothing(
    tmp_path: Path, store: Store, factory: Factory, clock: Clock, smtp_server: MailServer
) -> None:
    factory.flag(author="First")
    sender = mail_notifier(store, clock, smtp_server, urgent_alerts=False)
    sender.send_digest()
    factory.flag("You neglected my mum", severity="high", categories=("allegation",), author="Second")

    page = sender.preview_digest(tmp_path / "preview" / "digest.html")

    html = page.read_text(encoding="utf-8")
    assert "Second" in html and "First" not in html
    assert "<title>Social media digest: 1 high</title>" in html
    assert len(smtp_server.received) == 1
    assert store.count(NotificationLog) == 1


def test_demo_files_hold_every_open_flag_and_can_be_written_again(
    tmp_path: Path, store: Store, factory: Factory, clock: Clock
) -> None:
    factory.flag(author="First")
    factory.flag("You neglected my mum", severity="high", categories=("allegation",), author="Second")
    factory.flag(status="resolved", author="Closed")
    notifier = Notifier(make_settings(store_dir(store)), store, clock)

    eml, html = notifier.write_digest_files(tmp_path / "out")
    first = (eml.read_bytes(), html.read_bytes())
    again = notifier.write_digest_files(tmp_path / "out")

    assert again == (eml, html)
    assert (eml.read_bytes(), html.read_bytes()) == first
    message = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert message["Subject"] == "Social media digest: 1 urgent, 1 high"
    body = message.get_body(preferencelist=("html",))
    assert body is not None and "Second" in body.get_content() and "Closed" not in body.get_content()
    assert store.count(NotificationLog) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["monitor-digest.eml", "monitor-digest.html"]


def test_an_output_directory_is_a_channel_with_its_own_log(store: Store, factory: Factory, clock: Clock) -> None:
    factory.flag(severity="high", categories=("allegation",))
    notifier = Notifier(make_settings(store_dir(store), recipients=[], output_dir="digests"), store, clock)

    report = notifier.send_digest()
    again = notifier.send_digest()

    written = sorted(p.suffix for p in (store_dir(store) / "digests").iterdir())
    assert (report.sent, again.sent) == (1, 0)
    assert written == [".eml", ".html"]
    assert store.count(NotificationLog) == 1


def test_nothing_configured_means_nothing_sent_and_says_why(store: Store, factory: Factory, clock: Clock) -> None:
    factory.flag()
    notifier = Notifier(make_settings(store_dir(store), recipients=[]), store, clock)

    assert notifier.send_urgent_alerts().skipped == "no recipients, webhooks or output directory configured"
    assert notifier.send_digest().skipped == "no recipients, webhooks or output directory configured"


def test_m6_messages_written_in_the_same_second_each_keep_their_own_files(
    store: Store, factory: Factory, clock: Clock
) -> None:
    for number in range(13):
        factory.flag(f"I know where you all work, number {number}")
    settings = make_settings(store_dir(store), recipients=[], output_dir="digests", alert_cap_per_hour=20)
    notifier = Notifier(settings, store, clock)

    report = notifier.send_urgent_alerts()

    files = sorted((store_dir(store) / "digests").iterdir())
    assert report.sent == 13
    assert len([path for path in files if path.suffix == ".eml"]) == 13
    assert len({path.stem for path in files}) == 13
    ids = {
        BytesParser(policy=policy.default).parsebytes(path.read_bytes())["Message-ID"]
        for path in files
        if path.suffix == ".eml"
    }
    assert all(path.stem.split("-")[-1] in str(ids) for path in files)


def test_l6_output_dir_files_only_the_owner_can_read(store: Store, factory: Factory, clock: Clock) -> None:
    import stat

    factory.flag()
    Notifier(make_settings(store_dir(store), recipients=[], output_dir="digests"), store, clock).send_digest()
    files = list((store_dir(store) / "digests").iterdir())
    assert files and all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)
