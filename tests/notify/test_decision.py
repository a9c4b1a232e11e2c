"""The decision to notify, as a table: flag, what was sent, time → action and reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.notify.decision import Action, FlagFacts, Policy, Sent, decide, plan_alerts

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
POLICY = Policy(
    urgent_alerts=True,
    alert_severities=frozenset({"urgent"}),
    reminder_after=timedelta(hours=24),
    reminder_severities=frozenset({"urgent", "high"}),
)
NO_ALERTS = Policy(
    urgent_alerts=False,
    alert_severities=frozenset({"urgent"}),
    reminder_after=timedelta(hours=24),
    reminder_severities=frozenset({"urgent", "high"}),
)


def sent(kind: str, hours_ago: float, count: int = 1, severity: str | None = None) -> Sent:
    return Sent(kind=kind, sent_at=NOW - timedelta(hours=hours_ago), send_count=count, severity=severity)


@pytest.mark.parametrize(
    ("status", "severity", "log", "policy", "expected"),
    [
        ("open", "urgent", None, POLICY, (Action.ALERT, "urgent and not yet alerted")),
        (
            "open",
            "urgent",
            sent("digest", 2, severity="high"),
            POLICY,
            (Action.ALERT, "raised from high to urgent since the digest"),
        ),
        (
            "open",
            "urgent",
            sent("digest", 2, severity="high"),
            NO_ALERTS,
            (Action.DIGEST, "raised from high to urgent since the digest"),
        ),
        (
            "open",
            "high",
            sent("digest", 2, severity="medium"),
            POLICY,
            (Action.DIGEST, "raised from medium to high since the digest"),
        ),
        (
            "open",
            "medium",
            sent("digest", 2, severity="high"),
            POLICY,
            (Action.NEVER, "sent as digest; medium flags get no reminders"),
        ),
        ("open", "urgent", None, NO_ALERTS, (Action.DIGEST, "not yet in a digest")),
        ("open", "high", None, POLICY, (Action.DIGEST, "not yet in a digest")),
        ("open", "low", None, POLICY, (Action.DIGEST, "not yet in a digest")),
        (
            "open",
            "urgent",
            sent("alert", 1),
            POLICY,
            (Action.WAIT, "sent as alert; a reminder is due at 2026-11-21T08:00:00+00:00"),
        ),
        ("open", "urgent", sent("alert", 24), POLICY, (Action.REMINDER, "still open 24h after the last alert")),
        (
            "open",
            "high",
            sent("digest", 23.9),
            POLICY,
            (Action.WAIT, "sent as digest; a reminder is due at 2026-11-20T09:06:00+00:00"),
        ),
        ("open", "high", sent("digest", 24), POLICY, (Action.REMINDER, "still open 24h after the last digest")),
        (
            "open",
            "high",
            sent("reminder", 72, 3),
            POLICY,
            (Action.REMINDER, "still open 3d 0h after the last reminder"),
        ),
        (
            "open",
            "medium",
            sent("digest", 100),
            POLICY,
            (Action.NEVER, "sent as digest; medium flags get no reminders"),
        ),
        ("resolved", "urgent", None, POLICY, (Action.NEVER, "the flag is resolved")),
        ("dismissed", "high", sent("digest", 48), POLICY, (Action.NEVER, "the flag is dismissed")),
    ],
)
def test_decide(status: str, severity: str, log: Sent | None, policy: Policy, expected: tuple[Action, str]) -> None:
    decision = decide(FlagFacts(id=1, status=status, severity=severity), log, policy, NOW)

    assert (decision.action, decision.reason) == expected


@pytest.mark.parametrize(
    ("due", "cap", "sent_last_hour", "messages"),
    [
        (list(range(15)), 10, 0, [[n] for n in range(10)] + [list(range(10, 15))]),
        (list(range(10)), 10, 0, [[n] for n in range(10)]),
        (list(range(11)), 10, 0, [[n] for n in range(11)]),
        (list(range(3)), 10, 10, [[0, 1, 2]]),
        (list(range(3)), 10, 9, [[0], [1, 2]]),
        (list(range(3)), 10, 11, []),
        ([], 10, 0, []),
    ],
)
def test_plan_alerts(due: list[int], cap: int, sent_last_hour: int, messages: list[list[int]]) -> None:
    assert plan_alerts(due, cap, sent_last_hour) == messages
