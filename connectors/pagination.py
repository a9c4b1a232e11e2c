"""Paging, written once. A connector names its strategy; ``pages`` walks it.

Each strategy looks at one page (the response, its decoded body, and the URL
and parameters that asked for it) and says what to ask for next, or None at
the end. ``pages`` also stops on a repeated request, so a platform that hands
back the same cursor cannot loop us forever.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from connectors.base import dig
from connectors.errors import RetryableError
from connectors.http import HttpClient, describe

Params = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Page:
    body: Any
    response: requests.Response


def page_list(page: Page, key: str) -> list[Any]:
    """The records a list page keeps under ``key``; platforms send an empty list when there are none.

    A 200 without that list is a failed read, not an empty page: taken as one,
    it would end the paging early while the watermark moved past what it never read.
    """
    records = page.body.get(key) if isinstance(page.body, Mapping) else None
    if not isinstance(records, list):
        article = "an" if key[0] in "aeiou" else "a"
        raise RetryableError(f"{describe(page.response)} returned a page without {article} {key} list")
    return records


class Strategy(Protocol):
    def next_request(
        self, page: Page, url: str, params: Params
    ) -> tuple[str, Params] | None: ...


@dataclass(frozen=True)
class NextUrl:
    """The body carries the full URL of the next page (Graph API ``paging.next``)."""

    path: tuple[str, ...] = ("paging", "next")

    def next_request(self, page: Page, url: str, params: Params) -> tuple[str, Params] | None:
        following = dig(page.body, *self.path) if isinstance(page.body, Mapping) else None
        return (following, {}) if isinstance(following, str) and following else None


@dataclass(frozen=True)
class PageToken:
    """The body carries a token to send back as a parameter (YouTube, X, Bluesky)."""

    token_path: tuple[str, ...]
    param: str

    def next_request(self, page: Page, url: str, params: Params) -> tuple[str, Params] | None:
        token = dig(page.body, *self.token_path) if isinstance(page.body, Mapping) else None
        if not isinstance(token, str) or not token:
            return None
        return url, {**params, self.param: token}


@dataclass(frozen=True)
class LinkHeader:
    """RFC 8288 ``Link: <url>; rel="next"`` (Mastodon)."""

    rel: str = "next"

    def next_request(self, page: Page, url: str, params: Params) -> tuple[str, Params] | None:
        link = page.response.links.get(self.rel)
        return (link["url"], {}) if link and link.get("url") else None


@dataclass(frozen=True)
class PageNumber:
    """``page=N`` with the page count in a header (WordPress ``X-WP-TotalPages``)."""

    param: str = "page"
    total_header: str = "X-WP-TotalPages"

    def next_request(self, page: Page, url: str, params: Params) -> tuple[str, Params] | None:
        current = int(params.get(self.param, 1))
        try:
            total = int(page.response.headers.get(self.total_header, "0"))
        except ValueError:
            total = 0
        if current >= total or not page.body:
            return None
        return url, {**params, self.param: current + 1}


@dataclass(frozen=True)
class Offset:
    """``start``/``count`` offsets (LinkedIn); stops on a short or empty page."""

    records_path: tuple[str, ...] = ("elements",)
    start_param: str = "start"
    count_param: str = "count"
    total_path: tuple[str, ...] | None = ("paging", "total")

    def next_request(self, page: Page, url: str, params: Params) -> tuple[str, Params] | None:
        records = dig(page.body, *self.records_path) if isinstance(page.body, Mapping) else None
        count = int(params.get(self.count_param, 10))
        if not isinstance(records, list) or len(records) < count or not records:
            return None
        start = int(params.get(self.start_param, 0)) + len(records)
        total = dig(page.body, *self.total_path) if self.total_path else None
        if isinstance(total, int) and start >= total:
            return None
        return url, {**params, self.start_param: start}


def pages(
    http: HttpClient,
    url: str,
    params: Params | None = None,
    strategy: Strategy = NextUrl(),
    max_pages: int = 1000,
) -> Iterator[Page]:
    """Yield each page's decoded body and response until the strategy says stop."""
    params = dict(params or {})
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for _ in range(max_pages):
        key = (url, tuple(sorted((k, str(v)) for k, v in params.items())))
        if key in seen:
            return
        seen.add(key)
        body, response = http.fetch_json("GET", url, params=params)
        page = Page(body, response)
        yield page
        following = strategy.next_request(page, url, params)
        if following is None:
            return
        url, params = following
