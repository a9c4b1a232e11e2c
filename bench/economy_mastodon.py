"""What a Mastodon poll costs: an account with 500 recent posts, first poll then a poll with nothing new.

``FakeInstance`` plays a Mastodon server's notifications endpoint with its real
paging: newest first, ``max_id``/``since_id``/``min_id`` as Mastodon reads
them, and a ``Link`` header with ``rel="next"`` (older) and ``rel="prev"``
(newer). Run it as a script to print the figures.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
import responses

from connectors.base import Batch
from connectors.http import HttpClient
from connectors.mastodon import MastodonConnector, MastodonSettings
from monitor.secrets import Secret

INSTANCE = "https://social.example.org"
OWNER_ID = "109000000000000001"
POSTS = 500
REPLIES_PER_POST = 3
FIRST_POLL = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
STEADY_POLL = FIRST_POLL + timedelta(minutes=5)


def mention(number: int, created_at: datetime, text: str = "Thanks for sharing") -> dict[str, Any]:
    """A ``mention`` notification whose status replies to one of the owner's posts."""
    status_id = str(112000000000000000 + number)
    account = {
        "id": str(110000000000000000 + number % 97),
        "username": f"user{number % 97}",
        "acct": f"user{number % 97}@mastodon.example",
        "display_name": f"User {number % 97}",
        "url": f"https://mastodon.example/@user{number % 97}",
    }
    stamp = created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "id": str(number),
        "type": "mention",
        "created_at": stamp,
        "group_key": f"ungrouped-{number}",
        "account": account,
        "status": {
            "id": status_id,
            "created_at": stamp,
            "in_reply_to_id": str(111000000000000000 + number // REPLIES_PER_POST),
            "in_reply_to_account_id": OWNER_ID,
            "spoiler_text": "",
            "visibility": "public",
            "uri": f"https://mastodon.example/users/{account['username']}/statuses/{status_id}",
            "url": f"https://mastodon.example/@{account['username']}/{status_id}",
            "edited_at": None,
            "content": (
                '<p><span class="h-card" translate="no"><a href="https://social.example.org/@brightcare" '
                f'class="u-url mention">@<span>brightcare</span></a></span> {text} #{number}</p>'
            ),
            "account": account,
            "mentions": [{"id": OWNER_ID, "username": "brightcare", "acct": "brightcare"}],
        },
    }


@dataclass
class FakeInstance:
    """A Mastodon server's ``/api/v1/notifications``, paged the way Mastodon pages it."""

    notifications: list[dict[str, Any]] = field(default_factory=list)
    requests_seen: list[dict[str, str]] = field(default_factory=list)
    remaining: int = 299

    def register(self, rsps: responses.RequestsMock) -> None:
        url = re.compile(rf"{re.escape(INSTANCE)}/api/v1/notifications(\?.*)?$")
        rsps.add_callback(responses.GET, url, callback=self.reply)

    def add(self, *records: dict[str, Any]) -> None:
        self.notifications.extend(records)

    def reply(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = dict(parse_qsl(urlsplit(request.url or "").query))
        self.requests_seen.append(query)
        page = self.page(query)
        headers = {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": "2026-05-10T12:05:00.000000Z",
        }
        if page:
            headers["Link"] = self.links(query, page)
        return 200, headers, json.dumps(page)

    def page(self, query: dict[str, str]) -> list[dict[str, Any]]:
        limit = min(int(query.get("limit", "40")), 80)
        newest_first = sorted(self.notifications, key=lambda record: int(record["id"]), reverse=True)
        if "max_id" in query:
            newest_first = [r for r in newest_first if int(r["id"]) < int(query["max_id"])]
        if "since_id" in query:
            newest_first = [r for r in newest_first if int(r["id"]) > int(query["since_id"])]
        if "min_id" in query:
            newer = [r for r in newest_first if int(r["id"]) > int(query["min_id"])]
            return list(reversed(list(reversed(newer))[:limit]))
        return newest_first[:limit]

    @staticmethod
    def links(query: dict[str, str], page: list[dict[str, Any]]) -> str:
        kept = {key: value for key, value in query.items() if key not in ("max_id", "min_id", "since_id")}
        older = urlencode({**kept, "max_id": page[-1]["id"]})
        newer = urlencode({**kept, "min_id": page[0]["id"]})
        base = f"{INSTANCE}/api/v1/notifications"
        return f'<{base}?{older}>; rel="next", <{base}?{newer}>; rel="prev"'


def connector(now: datetime, http: HttpClient | None = None) -> MastodonConnector:
    settings = MastodonSettings(
        name="mastodon",
        platform="mastodon",
        base_url=INSTANCE,
        access_token=Secret("bench-mastodon-token", "bench"),
        account_id=OWNER_ID,
    )
    return MastodonConnector(settings, http=http, now=lambda: now)


def poll(made: MastodonConnector, bookmark: dict[str, Any] | None) -> tuple[int, dict[str, Any] | None, int]:
    """Run one fetch; return (requests made, final bookmark, comments read)."""
    before = made.http.requests_made
    batches: list[Batch] = list(made.fetch(bookmark))
    for batch in batches:
        bookmark = batch.bookmark or bookmark
    return made.http.requests_made - before, bookmark, sum(len(batch.comments) for batch in batches)


def recent_account() -> FakeInstance:
    """500 posts from the last 12 days, each with three replies, as mention notifications."""
    instance = FakeInstance()
    replies = POSTS * REPLIES_PER_POST
    spacing = timedelta(days=12) / replies
    for number in range(1, replies + 1):
        instance.add(mention(number, FIRST_POLL - (replies - number) * spacing))
    return instance


def measure() -> dict[str, Any]:
    instance = recent_account()
    with responses.RequestsMock() as rsps:
        instance.register(rsps)
        first_requests, bookmark, first_comments = poll(connector(FIRST_POLL), None)
        steady_requests, _, _ = poll(connector(STEADY_POLL), bookmark)
    return {
        "platform": "mastodon",
        "first_poll_requests": first_requests,
        "first_poll_comments": first_comments,
        "steady_state_requests": steady_requests,
        # statuses of the account (40 a page) and then each status's /context.
        "naive_requests": -(-POSTS // 40) + POSTS,
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
