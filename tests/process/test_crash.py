"""Crash safety: ``monitor run`` killed with SIGKILL again and again, at seeded random moments (starting up,
polling, sending an alert, sending a digest), restarted each time, then left to finish cleanly.

Afterwards every comment is stored exactly once and classified, every flag exists once, the bookmark never
claimed a comment the store did not have, and every flag was told exactly once, except that a send the
server accepted just before a kill may be repeated by the next process (never by the same one, and never
after the notification log recorded it).

One account, so that only crashes can explain a repeat (several accounts polled together are covered by
test_alerts.py).
"""

from __future__ import annotations

import json
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.process.conftest import (
    HARMLESS_TEXTS,
    HIGH_TEXTS,
    MEDIUM_TEXTS,
    URGENT_TEXTS,
    CommentFile,
    Database,
    Delivery,
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

pytestmark = pytest.mark.slow

SEED = 20260523
TRIALS = 18
MOMENTS = ("polling", "sending", "digesting", "sending", "anytime")
SMTP_DELAY = 0.5
DIGEST_REACH = 5.0  # a run this close to a minute boundary is killed during that minute's digest
SETTLE = 0.5  # after a kill, for the server to finish with what the dead process sent

EXPECTED_SEVERITY = {
    **dict.fromkeys(URGENT_TEXTS, "urgent"),
    **dict.fromkeys(HIGH_TEXTS, "high"),
    **dict.fromkeys(MEDIUM_TEXTS, "medium"),
}


@dataclass
class Life:
    """One process: when it was started, what it delivered, and what the log held after it died."""

    process: MonitorProcess
    moment: str
    deliveries: list[Delivery] = field(default_factory=list)
    recorded_after: set[int] = field(default_factory=set)


@dataclass
class Harness:
    launcher: Launcher
    config: Path
    comments: CommentFile
    database: Database
    mail: MailServer
    rng: random.Random
    lives: list[Life] = field(default_factory=list)
    seen: int = 0

    def add_comments(self, count: int, urgent: bool = False) -> None:
        pools = [URGENT_TEXTS, HIGH_TEXTS, MEDIUM_TEXTS, HARMLESS_TEXTS]
        for index in range(count):
            pool = URGENT_TEXTS if urgent and index == 0 else self.rng.choices(pools, weights=[4, 3, 1, 3])[0]
            self.comments.append(self.rng.choice(pool))

    def trial(self, number: int) -> None:
        moment = "starting" if number == 0 else MOMENTS[number % len(MOMENTS)]
        self.add_comments(self.rng.randint(1, 3), urgent=moment == "sending")
        name = f"trial-{number:02d}-{moment}"
        if moment == "digesting":
            life = Life(self.launcher.spawn(self.config, "digest", name=name), moment)
        else:
            life = Life(self.launcher.start(self.config, name=name), moment)
        self.lives.append(life)
        self.wait_for_moment(life)
        life.process.kill()
        self.after_death(life)

    def wait_for_moment(self, life: Life) -> None:
        if life.moment == "starting":
            time.sleep(self.rng.uniform(0.3, 2.0))
            return
        if life.moment == "digesting":
            self.wait_for_delivery(life)
            return
        life.process.wait_started()
        to_boundary = 60 - datetime.now(UTC).timestamp() % 60
        if to_boundary < DIGEST_REACH:
            life.moment = "digest"  # this minute's digest is about to run: kill it during that
            time.sleep(to_boundary + self.rng.uniform(0.05, 1.5))
        elif life.moment == "polling":
            time.sleep(self.rng.uniform(0.0, 0.3))
        elif life.moment == "sending":
            self.wait_for_delivery(life)
        else:
            time.sleep(self.rng.uniform(0.0, 3.0))

    def wait_for_delivery(self, life: Life) -> None:
        """Until the server has a message from this process (then a moment within its reply delay), or the
        process ended."""
        wait_until(
            lambda: len(deliveries(self.mail)) > self.seen or life.process.popen.poll() is not None,
            20,
            f"{life.process.name} to send something",
        )
        time.sleep(self.rng.uniform(0.0, SMTP_DELAY / 2))

    def after_death(self, life: Life) -> None:
        time.sleep(SETTLE)
        received = deliveries(self.mail)
        life.deliveries = received[self.seen :]
        self.seen = len(received)
        if self.database.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'lease'"):
            life.recorded_after = set(self.database.column("SELECT flag_id FROM notificationlog"))
            self.assert_bookmark_not_ahead()
            # The dead process's leases would keep its successor waiting lease_ttl; let that time pass.
            self.database.execute("DELETE FROM lease")

    def assert_bookmark_not_ahead(self) -> None:
        value = self.database.scalar("SELECT value FROM bookmark")
        if value is None:
            return
        files = (json.loads(value) if isinstance(value, str) else value)["files"]
        size = files[self.comments.path.name][0]
        missing = self.comments.within(size) - set(self.database.column("SELECT external_id FROM comment"))
        assert not missing, f"the bookmark covers {size} bytes but these comments were never stored: {missing}"


@pytest.mark.timeout(240)
def test_sigkill_at_random_moments_loses_nothing_and_repeats_only_what_a_kill_interrupted(
    tmp_path: Path, launcher: Launcher, mail: MailServer
) -> None:
    mail.delay = SMTP_DELAY
    comments = CommentFile(tmp_path / "page.jsonl", "page")
    db_path = tmp_path / "monitor.db"
    tables = base_tables(smtp_port=mail.port, database_url=sqlite_url(db_path), digest_schedule="* * * * *")
    config = write_config(tmp_path / "config.toml", tables, [file_account("page", comments.path)])
    database = Database(sqlite_url(db_path))
    harness = Harness(launcher, config, comments, database, mail, random.Random(SEED))

    for number in range(TRIALS):
        harness.trial(number)

    final = finish_cleanly(harness)
    send_final_digest(launcher, config)
    time.sleep(SETTLE)
    final.deliveries = deliveries(mail)[harness.seen :]

    assert database.scalar("PRAGMA integrity_check") == "ok"
    assert_every_comment_stored_once_and_classified(database, comments)
    assert_every_expected_flag_once(database, comments)
    assert_bookmark_is_the_file(database, comments)
    assert_told_once_but_for_interrupted_sends(database, harness.lives, final)
    on_the_wire = [life for life in harness.lives if life.moment in ("sending", "digesting") and life.deliveries]
    assert len(on_the_wire) >= 5, "too few kills landed while a message was on the wire to prove anything"
    told = Counter(flag_id for life in [*harness.lives, final] for d in life.deliveries for flag_id in d.flag_ids)
    assert sum(count > 1 for count in told.values()) >= 3, "no kill fell between a send and its record"


def finish_cleanly(harness: Harness) -> Life:
    """A last run, left alone until every urgent flag is alerted, then stopped with SIGTERM."""
    harness.add_comments(2, urgent=True)
    final = Life(harness.launcher.start(harness.config, name="final"), "final")
    final.process.wait_started()
    database = harness.database

    def all_urgent_told() -> bool:
        stored = set(database.column("SELECT external_id FROM comment"))
        unsent = database.scalar(
            "SELECT count(*) FROM flag WHERE severity = 'urgent' AND id NOT IN (SELECT flag_id FROM notificationlog)"
        )
        return stored >= set(harness.comments.ids) and unsent == 0

    wait_until(all_urgent_told, 30, "the final run to store everything and send every urgent alert")
    final.process.send(signal.SIGTERM)
    assert final.process.wait_exit(15) == 0, final.process.log_text()
    assert final.process.events("service stopped")
    return final


def send_final_digest(launcher: Launcher, config: Path) -> None:
    result = launcher.run(config, "digest")
    assert result.returncode == 0, result.stdout + result.stderr


def assert_every_comment_stored_once_and_classified(database: Database, comments: CommentFile) -> None:
    stored = database.column("SELECT external_id FROM comment")
    assert sorted(stored) == sorted(comments.ids)
    assert database.scalar("SELECT count(*) FROM comment WHERE classified_at IS NULL") == 0
    assert database.scalar("SELECT count(*) FROM verdict") == len(comments.ids)


def assert_every_expected_flag_once(database: Database, comments: CommentFile) -> None:
    flags = database.rows(
        "SELECT comment.external_id, flag.severity, flag.status FROM flag JOIN comment ON comment.id = flag.comment_id"
    )
    expected = {
        comment_id: EXPECTED_SEVERITY[text] for comment_id, text in comments.texts.items() if text in EXPECTED_SEVERITY
    }
    assert len(flags) == len({external_id for external_id, _, _ in flags})
    assert {external_id: severity for external_id, severity, _ in flags} == expected
    assert {status for _, _, status in flags} == {"open"}


def assert_bookmark_is_the_file(database: Database, comments: CommentFile) -> None:
    value = database.scalar("SELECT value FROM bookmark")
    files = (json.loads(value) if isinstance(value, str) else value)["files"]
    status = comments.path.stat()
    assert files == {comments.path.name: [status.st_size, status.st_mtime_ns]}


def assert_told_once_but_for_interrupted_sends(database: Database, lives: list[Life], final: Life) -> None:
    every = [*lives, final]
    recorded_before: set[int] = set()
    for life in every:
        for kind in ("alert", "digest"):
            marks = [flag_id for d in life.deliveries if d.kind == kind for flag_id in d.flag_ids]
            repeated = {flag_id for flag_id in marks if marks.count(flag_id) > 1}
            assert not repeated, f"{life.process.name} sent flags {repeated} twice as {kind} without a crash"
        marked = {flag_id for d in life.deliveries for flag_id in d.flag_ids}
        resent = marked & recorded_before
        assert not resent, f"{life.process.name} sent flags {resent} that the notification log already held"
        recorded_before |= life.recorded_after

    flag_ids = set(database.column("SELECT id FROM flag"))
    logged = set(database.column("SELECT flag_id FROM notificationlog"))
    delivered = {flag_id for life in every for d in life.deliveries for flag_id in d.flag_ids}
    assert flag_ids == logged, f"flags never recorded as sent: {flag_ids - logged}"
    assert flag_ids == delivered, f"flags never emailed: {flag_ids - delivered}"

    alert_ids: dict[int, set[str]] = {}
    for life in every:
        for delivery in life.deliveries:
            if delivery.kind == "alert":
                for flag_id in delivery.flag_ids:
                    alert_ids.setdefault(flag_id, set()).add(delivery.message_id)
    assert all(len(ids) == 1 for ids in alert_ids.values()), "a repeated alert must carry the same Message-ID"
