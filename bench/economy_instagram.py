"""Requests an Instagram poll costs on a business account with 500 recent posts.

A served account (``responses``, real Graph API shapes) has 500 media, one
every four hours, so all of them lie inside the connector's 90-day watch
window; most have a few comments, every 50th has more than one embedded page,
and some comments have replies. The figures: the first poll, a steady-state
poll with nothing new, and a naive poll that reads each media's comments edge
(and each comment's replies edge) one by one.

Instagram has no account-wide comment feed (only webhooks), so a poll has to
look at every watched media at least once: the floor is one listing request
per ``media_limit`` (100) media.

Run: ``python bench/economy_instagram.py``
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
import responses

from connectors.instagram import InstagramConnector, InstagramSettings
from monitor.secrets import Secret

BASE = "https://graph.facebook.com"
VERSION = "v23.0"
ACCOUNT = "17841400000009999"
NOW = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
POSTS = 500
DEFAULT_GRAPH_PAGE = 25
COMMENTS_EDGE = re.compile(rf"{re.escape(BASE)}/{VERSION}/\d+/comments")

Callback = Callable[[requests.PreparedRequest], tuple[int, dict[str, str], str]]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _comment(comment_id: str, user: str, text: str, at: datetime) -> dict[str, Any]:
    return {
        "id": comment_id,
        "text": text,
        "timestamp": _stamp(at),
        "username": user,
        "from": {"id": f"178414{abs(hash(user)) % 10**11:011d}", "username": user},
        "hidden": False,
    }


def build_account() -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Media newest first (without embedded comments), and each media's comments newest first."""
    media: list[dict[str, Any]] = []
    comments: dict[str, list[dict[str, Any]]] = {}
    for post in range(POSTS):
        media_id = f"179{post:014d}"
        posted = NOW - timedelta(hours=4 * post + 2)
        count = 40 if post % 50 == 0 else post % 6
        own = []
        for number in range(count):
            at = posted + timedelta(minutes=count - number)
            record = _comment(f"178{post:09d}{number:05d}", f"visitor{number}", "So lovely to see", at)
            if number % 3 == 0:
                reply_at = at + timedelta(seconds=30)
                record["replies"] = {"data": [_comment(f"{record['id']}9", "benchcare", "Thank you!", reply_at)]}
            own.append(record)
        comments[media_id] = own
        replies = sum(len(record.get("replies", {}).get("data", [])) for record in own)
        media.append(
            {
                "id": media_id,
                "permalink": f"https://www.instagram.com/p/Bench{post:06d}/",
                "caption": f"Activity day number {post}",
                "timestamp": _stamp(posted),
                "username": "benchcare",
                "comments_count": count + replies,
            }
        )
    return media, comments


def _page_of(items: list[Any], after: str | None, size: int, next_url: str, query: dict[str, str]) -> dict[str, Any]:
    """One page of ``items``; like Graph, the next URL repeats every parameter of the request."""
    start = int(after or 0)
    body: dict[str, Any] = {"data": items[start : start + size]}
    body["paging"] = {"cursors": {"before": f"b{start}", "after": str(start + size)}}
    if start + size < len(items):
        body["paging"]["next"] = f"{next_url}?{urlencode({**query, 'limit': size, 'after': start + size})}"
    return body


def _embedded_limit(fields: str) -> int:
    return int(fields.split("comments.limit(", 1)[1].split(")", 1)[0])


def _edge_url(media_id: str) -> str:
    return f"{BASE}/{VERSION}/{media_id}/comments"


def _media_callback(media: list[dict[str, Any]], comments: dict[str, list[dict[str, Any]]]) -> Callback:
    listing_url = f"{BASE}/{VERSION}/{ACCOUNT}/media"

    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url or "").query)
        size = int(query.get("limit", ["25"])[0])
        fields = query.get("fields", [""])[0]
        body = _page_of(media, query.get("after", [None])[0], size, listing_url, {"fields": fields})
        if "comments.limit(" in fields:
            limit = _embedded_limit(fields)
            edge_fields = {"fields": fields.split("comments.limit(", 1)[1].split("{", 1)[1][:-1]}
            body["data"] = [
                {**item, "comments": _page_of(own, None, limit, _edge_url(item["id"]), edge_fields)}
                if (own := comments[item["id"]])
                else item
                for item in body["data"]
            ]
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    return reply


def _comments_callback(comments: dict[str, list[dict[str, Any]]]) -> Callback:
    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        parts = urlsplit(request.url or "")
        media_id = parts.path.split("/")[-2]
        query = parse_qs(parts.query)
        size = int(query.get("limit", ["25"])[0])
        fields = {"fields": query.get("fields", [""])[0]}
        body = _page_of(comments[media_id], query.get("after", [None])[0], size, _edge_url(media_id), fields)
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    return reply


def _connector() -> InstagramConnector:
    settings = InstagramSettings(
        name="bench", platform="instagram", ig_user_id=ACCOUNT, access_token=Secret("bench-access-token", "bench")
    )
    return InstagramConnector(settings, now=lambda: NOW)


def naive_requests(media: list[dict[str, Any]], comments: dict[str, list[dict[str, Any]]]) -> int:
    """Listing at Graph's default page size, then each media's comments and each comment's replies."""
    listing = math.ceil(len(media) / DEFAULT_GRAPH_PAGE)
    per_media = sum(max(1, math.ceil(len(own) / DEFAULT_GRAPH_PAGE)) for own in comments.values())
    per_comment = sum(1 for own in comments.values() for record in own if "replies" in record)
    return listing + per_media + per_comment


def measure() -> dict[str, Any]:
    media, comments = build_account()
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, f"{BASE}/{VERSION}/{ACCOUNT}/media", callback=_media_callback(media, comments))
        rsps.add_callback(responses.GET, COMMENTS_EDGE, callback=_comments_callback(comments))

        first = _connector()
        batches = list(first.fetch(None))
        bookmark = batches[-1].bookmark

        steady = _connector()
        list(steady.fetch(bookmark))

    return {
        "platform": "instagram",
        "posts": POSTS,
        "first_poll_requests": first.http.requests_made,
        "steady_state_requests": steady.http.requests_made,
        "naive_requests": naive_requests(media, comments),
    }


if __name__ == "__main__":
    for key, value in measure().items():
        print(f"{key}: {value}")
