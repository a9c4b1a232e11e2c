"""What a Bluesky poll costs: an account with 500 recent posts, first poll then a poll with nothing new.

``FakeBluesky`` plays the XRPC endpoints the connector uses: sign-in,
refresh, and ``listNotifications`` newest first with an opaque ``cursor`` and
the ``reasons`` filter. Every poll is made by a new connector, as the service
does; the session is kept for the process, so only the first poll signs in.
Run it as a script to print the figures.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import responses

from connectors.base import Batch
from connectors.bluesky import BlueskyConnector, BlueskySettings, Session
from monitor.secrets import Secret

XRPC = "https://bsky.social/xrpc"
OWNER_DID = "did:plc:brightcare4x7qv2k3m"
HANDLE = "brightcare.bsky.social"
POSTS = 500
REPLIES_PER_POST = 3
LIKES_PER_POST = 5
FIRST_POLL = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
STEADY_POLL = FIRST_POLL + timedelta(minutes=5)


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def jwt(expires: datetime, scope: str = "com.atproto.appPass") -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    claims = {"scope": scope, "sub": OWNER_DID, "exp": int(expires.timestamp())}
    return f"{part({'typ': 'at+jwt', 'alg': 'ES256K'})}.{part(claims)}.c2ln"


def post_uri(did: str, number: int) -> str:
    return f"at://{did}/app.bsky.feed.post/3lp{number:010d}"


def reply(number: int, indexed: datetime, text: str = "Thanks for sharing") -> dict[str, Any]:
    """A ``reply`` notification to one of the owner's posts."""
    did = f"did:plc:user{number % 97:04d}"
    root = post_uri(OWNER_DID, number // REPLIES_PER_POST)
    return {
        "uri": post_uri(did, number),
        "cid": f"bafyrei{number:020d}",
        "author": {"did": did, "handle": f"user{number % 97}.bsky.social", "displayName": f"User {number % 97}"},
        "reason": "reply",
        "reasonSubject": root,
        "record": {
            "$type": "app.bsky.feed.post",
            "createdAt": stamp(indexed - timedelta(milliseconds=400)),
            "reply": {"parent": {"uri": root, "cid": "bafyreiroot"}, "root": {"uri": root, "cid": "bafyreiroot"}},
            "text": f"{text} #{number}",
        },
        "isRead": False,
        "indexedAt": stamp(indexed),
        "labels": [],
    }


def like(number: int, indexed: datetime) -> dict[str, Any]:
    did = f"did:plc:fan{number % 89:04d}"
    return {
        "uri": f"at://{did}/app.bsky.feed.like/3lk{number:010d}",
        "cid": f"bafyreilike{number:016d}",
        "author": {"did": did, "handle": f"fan{number % 89}.bsky.social"},
        "reason": "like",
        "reasonSubject": post_uri(OWNER_DID, number // LIKES_PER_POST),
        "record": {"$type": "app.bsky.feed.like", "createdAt": stamp(indexed)},
        "isRead": True,
        "indexedAt": stamp(indexed),
        "labels": [],
    }


@dataclass
class FakeBluesky:
    """The XRPC endpoints of one account's PDS, as the connector calls them."""

    notifications: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    listed: list[dict[str, list[str]]] = field(default_factory=list)
    session_lifetime: timedelta = timedelta(hours=2)
    now: datetime = FIRST_POLL

    def register(self, rsps: responses.RequestsMock) -> None:
        for method in ("com.atproto.server.createSession", "com.atproto.server.refreshSession"):
            rsps.add_callback(responses.POST, f"{XRPC}/{method}", callback=self.session)
        url = re.compile(rf"{re.escape(XRPC)}/app\.bsky\.notification\.listNotifications(\?.*)?$")
        rsps.add_callback(responses.GET, url, callback=self.list_notifications)

    def add(self, *records: dict[str, Any]) -> None:
        self.notifications.extend(records)

    def session(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        self.calls.append(urlsplit(request.url or "").path.rsplit("/", 1)[-1])
        body = {
            "did": OWNER_DID,
            "handle": HANDLE,
            "accessJwt": jwt(self.now + self.session_lifetime),
            "refreshJwt": jwt(self.now + timedelta(days=90), "com.atproto.refresh"),
            "active": True,
        }
        return 200, {}, json.dumps(body)

    def list_notifications(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        self.calls.append("listNotifications")
        query = parse_qs(urlsplit(request.url or "").query)
        self.listed.append(query)
        reasons = set(query.get("reasons", []))
        offset = int(query.get("cursor", ["0"])[0])
        limit = int(query.get("limit", ["50"])[0])
        wanted = [n for n in self.notifications if not reasons or n["reason"] in reasons]
        newest_first = sorted(wanted, key=lambda n: n["indexedAt"], reverse=True)
        page = newest_first[offset : offset + limit]
        body: dict[str, Any] = {"notifications": page, "priority": False}
        if offset + limit < len(newest_first):
            body["cursor"] = str(offset + limit)
        headers = {"RateLimit-Limit": "3000", "RateLimit-Remaining": "2990", "RateLimit-Policy": "3000;w=300"}
        return 200, headers, json.dumps(body)


def connector(now: datetime, sessions: dict[tuple[str, str], Session]) -> BlueskyConnector:
    settings = BlueskySettings(
        name="bluesky", platform="bluesky", handle=HANDLE, app_password=Secret("bench-app-pass", "bench")
    )
    return BlueskyConnector(settings, now=lambda: now, sessions=sessions)


def poll(made: BlueskyConnector, bookmark: dict[str, Any] | None) -> tuple[int, dict[str, Any] | None, int]:
    """Run one fetch; return (requests made, final bookmark, comments read)."""
    batches: list[Batch] = list(made.fetch(bookmark))
    for batch in batches:
        bookmark = batch.bookmark or bookmark
    return made.http.requests_made, bookmark, sum(len(batch.comments) for batch in batches)


def recent_account() -> FakeBluesky:
    """500 posts from the last 12 days, each with three replies and five likes."""
    fake = FakeBluesky()
    for count, make in ((REPLIES_PER_POST, reply), (LIKES_PER_POST, like)):
        total = POSTS * count
        spacing = timedelta(days=12) / total
        fake.add(*(make(number, FIRST_POLL - (total - number) * spacing) for number in range(1, total + 1)))
    return fake


def measure() -> dict[str, Any]:
    fake = recent_account()
    sessions: dict[tuple[str, str], Session] = {}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.register(rsps)
        first_requests, bookmark, first_comments = poll(connector(FIRST_POLL, sessions), None)
        fake.now = STEADY_POLL
        steady_requests, _, _ = poll(connector(STEADY_POLL, sessions), bookmark)
        cold_requests, _, _ = poll(connector(STEADY_POLL, {}), bookmark)
    return {
        "platform": "bluesky",
        "first_poll_requests": first_requests,
        "first_poll_comments": first_comments,
        "steady_state_requests": steady_requests,
        # A poll in a process that holds no session yet also signs in.
        "steady_state_requests_new_process": cold_requests,
        # sign in, the author feed (100 a page), then each post's thread.
        "naive_requests": 1 + -(-POSTS // 100) + POSTS,
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
