"""M1: a lease held by an instance that was killed blocks nothing: a restart on the same host reclaims it at once,
and ``monitor health`` names it while it is there."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.process.conftest import (
    URGENT_TEXTS,
    CommentFile,
    Database,
    Launcher,
    MailServer,
    base_tables,
    deliveries,
    file_account,
    sqlite_url,
    wait_until,
    write_config,
)
from tests.smtp import SlowGreeting

pytestmark = pytest.mark.slow


def config_for(tmp_path: Path, comments: CommentFile, smtp_port: int) -> Path:
    tables = base_tables(smtp_port=smtp_port, database_url=sqlite_url(tmp_path / "monitor.db"))
    return write_config(tmp_path / "config.toml", tables, [file_account("page", comments.path)])


def test_m1_a_restart_reclaims_the_killed_instances_notifier_lease_at_once(
    tmp_path: Path, launcher: Launcher, mail: MailServer
) -> None:
    comments = CommentFile(tmp_path / "page.jsonl", "page")
    database = Database(sqlite_url(tmp_path / "monitor.db"))
    slow = SlowGreeting()
    try:
        config = config_for(tmp_path, comments, slow.port)
        comments.append(URGENT_TEXTS[0])
        first = launcher.start(config)
        first.wait_started()
        wait_until(lambda: slow.connections, 20, "the alert's send to begin")
        assert database.scalar("SELECT owner FROM lease WHERE name = 'notifier'") == first.instance
        first.send(signal.SIGKILL)
        first.wait_exit(10)
    finally:
        slow.close()

    health = launcher.run(config, "health")
    assert health.returncode == 1
    assert "notifier" in health.stdout and "no longer running" in health.stdout and first.instance in health.stdout

    config_for(tmp_path, comments, mail.port)  # the mail server is back
    started = time.monotonic()
    second = launcher.start(config)
    second.wait_started()
    wait_until(lambda: deliveries(mail, "alert"), 30, "the alert after the restart")
    assert time.monotonic() - started < 30, "the alert waited for the killed instance's lease to expire"
    released = second.events("lease of a stopped instance released")
    assert {event["lease"] for event in released} >= {"notifier"}
    assert all(event["owner"] == first.instance for event in released)
    second.send(signal.SIGTERM)
    assert second.wait_exit(15) == 0
