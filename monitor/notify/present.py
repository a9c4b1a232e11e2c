"""A flag as the General Manager sees it: excerpt with the matched words, who, where, when, why, and a safe link.

Everything here is plain text; escaping is the template's job (autoescape).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from monitor.notify.records import FlagRecord

EXCERPT_CHARS = 280
CONTEXT_BEFORE = 60

PLATFORM_NAMES = {
    "facebook": "Facebook",
    "instagram": "Instagram",
    "youtube": "YouTube",
    "x": "X",
    "linkedin": "LinkedIn",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "wordpress": "the website",
    "file": "the platform",
}

PLATFORM_HOSTS: dict[str, frozenset[str]] = {
    "facebook": frozenset({"facebook.com", "fb.com"}),
    "instagram": frozenset({"instagram.com"}),
    "youtube": frozenset({"youtube.com", "youtu.be"}),
    "x": frozenset({"x.com", "twitter.com"}),
    "linkedin": frozenset({"linkedin.com"}),
    "bluesky": frozenset({"bsky.app"}),
}

ANY_HTTPS_HOST = frozenset({"*"})

CATEGORY_WORDS = {
    "threat": "a threat",
    "safeguarding": "a safeguarding concern",
    "confidentiality": "private information",
    "hate": "hate",
    "allegation": "an allegation",
    "misrepresentation": "a false claim or scam",
    "abuse": "abuse",
    "controversial": "a heated argument",
    "negative": "a very negative comment",
    "own-post-consent": "someone named, pictured or quoted without permission",
    "own-post-identifying": "details that identify someone receiving care",
    "own-post-tone": "a post that is not positive",
    "own-post-personal": "a personal remark on the organisation's account",
}

AUTHOR_CHARS = 80
REASON_CHARS = 300
MAX_REASONS = 5
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s+")
_NOT_IN_URLS = re.compile(r'[\s<>"`{}|\\^\x00-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]')


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    matched: bool


@dataclass(frozen=True, slots=True)
class Item:
    flag_id: int
    severity: str
    status: str
    what: str
    account: str
    platform: str
    author: str
    when: str
    excerpt: tuple[Segment, ...]
    link: str | None
    reasons: tuple[str, ...]
    tone: str | None
    post_title: str
    post_link: str | None
    resolution: str | None
    page_replied: bool = False
    auto_hidden: bool = False
    kind: str = "comment"  # or "post": the organisation's own post


@dataclass(frozen=True, slots=True)
class Presenter:
    """What presenting needs from the configuration: the zone, and each account's platform name and link hosts."""

    zone: ZoneInfo
    platform_labels: Mapping[str, str]
    account_hosts: Mapping[str, frozenset[str]]
    category_labels: Mapping[str, str] = field(default_factory=dict)  # the operator's own categories

    def item(self, record: FlagRecord) -> Item:
        hosts = self.hosts_for(record.account, record.platform)
        return Item(
            flag_id=record.flag_id,
            severity=record.severity,
            status=record.status,
            what=describe_categories(record.categories, self.category_labels),
            account=record.account,
            platform=self.platform_name(record.account, record.platform),
            author=bounded(one_line(record.author or ""), AUTHOR_CHARS)
            or (record.account if record.kind == "post" else "someone"),
            when=local_time(record.written_at, self.zone),
            excerpt=excerpt(record.text, spans_of(record.reasons)),
            link=safe_link(record.permalink, hosts),
            reasons=tuple(bounded(reason, REASON_CHARS) for reason in explanations(record.reasons)[:MAX_REASONS]),
            tone=tone_worth_showing(record.sentiment, record.categories),
            post_title=one_line(record.post_title or "")[:120] or "a post",
            post_link=safe_link(record.post_url, hosts),
            resolution=bounded(record.resolution, REASON_CHARS) if record.resolution else None,
            page_replied=record.page_replied,
            auto_hidden=record.auto_hidden,
            kind=record.kind,
        )

    def hosts_for(self, account: str, platform: str) -> frozenset[str]:
        return self.account_hosts.get(account) or PLATFORM_HOSTS.get(platform, frozenset())

    def platform_name(self, account: str, platform: str) -> str:
        label = self.platform_labels.get(account) or platform
        return PLATFORM_NAMES.get(label, label.title())


