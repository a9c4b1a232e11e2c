"""Within a severity the digest shows safeguarding and threats first, then the flags the filter is surest of."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.notify.content import build_digest
from monitor.notify.present import Presenter
from monitor.notify.records import FlagRecord

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def _record(flag_id: int, post_id: int, categories: tuple[str, ...], confidence: float | None) -> FlagRecord:
    reason: dict[str, object] = {"rule": "r", "category": categories[0], "severity": "urgent", "explanation": "x"}
    if confidence is not None:
        reason["confidence"] = confidence
    return FlagRecord(
        flag_id=flag_id,
        status="open",
        severity="urgent",
        categories=categories,
        flagged_at=NOW,
        resolution=None,
        account="page",
        platform="facebook",
        comment_external_id=f"c{flag_id}",
        text=f"comment {flag_id}",
        author="someone",
        written_at=NOW - timedelta(minutes=flag_id),
        permalink=None,
        post_id=post_id,
        post_title=f"post {post_id}",
        post_url=None,
        reasons=(reason,),
        sentiment={"compound": -0.5},
    )


def test_pressing_categories_then_the_surest_come_first() -> None:
    records = [
        _record(1, 10, ("confidentiality",), None),  # a rule: sure
        _record(2, 20, ("confidentiality",), 0.55),  # the model, unsure
        _record(3, 20, ("threat",), 0.7),
        _record(4, 30, ("confidentiality",), 0.9),
        _record(5, 10, ("safeguarding",), 0.95),
    ]
    presenter = Presenter(zone=ZoneInfo("Europe/London"), platform_labels={}, account_hosts={})
    message = build_digest(records, [], [], presenter, organisation="Org", now=NOW, items_per_post=5, max_items=50)
    [section] = message.sections
    shown = [[item.flag_id for item in group.items] for group in section.groups]
    # post 10 holds a safeguarding flag (0.95) and post 20 a threat (0.7); post 30's flag is neither
    assert shown == [[5, 1], [3, 2], [4]]
