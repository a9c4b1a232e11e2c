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


@pytest.mark.parametrize("expression", ["0 8 31 2 *", "0 8 30 2 *", "0 8 31 4,6,9,11 *"])
def test_l2_a_date_that_never_comes_is_refused(expression: str) -> None:
    with pytest.raises(ValueError, match="never fires"):
        cron_trigger(expression, LONDON)


def test_l2_the_29th_of_february_is_allowed() -> None:
    trigger = cron_trigger("0 8 29 2 *", LONDON)
    assert trigger.get_next_fire_time(None, SATURDAY_NOON) == datetime(2028, 2, 29, 8, 0, tzinfo=LONDON)


def test_l2_day_of_month_and_day_of_week_both_restricted_fire_on_either_as_cron_does() -> None:
    # The 1st of the month, and every Monday: from Saturday 21 Nov 2026.
    trigger = cron_trigger("0 9 1 * 1", LONDON)
    moment, fired = SATURDAY_NOON, []
    for _ in range(4):
        moment = trigger.get_next_fire_time(None, moment)
        fired.append(moment.strftime("%a %d %b"))
        moment += timedelta(minutes=1)
    assert fired == ["Mon 23 Nov", "Mon 30 Nov", "Tue 01 Dec", "Mon 07 Dec"]
