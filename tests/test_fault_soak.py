"""Fault soak: many poll cycles of every connector against fake platforms that misbehave.

Each fake platform is a small in-memory model of one account: comments keep
arriving between cycles, and are served in the platform's real request and
response shapes. A seeded plan makes a share of requests fail (timeouts,
resets, 5xx, 429 with Retry-After, the platform's own throttling codes,
bodies that are not JSON or are cut short) and spoils some pages (an item
repeated on the next page, items out of order). Every account shares one real
SQLite store and the real Pipeline, on a clock that moves five minutes a cycle.

After the faults stop and a few clean cycles run, every comment the platforms
hold must be stored exactly once, flagged at most once and classified once; no
bookmark may claim a comment the store does not have; no account may be left
refused for a fault that was only transient; and the accounts that stayed
broken throughout must not have held up the others.
"""

from __future__ import annotations

import json
import random
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import pytest
import requests
import responses
from sqlmodel import col, select

from connectors import Connector, connector_class
from connectors.bluesky import BlueskyConnector, Session
from connectors.x import SNOWFLAKE_EPOCH_MS
from monitor.config import AccountConfig, Settings, from_mapping
from monitor.models import Comment, Flag, Verdict
from monitor.pipeline import Pipeline, PollOutcome
from monitor.store import Store
from tests.faults import (
    HTTP_THROTTLING,
    RESET,
    TRANSPORT,
    Fault,
    FaultPlan,
    Reply,
    json_reply,
    serve,
)

START = datetime(2026, 5, 10, 8, 0, tzinfo=UTC)
CYCLE = timedelta(minutes=5)
FAULT_CYCLES = 40
CLEAN_CYCLES = 4
FAULT_RATE = 0.3
OVERLAP = timedelta(minutes=15)
ORGANISATION = "Brightwater Care"

TEXTS = (
    "Lovely team, thank you for everything",
    "I know where you all work and I'm coming for you",
    "My mum was left without her medication again, nobody answered",
    "Heard Brightwater Care is closing down, staff told me",
    "Ring me on 07700 900123 about my dad",
    "So sad to hear about the flood, hope everyone is safe",
    "Bloody brilliant team!",
    "Absolute shambles, the manager is useless",
)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment


@dataclass
class Item:
    """One comment (or reply) on a fake platform."""

    id: str
    text: str
    created: datetime
    post: str
    parent: str | None = None
    author: str = "u1"


def query_of(request: requests.PreparedRequest) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(urlsplit(request.url or "").query).items()}


def path_of(request: requests.PreparedRequest) -> str:
    return urlsplit(request.url or "").path


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class FakePlatform(ABC):
    """One account on a fake platform: its comments, its endpoints, and what its bookmark may claim."""

    platform: ClassVar[str]
    platform_faults: ClassVar[tuple[Fault, ...]] = ()

    def __init__(self, name: str, plan: FaultPlan, clock: Clock, seed: int) -> None:
        self.name = name
        self.plan = plan
        self.clock = clock
        self.rng = random.Random(seed)
        self.items: list[Item] = []
        self.serial = 0

    @property
    def faults(self) -> tuple[Fault, ...]:
        return (*TRANSPORT, *HTTP_THROTTLING, *self.platform_faults)

    @abstractmethod
    def account(self) -> dict[str, Any]: ...

    @abstractmethod
    def register(self, rsps: responses.RequestsMock) -> None: ...

    @abstractmethod
    def covered(self, bookmark: Mapping[str, Any]) -> set[str]:
        """Comments the bookmark says are done: a later poll will not read them again."""

    @abstractmethod
    def bookmark_within(self, bookmark: Mapping[str, Any], stored: Sequence[Comment]) -> bool:
        """The bookmark is not ahead of the newest stored comment."""

    def env(self) -> dict[str, str]:
        return {}

    def expected(self) -> set[str]:
        return {item.id for item in self.items}

    def grow(self, count: int, since: datetime) -> None:
        """``count`` new comments, written between ``since`` and now."""
        span = (self.clock() - since).total_seconds()
        for moment in sorted(self.clock() - timedelta(seconds=self.rng.uniform(0, span * 0.9)) for _ in range(count)):
            self.serial += 1
            self.add(self.serial, moment)

    @abstractmethod
    def add(self, serial: int, moment: datetime) -> None: ...

    def text(self, serial: int) -> str:
        return f"{self.rng.choice(TEXTS)} ({self.platform} {serial})"

    def callback(self, handler: Callable[[requests.PreparedRequest], Reply]) -> Callable[..., Reply]:
        return self.plan.wrap(handler, self.faults)

    def spoil(self, page: list[Any], previous: Any | None) -> list[Any]:
        """A page as a flaky platform serves it: now and then out of order, or repeating the last item before it."""
        page = list(page)
        if previous is not None and self.plan.chance(0.25):
            self.plan.note("same item on two pages")
            page.insert(0, previous)
        if len(page) > 1 and self.plan.chance(0.25):
            self.plan.note("items out of order")
            self.rng.shuffle(page)
        return page

    def window(self, ordered: list[Any], offset: int, size: int) -> tuple[list[Any], bool]:
        """One page of ``ordered`` from ``offset``, spoiled; and whether more follow."""
        previous = ordered[offset - 1] if offset > 0 else None
        return self.spoil(ordered[offset : offset + size], previous), offset + size < len(ordered)


# Facebook Page (Graph API)


def graph_error(code: int, http_status: int = 400, **headers: str) -> Callable[..., Reply]:
    body = {
        "error": {
            "message": f"(#{code}) Application request limit reached",
            "type": "OAuthException",
            "is_transient": code not in (4, 17, 32, 613),
            "code": code,
            "fbtrace_id": "AzBx3Qf1",
        }
    }

    def respond(request: requests.PreparedRequest, real: Any) -> Reply:
        return json_reply(body, http_status, **headers)

    return respond


def graph_usage_high(request: requests.PreparedRequest, real: Callable[..., Reply]) -> Reply:
    code, headers, body = real(request)
    return code, {**headers, "X-App-Usage": json.dumps({"call_count": 92, "total_cputime": 40, "total_time": 41})}, body


GRAPH_THROTTLING = (
    *(Fault(f"Graph code {code}", graph_error(code)) for code in (4, 17, 32, 613)),
    Fault(
        "Graph code 4, regain access in 10 min",
        graph_error(
            4,
            **{
                "X-Business-Use-Case-Usage": json.dumps(
                    {"1045": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 10}]}
                )
            },
        ),
    ),
    Fault("Graph usage at 92%", graph_usage_high),
)


@dataclass
class Post:
    id: str
    created: datetime
    comments: list[Item] = field(default_factory=list)


