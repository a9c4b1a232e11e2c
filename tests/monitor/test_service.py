from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor import config
from monitor.app import App
from monitor.service import Service

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def settings(tmp_path: Path, accounts: int = 4) -> config.Settings:
    return config.from_mapping(
        {
            "database": {"url": f"sqlite:///{tmp_path / 'monitor.db'}"},
            "service": {"lease_ttl": "60s"},
            "notify": {"digest_schedule": "30 7 * * 1-5"},
            "accounts": [
                {"name": f"account-{n}", "platform": "file", "path": "none.jsonl", "poll_interval": f"{n + 1}m"}
                for n in range(accounts)
            ]
            + [{"name": "paused", "platform": "file", "path": "none.jsonl", "enabled": False}],
        },
        tmp_path / "config.toml",
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


def service(tmp_path: Path, clock: Clock, owner: str, accounts: int = 4) -> Service:
    return Service(App(tmp_path / "config.toml", now=clock, settings=settings(tmp_path, accounts)), owner=owner)


def test_schedules_each_enabled_account_and_the_digest(tmp_path: Path, clock: Clock) -> None:
    svc = service(tmp_path, clock, "a")
    svc.schedule()
    svc.scheduler.start(paused=True)
    jobs = {job.id: job for job in svc.scheduler.get_jobs()}
    svc.scheduler.shutdown(wait=False)
    assert set(jobs) == {"poll:account-0", "poll:account-1", "poll:account-2", "poll:account-3", "digest", "heartbeat"}
    trigger = jobs["poll:account-2"].trigger
    assert isinstance(trigger, IntervalTrigger) and trigger.interval == timedelta(minutes=3)
    assert trigger.jitter == 30
    assert jobs["poll:account-2"].max_instances == 1 and jobs["poll:account-2"].coalesce is True
    digest = jobs["digest"].trigger
    assert isinstance(digest, CronTrigger) and str(digest.timezone) == "Europe/London"
    assert {field.name: str(field) for field in digest.fields}["day_of_week"] == "mon,tue,wed,thu,fri"


def test_two_instances_share_the_accounts_without_overlap(tmp_path: Path, clock: Clock) -> None:
    first = service(tmp_path, clock, "first")
    second = service(tmp_path, clock, "second")
    first.heartbeat_job()
    assert len(first.held) == 4
    second.heartbeat_job()
    first.heartbeat_job()  # sees the second instance and hands half over
    second.heartbeat_job()
    assert len(first.held) == 2 and len(second.held) == 2
    assert first.held.isdisjoint(second.held)


def test_a_dead_instances_accounts_are_taken_over_when_its_leases_expire(tmp_path: Path, clock: Clock) -> None:
    first = service(tmp_path, clock, "first")
    second = service(tmp_path, clock, "second")
    first.heartbeat_job()
    second.heartbeat_job()
    assert second.held == set()
    clock.now += timedelta(seconds=59)
    second.heartbeat_job()
    assert second.held == set()  # the first instance's leases are still live
    clock.now += timedelta(seconds=2)
    second.heartbeat_job()
    assert len(second.held) == 4


def test_a_poll_is_skipped_for_an_account_another_instance_holds(tmp_path: Path, clock: Clock) -> None:
    first = service(tmp_path, clock, "first", accounts=1)
    second = service(tmp_path, clock, "second", accounts=1)
    first.heartbeat_job()
    account = second.settings.accounts[0]
    second.poll_job(account)
    assert second.store.account("account-0") is None  # never polled, so never recorded
    first.poll_job(account)
    assert first.store.account("account-0") is not None


def test_only_one_instance_sends_at_a_time(tmp_path: Path, clock: Clock) -> None:
    first = service(tmp_path, clock, "first")
    second = service(tmp_path, clock, "second")
    with first.notifier_lease() as first_ours, second.notifier_lease() as second_ours:
        assert first_ours and not second_ours
    with second.notifier_lease() as second_ours:
        assert second_ours


def test_stopping_releases_the_leases_at_once(tmp_path: Path, clock: Clock) -> None:
    first = service(tmp_path, clock, "first")
    second = service(tmp_path, clock, "second")
    first.heartbeat_job()
    first.release_leases()
    second.heartbeat_job()
    assert len(second.held) == 4


def test_one_instances_threads_send_one_at_a_time(tmp_path: Path, clock: Clock) -> None:
    import threading

    svc = service(tmp_path, clock, "only")
    inside, order = threading.Event(), []

    def second_sender() -> None:
        with svc.notifier_lease() as ours:
            order.append(("second", ours))

    with svc.notifier_lease() as ours:
        thread = threading.Thread(target=second_sender)
        thread.start()
        inside.wait(0.3)  # give the second thread time to reach the lock
        order.append(("first", ours))
    thread.join(5)
    assert order == [("first", True), ("second", True)]


def test_h8_a_poll_never_waits_for_a_slow_send_and_its_alerts_still_go_out(tmp_path: Path, clock: Clock) -> None:
    import threading
    import time

    from monitor.notify.notifier import SendReport

    svc = service(tmp_path, clock, "only")
    on_the_wire, release = threading.Event(), threading.Event()
    sends: list[float] = []

    def slow_send() -> SendReport:
        sends.append(time.monotonic())
        if len(sends) == 1:
            on_the_wire.set()
            release.wait(30)
        return SendReport()

    svc.notifier.send_urgent_alerts = slow_send  # type: ignore[method-assign]
    first = threading.Thread(target=svc.after_poll)
    first.start()
    assert on_the_wire.wait(5)

    started = time.monotonic()
    svc.after_poll()  # another account's poll finished while the first send hangs
    waited = time.monotonic() - started
    release.set()
    first.join(10)

    assert waited < 1.0, f"the poll waited {waited:.1f}s for another thread's send"
    assert len(sends) == 2, "the alerts of the second poll were sent by the thread already sending"


def test_a_crashed_job_is_one_redacted_log_line_and_the_service_goes_on(tmp_path: Path, clock: Clock) -> None:
    from structlog.testing import capture_logs

    from monitor.secrets import Secret

    token = Secret("EAAB-crash-sentinel-5150", "test")
    svc = service(tmp_path, clock, "only", accounts=1)

    def crash(_account: object) -> None:
        raise RuntimeError(f"unexpected payload for token {token.reveal()}")

    svc.pipeline.poll = crash  # type: ignore[assignment, method-assign]
    with capture_logs() as logs:
        svc.poll_job(svc.accounts["account-0"])
    (line,) = [entry for entry in logs if entry["event"] == "job failed"]
    assert line["job"] == "poll account-0"
    assert line["error"] == "RuntimeError: unexpected payload for token [REDACTED]"
