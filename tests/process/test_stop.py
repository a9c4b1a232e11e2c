"""``monitor run`` as a real process: it polls, alerts once, and stops cleanly on SIGTERM or SIGINT."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.process.conftest import (
    HARMLESS_TEXTS,
    URGENT_TEXTS,
    CommentFile,
    Database,
    Launcher,
    MailServer,
    MonitorProcess,
    base_tables,
    deliveries,
    file_account,
    sqlite_url,
    wait_until,
    write_config,
)
from tests.smtp import SlowGreeting, free_port

pytestmark = pytest.mark.slow

STOP_WITHIN = 15.0


def setup(tmp_path: Path, smtp_port: int, **notify: Any) -> tuple[Path, CommentFile, Database]:
    comments = CommentFile(tmp_path / "page.jsonl", "page")
    db_path = tmp_path / "monitor.db"
    tables = base_tables(smtp_port=smtp_port, database_url=sqlite_url(db_path))
    tables["notify"].update(notify)
    config = write_config(tmp_path / "config.toml", tables, [file_account("page", comments.path)])
    return config, comments, Database(sqlite_url(db_path))


def stored(database: Database) -> set[str]:
    return set(database.column("SELECT external_id FROM comment"))


def flag_of(database: Database, external_id: str) -> int | None:
    return database.scalar(
        "SELECT flag.id FROM flag JOIN comment ON comment.id = flag.comment_id WHERE comment.external_id = :id",
        id=external_id,
    )


def last_attempt(database: Database) -> Any:
    return database.scalar("SELECT last_attempt_at FROM account WHERE name = 'page'")


def assert_stops(process: MonitorProcess, signum: signal.Signals) -> float:
    """Send ``signum``; the service must exit 0 within STOP_WITHIN seconds, saying so. Returns how long it took."""
    sent = time.monotonic()
    process.send(signum)
    code = process.wait_exit(STOP_WITHIN)
    took = time.monotonic() - sent
    if code is None:
        process.kill()
        raise AssertionError(f"still running {STOP_WITHIN:.0f}s after {signum.name}:\n{process.log_text()[-3000:]}")
    assert code == 0, process.log_text()
    assert [e["signal"] for e in process.events("signal received")] == [signum.name]
    assert process.events("service stopped"), process.log_text()
    return took


def test_polls_alerts_once_and_stops_on_sigterm(tmp_path: Path, launcher: Launcher, mail: MailServer) -> None:
    config, comments, database = setup(tmp_path, mail.port)
    harmless = [comments.append(text) for text in HARMLESS_TEXTS[:3]]
    process = launcher.start(config)
    process.wait_started()
    wait_until(lambda: stored(database) >= set(harmless), 15, "the first poll to store the comments")
    assert deliveries(mail) == []

    urgent = comments.append(URGENT_TEXTS[0])
    flag_id = wait_until(lambda: flag_of(database, urgent), 25, "the urgent comment to be stored and flagged")
    alert = wait_until(lambda: deliveries(mail, "alert"), 15, "the urgent alert")[0]
    assert alert.flag_ids == {flag_id}
    assert alert.message["To"] == "gm@example.org"
    assert "burn that place down" in alert.text

    # Another whole poll, and the alerts step after it, must not send it again.
    after_alert = last_attempt(database)
    wait_until(lambda: last_attempt(database) > after_alert, 15, "the next poll")
    assert_stops(process, signal.SIGTERM)

    assert [d.flag_ids for d in deliveries(mail)] == [{flag_id}]
    assert database.rows("SELECT flag_id, kind, send_count FROM notificationlog") == [(flag_id, "alert", 1)]
    assert stored(database) == {*harmless, urgent}
    assert database.rows("SELECT name FROM lease") == [], "a stopped service leaves no lease behind"


def test_sigint_stops_it_too(tmp_path: Path, launcher: Launcher, mail: MailServer) -> None:
    config, comments, database = setup(tmp_path, mail.port)
    first = comments.append(HARMLESS_TEXTS[0])
    process = launcher.start(config)
    process.wait_started()
    wait_until(lambda: first in stored(database), 15, "the first poll")

    assert_stops(process, signal.SIGINT)
    assert database.rows("SELECT name FROM lease") == []


def test_sigterm_while_an_alert_is_on_the_wire_finishes_it_first(
    tmp_path: Path, launcher: Launcher, mail: MailServer
) -> None:
    """The step under way (a send the server has not yet answered) completes and is recorded, so it is
    neither lost nor sent again by the next start."""
    mail.delay = 4.0
    config, comments, database = setup(tmp_path, mail.port)
    urgent = comments.append(URGENT_TEXTS[1])
    process = launcher.start(config)
    process.wait_started()
    wait_until(mail.snapshot, 20, "the alert to reach the server")

    took = assert_stops(process, signal.SIGTERM)
    assert took >= 2.0, "it stopped before the server had answered"
    flag_id = flag_of(database, urgent)
    assert database.rows("SELECT flag_id, send_count FROM notificationlog") == [(flag_id, 1)]

    mail.delay = 0.0
    again = launcher.start(config)
    again.wait_started()
    polled = last_attempt(database)
    wait_until(lambda: last_attempt(database) > polled, 15, "the restarted service's poll")
    time.sleep(1.0)
    assert_stops(again, signal.SIGTERM)
    assert [d.flag_ids for d in deliveries(mail)] == [{flag_id}]


def test_sigterm_is_prompt_while_alert_delivery_is_being_retried(tmp_path: Path, launcher: Launcher) -> None:
    """With the mail server down, the notifier waits between attempts (5s, 10s, 20s here). A stop request
    must not sit out those waits: the unsent alert is safe in the database and goes out after the restart."""
    config, comments, database = setup(tmp_path, free_port(), retry_attempts=4, retry_backoff="5s")
    comments.append(URGENT_TEXTS[0])
    process = launcher.start(config)
    process.wait_started()
    wait_until(lambda: database.scalar("SELECT count(*) FROM flag"), 15, "the urgent flag")
    time.sleep(1.0)  # the first attempt has failed; the notifier is waiting to try again

    assert_stops(process, signal.SIGTERM)
    assert database.rows("SELECT * FROM notificationlog") == []


def test_h8_sigterm_is_prompt_while_the_smtp_greeting_trickles_in(tmp_path: Path, launcher: Launcher) -> None:
    """A server that greets one byte a second never trips the 10s read timeout; the send must still end."""
    server = SlowGreeting()
    try:
        config, comments, database = setup(tmp_path, server.port)
        comments.append(URGENT_TEXTS[0])
        process = launcher.start(config)
        process.wait_started()
        wait_until(lambda: server.connections, 20, "the alert's connection to the slow server")
        time.sleep(2.0)

        took = assert_stops(process, signal.SIGTERM)
    finally:
        server.close()
    assert took < 10.0
    assert database.rows("SELECT * FROM notificationlog") == [], "nothing was delivered, so nothing is recorded"


def test_h8_a_slow_greeting_ends_at_the_deadline_and_the_service_goes_on(tmp_path: Path, launcher: Launcher) -> None:
    server = SlowGreeting()
    try:
        config, comments, database = setup(
            tmp_path,
            server.port,
            smtp={"host": "127.0.0.1", "port": server.port, "security": "none", "timeout": 10, "deadline": "12s"},
        )
        comments.append(URGENT_TEXTS[0])
        process = launcher.start(config)
        process.wait_started()
        failure = wait_until(lambda: process.events("notification not delivered"), 45, "the send to give up")[0]
        assert "deadline (12s)" in failure["error"]
        polled = last_attempt(database)
        wait_until(lambda: last_attempt(database) > polled, 20, "the next poll after the send gave up")
        assert_stops(process, signal.SIGTERM)
    finally:
        server.close()