class FacebookFake(FakePlatform):
    platform = "facebook"
    platform_faults = GRAPH_THROTTLING
    base = "https://graph.facebook.test"
    page_id = "104500000000001"
    per_page = 2
    comments_limit = 3

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.posts: list[Post] = []

    @property
    def graph(self) -> str:
        return f"{self.base}/v23.0"

    def account(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "platform": "facebook",
            "base_url": self.base,
            "page_id": self.page_id,
            "access_token": {"env": "SOAK_FACEBOOK_TOKEN"},
            "posts_limit": self.per_page,
            "comments_limit": self.comments_limit,
        }

    def env(self) -> dict[str, str]:
        return {"SOAK_FACEBOOK_TOKEN": "EAAG-soak-token"}

    def add(self, serial: int, moment: datetime) -> None:
        if not self.posts or self.rng.random() < 0.08:
            self.posts.append(Post(f"{self.page_id}_{1220000 + len(self.posts)}", moment - timedelta(minutes=1)))
        post = self.rng.choice(self.posts)
        post_number = post.id.split("_")[1]
        parent = self.rng.choice(post.comments).id if post.comments and self.rng.random() < 0.3 else None
        item = Item(f"{post_number}_{5000000 + serial}", self.text(serial), moment, post.id, parent, f"70{serial}")
        post.comments.append(item)
        self.items.append(item)

    def register(self, rsps: responses.RequestsMock) -> None:
        serve(rsps, "GET", f"{self.graph}/{self.page_id}/feed", self.callback(self.posts_page))
        for post in self.posts_by_time():
            serve(rsps, "GET", f"{self.graph}/{post.id}/comments", self.callback(self.comments_page))

    def posts_by_time(self) -> list[Post]:
        return sorted(self.posts, key=lambda post: post.created, reverse=True)

    def posts_page(self, request: requests.PreparedRequest) -> Reply:
        query = query_of(request)
        offset, limit = int(query.get("after", 0)), int(query.get("limit", self.per_page))
        page, more = self.window(self.posts_by_time(), offset, limit)
        body: dict[str, Any] = {"data": [self.post_record(post) for post in page]}
        if more:
            following = urlencode({"limit": limit, "after": offset + limit, "access_token": "EAAG-soak-token"})
            body["paging"] = {"next": f"{self.graph}/{self.page_id}/feed?{following}"}
        return json_reply(body)

    def post_record(self, post: Post) -> dict[str, Any]:
        number = post.id.split("_")[1]
        record: dict[str, Any] = {
            "id": post.id,
            "message": f"News from the home, post {number}",
            "permalink_url": f"https://www.facebook.com/{self.page_id}/posts/{number}/",
            "created_time": post.created.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        }
        if post.comments:
            record["comments"] = self.comments_body(post, 0, self.comments_limit)
        return record

    def comments_page(self, request: requests.PreparedRequest) -> Reply:
        post_id = path_of(request).split("/")[-2]
        post = next(post for post in self.posts if post.id == post_id)
        query = query_of(request)
        return json_reply(self.comments_body(post, int(query.get("after", 0)), int(query.get("limit", 3))))

    def comments_body(self, post: Post, offset: int, limit: int) -> dict[str, Any]:
        newest_first = sorted(post.comments, key=lambda item: item.created, reverse=True)
        page, more = self.window(newest_first, offset, limit)
        body: dict[str, Any] = {"data": [self.comment_record(item) for item in page]}
        body["paging"] = {"cursors": {"before": "QVFIUmJlZm9yZQ", "after": "QVFIUmFmdGVy"}}
        if more:
            following = urlencode({"limit": limit, "after": offset + limit})
            body["paging"]["next"] = f"{self.graph}/{post.id}/comments?{following}"
        return body

    def comment_record(self, item: Item) -> dict[str, Any]:
        post_number, comment_number = item.id.split("_")
        link = f"https://www.facebook.com/{self.page_id}/posts/{post_number}/?comment_id={comment_number}"
        record: dict[str, Any] = {
            "id": item.id,
            "from": {"id": item.author, "name": f"Person {item.author}"},
            "message": item.text,
            "created_time": item.created.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "permalink_url": link,
            "is_hidden": False,
        }
        if item.parent:
            record["parent"] = {"id": item.parent}
        return record

    def covered(self, bookmark: Mapping[str, Any]) -> set[str]:
        since = datetime.fromisoformat(bookmark["since"]) - OVERLAP
        return {item.id for item in self.items if item.created < since}

    def bookmark_within(self, bookmark: Mapping[str, Any], stored: Sequence[Comment]) -> bool:
        return datetime.fromisoformat(bookmark["since"]) <= max(row.created_at for row in stored if row.created_at)


class RevokedFacebookFake(FacebookFake):
    """A Page whose token was revoked: every request is refused with Graph code 190."""

    base = "https://graph.revoked.test"
    page_id = "104599999999999"

    def account(self) -> dict[str, Any]:
        return {**super().account(), "access_token": {"env": "SOAK_REVOKED_TOKEN"}}

    def env(self) -> dict[str, str]:
        return {"SOAK_REVOKED_TOKEN": "EAAG-revoked"}

    def register(self, rsps: responses.RequestsMock) -> None:
        body = {"error": {"message": "Error validating access token", "type": "OAuthException", "code": 190}}
        serve(rsps, "GET", f"{self.graph}/{self.page_id}/feed", lambda request: json_reply(body, 400))


# Instagram (Graph API)


@dataclass
class Media:
    id: str
    created: datetime
    comments: list[Item] = field(default_factory=list)

    def top_level(self) -> list[Item]:
        return sorted((item for item in self.comments if item.parent is None), key=lambda i: i.created, reverse=True)

    def replies_to(self, parent: str) -> list[Item]:
        return sorted((item for item in self.comments if item.parent == parent), key=lambda i: i.created)


class InstagramFake(FakePlatform):
    platform = "instagram"
    platform_faults = GRAPH_THROTTLING
    base = "https://graph.instagram.test"
    ig_user = "17841400000000001"
    per_page = 2
    comments_limit = 3

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.media: list[Media] = []

    @property
    def graph(self) -> str:
        return f"{self.base}/v23.0"

    def account(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "platform": "instagram",
            "base_url": self.base,
            "ig_user_id": self.ig_user,
            "access_token": {"env": "SOAK_INSTAGRAM_TOKEN"},
            "media_limit": self.per_page,
            "comments_limit": self.comments_limit,
        }

    def env(self) -> dict[str, str]:
        return {"SOAK_INSTAGRAM_TOKEN": "IGQ-soak-token"}

    def add(self, serial: int, moment: datetime) -> None:
        if not self.media or self.rng.random() < 0.08:
            self.media.append(Media(str(18000000000000000 + len(self.media)), moment - timedelta(minutes=1)))
        media = self.rng.choice(self.media)
        tops = media.top_level()
        parent = self.rng.choice(tops).id if tops and self.rng.random() < 0.3 else None
        item = Item(str(17900000000000000 + serial), self.text(serial), moment, media.id, parent, f"ig{serial}")
        media.comments.append(item)
        self.items.append(item)

    def register(self, rsps: responses.RequestsMock) -> None:
        serve(rsps, "GET", f"{self.graph}/{self.ig_user}/media", self.callback(self.media_page))
        for media in self.media:
            serve(rsps, "GET", f"{self.graph}/{media.id}/comments", self.callback(self.comments_page))

    def media_page(self, request: requests.PreparedRequest) -> Reply:
        query = query_of(request)
        offset, limit = int(query.get("after", 0)), int(query.get("limit", self.per_page))
        listing = sorted(self.media, key=lambda media: media.created, reverse=True)
        page, more = self.window(listing, offset, limit)
        body: dict[str, Any] = {"data": [self.media_record(media) for media in page]}
        if more:
            following = urlencode({"limit": limit, "after": offset + limit})
            body["paging"] = {"next": f"{self.graph}/{self.ig_user}/media?{following}"}
        return json_reply(body)

    def media_record(self, media: Media) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": media.id,
            "permalink": f"https://www.instagram.com/p/C{media.id[-6:]}/",
            "caption": "A day at the home",
            "timestamp": media.created.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "username": "brightwatercare",
            "comments_count": len(media.comments),
        }
        if media.comments:
            record["comments"] = self.comments_body(media, 0, self.comments_limit)
        return record

    def comments_page(self, request: requests.PreparedRequest) -> Reply:
        media_id = path_of(request).split("/")[-2]
        media = next(media for media in self.media if media.id == media_id)
        query = query_of(request)
        return json_reply(self.comments_body(media, int(query.get("after", 0)), int(query.get("limit", 3))))

    def comments_body(self, media: Media, offset: int, limit: int) -> dict[str, Any]:
        page, more = self.window(media.top_level(), offset, limit)
        body: dict[str, Any] = {"data": [self.comment_record(item, media) for item in page]}
        if more:
            following = urlencode({"limit": limit, "after": offset + limit})
            body["paging"] = {"next": f"{self.graph}/{media.id}/comments?{following}"}
        return body

    def comment_record(self, item: Item, media: Media) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": item.id,
            "text": item.text,
            "timestamp": item.created.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "username": f"member{item.author}",
            "from": {"id": item.author, "username": f"member{item.author}"},
            "hidden": False,
        }
        replies = media.replies_to(item.id)
        if item.parent is None and replies:
            record["replies"] = {"data": [self.comment_record(reply, media) for reply in replies]}
        return record

    def covered(self, bookmark: Mapping[str, Any]) -> set[str]:
        since = datetime.fromisoformat(bookmark["since"]) - OVERLAP
        counted = {media.id for media in self.media if bookmark.get("counts", {}).get(media.id) == len(media.comments)}
        return {item.id for item in self.items if item.created < since or item.post in counted}

    def bookmark_within(self, bookmark: Mapping[str, Any], stored: Sequence[Comment]) -> bool:
        counts_true = all(
            count <= len(media.comments)
            for media in self.media
            if (count := bookmark.get("counts", {}).get(media.id)) is not None
        )
        since = datetime.fromisoformat(bookmark["since"])
        return counts_true and since <= max(row.created_at for row in stored if row.created_at)


