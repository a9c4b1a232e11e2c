"""Whether a flag is told now, in the next digest, as a reminder, or not at all.

A pure function of the flag, what was already sent to one recipient on one
channel, the policy and the time, so that every case can be table-tested.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from monitor.filter.verdict import severity_rank
from monitor.notify.settings import NotifySettings


class Action(StrEnum):
    ALERT = "alert"  # send at once
    DIGEST = "digest"  # include in the next digest as a new item
    REMINDER = "reminder"  # include in the next digest under "still open"
    WAIT = "wait"  # told already; a reminder may fall due later
    NEVER = "never"  # nothing more to tell


@dataclass(frozen=True, slots=True)
class FlagFacts:
    id: int
    status: str
    severity: str
    reopened_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Sent:
    """The notification log's row for one flag, channel and recipient."""

    kind: str
    sent_at: datetime
    send_count: int
    severity: str | None = None  # the flag's severity when it was sent


@dataclass(frozen=True, slots=True)
class Policy:
    urgent_alerts: bool
    alert_severities: frozenset[str]
    reminder_after: timedelta
    reminder_severities: frozenset[str]

    @classmethod
    def from_settings(cls, settings: NotifySettings) -> Policy:
        return cls(
            urgent_alerts=settings.urgent_alerts,
            alert_severities=frozenset(settings.alert_severities),
            reminder_after=settings.reminder_after,
            reminder_severities=frozenset(settings.reminder_severities),
        )

    def alerts_at_once(self, severity: str) -> bool:
        return self.urgent_alerts and severity in self.alert_severities


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str


def decide(flag: FlagFacts, sent: Sent | None, policy: Policy, now: datetime) -> Decision:
    if flag.status != "open":
        return Decision(Action.NEVER, f"the flag is {flag.status}")
    if sent is not None and flag.reopened_at is not None and sent.sent_at < flag.reopened_at:
        sent = None  # what was sent told of the flag before it closed; its reopening is news
    if sent is None:
        if policy.alerts_at_once(flag.severity):
            return Decision(Action.ALERT, f"{flag.severity} and not yet alerted")
        return Decision(Action.DIGEST, "not yet in a digest")
    if sent.severity is not None and severity_rank(flag.severity) > severity_rank(sent.severity):
        raised = f"raised from {sent.severity} to {flag.severity} since the {sent.kind}"
        return Decision(Action.ALERT if policy.alerts_at_once(flag.severity) else Action.DIGEST, raised)
    if flag.severity not in policy.reminder_severities:
        return Decision(Action.NEVER, f"sent as {sent.kind}; {flag.severity} flags get no reminders")
    due = sent.sent_at + policy.reminder_after
    if now >= due:
        return Decision(Action.REMINDER, f"still open {_hours(now - sent.sent_at)} after the last {sent.kind}")
    return Decision(Action.WAIT, f"sent as {sent.kind}; a reminder is due at {due.isoformat()}")


def plan_alerts(due: list[int], cap_per_hour: int, sent_last_hour: int) -> list[list[int]]:
    """Split the flags due for an alert into messages: one each up to the cap, then ONE follow-up for the rest.

    A follow-up is the only message allowed past the cap in any hour; flags
    beyond that wait for the next hour or the digest, whichever comes first.
    """
    budget = cap_per_hour + 1 - sent_last_hour
    if budget <= 0 or not due:
        return []
    if len(due) <= budget:
        return [[flag_id] for flag_id in due]
    singles = [[flag_id] for flag_id in due[: budget - 1]]
    return [*singles, due[budget - 1 :]]


def _hours(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24}d {hours % 24}h" if hours >= 48 else f"{hours}h"
