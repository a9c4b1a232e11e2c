from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.schedule import cron_trigger

LONDON = ZoneInfo("Europe/London")
SATURDAY_NOON = datetime(2026, 11, 21, 12, 0, tzinfo=LONDON)


def fire_days(expression: str, count: int = 7) -> list[str]:
    trigger = cron_trigger(expression, LONDON)
    moment, days = SATURDAY_NOON, []
    for _ in range(count):
        moment = trigger.get_next_fire_time(None, moment)
        days.append(moment.strftime("%a"))
        moment += timedelta(minutes=1)
    return days


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("30 7 * * 1-5", ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon", "Tue"]),
        ("0 9 * * 0", ["Sun"] * 3),
        ("0 9 * * 7", ["Sun"] * 3),
        ("0 9 * * 5-7", ["Sun", "Fri", "Sat", "Sun"]),
        ("0 9 * * sat,sun", ["Sun", "Sat", "Sun"]),
        ("0 9 * * mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon"]),
        ("0 9 * * */3", ["Sun", "Wed", "Sat", "Sun"]),
        ("0 9 * * *", ["Sun", "Mon", "Tue"]),
    ],
)
def test_weekdays_are_numbered_the_cron_way(expression: str, expected: list[str]) -> None:
    assert fire_days(expression, len(expected)) == expected


def test_the_time_is_local_across_the_clock_change() -> None:
    trigger = cron_trigger("0 8 * * *", LONDON)
    summer = trigger.get_next_fire_time(None, datetime(2026, 10, 23, 12, 0, tzinfo=LONDON))
    winter = trigger.get_next_fire_time(None, datetime(2026, 10, 25, 12, 0, tzinfo=LONDON))
    assert (summer.hour, winter.hour) == (8, 8)
    assert summer.utcoffset() == timedelta(hours=1) and winter.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("0 8 * *", "has 4 fields"),
        ("0 25 * * *", "hour"),
        ("0 8 * * 8", "not a day of the week"),
        ("0 8 * * 5-1", "runs backwards"),
        ("0 8 * * funday", "not a day of the week"),
    ],
)
def test_mistakes_are_explained(expression: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        cron_trigger(expression, LONDON)