# YouTube (Data API v3)


def google_error(reason: str, code: int) -> Callable[..., Reply]:
    body = {
        "error": {
            "code": code,
            "message": f"The request cannot be completed: {reason}.",
            "errors": [{"message": "limited", "domain": "youtube.quota", "reason": reason}],
        }
    }

    def respond(request: requests.PreparedRequest, real: Any) -> Reply:
        return json_reply(body, code)

    return respond


@dataclass
class Thread:
    top: Item
    replies: list[Item] = field(default_factory=list)


class YouTubeFake(FakePlatform):
    platform = "youtube"
    platform_faults = (
        Fault("rateLimitExceeded", google_error("rateLimitExceeded", 403)),
        Fault("userRateLimitExceeded", google_error("userRateLimitExceeded", 403)),
        Fault("backendError", google_error("backendError", 500)),
    )
    base = "https://youtube.test/youtube/v3"
    channel = "UCbrightwater0000000001"
    threads_per_page = 4
    replies_per_page = 3
    embedded_replies = 2

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.threads: list[Thread] = []

    def account(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "platform": "youtube",
            "base_url": self.base,
            "channel_id": self.channel,
            "api_key": {"env": "SOAK_YOUTUBE_KEY"},
        }

    def env(self) -> dict[str, str]:
        return {"SOAK_YOUTUBE_KEY": "AIza-soak-key"}

    def add(self, serial: int, moment: datetime) -> None:
        if self.threads and self.rng.random() < 0.4:
            thread = self.rng.choice(self.threads)
            reply = Item(f"{thread.top.id}.r{serial}", self.text(serial), moment, thread.top.post, thread.top.id)
            thread.replies.append(reply)
            self.items.append(reply)
            return
        top = Item(f"Ugz{serial:06d}AaABAg", self.text(serial), moment, f"vid{serial % 3}", author=f"UCv{serial}")
        self.threads.append(Thread(top))
        self.items.append(top)

    def register(self, rsps: responses.RequestsMock) -> None:
        serve(rsps, "GET", f"{self.base}/commentThreads", self.callback(self.threads_page))
        serve(rsps, "GET", f"{self.base}/comments", self.callback(self.replies_page))

    def threads_page(self, request: requests.PreparedRequest) -> Reply:
        offset = int(query_of(request).get("pageToken", "t0")[1:])
        newest_first = sorted(self.threads, key=lambda thread: thread.top.created, reverse=True)
        page, more = self.window(newest_first, offset, self.threads_per_page)
        body: dict[str, Any] = {
            "kind": "youtube#commentThreadListResponse",
            "pageInfo": {"totalResults": len(page), "resultsPerPage": 100},
            "items": [self.thread_record(thread) for thread in page],
        }
        if more:
            body["nextPageToken"] = f"t{offset + self.threads_per_page}"
        return json_reply(body)

    def thread_record(self, thread: Thread) -> dict[str, Any]:
        record: dict[str, Any] = {
            "kind": "youtube#commentThread",
            "id": thread.top.id,
            "snippet": {
                "channelId": self.channel,
                "videoId": thread.top.post,
                "topLevelComment": self.comment_record(thread.top),
                "totalReplyCount": len(thread.replies),
                "canReply": True,
                "isPublic": True,
            },
        }
        if thread.replies:
            newest = sorted(thread.replies, key=lambda item: item.created)[-self.embedded_replies :]
            record["replies"] = {"comments": [self.comment_record(item) for item in newest]}
        return record

    def comment_record(self, item: Item) -> dict[str, Any]:
        snippet: dict[str, Any] = {
            "channelId": self.channel,
            "videoId": item.post,
            "textDisplay": item.text.replace("'", "&#39;"),
            "textOriginal": item.text,
            "authorDisplayName": f"@viewer-{item.author}",
            "authorChannelId": {"value": item.author},
            "likeCount": 0,
            "publishedAt": iso(item.created),
            "updatedAt": iso(item.created),
        }
        if item.parent:
            snippet["parentId"] = item.parent
        return {"kind": "youtube#comment", "id": item.id, "snippet": snippet}

    def replies_page(self, request: requests.PreparedRequest) -> Reply:
        query = query_of(request)
        thread = next(thread for thread in self.threads if thread.top.id == query["parentId"])
        offset = int(query.get("pageToken", "r0")[1:])
        oldest_first = sorted(thread.replies, key=lambda item: item.created)
        page, more = self.window(oldest_first, offset, self.replies_per_page)
        body: dict[str, Any] = {"items": [self.comment_record(item) for item in page]}
        if more:
            body["nextPageToken"] = f"r{offset + self.replies_per_page}"
        return json_reply(body)

    def covered(self, bookmark: Mapping[str, Any]) -> set[str]:
        since = datetime.fromisoformat(bookmark["since"]) - OVERLAP
        return {item.id for item in self.items if item.created < since}

    def bookmark_within(self, bookmark: Mapping[str, Any], stored: Sequence[Comment]) -> bool:
        counts = bookmark.get("reply_counts", {})
        counts_true = all(counts.get(thread.top.id, 0) <= len(thread.replies) for thread in self.threads)
        since = datetime.fromisoformat(bookmark["since"])
        return counts_true and since <= max(row.created_at for row in stored if row.created_at)


# X (API v2 recent search)


def snowflake(moment: datetime, sequence: int) -> int:
    return ((ms(moment) - SNOWFLAKE_EPOCH_MS) << 22) | (sequence & 0x3FFFFF)


