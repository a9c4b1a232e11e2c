"""M8: the database's disk fills while the service runs. The failure is visible (a clear log line, health fails),
nothing is lost, and storing and classifying resume by themselves once there is space again.

The database lives on a small tmpfs mounted for the test, which needs root; elsewhere the test is skipped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.process.conftest import (
    HARMLESS_TEXTS,
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


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount_point)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(directory: Path) -> Path:
    """Write until the file system is full; returns the filler file."""
    filler = directory / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as stream:
        while True:
            stream.write(b"\0" * 65536)
            stream.flush()
            os.fsync(stream.fileno())
    return filler


@pytest.mark.timeout(240)
def test_m8_a_full_disk_is_reported_and_nothing_is_lost_when_space_returns(
    tmp_path: Path, small_disk: Path, launcher: Launcher, mail: MailServer
) -> None:
    comments = CommentFile(tmp_path / "page.jsonl", "page")
    url = sqlite_url(small_disk / "monitor.db")
    tables = base_tables(smtp_port=mail.port, database_url=url, poll_interval="10s")
    config = write_config(tmp_path / "config.toml", tables, [file_account("page", comments.path)])
    database = Database(url)
    first = comments.append(HARMLESS_TEXTS[0])
    process = launcher.start(config)
    process.wait_started()
    wait_until(lambda: database.scalar("SELECT count(*) FROM comment WHERE classified_at IS NOT NULL"), 20, "a poll")

    filler = fill(small_disk)
    later = [comments.append(text) for text in (*HARMLESS_TEXTS[1:], URGENT_TEXTS[0])]
    wait_until(lambda: process.events("the database cannot be written"), 40, "the full disk to be reported")
    health = launcher.run(config, "health")
    assert health.returncode == 1
    assert "the database cannot be written" in health.stdout or "free beside the database" in health.stdout
    assert "Traceback" not in process.log_text()

    filler.unlink()
    wait_until(lambda: deliveries(mail, "alert"), 60, "the urgent alert once there is space")
    classified = set(database.column("SELECT external_id FROM comment WHERE classified_at IS NOT NULL"))
    assert classified == {first, *later}
    wait_until(lambda: process.events("the database can be written again"), 20, "the recovery to be logged")
    assert launcher.run(config, "health").returncode == 0
    process.send(signal.SIGTERM)
    assert process.wait_exit(15) == 0
    assert "Traceback" not in process.log_text()
