"""What an X poll costs: an account with 500 recent posts, first poll then a poll with nothing new.

Recent search is played by ``responses`` with the real shapes: newest first,
``max_results`` per page, ``meta.next_token`` while more remain, ``since_id``
and ``start_time`` honoured, the seven-day window enforced, and
``meta.result_count: 0`` with no ``data`` key when nothing matches. The naive
figure is one ``conversation_id:`` search per recent post plus one mentions
read. Run it as a script to print the figures.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import responses

from connectors.x import XConnector, XSettings, snowflake_time
from monitor.secrets import Secret

BASE = "https://api.x.com/2"
OWNER_ID = "1187654321098765312"
USERNAME = "BrightwaterCare"
POSTS = 500
FIRST_POLL = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
STEADY_POLL = FIRST_POLL + timedelta(minutes=5)
SNOWFLAKE_EPOCH_MS = 1288834974657


@dataclass
class FakeSearch:
    """Replies to an account's posts, served the way recent search pages them."""

    replies: list[dict[str, Any]]
    users: dict[str, dict[str, str]]
    now: datetime = FIRST_POLL

    def register(self, rsps: responses.RequestsMock) -> None:
        rsps.add_callback(responses.GET, re.compile(rf"{re.escape(BASE)}/tweets/search/recent(\?.*)?$"), self.page)

    def page(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = {key: values[0] for key, values in parse_qs(urlsplit(request.url or "").query).items()}
        oldest = self.now - timedelta(days=7)
        if "start_time" in query:
            oldest = max(oldest, datetime.fromisoformat(query["start_time"].replace("Z", "+00:00")))
        since = int(query.get("since_id", "0"))
        matching = [
            reply for reply in self.replies if int(reply["id"]) > since and snowflake_time(reply["id"]) >= oldest
        ]
        offset, size = int(query.get("next_token", "0")), int(query.get("max_results", "10"))
        chunk = matching[offset : offset + size]
        meta: dict[str, Any] = {"result_count": len(chunk)}
        if not chunk:
            return 200, {}, json.dumps({"meta": meta})
        meta |= {"newest_id": chunk[0]["id"], "oldest_id": chunk[-1]["id"]}
        if offset + size < len(matching):
            meta["next_token"] = str(offset + size)
        authors = {reply["author_id"] for reply in chunk}
        body = {"data": chunk, "includes": {"users": [self.users[a] for a in sorted(authors)]}, "meta": meta}
        return 200, {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "440"}, json.dumps(body)


def build_account(posts: int = POSTS) -> FakeSearch:
    """A post every three hours back from the first poll; most draw a reply or two, every ninth a thread."""
    replies: list[dict[str, Any]] = []
    users = {OWNER_ID: {"id": OWNER_ID, "name": "Brightwater Care", "username": USERNAME}}
    for index in range(posts):
        posted = FIRST_POLL - timedelta(hours=1 + 3 * index)
        post_id = _snowflake(posted, 0)
        count = 12 if index % 9 == 0 else index % 3
        for number in range(count):
            author = str(1390000000000000000 + number)
            users[author] = {"id": author, "name": f"Supporter {number}", "username": f"supporter{number}"}
            replies.append(_reply(post_id, posted + timedelta(minutes=2 + 5 * number), author, number))
    replies.sort(key=lambda reply: int(reply["id"]), reverse=True)
    return FakeSearch(replies, users)


def measure() -> dict[str, Any]:
    account = build_account()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        account.register(rsps)
        first = _connector(FIRST_POLL)
        batches = list(first.fetch(None))
        account.now = STEADY_POLL
        steady = _connector(STEADY_POLL)
        steady_batches = list(steady.fetch(batches[-1].bookmark))
    return {
        "platform": "x",
        "posts": POSTS,
        "comments_read_on_first_poll": sum(len(batch.comments) for batch in batches),
        "comments_read_on_steady_poll": sum(len(batch.comments) for batch in steady_batches),
        "first_poll_requests": first.http.requests_made,
        "steady_state_requests": steady.http.requests_made,
        "naive_requests": POSTS + 1,
    }


def _connector(now: datetime) -> XConnector:
    settings = XSettings(
        name="bench-x", platform="x", bearer_token=Secret("bench-token", "bench"), user_id=OWNER_ID, username=USERNAME
    )
    return XConnector(settings, now=lambda: now)


def _reply(post_id: str, created: datetime, author: str, number: int) -> dict[str, Any]:
    reply_id = _snowflake(created, number + 1)
    return {
        "id": reply_id,
        "text": f"@{USERNAME} Lovely to see, reply {number}",
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "author_id": author,
        "conversation_id": post_id,
        "in_reply_to_user_id": OWNER_ID,
        "referenced_tweets": [{"type": "replied_to", "id": post_id}],
        "edit_history_tweet_ids": [reply_id],
    }


def _snowflake(moment: datetime, sequence: int) -> str:
    return str(((int(moment.timestamp() * 1000) - SNOWFLAKE_EPOCH_MS) << 22) | sequence)


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