class XFake(FakePlatform):
    platform = "x"
    base = "https://api.x.test/2"
    user_id = "1187654321098765312"
    username = "BrightwaterCare"
    per_page = 2

    @property
    def faults(self) -> tuple[Fault, ...]:
        reset_soon = Fault("X 429, reset in 20s", self.rate_limited(20))
        reset_later = Fault("X 429, reset in 10 min", self.rate_limited(600))
        remaining_zero = Fault("X x-rate-limit-remaining 0", self.last_request_in_window)
        return (*TRANSPORT, *HTTP_THROTTLING, reset_soon, reset_later, remaining_zero)

    def rate_limited(self, seconds: int) -> Callable[..., Reply]:
        def respond(request: requests.PreparedRequest, real: Any) -> Reply:
            body = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}
            return json_reply(body, 429, **self.limit_headers(seconds))

        return respond

    def last_request_in_window(self, request: requests.PreparedRequest, real: Callable[..., Reply]) -> Reply:
        code, headers, body = real(request)
        return code, {**headers, **self.limit_headers(300)}, body

    def limit_headers(self, seconds: int) -> dict[str, str]:
        return {
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(int(self.clock().timestamp()) + seconds),
        }

    def account(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "platform": "x",
            "base_url": self.base,
            "bearer_token": {"env": "SOAK_X_TOKEN"},
            "user_id": self.user_id,
            "username": self.username,
        }

    def env(self) -> dict[str, str]:
        return {"SOAK_X_TOKEN": "AAAA-soak-bearer"}

    def add(self, serial: int, moment: datetime) -> None:
        post_id = str(snowflake(moment, serial))
        item = Item(post_id, f"@{self.username} {self.text(serial)}", moment, "2052720166302650385")
        item.author = str(1390000000000000000 + serial % 7)
        self.items.append(item)

    def register(self, rsps: responses.RequestsMock) -> None:
        serve(rsps, "GET", f"{self.base}/tweets/search/recent", self.callback(self.search))

    def search(self, request: requests.PreparedRequest) -> Reply:
        query = query_of(request)
        if "since_id" in query:
            matching = [item for item in self.items if int(item.id) > int(query["since_id"])]
        else:
            start = datetime.fromisoformat(query["start_time"].replace("Z", "+00:00"))
            matching = [item for item in self.items if item.created >= start]
        newest_first = sorted(matching, key=lambda item: int(item.id), reverse=True)
        offset = int(query.get("next_token", "x0")[1:])
        page, more = self.window(newest_first, offset, self.per_page)
        if not page:
            return json_reply({"meta": {"result_count": 0}})
        meta: dict[str, Any] = {
            "newest_id": page[0].id,
            "oldest_id": page[-1].id,
            "result_count": len(page),
        }
        if more:
            meta["next_token"] = f"x{offset + self.per_page}"
        users = [{"id": item.author, "name": "Member", "username": f"m{item.author}"} for item in page]
        body = {"data": [self.post_record(item) for item in page], "includes": {"users": users}, "meta": meta}
        return json_reply(body)

    def post_record(self, item: Item) -> dict[str, Any]:
        return {
            "id": item.id,
            "text": item.text.replace("&", "&amp;"),
            "created_at": iso(item.created),
            "author_id": item.author,
            "conversation_id": item.post,
            "in_reply_to_user_id": self.user_id,
            "referenced_tweets": [{"type": "replied_to", "id": item.post}],
            "edit_history_tweet_ids": [item.id],
        }

    def covered(self, bookmark: Mapping[str, Any]) -> set[str]:
        return {item.id for item in self.items if int(item.id) <= int(bookmark["since_id"])}

    def bookmark_within(self, bookmark: Mapping[str, Any], stored: Sequence[Comment]) -> bool:
        return int(bookmark["since_id"]) <= max(int(row.external_id) for row in stored)


# LinkedIn (versioned REST API)


@dataclass
class LinkedInPost:
    urn: str
    created: datetime
    comments: list[Item] = field(default_factory=list)


def linkedin_throttled(request: requests.PreparedRequest, real: Any) -> Reply:
    body = {
        "status": 429,
        "serviceErrorCode": 101,
        "code": "TOO_MANY_REQUESTS",
        "message": "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
    }
    return json_reply(body, 429, **{"Retry-After": "120"})


class LinkedInFake(FakePlatform):
    platform = "linkedin"
    platform_faults = (Fault("LinkedIn 429 TOO_MANY_REQUESTS", linkedin_throttled),)
    base = "https://api.linkedin.test/rest"
    organisation = "urn:li:organization:5515715"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.posts: list[LinkedInPost] = []

    def account(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "platform": "linkedin",
            "base_url": self.base,
            "access_token": {"env": "SOAK_LINKEDIN_TOKEN"},
            "organization_urn": self.organisation,
        }

    def env(self) -> dict[str, str]:
        return {"SOAK_LINKEDIN_TOKEN": "AQV-soak-token"}

    def add(self, serial: int, moment: datetime) -> None:
        if not self.posts or self.rng.random() < 0.08:
            self.posts.append(LinkedInPost(f"urn:li:share:{7100000 + len(self.posts)}", moment - timedelta(minutes=1)))
        post = self.rng.choice(self.posts)
        tops = [item for item in post.comments if item.parent is None]
        parent = self.rng.choice(tops).id if tops and self.rng.random() < 0.3 else None
        urn = f"urn:li:comment:({post.urn},{6900000 + serial})"
        item = Item(urn, self.text(serial), moment, post.urn, parent, f"urn:li:person:m{serial % 9}")
        post.comments.append(item)
        self.items.append(item)

    def register(self, rsps: responses.RequestsMock) -> None:
        serve(rsps, "GET", f"{self.base}/posts", self.callback(self.posts_page))
        serve(rsps, "GET", f"{self.base}/socialMetadata", self.callback(self.metadata))
        for post in self.posts:
            for urn in (post.urn, *(item.id for item in post.comments)):
                serve(
                    rsps,
                    "GET",
                    f"{self.base}/socialActions/{quote(urn, safe='')}/comments",
                    self.callback(self.comments),
                )

    def posts_page(self, request: requests.PreparedRequest) -> Reply:
        query = query_of(request)
        start, count = int(query.get("start", 0)), int(query.get("count", 100))
        newest_first = sorted(self.posts, key=lambda post: post.created, reverse=True)
        page = [
            {"id": post.urn, "commentary": f"Update {post.urn[-3:]}", "createdAt": ms(post.created)}
            for post in newest_first[start : start + count]
        ]
        return json_reply({"paging": {"start": start, "count": count, "total": len(newest_first)}, "elements": page})

    def metadata(self, request: requests.PreparedRequest) -> Reply:
        listed = (request.url or "").split("List(", 1)[1].rsplit(")", 1)[0]
        urns = [unquote(each) for each in listed.split(",")]
        results = {}
        for post in self.posts:
            if post.urn in urns:
                top = sum(1 for item in post.comments if item.parent is None)
                results[post.urn] = {"commentSummary": {"count": len(post.comments), "topLevelCount": top}}
        return json_reply({"results": results, "errors": {}, "statuses": {}})

    def comments(self, request: requests.PreparedRequest) -> Reply:
        about = unquote(path_of(request).split("/socialActions/", 1)[1].removesuffix("/comments"))
        query = query_of(request)
        start, count = int(query.get("start", 0)), int(query.get("count", 100))
        if about.startswith("urn:li:share:"):
            post = next(post for post in self.posts if post.urn == about)
            records = [item for item in post.comments if item.parent is None]
        else:
            records = [item for item in self.items if item.parent == about]
        page, _ = self.window(records, start, count)
        return json_reply({"paging": {"start": start, "count": count}, "elements": [self.record(i) for i in page]})

    def record(self, item: Item) -> dict[str, Any]:
        number = item.id.rsplit(",", 1)[1].rstrip(")")
        replies = sum(1 for each in self.items if each.parent == item.id)
        record: dict[str, Any] = {
            "id": number,
            "object": item.post,
            "commentUrn": item.id,
            "actor": item.author,
            "created": {"actor": item.author, "time": ms(item.created)},
            "lastModified": {"actor": item.author, "time": ms(item.created)},
            "message": {"text": item.text, "attributes": []},
            "commentsSummary": {"aggregatedTotalComments": replies, "selectedComments": []},
        }
        if item.parent:
            record["parentComment"] = item.parent
        return record

    def covered(self, bookmark: Mapping[str, Any]) -> set[str]:
        counts = bookmark.get("posts", {})
        current = {post.urn for post in self.posts if counts.get(post.urn, [None])[0] == len(post.comments)}
        return {item.id for item in self.items if item.post in current}

    def bookmark_within(self, bookmark: Mapping[str, Any], stored: Sequence[Comment]) -> bool:
        counts_true = all(bookmark.get("posts", {}).get(post.urn, [0])[0] <= len(post.comments) for post in self.posts)
        newest = max(ms(row.created_at) for row in stored if row.created_at)
        return counts_true and int(bookmark["since"]) <= newest


