"""Facebook Page: comments and replies on the Page's recent posts (Graph API).

One request lists up to ``posts_limit`` posts with their newest comments
embedded by field expansion, so a poll with nothing new costs one request per
page of posts. A post's own comments edge is read only when every embedded
comment is newer than the watermark (there may be more new ones behind them).

The watermark is the newest comment time stored; each poll re-reads a small
overlap behind it and the store's upsert removes the duplicates. Graph paging
cursors expire, so none is kept between polls.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import requests
from pydantic import Field

from connectors.base import (
    AccountSettings,
    Batch,
    Comment,
    Connector,
    classify_by_status,
    dig,
    parse_time,
)
from connectors.errors import AuthError, ConnectorError, FatalError, RetryableError
from connectors.http import describe, retry_after_seconds
from connectors.pagination import NextUrl, pages
from monitor.secrets import Secret, redact

COMMENT_FIELDS = "id,from{id,name},message,created_time,permalink_url,parent{id},is_hidden"

# Graph error codes, sorted once. Everything else is fatal (e.g. 100, bad parameter).
RETRYABLE_CODES = frozenset({1, 2, 4, 17, 32, 341, 613, *range(80001, 80015)})
AUTH_CODES = frozenset({10, 102, 190, *range(200, 300)})

PAGING = NextUrl(("paging", "next"))

USAGE_HEADERS = ("X-App-Usage", "X-Page-Usage", "X-Business-Use-Case-Usage")
USAGE_KEYS = ("call_count", "total_cputime", "total_time")
BUSY_PERCENT = 80.0
BUSY_DELAY = (300.0, 3600.0)  # seconds at 80% and at 100% usage

TITLE_LENGTH = 80


class FacebookSettings(AccountSettings):
    """One Page. Comments are read on posts from the last ``lookback_days``; older posts are not watched."""

    page_id: str = Field(min_length=1)
    access_token: Secret
    app_secret: Secret | None = None
    api_version: str = Field("v23.0", pattern=r"^v\d+\.\d+$")
    lookback_days: int = Field(14, ge=1, le=365)
    posts_limit: int = Field(100, ge=1, le=100)
    comments_limit: int = Field(25, ge=1, le=100)
    overlap_minutes: int = Field(15, ge=0, le=24 * 60)


class FacebookConnector(Connector):
    platform: ClassVar[str] = "facebook"
    settings_model: ClassVar[type[AccountSettings]] = FacebookSettings
    default_base_url: ClassVar[str] = "https://graph.facebook.com"

    settings: FacebookSettings

    def auth_params(self) -> dict[str, str]:
        token = self.settings.access_token.reveal()
        params = {"access_token": token}
        if self.settings.app_secret is not None:
            key = self.settings.app_secret.reveal().encode()
            params["appsecret_proof"] = hmac.new(key, token.encode(), hashlib.sha256).hexdigest()
        return params

    def check(self) -> str:
        page = self.http.get_json(self._path(self.settings.page_id), {"fields": "id,name"})
        return f"Facebook Page {dig(page, 'name') or '(no name)'} ({dig(page, 'id')})"

    def fetch(self, bookmark: Mapping[str, Any] | None) -> Iterator[Batch]:
        started = self.now()
        watermark = watermark_of(bookmark)
        cutoff = (
            watermark - timedelta(minutes=self.settings.overlap_minutes)
            if watermark is not None
            else started - timedelta(days=self.settings.lookback_days)
        )
        newest = watermark
        seen: set[str] = set()
        posts = pages(self.http, self._path(f"{self.settings.page_id}/posts"), self._posts_params(started), PAGING)
        for page in posts:
            batch = Batch(comments=[])
            for post in records_of(page.body):
                for record in self._comment_records(post, cutoff):
                    try:
                        comment = comment_from_record(record, self.settings.page_id, post)
                    except (KeyError, TypeError, ValueError) as exc:
                        batch.skipped.append(f"post {post.get('id')}: {reason_of(exc)}")
                        continue
                    if comment.created_at < cutoff or comment.external_id in seen:
                        continue
                    seen.add(comment.external_id)
                    batch.comments.append(comment)
                    newest = max(newest or comment.created_at, comment.created_at)
            if batch.comments or batch.skipped:
                yield batch
        yield Batch(comments=[], bookmark={"since": (newest or started).isoformat()})

    def _path(self, tail: str) -> str:
        return f"{self.settings.api_version}/{tail}"

    def _posts_params(self, started: datetime) -> dict[str, Any]:
        window_start = started - timedelta(days=self.settings.lookback_days)
        comments = (
            f"comments.filter(stream).order(reverse_chronological)"
            f".limit({self.settings.comments_limit}){{{COMMENT_FIELDS}}}"
        )
        return {
            "fields": f"id,message,permalink_url,created_time,{comments}",
            "limit": self.settings.posts_limit,
            "since": int(window_start.timestamp()),
        }

    def _comment_records(self, post: Mapping[str, Any], cutoff: datetime) -> Iterator[Mapping[str, Any]]:
        """The post's embedded comments, then its comments edge while every one is still new."""
        embedded = post.get("comments")
        if not isinstance(embedded, Mapping):
            return
        records = records_of(embedded)
        yield from records
        following = dig(embedded, "paging", "next")
        if not (isinstance(following, str) and following and all_newer(records, cutoff)):
            return
        for page in pages(self.http, following, strategy=PAGING):
            records = records_of(page.body)
            yield from records
            if not all_newer(records, cutoff):
                return

    def classify_error(self, response: requests.Response) -> ConnectorError | None:
        if response.status_code < 400:
            return None
        error = graph_error(response)
        if error is None:
            return classify_by_status(response)
        code = error.get("code")
        message = f"{describe(response)} failed ({response.status_code}): {describe_graph_error(error)}"
        if code in AUTH_CODES:
            return AuthError(message)
        if (
            code in RETRYABLE_CODES
            or error.get("is_transient") is True
            or response.status_code == 429
            or response.status_code >= 500
        ):
            return RetryableError(message, retry_after_seconds(response) or regain_seconds(response))
        return FatalError(message)

    def rate_limit_delay(self, response: requests.Response) -> float | None:
        regain = regain_seconds(response)
        if regain:
            return regain
        percent = usage_percent(response)
        if percent < BUSY_PERCENT:
            return None
        low, high = BUSY_DELAY
        share = min(1.0, (percent - BUSY_PERCENT) / (100.0 - BUSY_PERCENT))
        return low + share * (high - low)


