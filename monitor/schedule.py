"""Cron expressions as operators know them, built into APScheduler triggers.

APScheduler 3 numbers weekdays from Monday = 0, where cron numbers them from
Sunday = 0 (and 7), so its own ``from_crontab("0 8 * * 1-5")`` fires Tuesday
to Saturday. Here weekday numbers are read the cron way and handed over as names.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_trigger(expression: str, timezone: ZoneInfo) -> CronTrigger:
    """``minute hour day-of-month month day-of-week``; raises ValueError with the reason."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"{expression!r} has {len(fields)} fields; a cron expression has 5")
    named = dict(zip(("minute", "hour", "day", "month", "day_of_week"), fields, strict=True))
    named["day_of_week"] = _weekday_names(named["day_of_week"])
    for name, value in named.items():
        try:
            CronTrigger(**{name: value})
        except ValueError as exc:
            raise ValueError(f"{name.replace('_', ' ')} field {value!r}: {exc}") from None
    return CronTrigger(**named, timezone=timezone)


def _weekday_names(field: str) -> str:
    if field in ("*", "?"):
        return "*"
    days: list[int] = []
    for item in field.lower().split(","):
        days.extend(_weekdays(item))
    return ",".join(WEEKDAYS[day] for day in sorted(set(days)))


def _weekdays(item: str) -> list[int]:
    span, _, step_text = item.partition("/")
    step = int(step_text) if step_text else 1
    if step < 1:
        raise ValueError(f"bad step in day of week {item!r}")
    if span == "*":
        first, last = 0, 6
    else:
        start, _, end = span.partition("-")
        first = _weekday(start)
        last = _weekday(end) if end else (6 if step_text else first)
        if end and _weekday_number(end) == 7:
            last = 7
    if last < first:
        raise ValueError(f"day of week range {item!r} runs backwards")
    return [day % 7 for day in range(first, last + 1, step)]


def _weekday(text: str) -> int:
    return _weekday_number(text) % 7


def _weekday_number(text: str) -> int:
    if text[:3] in WEEKDAYS and text.isalpha():
        return WEEKDAYS.index(text[:3])
    if text.isdigit() and 0 <= int(text) <= 7:
        return int(text)
    raise ValueError(f"{text!r} is not a day of the week (0-7 or sun-sat)")
