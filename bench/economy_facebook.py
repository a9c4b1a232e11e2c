"""What a Facebook poll costs: a Page with 500 recent posts, first poll then a poll with nothing new.

Graph is played by ``responses`` with the real shapes: posts pages of 100 with
the newest comments embedded by field expansion, ``paging.next`` on the last
full page leading to an empty page, and each post's comments edge paged by an
``after`` cursor. Run it as a script to print the figures.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
import responses

from connectors.facebook import FacebookConnector, FacebookSettings
from monitor.secrets import Secret

BASE = "https://graph.facebook.com"
VERSION = "v23.0"
PAGE_ID = "104512345678901"
POSTS = 500
FIRST_POLL = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
STEADY_POLL = FIRST_POLL + timedelta(minutes=5)


@dataclass
class FakePage:
    """One Page's posts and comments, served the way Graph pages them."""

    posts: list[dict[str, Any]]
    comments: dict[str, list[dict[str, Any]]]
    posts_pages_served: int = field(default=0)

    def register(self, rsps: responses.RequestsMock) -> None:
        rsps.add_callback(
            responses.GET, re.compile(rf"{re.escape(BASE)}/{VERSION}/{PAGE_ID}/feed(\?.*)?$"), self.posts_page
        )
        rsps.add_callback(
            responses.GET, re.compile(rf"{re.escape(BASE)}/{VERSION}/(\d+_\d+)/comments(\?.*)?$"), self.edge_page
        )

    def posts_page(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        self.posts_pages_served += 1
        query = _query(request)
        offset, limit = int(query.get("after", "0")), int(query.get("limit", "25"))
        embedded = _embedded_limit(query.get("fields", ""))
        chunk = self.posts[offset : offset + limit]
        body: dict[str, Any] = {"data": [self._with_comments(post, embedded) for post in chunk]}
        if chunk:
            following = {key: value for key, value in query.items() if key != "after"}
            body["paging"] = {
                "cursors": {"before": str(offset), "after": str(offset + limit)},
                "next": f"{BASE}/{VERSION}/{PAGE_ID}/feed?{urlencode({**following, 'after': offset + limit})}",
            }
        return 200, {}, json.dumps(body)

    def edge_page(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        post_id = urlsplit(request.url or "").path.split("/")[2]
        query = _query(request)
        return 200, {}, json.dumps(self._comment_page(post_id, int(query.get("after", "0")), int(query["limit"])))

    def _with_comments(self, post: dict[str, Any], limit: int) -> dict[str, Any]:
        page = self._comment_page(post["id"], 0, limit)
        return {**post, "comments": page} if page["data"] else post

    def _comment_page(self, post_id: str, offset: int, limit: int) -> dict[str, Any]:
        newest_first = self.comments[post_id]
        chunk = newest_first[offset : offset + limit]
        paging: dict[str, Any] = {"cursors": {"before": str(offset), "after": str(offset + limit)}}
        if offset + limit < len(newest_first):
            query = urlencode(
                {"filter": "stream", "order": "reverse_chronological", "limit": limit, "after": offset + limit}
            )
            paging["next"] = f"{BASE}/{VERSION}/{post_id}/comments?{query}"
        return {"data": chunk, "paging": paging}


def build_page(posts: int = POSTS) -> FakePage:
    """Posts every 40 minutes back from the first poll; every seventh post has a busy thread."""
    made: list[dict[str, Any]] = []
    comments: dict[str, list[dict[str, Any]]] = {}
    for index in range(posts):
        created = FIRST_POLL - timedelta(hours=1, minutes=40 * index)
        post_key = str(1220000000000000 + index)
        post_id = f"{PAGE_ID}_{post_key}"
        made.append(
            {
                "id": post_id,
                "message": f"News from Brightwater Care, update {posts - index}",
                "permalink_url": f"https://www.facebook.com/{PAGE_ID}/posts/{post_key}/",
                "created_time": _graph_time(created),
            }
        )
        count = 40 if index % 7 == 0 else index % 5
        thread = [_comment(post_key, created + timedelta(minutes=1 + n), n) for n in range(count)]
        comments[post_id] = list(reversed(thread))
    return FakePage(made, comments)


def measure() -> dict[str, Any]:
    page = build_page()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        page.register(rsps)
        first = _connector(FIRST_POLL)
        batches = list(first.fetch(None))
        stored = sum(len(batch.comments) for batch in batches)
        page.posts_pages_served = 0
        steady = _connector(STEADY_POLL)
        list(steady.fetch(batches[-1].bookmark))
    return {
        "platform": "facebook",
        "posts": POSTS,
        "comments_read_on_first_poll": stored,
        "first_poll_requests": first.http.requests_made,
        "steady_state_requests": steady.http.requests_made,
        "naive_requests": POSTS + page.posts_pages_served,
    }


def _connector(now: datetime) -> FacebookConnector:
    settings = FacebookSettings(
        name="bench-facebook", platform="facebook", page_id=PAGE_ID, access_token=Secret("bench-token", "bench")
    )
    return FacebookConnector(settings, now=lambda: now)


def _comment(post_key: str, created: datetime, number: int) -> dict[str, Any]:
    comment_key = str(1230000000000000 + int(post_key[-6:]) * 100 + number)
    return {
        "id": f"{post_key}_{comment_key}",
        "from": {"id": str(7010000000000000 + number), "name": f"Supporter {number}"},
        "message": f"Lovely to see, comment {number}",
        "created_time": _graph_time(created),
        "permalink_url": f"https://www.facebook.com/{PAGE_ID}/posts/{post_key}/?comment_id={comment_key}",
        "is_hidden": False,
    }


def _graph_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _embedded_limit(fields: str) -> int:
    match = re.search(r"\.limit\((\d+)\)", fields)
    return int(match.group(1)) if match else 25


def _query(request: requests.PreparedRequest) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(request.url or "").query).items()}


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