def comment_from_record(record: Mapping[str, Any], page_id: str, post: Mapping[str, Any] | None = None) -> Comment:
    """One Graph comment (embedded or from a comments edge) as a Comment.

    Comments read without the MODERATE task on the Page have no ``id`` and no
    ``from``: the id is then rebuilt from the permalink's ``comment_id`` /
    ``reply_comment_id`` (the same ``{post}_{comment}`` form Graph uses), or
    hashed from the post, time and text when there is no permalink either.
    Replies flattened by ``filter(stream)`` keep their parent via ``parent{id}``
    or the permalink. Sticker- and photo-only comments are kept with empty text.
    """
    if not isinstance(record, Mapping):
        raise TypeError(f"comment is a {type(record).__name__}, not an object")
    created_time = record.get("created_time")
    if created_time is None:
        raise KeyError("comment has no created_time")
    created_at = parse_time(created_time)
    message = record.get("message") or ""
    if not isinstance(message, str):
        raise TypeError("comment message is not text")
    post = post or {}
    permalink = record.get("permalink_url") if isinstance(record.get("permalink_url"), str) else None
    post_id = _text(post.get("id"))
    post_key = _post_key(post_id, permalink)
    comment_fbid, reply_fbid = _permalink_ids(permalink)
    author_id = _text(dig(record, "from", "id"))
    return Comment(
        external_id=_comment_id(record, post_key, reply_fbid or comment_fbid, post_id, message),
        text=message.strip(),
        created_at=created_at,
        post_id=post_id or post_key,
        post_url=_text(post.get("permalink_url")),
        post_title=post_title(post.get("message")),
        parent_id=_parent_id(record, post_key, comment_fbid if reply_fbid else None),
        author_id=author_id,
        author_name=_text(dig(record, "from", "name")),
        permalink=permalink or _text(post.get("permalink_url")),
        by_owner=author_id is not None and author_id == page_id,
        hidden=record.get("is_hidden") is True,
    )


def reason_of(exc: Exception) -> str:
    return str(exc.args[0]) if exc.args else type(exc).__name__


def records_of(body: Any) -> list[Mapping[str, Any]]:
    data = body.get("data") if isinstance(body, Mapping) else None
    return [item for item in data if isinstance(item, Mapping)] if isinstance(data, list) else []


