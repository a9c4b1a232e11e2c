"""One service, several accounts polled at the same moment (as they are at every start): each urgent flag is
alerted exactly once, however long the mail server takes to answer."""

from __future__ import annotations

import signal
from collections import Counter
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

pytestmark = pytest.mark.slow

ACCOUNTS = ("north", "south", "east")


def test_accounts_polled_together_alert_each_flag_once(tmp_path: Path, launcher: Launcher, mail: MailServer) -> None:
    mail.delay = 1.0
    files = [CommentFile(tmp_path / f"{name}.jsonl", name) for name in ACCOUNTS]
    for index, comments in enumerate(files):
        comments.append(URGENT_TEXTS[index])
    db_path = tmp_path / "monitor.db"
    tables = base_tables(smtp_port=mail.port, database_url=sqlite_url(db_path))
    accounts = [file_account(comments.prefix, comments.path) for comments in files]
    config = write_config(tmp_path / "config.toml", tables, accounts)
    database = Database(sqlite_url(db_path))

    process = launcher.start(config)
    process.wait_started()
    wait_until(
        lambda: database.scalar("SELECT count(DISTINCT flag_id) FROM notificationlog") == len(ACCOUNTS),
        30,
        "an alert for every account's urgent comment",
    )
    process.send(signal.SIGTERM)
    assert process.wait_exit(15) == 0, process.log_text()

    flag_ids = set(database.column("SELECT id FROM flag"))
    assert len(flag_ids) == len(ACCOUNTS)
    told = Counter(flag_id for delivery in deliveries(mail) for flag_id in delivery.flag_ids)
    assert told == dict.fromkeys(flag_ids, 1), f"alerts per flag: {dict(told)}"
    assert database.column("SELECT send_count FROM notificationlog") == [1] * len(ACCOUNTS)
