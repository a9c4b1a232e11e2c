"""What one message says: a digest or an alert, grouped by severity, then account and post."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

from monitor.filter.verdict import PRESSING_CATEGORIES
from monitor.notify.present import Item, Presenter, local_time
from monitor.notify.records import FlagRecord

SEVERITIES = ("urgent", "high", "medium", "low")
SEVERITY_LABELS = {
    "urgent": "Urgent: please look today",
    "high": "High: needs a response",
    "medium": "Medium: worth a look",
    "low": "Low: for information",
}


OWN_POSTS_LABEL = "Our own posts: please check these first"


@dataclass(frozen=True, slots=True)
class PostGroup:
    account: str
    platform: str
    post_title: str
    post_link: str | None
    items: tuple[Item, ...]
    not_shown: int


@dataclass(frozen=True, slots=True)
class Section:
    severity: str
    label: str
    count: int
    groups: tuple[PostGroup, ...]


@dataclass(frozen=True, slots=True)
class Message:
    """One digest or alert, ready for any channel to render."""

    kind: str  # digest | alert | all-clear
    subject: str
    headline: str
    organisation: str
    generated: str
    sections: tuple[Section, ...] = ()
    reminders: tuple[Item, ...] = ()
    alerted: tuple[Item, ...] = ()
    not_shown: int = 0
    records: tuple[FlagRecord, ...] = field(default=(), repr=False)
    own_posts: Section | None = None  # the organisation's own posts, shown first

    @property
    def counts(self) -> dict[str, int]:
        return {section.severity: section.count for section in self.sections}


def build_digest(
    new: Sequence[FlagRecord],
    reminders: Sequence[FlagRecord],
    alerted: Sequence[FlagRecord],
    presenter: Presenter,
    *,
    organisation: str,
    now: datetime,
    items_per_post: int,
    max_items: int,
) -> Message:
    budget = [max_items]
    own = [record for record in new if record.kind == "post"]
    new = [record for record in new if record.kind != "post"]
    own_posts = _own_posts_section(own, presenter, budget) if own else None
    sections = tuple(
        _section(severity, [r for r in new if r.severity == severity], presenter, items_per_post, budget)
        for severity in _ordered_severities(new)
    )
    shown_new = sum(len(group.items) for section in sections for group in section.groups)
    shown_reminders = [presenter.item(record) for record in _by_severity(reminders)[: max(budget[0], 0)]]
    shown_own = sum(len(group.items) for group in own_posts.groups) if own_posts else 0
    not_shown = len(new) - shown_new + len(own) - shown_own + len(reminders) - len(shown_reminders)
    counts = {section.severity: section.count for section in sections}
    return Message(
        kind="digest" if new or own or reminders else "all-clear",
        subject=digest_subject(counts, len(reminders), own_posts=len(own)),
        headline=f"Social media digest for {organisation}",
        organisation=organisation,
        generated=local_time(now, presenter.zone),
        sections=sections,
        reminders=tuple(shown_reminders),
        alerted=tuple(presenter.item(record) for record in alerted[:50]),
        not_shown=not_shown,
        records=(*own, *new, *reminders),
        own_posts=own_posts,
    )


def build_alert(records: Sequence[FlagRecord], presenter: Presenter, *, organisation: str, now: datetime) -> Message:
    items = tuple(presenter.item(record) for record in records)
    if len(items) == 1 and items[0].kind == "post":
        item = items[0]
        subject = f"{item.severity.capitalize()}: our own post on {item.platform} needs you ({_plain(item.what)})"
        headline = f"This post of ours on {item.platform} needs you now"
    elif len(items) == 1:
        item = items[0]
        subject = f"{item.severity.capitalize()}: a comment on {item.platform} needs you ({_plain(item.what)})"
        headline = f"This comment on {item.platform} needs you now"
    else:
        subject = f"Urgent: {len(items)} more comments need you (the hourly alert limit was reached)"
        headline = f"{len(items)} more comments need you now"
    section = Section(
        severity=records[0].severity,
        label="Sent at once because it cannot wait for the digest",
        count=len(items),
        groups=(_group(items, 0),),
    )
    return Message(
        kind="alert",
        subject=subject,
        headline=headline,
        organisation=organisation,
        generated=local_time(now, presenter.zone),
        sections=(section,),
        records=tuple(records),
    )


def digest_subject(counts: dict[str, int], still_open: int, own_posts: int = 0) -> str:
    parts = [f"{own_posts} own post{'s' if own_posts != 1 else ''} to check"] if own_posts else []
    parts += [f"{counts[severity]} {severity}" for severity in SEVERITIES if counts.get(severity)]
    parts += [f"{count} {severity}" for severity, count in counts.items() if severity not in SEVERITIES and count]
    if still_open:
        parts.append(f"{still_open} still open")
    return "Social media digest: " + (", ".join(parts) if parts else "nothing flagged")


def _section(
    severity: str, records: list[FlagRecord], presenter: Presenter, items_per_post: int, budget: list[int]
) -> Section:
    groups: list[PostGroup] = []
    ordered = sorted(records, key=lambda r: (r.account, r.post_id or 0, *_pressing(r), r.written_at, r.flag_id))
    chunks = [list(members) for _, members in groupby(ordered, key=lambda r: (r.account, r.post_id))]
    chunks.sort(key=lambda chunk: _pressing(chunk[0]))  # stable: posts equally pressing keep their order
    for chunk in chunks:
        if budget[0] <= 0:
            continue
        shown = chunk[: min(items_per_post, budget[0])]
        budget[0] -= len(shown)
        groups.append(_group(tuple(presenter.item(record) for record in shown), len(chunk) - len(shown)))
    label = SEVERITY_LABELS.get(severity, severity)
    return Section(severity=severity, label=label, count=len(records), groups=tuple(groups))


def _own_posts_section(records: list[FlagRecord], presenter: Presenter, budget: list[int]) -> Section:
    """Each flagged own post, most severe first: what the organisation published comes before what others wrote."""
    ordered = _by_severity(records)
    shown = ordered[: max(budget[0], 0)]
    budget[0] -= len(shown)
    groups = tuple(_group((presenter.item(record),), 0) for record in shown)
    return Section(severity=ordered[0].severity, label=OWN_POSTS_LABEL, count=len(records), groups=groups)


def _group(items: tuple[Item, ...], not_shown: int) -> PostGroup:
    first = items[0]
    return PostGroup(
        account=first.account,
        platform=first.platform,
        post_title=first.post_title,
        post_link=first.post_link,
        items=items,
        not_shown=not_shown,
    )


def _ordered_severities(records: Sequence[FlagRecord]) -> list[str]:
    present = {record.severity for record in records}
    return [s for s in SEVERITIES if s in present] + sorted(present - set(SEVERITIES))


def _by_severity(records: Sequence[FlagRecord]) -> list[FlagRecord]:
    rank = {severity: index for index, severity in enumerate(SEVERITIES)}
    return sorted(records, key=lambda r: (rank.get(r.severity, len(rank)), *_pressing(r), r.written_at, r.flag_id))


def _pressing(record: FlagRecord) -> tuple[bool, float]:
    """Within a severity: safeguarding and threats first, then the flags the filter is surest of."""
    pressing = any(category in PRESSING_CATEGORIES for category in record.categories)
    confidence = max((_confidence(reason) for reason in record.reasons), default=1.0)
    return (not pressing, -confidence)


def _confidence(reason: Mapping[str, Any]) -> float:
    value = reason.get("confidence", 1.0)
    return float(value) if isinstance(value, int | float) else 1.0


def _plain(text: str) -> str:
    return text.removeprefix("a ").removeprefix("an ")
