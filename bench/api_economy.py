"""What a poll with nothing new costs, per platform, against the targets.

Each ``bench/economy_<platform>.py`` plays its platform's API with the real
shapes (500 recent posts) and reports the requests a steady-state poll makes
and what reading every post's comments one by one would cost.

    python -m bench.api_economy

Targets: Facebook at most 10 requests; every other platform 1-2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import import_module
from typing import Any

from bench.machine import describe

PLATFORMS = ("facebook", "instagram", "youtube", "x", "linkedin", "mastodon", "bluesky", "wordpress")
# The issue names Facebook <= 10 and 1-2 for the others it lists. Instagram and
# LinkedIn have no named target; like Facebook they can only list 500 posts
# 100 at a time (neither has an account-wide feed of new comments), so they
# are held to Facebook's.
TARGETS = {"facebook": (1, 10), "instagram": (1, 10), "linkedin": (1, 10)}
DEFAULT_TARGET = (1, 2)
HEADER = ("platform", "steady-state requests", "naive requests", "target", "met?")


def target_of(platform: str) -> tuple[int, int]:
    return TARGETS.get(platform, DEFAULT_TARGET)


def row_for(platform: str) -> tuple[str, str, str, str, str]:
    low, high = target_of(platform)
    target = f"<= {high}" if low == 1 and high > 2 else f"{low}-{high}"
    try:
        measure: Callable[[], dict[str, Any]] = import_module(f"bench.economy_{platform}").measure
    except ModuleNotFoundError:
        return platform, "-", "-", target, "not yet measured"
    try:
        figures = measure()
    except Exception as exc:  # one platform's broken bench must not hide the others' figures
        return platform, "-", "-", target, f"bench failed: {type(exc).__name__}: {exc}"[:120]
    steady = int(figures["steady_state_requests"])
    met = "yes" if steady <= high else "NO"
    return platform, str(steady), str(figures["naive_requests"]), target, met


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main() -> int:
    rows = [row_for(platform) for platform in PLATFORMS]
    print(f"machine: {describe()}")
    print("API economy: requests for a poll with nothing new, an account with 500 recent posts")
    print(table([HEADER, *rows]))
    return 1 if any(row[4] == "NO" or row[4].startswith("bench failed") for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