# Mastodon (notifications)


@dataclass
class Notification:
    id: int
    item: Item


class MastodonFake(FakePlatform):
    platform = "mastodon"
    base = "https://social.mastodon.test"
    owner_id = "109000000000000001"
    page_size = 40

    @property
    def faults(self) -> tuple[Fault, ...]:
        return (*TRANSPORT, *HTTP_THROTTLING, Fault("Mastodon 429, X-RateLimit-Reset", self.rate_limited))

    def rate_limited(self, request: requests.PreparedRequest, real: Any) -> Reply:
        reset = (self.clock() + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
        return json_reply({"error": "Too many requests"}, 429, **headers)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.notifications: list[Notification] = []

    def account(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "platform": "mastodon",
            "base_url": self.base,
            "access_token": {"env": "SOAK_MASTODON_TOKEN"},
        }

    def env(self) -> dict[str, str]:
        return {"SOAK_MASTODON_TOKEN": "mastodon-soak-token"}

    def add(self, serial: int, moment: datetime) -> None:
        item = Item(str(112000000000000000 + serial), self.text(serial), moment, "111900000000000001")
        item.author = str(110000000000000000 + serial % 11)
        self.items.append(item)
        self.notifications.append(Notification(len(self.notifications) + 1000, item))

    def register(self, rsps: responses.RequestsMock) -> None:
        serve(rsps, "GET", f"{self.base}/api/v1/notifications", self.callback(self.page))
        serve(rsps, "GET", f"{self.base}/api/v1/accounts/verify_credentials", self.callback(self.whoami))

    def whoami(self, request: requests.PreparedRequest) -> Reply:
        return json_reply({"id": self.owner_id, "acct": "brightwater", "username": "brightwater"})

    def page(self, request: requests.PreparedRequest) -> Reply:
        query = query_of(request)
        limit = int(query.get("limit", self.page_size))
        newest_first = sorted(self.notifications, key=lambda n: n.id, reverse=True)
        if "max_id" in query:
            newest_first = [n for n in newest_first if n.id < int(query["max_id"])]
        if "min_id" in query:
            just_newer = [n for n in reversed(newest_first) if n.id > int(query["min_id"])][:limit]
            page = sorted(just_newer, key=lambda n: n.id, reverse=True)
        else:
            page = newest_first[:limit]
        if len(page) > 1 and self.plan.chance(0.2):
            self.plan.note("items out of order")
            page = self.rng.sample(page, len(page))
        headers: dict[str, str] = {}
        if page:
            kept = {key: value for key, value in query.items() if key not in ("max_id", "min_id")}
            oldest, newest = min(n.id for n in page), max(n.id for n in page)
            older = f"{self.base}/api/v1/notifications?{urlencode({**kept, 'max_id': oldest})}"
            newer = f"{self.base}/api/v1/notifications?{urlencode({**kept, 'min_id': newest})}"
            headers["Link"] = f'<{older}>; rel="next", <{newer}>; rel="prev"'
        return json_reply([self.record(n) for n in page], **headers)

    def record(self, notification: Notification) -> dict[str, Any]:
        item = notification.item
        account = {"id": item.author, "acct": f"member{item.author[-2:]}@other.test", "display_name": "A member"}
        return {
            "id": str(notification.id),
            "type": "mention",
            "created_at": iso(item.created),
            "account": account,
            "status": {
                "id": item.id,
                "created_at": iso(item.created),
                "in_reply_to_id": item.post,
                "content": f'<p><span class="h-card"><a href="{self.base}/@brightwater">@brightwater</a></span> '
                f"{item.text.replace('&', '&amp;')}</p>",
                "spoiler_text": "",
                "url": f"https://other.test/@member/{item.id}",
                "uri": f"https://other.test/users/member/statuses/{item.id}",
                "account": account,
                "edited_at": None,
            },
        }

    def covered(self, bookmark: Mapping[str, Any]) -> set[str]:
        return {n.item.id for n in self.notifications if n.id <= int(bookmark["min_id"])}

    def bookmark_within(self, bookmark: Mapping[str, Any], stored: Sequence[Comment]) -> bool:
        stored_ids = {row.external_id for row in stored}
        at_mark = [n for n in self.notifications if n.id <= int(bookmark["min_id"])]
        return bool(at_mark) and max(at_mark, key=lambda n: n.id).item.id in stored_ids


class UnreachableMastodonFake(MastodonFake):
    """An instance that is down for the whole soak: every connection is reset."""

    base = "https://down.mastodon.test"

    def account(self) -> dict[str, Any]:
        return {**super().account(), "access_token": {"env": "SOAK_DOWN_TOKEN"}}

    def env(self) -> dict[str, str]:
        return {"SOAK_DOWN_TOKEN": "mastodon-down-token"}

    def register(self, rsps: responses.RequestsMock) -> None:
        def reset(request: requests.PreparedRequest) -> Reply:
            return RESET.respond(request, reset)

        serve(rsps, "GET", f"{self.base}/api/v1/notifications", reset)
        serve(rsps, "GET", f"{self.base}/api/v1/accounts/verify_credentials", reset)


# Bluesky (AT Protocol)


class BlueskyFake(FakePlatform):
    platform = "bluesky"
    base = "https://bsky.test/xrpc"
    did = "did:plc:brightcare4x7qv2k3m"
    handle = "brightcare.bsky.social"
    per_page = 7
    token_life = timedelta(minutes=30)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.tokens: dict[str, datetime] = {}
        self.refresh_tokens: set[str] = set()
        self.sessions: dict[tuple[str, str], Session] = {}

    @property
    def faults(self) -> tuple[Fault, ...]:
        return (*TRANSPORT, *HTTP_THROTTLING, Fault("Bluesky 429 RateLimitExceeded, RateLimit-Reset", self.limited))

    def limited(self, request: requests.PreparedRequest, real: Any) -> Reply:
        headers = {
            "RateLimit-Limit": "3000",
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(int((self.clock() + timedelta(minutes=5)).timestamp())),
        }
        return json_reply({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, 429, **headers)

    def account(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "platform": "bluesky",
            "base_url": self.base,
            "handle": self.handle,
            "app_password": {"env": "SOAK_BLUESKY_PASSWORD"},
        }

    def env(self) -> dict[str, str]:
        return {"SOAK_BLUESKY_PASSWORD": "abcd-efgh-ijkl-mnop"}

    def add(self, serial: int, moment: datetime) -> None:
        author = f"did:plc:member{serial % 5}"
        item = Item(f"at://{author}/app.bsky.feed.post/3lq{serial:07d}", self.text(serial), moment, "", author=author)
        item.post = f"at://{self.did}/app.bsky.feed.post/3lpp7rw2bqk2y"
        self.items.append(item)

    def register(self, rsps: responses.RequestsMock) -> None:
        serve(rsps, "POST", f"{self.base}/com.atproto.server.createSession", self.callback(self.sign_in))
        serve(rsps, "POST", f"{self.base}/com.atproto.server.refreshSession", self.callback(self.refresh))
        serve(rsps, "GET", f"{self.base}/app.bsky.notification.listNotifications", self.callback(self.notifications))

    def issue(self) -> Reply:
        number = len(self.tokens) + 1
        access, refresh = f"access-{number}", f"refresh-{number}"
        self.tokens[access] = self.clock() + self.token_life
        self.refresh_tokens.add(refresh)
        return json_reply({"did": self.did, "handle": self.handle, "accessJwt": access, "refreshJwt": refresh})

    def sign_in(self, request: requests.PreparedRequest) -> Reply:
        return self.issue()

    def refresh(self, request: requests.PreparedRequest) -> Reply:
        token = str(request.headers.get("Authorization", "")).removeprefix("Bearer ")
        if token not in self.refresh_tokens:
            return json_reply({"error": "InvalidToken", "message": "Token could not be verified"}, 400)
        self.refresh_tokens.discard(token)
        return self.issue()

    def notifications(self, request: requests.PreparedRequest) -> Reply:
        token = str(request.headers.get("Authorization", "")).removeprefix("Bearer ")
        if token not in self.tokens:
            return json_reply({"error": "AuthenticationRequired", "message": "Invalid identifier"}, 401)
        if self.tokens[token] <= self.clock():
            self.plan.note("Bluesky ExpiredToken")
            return json_reply({"error": "ExpiredToken", "message": "Token has expired"}, 400)
        offset = int(query_of(request).get("cursor", "c0")[1:])
        newest_first = sorted(self.items, key=lambda item: item.created, reverse=True)
        page, more = self.window(newest_first, offset, self.per_page)
        body: dict[str, Any] = {"notifications": [self.record(item) for item in page]}
        if more:
            body["cursor"] = f"c{offset + self.per_page}"
        return json_reply(body)

    def record(self, item: Item) -> dict[str, Any]:
        return {
            "uri": item.id,
            "cid": f"bafyrei{abs(hash(item.id)) % 10**12}",
            "author": {"did": item.author, "handle": f"{item.author[-7:]}.bsky.social", "displayName": "Member"},
            "reason": "reply",
            "reasonSubject": item.post,
            "record": {
                "$type": "app.bsky.feed.post",
                "text": item.text,
                "createdAt": iso(item.created),
                "reply": {"root": {"uri": item.post, "cid": "bafyr"}, "parent": {"uri": item.post, "cid": "bafyr"}},
            },
            "isRead": False,
            "indexedAt": iso(item.created),
        }

    def covered(self, bookmark: Mapping[str, Any]) -> set[str]:
        if not bookmark.get("indexed_at"):
            return set()
        mark = datetime.fromisoformat(bookmark["indexed_at"])
        return {item.id for item in self.items if item.created < mark} | set(bookmark.get("uris") or [])

    def bookmark_within(self, bookmark: Mapping[str, Any], stored: Sequence[Comment]) -> bool:
        mark = datetime.fromisoformat(bookmark["indexed_at"])
        return mark <= max(row.created_at for row in stored if row.created_at)


# WordPress (REST API)

SITE_TIME = timedelta(hours=1)  # the site's clock runs on British Summer Time


class WordPressFake(FakePlatform):
    platform = "wordpress"
    base = "https://blog.brightwater.test"
    per_page = 4

    def account(self) -> dict[str, Any]:
        return {"name": self.name, "platform": "wordpress", "base_url": self.base}

    def add(self, serial: int, moment: datetime) -> None:
        tops = [item for item in self.items if item.parent is None]
        parent = self.rng.choice(tops).id if tops and self.rng.random() < 0.3 else None
        self.items.append(Item(str(300 + serial), self.text(serial), moment, "42", parent, f"Visitor {serial % 6}"))

    def register(self, rsps: responses.RequestsMock) -> None:
        serve(rsps, "GET", f"{self.base}/wp-json/wp/v2/comments", self.callback(self.comments))

    def comments(self, request: requests.PreparedRequest) -> Reply:
        query = query_of(request)
        after = datetime.fromisoformat(query["after"])
        site_after = (after + SITE_TIME).replace(tzinfo=None) if after.tzinfo else after
        matching = sorted(
            (item for item in self.items if self.site_date(item) > site_after), key=lambda item: item.created
        )
        number = int(query.get("page", 1))
        pages = max(1, -(-len(matching) // self.per_page))
        if number > pages:
            body = {"code": "rest_comment_invalid_page_number", "message": "The page number requested is larger."}
            return json_reply(body, 400)
        page, _ = self.window(matching, (number - 1) * self.per_page, self.per_page)
        headers = {"X-WP-Total": str(len(matching)), "X-WP-TotalPages": str(pages)}
        return json_reply([self.record(item) for item in page], **headers)

    @staticmethod
    def site_date(item: Item) -> datetime:
        return (item.created + SITE_TIME).replace(tzinfo=None, microsecond=0)

    def record(self, item: Item) -> dict[str, Any]:
        return {
            "id": int(item.id),
            "post": int(item.post),
            "parent": int(item.parent or 0),
            "author": 0,
            "author_name": item.author,
            "date": self.site_date(item).isoformat(),
            "date_gmt": item.created.replace(tzinfo=None, microsecond=0).isoformat(),
            "content": {"rendered": f"<p>{item.text.replace('&', '&amp;')}</p>\n"},
            "link": f"{self.base}/2026/05/open-day/#comment-{item.id}",
            "status": "approved",
            "type": "comment",
        }

    def covered(self, bookmark: Mapping[str, Any]) -> set[str]:
        mark = datetime.fromisoformat(bookmark["date"]) - timedelta(hours=1)
        return {item.id for item in self.items if self.site_date(item) < mark}

    def bookmark_within(self, bookmark: Mapping[str, Any], stored: Sequence[Comment]) -> bool:
        newest = max(row.created_at for row in stored if row.created_at)
        return datetime.fromisoformat(bookmark["date"]) <= (newest + SITE_TIME).replace(tzinfo=None)


# File (JSONL exports written while being read)


class FileFake(FakePlatform):
    """A directory of JSONL exports another program appends to, and sometimes rotates or half-writes."""

    platform = "file"

    def __init__(self, name: str, plan: FaultPlan, clock: Clock, seed: int, folder: Path) -> None:
        super().__init__(name, plan, clock, seed)
        self.folder = folder
        folder.mkdir()
        self.current = folder / "export-001.jsonl"
        self.pending = b""

    @property
    def faults(self) -> tuple[Fault, ...]:
        return ()

    def account(self) -> dict[str, Any]:
        return {"name": self.name, "platform": "file", "path": str(self.folder)}

    def add(self, serial: int, moment: datetime) -> None:
        record = {
            "id": f"file-{serial}",
            "text": self.text(serial),
            "created_at": moment.isoformat(),
            "author": f"Visitor {serial % 4}",
            "post_id": "open-day",
        }
        self.items.append(Item(record["id"], record["text"], moment, "open-day"))
        line = json.dumps(record).encode() + b"\n"
        if self.plan.chance(0.1):
            self.plan.note("file garbage line")
            line = b'{"id": "broken", "text": \n' + line
        if self.plan.chance(0.1):
            self.plan.note("file line not UTF-8")
            line = b'{"id": "latin", "text": "caf\xe9"}\n' + line
        if self.plan.chance(0.1):
            self.plan.note("same item on two pages")
            line += line
        self.write(line)

    def write(self, line: bytes) -> None:
        with self.current.open("ab") as handle:
            handle.write(self.pending)
            self.pending = b""
            if self.plan.chance(0.15):
                self.plan.note("file line half written")
                half = len(line) // 2
                handle.write(line[:half])
                self.pending = line[half:]
                return
            handle.write(line)
        if self.plan.chance(0.1):
            self.plan.note("file rotated")
            self.current = self.folder / f"export-{len(list(self.folder.iterdir())) + 1:03d}.jsonl"

    def finish_writing(self) -> None:
        if self.pending:
            with self.current.open("ab") as handle:
                handle.write(self.pending)
            self.pending = b""

    def expected(self) -> set[str]:
        return {item.id for item in self.items} if not self.pending else {item.id for item in self.items[:-1]}

    def register(self, rsps: responses.RequestsMock) -> None:
        return None

    def covered(self, bookmark: Mapping[str, Any]) -> set[str]:
        done = set()
        for name, stamp in bookmark.get("files", {}).items():
            path = self.folder / name
            if list(stamp) == [path.stat().st_size, path.stat().st_mtime_ns]:
                done |= self.complete_lines(path)
        return done

    @staticmethod
    def complete_lines(path: Path) -> set[str]:
        found = set()
        for raw in path.read_bytes().splitlines(keepends=True):
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if raw.endswith(b"\n") and str(record.get("id", "")).startswith("file-"):
                found.add(record["id"])
        return found

    def bookmark_within(self, bookmark: Mapping[str, Any], stored: Sequence[Comment]) -> bool:
        names = {path.name for path in self.folder.iterdir()}
        return set(bookmark.get("files", {})) <= names


# The soak


@dataclass
class Soak:
    store: Store
    pipeline: Pipeline
    settings: Settings
    fakes: dict[str, FakePlatform]
    broken: dict[str, FakePlatform]
    clock: Clock
    rsps: responses.RequestsMock
    outcomes: list[dict[str, PollOutcome]] = field(default_factory=list)
    bookmark_problems: list[str] = field(default_factory=list)

    def run(self) -> None:
        for _ in range(FAULT_CYCLES):
            self.cycle(grow=True)
        for fake in self.fakes.values():
            fake.plan.active = False
            if isinstance(fake, FileFake):
                fake.finish_writing()
        for _ in range(CLEAN_CYCLES):
            self.wait_out_every_not_before()
            self.cycle(grow=False)

    def cycle(self, grow: bool) -> None:
        before = self.clock()
        self.clock.moment += CYCLE
        if grow:
            for fake in self.fakes.values():
                fake.grow(fake.rng.choice((0, 1, 1, 2, 3)), before)
            if len(self.outcomes) == FAULT_CYCLES // 2:
                self.fakes["mastodon"].grow(45, before)  # more than a page of notifications at once
        self.register()
        results: dict[str, PollOutcome] = {}
        for account in self.settings.accounts:
            results[account.name] = self.pipeline.poll(account)
            if account.name in self.fakes:
                self.check_bookmark(account.name)
        self.outcomes.append(results)

    def register(self) -> None:
        """(Re)register every fake's endpoints: new posts and threads have URLs of their own."""
        self.rsps.reset()
        for fake in [*self.fakes.values(), *self.broken.values()]:
            fake.register(self.rsps)

    def account_id(self, name: str) -> int:
        row = self.store.account(name)
        assert row is not None and row.id is not None
        return row.id

    def stored(self, name: str) -> list[Comment]:
        with self.store.session() as session:
            return list(session.exec(select(Comment).where(Comment.account_id == self.account_id(name))))

    def check_bookmark(self, name: str) -> None:
        bookmark = self.store.bookmark(self.account_id(name))
        if bookmark is None:
            return
        stored = {row.external_id for row in self.stored(name)}
        missing = self.fakes[name].covered(bookmark) - stored
        if missing:
            self.bookmark_problems.append(f"cycle {len(self.outcomes)}: {name} bookmark {bookmark} claims {missing}")

    def wait_out_every_not_before(self) -> None:
        latest = max((row.not_before for row in self.store.accounts() if row.not_before), default=None)
        if latest is not None and latest > self.clock():
            self.clock.moment = latest


HEALTHY: tuple[tuple[str, type[FakePlatform]], ...] = (
    ("facebook", FacebookFake),
    ("instagram", InstagramFake),
    ("youtube", YouTubeFake),
    ("x", XFake),
    ("linkedin", LinkedInFake),
    ("mastodon", MastodonFake),
    ("bluesky", BlueskyFake),
    ("wordpress", WordPressFake),
)


def build_soak(folder: Path, monkeypatch: pytest.MonkeyPatch, rsps: responses.RequestsMock) -> Soak:
    from monitor.filter import Classifier, FilterSettings

    clock = Clock(START)
    fakes: dict[str, FakePlatform] = {
        name: kind(name, FaultPlan(seed * 7919, FAULT_RATE), clock, seed)
        for seed, (name, kind) in enumerate(HEALTHY, start=1)
    }
    fakes["file"] = FileFake("file", FaultPlan(4242, FAULT_RATE), clock, 99, folder / "exports")
    broken: dict[str, FakePlatform] = {
        "facebook-revoked": RevokedFacebookFake("facebook-revoked", FaultPlan(1, 0.0), clock, 1),
        "mastodon-down": UnreachableMastodonFake("mastodon-down", FaultPlan(2, 0.0), clock, 2),
    }
    for fake in fakes.values():
        fake.grow(12, START - timedelta(hours=6))
    for fake in [*fakes.values(), *broken.values()]:
        for variable, value in fake.env().items():
            monkeypatch.setenv(variable, value)
    accounts = [fake.account() for fake in [*fakes.values(), *broken.values()]]
    settings = from_mapping({"organisation": {"name": ORGANISATION}, "accounts": accounts})
    store = Store(f"sqlite:///{folder / 'soak.db'}")
    store.create_schema()
    classifier = Classifier.from_settings(FilterSettings(), [ORGANISATION])
    bluesky = fakes["bluesky"]
    assert isinstance(bluesky, BlueskyFake)

    def connector_for(account: AccountConfig) -> Connector:
        if account.platform == "bluesky":
            made: Connector = BlueskyConnector(account.connector, now=clock, sessions=bluesky.sessions)
        else:
            made = connector_class(account.platform)(account.connector, now=clock)
        made.http.sleep = lambda seconds: None
        return made

    pipeline = Pipeline(store, classifier, connector_for, clock)
    return Soak(store, pipeline, settings, fakes, broken, clock, rsps)


@pytest.fixture(scope="module")
def soak(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Soak]:
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        responses.RequestsMock(assert_all_requests_are_fired=False) as rsps,
    ):
        made = build_soak(tmp_path_factory.mktemp("soak"), monkeypatch, rsps)
        made.run()
        yield made
        made.store.close()


def test_every_comment_is_stored_exactly_once(soak: Soak) -> None:
    for name, fake in soak.fakes.items():
        stored = [row.external_id for row in soak.stored(name)]
        duplicates = [external_id for external_id, times in Counter(stored).items() if times > 1]
        assert duplicates == [], f"{name}: stored twice"
        expected = fake.expected()
        assert set(stored) - expected == set(), f"{name}: stored comments the platform never had"
        assert expected - set(stored) == set(), f"{name}: lost comments"
        assert len(stored) == len(expected) > 12


def test_no_bookmark_ever_ran_ahead_of_the_stored_comments(soak: Soak) -> None:
    assert soak.bookmark_problems == []
    for name, fake in soak.fakes.items():
        bookmark = soak.store.bookmark(soak.account_id(name))
        assert bookmark is not None, name
        assert fake.bookmark_within(bookmark, soak.stored(name)), f"{name}: {bookmark}"


def test_each_comment_is_classified_once_and_flagged_at_most_once(soak: Soak) -> None:
    with soak.store.session() as session:
        comments = session.exec(select(Comment.id)).all()
        flags = Counter(session.exec(select(Flag.comment_id)).all())
        verdicts = session.exec(select(Verdict.comment_id, Verdict.flagged)).all()
        pending = session.exec(select(Comment.id).where(col(Comment.classified_at).is_(None))).all()
    assert pending == []
    assert sorted(comment_id for comment_id, _ in verdicts) == sorted(comments)
    assert flags, "the soak's texts include threats and allegations; some must be flagged"
    assert max(flags.values()) == 1
    assert set(flags) == {comment_id for comment_id, flagged in verdicts if flagged}
    classified = sum(outcome.classified for cycle in soak.outcomes for outcome in cycle.values())
    assert classified == len(comments), "a comment fetched again unchanged was classified again"


def test_transient_faults_leave_every_account_polling(soak: Soak) -> None:
    final = soak.outcomes[-1]
    for name in soak.fakes:
        row = soak.store.account(name)
        assert row is not None
        assert (row.status, row.last_error) == ("ok", None), name
        assert final[name].status == "ok", f"{name}: {final[name]}"
        assert all(cycle[name].status != "auth_failed" for cycle in soak.outcomes), name
    secrets = {value for fake in soak.fakes.values() for value in fake.env().values()}
    for cycle in soak.outcomes:
        for outcome in cycle.values():
            assert not any(secret in (outcome.error or "") for secret in secrets)


def test_broken_accounts_do_not_hold_up_the_others(soak: Soak) -> None:
    revoked, down = soak.store.account("facebook-revoked"), soak.store.account("mastodon-down")
    assert revoked is not None and revoked.status == "auth_failed"
    assert down is not None and down.status == "failing"
    fault_cycles = soak.outcomes[:FAULT_CYCLES]
    assert {cycle["mastodon-down"].status for cycle in fault_cycles} == {"retry"}
    assert [cycle["facebook-revoked"].status for cycle in fault_cycles[:2]] == ["auth_failed", "skipped"]
    for number, cycle in enumerate(fault_cycles):
        progressed = [name for name in soak.fakes if cycle[name].status == "ok"]
        assert progressed, f"cycle {number}: no account progressed beside the broken ones"
    for name in soak.fakes:
        assert sum(cycle[name].new for cycle in fault_cycles[1:]) > 0, f"{name} stored nothing during the faults"


def test_every_kind_of_fault_was_injected(soak: Soak) -> None:
    extra = {
        "facebook": {"same item on two pages", "items out of order"},
        "instagram": {"same item on two pages", "items out of order"},
        "youtube": {"same item on two pages", "items out of order"},
        "x": {"same item on two pages", "items out of order"},
        "linkedin": {"items out of order"},
        "mastodon": {"items out of order"},
        "bluesky": {"same item on two pages", "items out of order", "Bluesky ExpiredToken"},
        "wordpress": {"same item on two pages", "items out of order"},
        "file": {
            "file garbage line",
            "file line not UTF-8",
            "file line half written",
            "file rotated",
            "same item on two pages",
        },
    }
    for name, fake in soak.fakes.items():
        wanted = {fault.name for fault in fake.faults} | extra[name]
        assert wanted - set(fake.plan.injected) == set(), f"{name} never saw these faults"
    statuses = Counter(o.status for cycle in soak.outcomes for name, o in cycle.items() if name in soak.fakes)
    assert statuses["retry"] > 0 and statuses["skipped"] > 0 and statuses["ok"] > 0


# A 200 whose body is JSON but not the shape asked for ({} where a page was due)


def fetch_like_the_pipeline(connector: Connector, bookmark: dict[str, Any] | None) -> tuple[set[str], Any]:
    """Comments kept and the bookmark that stands, batch by batch, until the fetch ends or fails."""
    from connectors import ConnectorError

    kept: set[str] = set()
    try:
        for batch in connector.fetch(bookmark):
            kept |= {comment.external_id for comment in batch.comments}
            bookmark = batch.bookmark if batch.bookmark is not None else bookmark
    except ConnectorError:
        pass
    return kept, bookmark


# Which request of a first poll answers ``{}``: the second, or for LinkedIn the first comments read.
EMPTY_AT = {"linkedin": 3}


@pytest.mark.parametrize("kind", [kind for _, kind in HEALTHY], ids=[name for name, _ in HEALTHY])
def test_an_empty_object_in_place_of_a_page_loses_no_comment(
    kind: type[FakePlatform], monkeypatch: pytest.MonkeyPatch, rsps: responses.RequestsMock
) -> None:
    """One request of a first poll answers 200 ``{}``; that poll and the next must still read every comment."""
    clock = Clock(START)
    fake = kind(kind.platform, FaultPlan(5, 0.0), clock, 5)
    fake.grow(30, START - timedelta(hours=6))
    fake.plan.active = False
    seen: list[str] = []

    def second_request_is_empty(handler: Callable[[requests.PreparedRequest], Reply]) -> Callable[..., Reply]:
        def callback(request: requests.PreparedRequest) -> Reply:
            if "Session" not in path_of(request):
                seen.append(path_of(request))
            spoiled = len(seen) == EMPTY_AT.get(fake.platform, 2) and "Session" not in path_of(request)
            return json_reply({}) if spoiled else handler(request)

        return callback

    fake.callback = second_request_is_empty  # type: ignore[method-assign]
    for variable, value in fake.env().items():
        monkeypatch.setenv(variable, value)
    account = from_mapping({"accounts": [fake.account()]}).accounts[0].connector
    fake.register(rsps)
    kept: set[str] = set()
    bookmark = None
    for _ in range(2):
        connector = connector_class(fake.platform)(account, now=clock)
        connector.http.sleep = lambda seconds: None
        comments, bookmark = fetch_like_the_pipeline(connector, bookmark)
        kept |= comments
        clock.moment += CYCLE
    assert len(seen) > 2
    assert fake.expected() - kept == set()


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
