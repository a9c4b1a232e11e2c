"""Durations written the way people write them: "90s", "5m", "1h30m", "2d"."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value: str | int | float) -> timedelta:
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '5m' or '1h30m'")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip().lower().replace(" ", "")
        if not text or _PART.sub("", text):
            raise ValueError(f"{value!r} is not a duration; write e.g. '90s', '5m', '1h30m' or '2d'")
        seconds = sum(float(amount) * _UNITS[unit] for amount, unit in _PART.findall(text))
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"{value!r} is too long; write at most a few years") from None


def _as_duration(value: Any) -> timedelta:
    return value if isinstance(value, timedelta) else parse_duration(value)


# A settings field written as "5m", "1h30m" or a number of seconds.
Duration = Annotated[timedelta, BeforeValidator(_as_duration)]