def account_hosts(platform: str, base_url: str | None) -> frozenset[str]:
    """The hosts a link for this account may point at."""
    if platform == "file":
        return ANY_HTTPS_HOST
    if platform in {"mastodon", "wordpress"}:
        host = (urlsplit(base_url).hostname or "") if base_url else ""
        return frozenset({host.lower()}) if host else frozenset()
    return PLATFORM_HOSTS.get(platform, frozenset())


def safe_link(url: str | None, hosts: frozenset[str]) -> str | None:
    """The URL when it is https on one of the hosts (or a subdomain of one); otherwise None."""
    if not url or not hosts or _NOT_IN_URLS.search(url):
        return None
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not host or parts.username or parts.password or port not in (None, 443):
        return None
    if hosts != ANY_HTTPS_HOST and not any(host == allowed or host.endswith("." + allowed) for allowed in hosts):
        return None
    return url


def bounded(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(text: str) -> str:
    """Text fit for one line: no control characters, no line breaks, no bidi overrides."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()


def spans_of(reasons: Iterable[Mapping[str, object]]) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    for reason in reasons:
        spans = reason.get("spans")
        if not isinstance(spans, list | tuple):
            continue
        for span in spans:
            if (
                isinstance(span, list | tuple)
                and len(span) == 2
                and all(isinstance(edge, int) and not isinstance(edge, bool) for edge in span)
                and 0 <= span[0] < span[1]
            ):
                found.append((span[0], span[1]))
    return found


def excerpt(text: str, spans: Iterable[tuple[int, int]], limit: int = EXCERPT_CHARS) -> tuple[Segment, ...]:
    """Up to ``limit`` characters around the first match, the matched words marked."""
    merged = _merge([(start, min(end, len(text))) for start, end in spans if start < len(text)])
    start = 0
    if merged and merged[0][1] > limit:
        start = max(0, merged[0][0] - CONTEXT_BEFORE)
    end = min(len(text), start + limit)
    segments: list[Segment] = []
    if start > 0:
        segments.append(Segment("…", False))
    cursor = start
    for match_start, match_end in merged:
        if match_end <= cursor or match_start >= end:
            continue
        span_start, span_end = max(match_start, cursor), min(match_end, end)
        if span_start > cursor:
            segments.append(Segment(_clean(text[cursor:span_start]), False))
        segments.append(Segment(_clean(text[span_start:span_end]), True))
        cursor = span_end
    if cursor < end:
        segments.append(Segment(_clean(text[cursor:end]), False))
    if end < len(text):
        segments.append(Segment("…", False))
    return tuple(segment for segment in segments if segment.text)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        elif start < end:
            merged.append((start, end))
    return merged


def _clean(text: str) -> str:
    return _CONTROL.sub(" ", text)


def explanations(reasons: Iterable[Mapping[str, object]]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for reason in reasons:
        explanation = reason.get("explanation")
        line = one_line(explanation) if isinstance(explanation, str) else ""
        if line:
            seen.setdefault(line, None)
    return tuple(seen)


def describe_categories(categories: Iterable[str], custom_labels: Mapping[str, str] | None = None) -> str:
    labels = {**CATEGORY_WORDS, **(custom_labels or {})}
    words = [labels.get(category, category) for category in categories]
    if not words:
        return "a flagged comment"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def tone(sentiment: Mapping[str, float] | None) -> str | None:
    """VADER's compound score in words."""
    score = (sentiment or {}).get("compound")
    if not isinstance(score, int | float):
        return None
    if score <= -0.6:
        return "very negative"
    if score <= -0.2:
        return "negative"
    if score < 0.2:
        return "neutral"
    if score < 0.6:
        return "positive"
    return "very positive"


def tone_worth_showing(sentiment: Mapping[str, float] | None, categories: Iterable[str]) -> str | None:
    """The tone, where it adds something to the flag: a negative tone beside another reason. A neutral or
    cheerful tone would seem to contradict the flag (a threat with a smiley, a scam in friendly words), and
    for a comment flagged only as negative the tone is the reason itself."""
    words = tone(sentiment)
    if words not in ("negative", "very negative") or set(categories) <= {"negative"}:
        return None
    return words


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M} {local.tzname() or ''}".rstrip()