def all_newer(records: Iterable[Mapping[str, Any]], cutoff: datetime) -> bool:
    """True when there are records and none is older than ``cutoff`` (unreadable times count as new)."""
    times = [_time_or_none(record.get("created_time")) for record in records]
    return bool(times) and all(moment is None or moment >= cutoff for moment in times)


def watermark_of(bookmark: Mapping[str, Any] | None) -> datetime | None:
    value = bookmark.get("since") if bookmark else None
    return _time_or_none(value) if value else None


def post_title(message: Any) -> str | None:
    if not isinstance(message, str) or not message.strip():
        return None
    line = message.strip().splitlines()[0].strip()
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"


def graph_error(response: requests.Response) -> Mapping[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, Mapping) else None
    return error if isinstance(error, Mapping) else None


def describe_graph_error(error: Mapping[str, Any]) -> str:
    code = error.get("code")
    subcode = error.get("error_subcode")
    kind = f"{error.get('type') or 'GraphError'} code {code}" + (f"/{subcode}" if subcode else "")
    message = redact(str(error.get("message") or "no message"))[:300]
    trace = f" (fbtrace_id {error['fbtrace_id']})" if error.get("fbtrace_id") else ""
    return f"{kind}: {message}{trace}"


def regain_seconds(response: requests.Response) -> float | None:
    """``estimated_time_to_regain_access`` (minutes) from the usage headers, in seconds."""
    minutes = [
        entry["estimated_time_to_regain_access"]
        for entry in _usage_entries(response)
        if isinstance(entry.get("estimated_time_to_regain_access"), int | float)
    ]
    return max(minutes) * 60.0 if minutes and max(minutes) > 0 else None


def usage_percent(response: requests.Response) -> float:
    """The highest share of any quota the usage headers report, in percent."""
    values = [
        float(entry[key])
        for entry in _usage_entries(response)
        for key in USAGE_KEYS
        if isinstance(entry.get(key), int | float)
    ]
    return max(values, default=0.0)


def _usage_entries(response: requests.Response) -> Iterator[Mapping[str, Any]]:
    for header in USAGE_HEADERS:
        raw = response.headers.get(header)
        if not raw:
            continue
        try:
            yield from _entries_in(json.loads(raw))
        except ValueError:
            continue


def _entries_in(value: Any) -> Iterator[Mapping[str, Any]]:
    """X-App-Usage is one object; X-Business-Use-Case-Usage maps business ids to lists of them."""
    if isinstance(value, Mapping):
        if any(key in value for key in (*USAGE_KEYS, "estimated_time_to_regain_access")):
            yield value
        else:
            for inner in value.values():
                yield from _entries_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _entries_in(inner)


def _comment_id(
    record: Mapping[str, Any], post_key: str | None, own_fbid: str | None, post_id: str | None, message: str
) -> str:
    given = _text(record.get("id"))
    if given:
        return _two_part(given)
    if own_fbid:
        return f"{post_key}_{own_fbid}" if post_key else own_fbid
    content = f"{post_id or post_key}|{record.get('created_time')}|{message}"
    return "fbhash_" + hashlib.sha256(content.encode()).hexdigest()[:24]


def _parent_id(record: Mapping[str, Any], post_key: str | None, parent_fbid: str | None) -> str | None:
    parent = _text(dig(record, "parent", "id"))
    if parent:
        return _two_part(parent)
    if parent_fbid:
        return f"{post_key}_{parent_fbid}" if post_key else parent_fbid
    return None


def _two_part(comment_id: str) -> str:
    """Legacy ``{page}_{post}_{comment}`` ids → today's ``{post}_{comment}``."""
    parts = comment_id.split("_")
    return "_".join(parts[-2:]) if len(parts) == 3 else comment_id


_POST_IN_URL = re.compile(r"/posts/([^/?#]+)")


def _post_key(post_id: str | None, permalink: str | None) -> str | None:
    """The post's own part of a ``{page}_{post}`` id, or the post segment of a comment permalink."""
    if post_id:
        return post_id.rsplit("_", 1)[-1]
    match = _POST_IN_URL.search(permalink or "")
    return match.group(1) if match else None


def _permalink_ids(permalink: str | None) -> tuple[str | None, str | None]:
    if not permalink:
        return None, None
    query = parse_qs(urlsplit(permalink).query)
    comment = query.get("comment_id", [None])[0]
    reply = query.get("reply_comment_id", [None])[0]
    return comment, reply


def _time_or_none(value: Any) -> datetime | None:
    try:
        return parse_time(value)
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)
