"""Cron expressions as operators know them, built into APScheduler triggers.

APScheduler 3 numbers weekdays from Monday = 0, where cron numbers them from
Sunday = 0 (and 7), so its own ``from_crontab("0 8 * * 1-5")`` fires Tuesday
to Saturday. Here weekday numbers are read the cron way and handed over as names.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


# A leap year, so that every day of every month occurs in it.
LEAP_YEAR_START = datetime(2028, 1, 1)
LEAP_YEAR_END = datetime(2028, 12, 31, 23, 59, 59)


def cron_trigger(expression: str, timezone: ZoneInfo) -> BaseTrigger:
    """``minute hour day-of-month month day-of-week``; raises ValueError with the reason.

    As in cron, when both day of month and day of week are restricted the
    expression fires on either; a date that never comes (``31 2``) is refused.
    """
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
    if named["day"] in ("*", "?"):
        return CronTrigger(**named, timezone=timezone)
    by_date = CronTrigger(**{**named, "day_of_week": "*"}, timezone=timezone)
    if named["day_of_week"] == "*":
        _check_the_date_comes(named, expression)
        return by_date
    return OrTrigger([by_date, CronTrigger(**{**named, "day": "*"}, timezone=timezone)])


def _check_the_date_comes(named: dict[str, str], expression: str) -> None:
    dates = CronTrigger(
        day=named["day"], month=named["month"], timezone="UTC", start_date=LEAP_YEAR_START, end_date=LEAP_YEAR_END
    )
    if dates.get_next_fire_time(None, LEAP_YEAR_START.replace(tzinfo=dates.timezone)) is None:
        raise ValueError(f"{expression!r} never fires: day {named['day']} does not occur in month {named['month']}")


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
