"""The background service: each account's poll on its interval, the digest on its cron.

Runs of one account never overlap and missed runs coalesce. When a platform
asks us to wait, that account's next run moves; the others are untouched.
SIGTERM and SIGINT stop the service after the current step.

Several instances may share one database. Each holds a lease per account it
polls and renews it on a heartbeat; accounts are shared out evenly, and an
instance that dies stops renewing, so within a lease's lifetime another takes
its accounts over. Sending is guarded by a ``notifier`` lease, so two
instances never send the same alert or digest.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import DBAPIError

from monitor import metrics
from monitor.config import AccountConfig, Settings
from monitor.instances import is_dead, new_instance_name
from monitor.logging import get_logger
from monitor.notify import Notifier
from monitor.pipeline import Pipeline
from monitor.retention import purge_comment_text, purge_message_files
from monitor.schedule import cron_trigger
from monitor.secrets import redact
from monitor.store import Store, describe_error

if TYPE_CHECKING:
    from monitor.app import App

DIGEST_JOB = "digest"
RETENTION_JOB = "retention"
HEARTBEAT_JOB = "heartbeat"
NOTIFIER_LEASE = "notifier"
NOTIFIER_LEASE_TTL = timedelta(minutes=15)
SIGNAL_CHECK_INTERVAL = 0.5  # seconds between the main thread's looks at the stop request


class Service:
    def __init__(self, app: App, owner: str | None = None) -> None:
        self.app = app
        self.settings: Settings = app.settings
        self.store: Store = app.store
        self.owner = owner or new_instance_name()
        self.lease_ttl = self.settings.service.lease_ttl
        self.stop = threading.Event()
        self.undelivered: list[str] = []  # urgent alerts this instance could not deliver (monitor poll's exit code)
        self.pipeline = Pipeline(
            app.store, app.classifier, app.connector, app.now, stop=self.stop, own_posts=app.own_posts
        )
        self.notifier = Notifier(app.settings, app.store, app.now, stop=self.stop, connector_for=app.connector)
        self.sending = threading.Lock()
        self.alerts_wanted = threading.Event()  # a poll stored something since the last alerts step
        self.storage_failing = False
        self.accounts = {a.name: a for a in self.settings.accounts if a.enabled}
        self.held: set[str] = set()
        self.polling: set[str] = set()
        self.polling_lock = threading.Lock()  # guards self.polling
        self.log = get_logger(component="service", instance=self.owner)
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            timezone=self.settings.organisation.zone,
        )

    def schedule(self) -> None:
        for account in self.accounts.values():
            # A restart is how an operator applies a new token, so give the account another try.
            self.store.reset_auth_failure(account.name)
            self.scheduler.add_job(
                self.poll_job,
                IntervalTrigger(
                    seconds=account.poll_interval.total_seconds(),
                    jitter=int(account.jitter.total_seconds()) or None,
                ),
                args=[account],
                id=_job_id(account.name),
                name=f"poll {account.name}",
                next_run_time=self.app.now(),
            )
        self.scheduler.add_job(
            self.digest_job,
            cron_trigger(self.settings.notify.digest_schedule, self.settings.organisation.zone),
            id=DIGEST_JOB,
            name="digest",
        )
        if self.settings.retention.comment_text_days is not None:
            self.scheduler.add_job(
                self.retention_job,
                CronTrigger(hour=3, minute=30, timezone=self.settings.organisation.zone),
                id=RETENTION_JOB,
                name="retention",
            )
        self.scheduler.add_job(
            self.heartbeat_job,
            IntervalTrigger(seconds=max(5.0, self.lease_ttl.total_seconds() / 3)),
            id=HEARTBEAT_JOB,
            name="leases",
        )

    def run(self) -> None:
        """Block until SIGTERM or SIGINT, then finish the running step and return."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        for warning in self.settings.warnings:
            self.log.warning("risky setting", warning=warning)
        self.heartbeat_job()
        self.schedule()
        metrics_server = None
        if self.settings.metrics.enabled:
            metrics_server = metrics.start_metrics_server(self.settings.metrics.port, self.settings.metrics.host)
        review_server = None
        if self.settings.review is not None:
            from monitor.web.server import server_for

            review_server = server_for(self.app)
            review_server.start()
            self.log.info("review page listening", host=review_server.host, port=review_server.port)
        self.scheduler.start()
        self.log.info(
            "service started",
            accounts=sorted(self.accounts),
            polling=sorted(self.held),
            digest_schedule=self.settings.notify.digest_schedule,
        )
        # Woken now and then: a signal the kernel hands to another thread is only handled when the main thread
        # runs, and a wait without a timeout would never let it.
        while not self.stop.wait(SIGNAL_CHECK_INTERVAL):
            pass
        self.log.info("stopping: finishing the current step")
        self.scheduler.shutdown(wait=True)
        self.release_leases()
        if metrics_server is not None:
            metrics_server.close()
        if review_server is not None:
            review_server.stop()
        self.log.info("service stopped")

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.log.info("signal received", signal=signal.Signals(signum).name)
        self.stop.set()

    # Jobs

    @contextmanager
    def _job(self, name: str) -> Iterator[None]:
        """Run one job's step; a failure is logged as one redacted line, and a database that refuses
        writes is reported once when it starts and once when it ends."""
        try:
            yield
        except DBAPIError as exc:
            if not self.storage_failing:
                self.storage_failing = True
                self.log.error(
                    "the database cannot be written",
                    job=name,
                    error=redact(describe_error(exc)),
                    hint="comments stay on the platform and are stored, classified and sent once it can",
                )
            return
        except Exception as exc:  # a bug: this job's step fails, the service goes on
            self.log.error("job failed", job=name, error=redact(describe_error(exc)))
            return
        if self.storage_failing and name.startswith("poll"):
            self.storage_failing = False
            self.log.info("the database can be written again", job=name)

    def poll_job(self, account: AccountConfig) -> None:
        with self._job(f"poll {account.name}"):
            self._poll(account)

    def _poll(self, account: AccountConfig) -> None:
        if self.stop.is_set() or not self._renew(account.name):
            return
        with self.polling_lock:
            self.polling.add(account.name)
        try:
            outcome = self.pipeline.poll(account)
        finally:
            with self.polling_lock:
                self.polling.discard(account.name)
        metrics.record_poll(account.name, outcome.status, outcome.new, outcome.edited)
        if outcome.new or outcome.edited:
            self.log.info(
                "poll stored comments",
                account=account.name,
                new=outcome.new,
                edited=outcome.edited,
                flagged=dict(outcome.flagged),
            )
        if outcome.not_before is not None:
            self._postpone(account.name, outcome.not_before)
        self.after_poll()

    def after_poll(self) -> None:
        """Resolve what the organisation already answered, then send what cannot wait.

        A poll never waits for another thread's send: it leaves word, and the
        thread that is sending looks again before it lets go of the lock.
        """
        self.alerts_wanted.set()
        while self.alerts_wanted.is_set() and not self.stop.is_set():
            if not self.sending.acquire(blocking=False):
                return
            try:
                while self.alerts_wanted.is_set() and not self.stop.is_set():
                    self.alerts_wanted.clear()
                    self._resolve_and_alert()
            finally:
                self.sending.release()

    def _resolve_and_alert(self) -> None:
        from monitor.notify.resolution import auto_resolve

        with self._lease() as ours:
            if not ours:
                return
            if self.settings.review is not None and self.settings.review.auto_hide.categories:
                from monitor.web.autohide import auto_hide

                auto_hide(self.store, self.settings, self.app.connector, self.app.now())
            auto_resolve(self.store, self.app.now(), self.settings.organisation.zone)
            report = self.notifier.send_urgent_alerts()
        self.undelivered.extend(report.failures)
        for failure in report.failures:
            self.log.error("urgent alert not delivered", error=failure)

    def digest_job(self) -> None:
        with self._job("digest"):
            self._digest()

    def _digest(self) -> None:
        with self.notifier_lease() as ours:
            if not ours:
                return
            report = self.notifier.send_digest()
        for failure in report.failures:
            self.log.error("digest not delivered", error=failure)

    def retention_job(self) -> None:
        with self._job("retention"):
            self._retention()

    def _retention(self) -> None:
        days = self.settings.retention.comment_text_days
        if days is None:
            return
        with self.notifier_lease() as ours:
            if not ours:
                return
            purged = purge_comment_text(self.store, timedelta(days=days), self.app.now())
            files = purge_message_files(self.settings.output_dir, timedelta(days=days), self.app.now())
        if purged or files:
            self.log.info("comment text removed under the retention setting", comments=purged, files=files, days=days)

    def heartbeat_job(self) -> None:
        with self._job("heartbeat"):
            self._heartbeat()

    def _heartbeat(self) -> None:
        """Renew this instance's leases, and take up its fair share of the accounts."""
        if self.stop.is_set():
            return
        now = self.app.now()
        self.release_dead_leases(now)
        self.store.acquire_lease(f"instance:{self.owner}", self.owner, self.lease_ttl, now)
        holders = self.store.lease_holders(now)
        instances = {owner for name, owner in holders.items() if name.startswith("instance:")} | {self.owner}
        share = math.ceil(len(self.accounts) / len(instances))
        for name in sorted(self.accounts):
            if holders.get(_lease(name)) == self.owner:
                self._renew(name)
        for name in sorted(self.accounts):
            if len(self.held) >= share:
                break
            if name not in self.held and _lease(name) not in holders and self._renew(name):
                self.log.info("account taken up", account=name)
                self._postpone(name, now, earlier=True)
        for name in sorted(self.held - self.polling, reverse=True)[: max(0, len(self.held) - share)]:
            self.store.release_lease(_lease(name), self.owner)
            self.held.discard(name)
            self.log.info("account handed over", account=name)

    # Leases

    def release_dead_leases(self, now: datetime) -> None:
        """Free at once the leases of instances on this host that were killed, rather than wait for them to expire."""
        for owner in sorted(set(self.store.lease_holders(now).values())):
            if is_dead(owner, self.owner):
                for name in self.store.release_leases_of(owner):
                    self.log.warning("lease of a stopped instance released", lease=name, owner=owner)

    def take_account(self, name: str) -> bool:
        """Hold the account's lease (for a poll on demand); False when a running instance holds it."""
        return self._renew(name)

    def _renew(self, name: str) -> bool:
        ours = self.store.acquire_lease(_lease(name), self.owner, self.lease_ttl, self.app.now())
        if ours:
            self.held.add(name)
        else:
            self.held.discard(name)
        return ours

    @contextmanager
    def notifier_lease(self) -> Iterator[bool]:
        """Send only while no other instance is sending, and one thread of this one at a time.

        The lock comes first: the database lease is re-entrant for its owner, so
        it keeps other instances out but not this instance's other threads. The
        wait for the lock is bounded by the longest a send can take (every
        attempt to its deadline, with the waits between), and ends early when
        the service stops; the lease outlives such a send several times over.
        """
        if not self._acquire_sending():
            self.log.warning("another thread's send outlasted its deadline; skipped this step")
            yield False
            return
        try:
            with self._lease() as ours:
                yield ours
        finally:
            self.sending.release()

    def _acquire_sending(self) -> bool:
        budget = time.monotonic() + self.send_budget()
        while not self.stop.is_set():
            if self.sending.acquire(timeout=min(1.0, max(0.0, budget - time.monotonic()))):
                return True
            if time.monotonic() >= budget:
                return False
        return False

    def send_budget(self) -> float:
        """The longest one send can take: every attempt to its SMTP deadline, and the waits between."""
        notify = self.settings.notify
        attempts = notify.retry_attempts
        backoff = notify.retry_backoff.total_seconds() * (2 ** (attempts - 1) - 1)
        return attempts * notify.smtp.deadline.total_seconds() + backoff

    @contextmanager
    def _lease(self) -> Iterator[bool]:
        ttl = max(self.lease_ttl, NOTIFIER_LEASE_TTL)
        ours = self.store.acquire_lease(NOTIFIER_LEASE, self.owner, ttl, self.app.now())
        try:
            yield ours
        finally:
            if ours:
                self.store.release_lease(NOTIFIER_LEASE, self.owner)

    def release_leases(self) -> None:
        for name in list(self.held):
            self.store.release_lease(_lease(name), self.owner)
        self.store.release_lease(f"instance:{self.owner}", self.owner)
        self.held.clear()

    # Scheduling

    def _postpone(self, name: str, moment: datetime, earlier: bool = False) -> None:
        """Move the account's next poll to ``moment`` (only later, unless ``earlier``)."""
        job = self.scheduler.get_job(_job_id(name))
        if job is None or job.next_run_time is None:
            return
        if (job.next_run_time < moment) != earlier:
            job.modify(next_run_time=moment)
            if not earlier:
                self.log.info("next poll postponed", account=name, until=moment.isoformat())


def _job_id(name: str) -> str:
    return f"poll:{name}"


def _lease(name: str) -> str:
    return f"account:{name}"
