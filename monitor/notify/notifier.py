"""Telling the General Manager: urgent alerts at once, everything else in the digest.

For every channel and recipient the same steps run: read the open flags and
what this recipient was already sent, decide per flag (decision.decide),
build one message, deliver it with retries, and only then write the log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from monitor.errors import NotifyError
from monitor.logging import get_logger
from monitor.notify import log
from monitor.notify.channels import Channel, Outgoing
from monitor.notify.content import Message, build_alert, build_digest
from monitor.notify.decision import Action, Policy, Sent, decide, plan_alerts
from monitor.notify.export import COMPACT_TEXT_CHARS, TEXT_CHARS, csv_text
from monitor.notify.files import FileChannel, write_html, write_message_files
from monitor.notify.present import Presenter, account_hosts
from monitor.notify.records import FlagRecord, load_flags
from monitor.notify.render import stable_message_id
from monitor.notify.settings import NotifySettings
from monitor.notify.smtp import EmailChannel
from monitor.notify.webhooks import SlackChannel, TeamsChannel
from monitor.store import Store

if TYPE_CHECKING:
    from monitor.config import Settings

HOUR = timedelta(hours=1)
DEMO_STEM = "monitor-digest"


@dataclass
class SendReport:
    sent: int = 0  # messages the far end accepted
    items: int = 0  # distinct flags those messages covered
    failures: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass
class _Plan:
    """One message for one recipient: what it says and what to write in the log once it is accepted."""

    message: Message
    kinds: dict[int, str]
    marks: list[tuple[int, int]]


class Notifier:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        now: Callable[[], datetime],
        *,
        sleep: Callable[[float], None] = time.sleep,
        stop: threading.Event | None = None,
        channels: Sequence[Channel] | None = None,
        http: requests.Session | None = None,
    ) -> None:
        self.settings = settings
        self.config: NotifySettings = settings.notify
        self.store = store
        self.now = now
        self.stop = stop or threading.Event()
        # Waits between retries end early when the service is stopping.
        self.sleep = sleep if stop is None else stop.wait
        self.policy = Policy.from_settings(self.config)
        self.presenter = presenter_for(settings)
        self.channels = list(channels) if channels is not None else channels_for(settings, http, self.stop)
        self.log = get_logger(component="notify")
        self._failing: dict[tuple[str, str], str] = {}
        self._too_large = False  # the last delivery failed on the message's size

    @property
    def organisation(self) -> str:
        return self.settings.organisation.name

    # Urgent alerts

    def send_urgent_alerts(self) -> SendReport:
        if not self.config.urgent_alerts:
            return SendReport(skipped="urgent alerts are switched off ([notify] urgent_alerts)")
        if not self.channels:
            return SendReport(skipped="no recipients, webhooks or output directory configured")
        now = self.now()
        records = load_flags(self.store, severities=self.policy.alert_severities)
        if not records:
            return SendReport(skipped="nothing to alert")
        report, covered = SendReport(), set[int]()
        for channel, recipient in self._targets():
            sent = log.sent_entries(self.store, channel.name, recipient)
            due = {
                record.flag_id: record
                for record in records
                if decide(record.facts, sent.get(record.flag_id), self.policy, now).action is Action.ALERT
            }
            used = log.alert_messages_since(self.store, channel.name, recipient, now - HOUR)
            for batch in plan_alerts(list(due), self.config.alert_cap_per_hour, used):
                chosen = [due[flag_id] for flag_id in batch]
                message = build_alert(chosen, self.presenter, organisation=self.organisation, now=now)
                plan = _Plan(message, dict.fromkeys(batch, "alert"), [(flag_id, 0) for flag_id in batch])
                if not self._send(channel, recipient, plan, now, report):
                    break
                covered.update(batch)
        report.items = len(covered)
        if not report.sent and not report.failures:
            report.skipped = "nothing new to alert, or the hourly alert limit is used up"
        return report

    def overdue_alerts(self, grace: timedelta) -> dict[tuple[str, str], list[datetime]]:
        """Per (channel, recipient), since when each urgent flag due an alert longer than ``grace`` has waited."""
        if not self.config.urgent_alerts or not self.channels:
            return {}
        now = self.now()
        records = load_flags(self.store, severities=self.policy.alert_severities)
        found: dict[tuple[str, str], list[datetime]] = {}
        for channel, recipient in self._targets():
            sent = log.sent_entries(self.store, channel.name, recipient)
            for record in records:
                waiting_since = record.reopened_at or record.flagged_at
                if waiting_since is None or now - waiting_since <= grace:
                    continue
                if decide(record.facts, sent.get(record.flag_id), self.policy, now).action is Action.ALERT:
                    found.setdefault((channel.name, recipient), []).append(waiting_since)
        return found

    # Digests

    def send_digest(self) -> SendReport:
        now = self.now()
        if not self.channels:
            log.record_digest_run(self.store, now, None)
            return SendReport(skipped="no recipients, webhooks or output directory configured")
        records = load_flags(self.store)
        since = log.last_digest_at(self.store) or now - self.config.reminder_after
        report, covered = SendReport(), set[int]()
        for channel, recipient in self._targets():
            sent = log.sent_entries(self.store, channel.name, recipient)
            alerted = log.alerted_since(self.store, channel.name, recipient, since)
            plan = self._digest_plan(records, sent, now, alerted)
            if plan.message.kind == "all-clear" and not self.config.send_all_clear:
                continue
            if self._send(channel, recipient, plan, now, report):
                covered.update(plan.kinds)
        report.items = len(covered)
        if not report.sent and not report.failures:
            report.skipped = "nothing new to report"
        log.record_digest_run(self.store, now, "; ".join(report.failures) or None)
        return report

    def preview_digest(self, path: Path) -> Path:
        """The HTML of the digest the first recipient would get now. Sends nothing, records nothing."""
        now = self.now()
        targets = self._targets()
        sent = log.sent_entries(self.store, targets[0][0].name, targets[0][1]) if targets else {}
        plan = self._digest_plan(load_flags(self.store), sent, now)
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_html(self._outgoing(plan, "preview", now), path)

    def write_digest_files(self, directory: Path) -> tuple[Path, Path]:
        """Every open flag as one digest, written as .eml and .html. Records nothing, so it can be repeated."""
        now = self.now()
        plan = self._digest_plan(load_flags(self.store), {}, now)
        recipient = self.config.recipients[0] if self.config.recipients else self.config.sender
        directory.mkdir(parents=True, exist_ok=True)
        return write_message_files(
            self._outgoing(plan, recipient, now), directory / DEMO_STEM, sender=self.config.sender, recipient=recipient
        )

    # Steps

    def _digest_plan(
        self, records: Sequence[FlagRecord], sent: dict[int, Sent], now: datetime, alerted_ids: Sequence[int] = ()
    ) -> _Plan:
        new: list[FlagRecord] = []
        reminders: list[FlagRecord] = []
        for record in records:
            action = decide(record.facts, sent.get(record.flag_id), self.policy, now).action
            if action in (Action.ALERT, Action.DIGEST):
                new.append(record)
            elif action is Action.REMINDER:
                reminders.append(record)
        reminded = {record.flag_id for record in reminders}
        wanted = [flag_id for flag_id in alerted_ids if flag_id not in reminded]
        alerted = load_flags(self.store, status=None, flag_ids=wanted) if wanted else []
        message = self._digest_message(new, reminders, alerted, now)
        kinds = {r.flag_id: "digest" for r in new} | {r.flag_id: "reminder" for r in reminders}
        marks = [(flag_id, sent[flag_id].send_count if flag_id in sent else 0) for flag_id in kinds]
        return _Plan(message, kinds, marks)

    def _digest_message(
        self,
        new: Sequence[FlagRecord],
        reminders: Sequence[FlagRecord],
        alerted: Sequence[FlagRecord],
        now: datetime,
    ) -> Message:
        return build_digest(
            new,
            reminders,
            alerted,
            self.presenter,
            organisation=self.organisation,
            now=now,
            items_per_post=self.config.items_per_post,
            max_items=self.config.max_digest_items,
        )

    def _send(self, channel: Channel, recipient: str, plan: _Plan, now: datetime, report: SendReport) -> bool:
        outgoing = self._outgoing(plan, recipient, now)
        failure = self._deliver(channel, recipient, outgoing)
        if failure is not None and self._too_large and outgoing.attachment is not None:
            smaller = self._outgoing(plan, recipient, now, text_chars=COMPACT_TEXT_CHARS)
            self.log.warning(
                "message too large for the server; sending one with shorter comment texts",
                channel=channel.name,
                recipient=recipient,
                bytes_refused=len(outgoing.attachment),
            )
            outgoing = smaller
            failure = self._deliver(channel, recipient, outgoing)
        if failure is not None:
            report.failures.append(failure)
            return False
        if plan.kinds:
            log.record_sent(
                self.store, channel.name, recipient, kinds=plan.kinds, message_id=outgoing.message_id, now=now
            )
        report.sent += 1
        self.log.info(
            "notification sent",
            kind=plan.message.kind,
            channel=channel.name,
            recipient=recipient,
            flags=len(plan.kinds),
            message_id=outgoing.message_id,
        )
        return True

    def _outgoing(self, plan: _Plan, recipient: str, now: datetime, text_chars: int = TEXT_CHARS) -> Outgoing:
        message = plan.message
        marks = plan.marks if plan.kinds else [(int(now.timestamp()) // 86400, 0)]
        message_id = stable_message_id(message.kind, recipient, marks, self.config.sender)
        attachment = csv_text(message.records, self.presenter, text_chars=text_chars) if message.not_shown else None
        return Outgoing(message=message, message_id=message_id, date=now, attachment=attachment)

    def _deliver(self, channel: Channel, recipient: str, outgoing: Outgoing) -> str | None:
        """Deliver with retries. Returns None once accepted, else what went wrong."""
        attempts = self.config.retry_attempts
        backoff = self.config.retry_backoff.total_seconds()
        self._too_large = False
        for attempt in range(1, attempts + 1):
            try:
                channel.deliver(outgoing, recipient)
            except NotifyError as exc:
                self._too_large = exc.too_large
                if exc.permanent or attempt == attempts:
                    return self._failed(channel, recipient, exc, attempt)
                self.sleep(backoff * 2 ** (attempt - 1))
                if self.stop.is_set():  # not recorded, so it goes out after the restart
                    return self._failed(channel, recipient, exc, attempt)
            else:
                self._recovered(channel, recipient)
                return None
        raise AssertionError("unreachable: the loop returns on its last attempt")

    def _failed(self, channel: Channel, recipient: str, exc: NotifyError, attempts: int) -> str:
        message = str(exc) if exc.permanent else f"{exc} (gave up after {attempts} attempts; will try again)"
        key = (channel.name, recipient)
        if self._failing.get(key) != message:
            self._failing[key] = message
            self.log.error(
                "notification not delivered",
                channel=channel.name,
                recipient=recipient,
                permanent=exc.permanent,
                error=message,
            )
        return message

    def _recovered(self, channel: Channel, recipient: str) -> None:
        if self._failing.pop((channel.name, recipient), None) is not None:
            self.log.info("notifications delivered again", channel=channel.name, recipient=recipient)

    def _targets(self) -> list[tuple[Channel, str]]:
        return [(channel, recipient) for channel in self.channels for recipient in channel.recipients]


def presenter_for(settings: Settings) -> Presenter:
    labels: dict[str, str] = {}
    hosts: dict[str, frozenset[str]] = {}
    for account in settings.accounts:
        label = getattr(account.connector, "platform_label", None)
        labels[account.name] = label if isinstance(label, str) and label else account.platform
        hosts[account.name] = account_hosts(account.platform, account.connector.base_url)
    return Presenter(
        zone=settings.organisation.zone,
        platform_labels=labels,
        account_hosts=hosts,
        category_labels=settings.filter.category_labels(),
    )


def channels_for(
    settings: Settings, http: requests.Session | None = None, stop: threading.Event | None = None
) -> list[Channel]:
    config = settings.notify
    channels: list[Channel] = []
    if config.recipients:
        channels.append(EmailChannel(config.smtp, config.sender, config.recipients, stop))
    if config.slack is not None:
        channels.append(SlackChannel(config.slack, http))
    if config.teams is not None:
        channels.append(TeamsChannel(config.teams, http))
    if settings.output_dir is not None:
        channels.append(FileChannel(settings.output_dir, config.sender))
    return channels
