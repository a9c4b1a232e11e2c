"""The background service: each account's poll on its interval, the digest on its cron.

Runs of one account never overlap and missed runs coalesce. When a platform
asks us to wait, that account's next run moves; the others are untouched.
SIGTERM and SIGINT stop the service after the current step.
"""

from __future__ import annotations

import signal
import threading
from datetime import datetime
from types import FrameType
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import AccountConfig, Settings
from monitor.logging import get_logger
from monitor.pipeline import Pipeline
from monitor.store import Store

if TYPE_CHECKING:
    from monitor.app import App
    from monitor.notify import Notifier

DIGEST_JOB = "digest"


class Service:
    def __init__(self, app: App) -> None:
        self.app = app
        self.settings: Settings = app.settings
        self.store: Store = app.store
        self.stop = threading.Event()
        self.pipeline = Pipeline(app.store, app.classifier, app.connector, app.now, stop=self.stop)
        self.notifier = _notifier(app)
        self.notify_lock = threading.Lock()
        self.log = get_logger(component="service")
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            timezone=self.settings.organisation.zone,
        )

    def schedule(self) -> None:
        for account in self.settings.accounts:
            if not account.enabled:
                continue
            # A restart is how an operator applies a new token, so give the account another try.
            self.store.reset_auth_failure(account.name)
            self.scheduler.add_job(
                self.poll_job,
                IntervalTrigger(
                    seconds=account.poll_interval.total_seconds(),
                    jitter=int(account.jitter.total_seconds()) or None,
                ),
                args=[account],
                id=_job_id(account),
                name=f"poll {account.name}",
                next_run_time=self.app.now(),
            )
        self.scheduler.add_job(
            self.digest_job,
            CronTrigger.from_crontab(self.settings.notify.digest_schedule, timezone=self.settings.organisation.zone),
            id=DIGEST_JOB,
            name="digest",
        )

    def run(self) -> None:
        """Block until SIGTERM or SIGINT, then finish the running step and return."""
        self.schedule()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        self.scheduler.start()
        self.log.info(
            "service started",
            accounts=[a.name for a in self.settings.accounts if a.enabled],
            digest_schedule=self.settings.notify.digest_schedule,
        )
        self.stop.wait()
        self.log.info("stopping: finishing the current step")
        self.scheduler.shutdown(wait=True)
        self.log.info("service stopped")

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.log.info("signal received", signal=signal.Signals(signum).name)
        self.stop.set()

    def poll_job(self, account: AccountConfig) -> None:
        if self.stop.is_set():
            return
        outcome = self.pipeline.poll(account)
        if outcome.new or outcome.edited:
            self.log.info(
                "poll stored comments",
                account=account.name,
                new=outcome.new,
                edited=outcome.edited,
                flagged=dict(outcome.flagged),
            )
        if outcome.not_before is not None:
            self._postpone(account, outcome.not_before)
        self.after_poll()

    def after_poll(self) -> None:
        """Resolve what the organisation already answered, then send what cannot wait."""
        if self.notifier is None or self.stop.is_set():
            return
        from monitor.notify.resolution import auto_resolve

        with self.notify_lock:
            auto_resolve(self.store, self.app.now())
            report = self.notifier.send_urgent_alerts()
            for failure in report.failures:
                self.log.error("urgent alert not delivered", error=failure)

    def digest_job(self) -> None:
        if self.notifier is None or self.stop.is_set():
            return
        with self.notify_lock:
            report = self.notifier.send_digest()
        for failure in report.failures:
            self.log.error("digest not delivered", error=failure)

    def _postpone(self, account: AccountConfig, not_before: datetime) -> None:
        job = self.scheduler.get_job(_job_id(account))
        if job is not None and job.next_run_time is not None and job.next_run_time < not_before:
            job.modify(next_run_time=not_before)
            self.log.info("next poll postponed", account=account.name, until=not_before.isoformat())



def _job_id(account: AccountConfig) -> str:
    return f"poll:{account.name}"


def _notifier(app: App) -> Notifier | None:
    from monitor.notify import Notifier

    return Notifier(app.settings, app.store, app.now)
