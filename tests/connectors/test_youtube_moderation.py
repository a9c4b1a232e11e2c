"""YouTube: the review queues (held for review, likely spam) with the owner's token, and replies re-read only
when a thread's reply count moved.

Payloads follow the YouTube Data API reference: "CommentThreads: list" (``moderationStatus``
= ``heldForReview`` | ``likelySpam`` | ``published``, owner-authorised requests only;
``snippet.totalReplyCount``; ``replies.comments`` a subset) and the "Comments" resource
(``snippet.moderationStatus`` on the owner's requests).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import responses
from responses import matchers

from connectors.credentials import MemoryCredentialStore
from connectors.youtube import YouTubeConnector, YouTubeSettings
from monitor.secrets import Secret

BASE = "https://www.googleapis.com/youtube/v3"
CHANNEL = "UCWillowHouseCareHome001"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def comment(comment_id: str, text: str, published: str, status: str | None = None, parent: str | None = None) -> Any:
    snippet: dict[str, Any] = {
        "channelId": CHANNEL,
        "videoId": "vWillow0002",
        "textDisplay": text,
        "textOriginal": text,
        "authorDisplayName": "@visitor",
        "authorChannelId": {"value": "UCvisitor00000000000001"},
        "canRate": True,
        "viewerRating": "none",
        "likeCount": 0,
        "publishedAt": published,
        "updatedAt": published,
    }
    if status is not None:
        snippet["moderationStatus"] = status
    if parent is not None:
        snippet["parentId"] = parent
    return {"kind": "youtube#comment", "etag": f"e-{comment_id}", "id": comment_id, "snippet": snippet}


def thread(top: Any, total: int = 0, replies: list[Any] | None = None) -> Any:
    body: dict[str, Any] = {
        "kind": "youtube#commentThread",
        "etag": f"t-{top['id']}",
        "id": top["id"],
        "snippet": {
            "channelId": CHANNEL,
            "videoId": "vWillow0002",
            "topLevelComment": top,
            "canReply": True,
            "totalReplyCount": total,
            "isPublic": True,
        },
    }
    if replies:
        body["replies"] = {"comments": replies}
    return body


def listing(*threads: Any) -> dict[str, Any]:
    return {
        "kind": "youtube#commentThreadListResponse",
        "etag": "list",
        "pageInfo": {"totalResults": len(threads), "resultsPerPage": 100},
        "items": list(threads),
    }


def owner_connector(now: datetime = NOW, **settings: Any) -> YouTubeConnector:
    made = YouTubeConnector(
        YouTubeSettings(
            name="willow-youtube",
            platform="youtube",
            channel_id=CHANNEL,
            access_token=Secret("ya29.owner-token", "t"),
            **settings,
        ),
        now=lambda: now,
        credentials=MemoryCredentialStore(),
    )
    made.http.sleep = lambda seconds: None
    return made


def status_is(value: str | None) -> Any:
    def match(request: Any) -> tuple[bool, str]:
        found = request.params.get("moderationStatus")
        return found == value, f"moderationStatus is {found}"

    return match


HELD = comment(
    "UgyHeld0000000000000001", "Ring me on 07700 900123 about your mum", "2026-11-19T08:00:00Z", "heldForReview"
)
SPAM = comment("UgySpam0000000000000001", "Cheap meds no prescription", "2026-11-20T10:00:00Z", "likelySpam")
PUBLIC = comment("UgyPub00000000000000001", "Lovely video", "2026-11-20T11:50:00Z", "published")


def serve_queues(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/commentThreads", json=listing(thread(PUBLIC)), match=[status_is(None)])
    rsps.get(f"{BASE}/commentThreads", json=listing(thread(HELD)), match=[status_is("heldForReview")])
    rsps.get(f"{BASE}/commentThreads", json=listing(thread(SPAM)), match=[status_is("likelySpam")])


def test_the_owners_token_reads_held_and_likely_spam_comments_as_hidden() -> None:
    with responses.RequestsMock() as rsps:
        serve_queues(rsps)
        batches = list(owner_connector().fetch({"since": "2026-11-20T11:00:00+00:00"}))

    found = {c.external_id: c for batch in batches for c in batch.comments}
    assert set(found) == {PUBLIC["id"], HELD["id"], SPAM["id"]}
    assert found[HELD["id"]].hidden and found[SPAM["id"]].hidden and not found[PUBLIC["id"]].hidden
    assert found[HELD["id"]].text == "Ring me on 07700 900123 about your mum"  # older than the watermark, still read
    assert batches[-1].bookmark is not None and batches[-1].bookmark["held_read_at"] == NOW.isoformat()


def test_the_queues_are_read_every_held_every_minutes_not_every_poll() -> None:
    bookmark = {"since": "2026-11-20T11:00:00+00:00", "held_read_at": (NOW - timedelta(minutes=10)).isoformat()}
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/commentThreads", json=listing(thread(PUBLIC)), match=[status_is(None)])
        batches = list(owner_connector().fetch(bookmark))
        assert len(rsps.calls) == 1
    assert batches[-1].bookmark is not None
    assert batches[-1].bookmark["held_read_at"] == bookmark["held_read_at"]


def test_an_api_key_cannot_see_the_queues_so_does_not_ask() -> None:
    settings = YouTubeSettings(name="yt", platform="youtube", channel_id=CHANNEL, api_key=Secret("AIzaSy-key-1", "t"))
    made = YouTubeConnector(settings, now=lambda: NOW)
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/commentThreads", json=listing(thread(PUBLIC)), match=[status_is(None)])
        batches = list(made.fetch(None))
        assert len(rsps.calls) == 1
    assert batches[-1].bookmark is not None and "held_read_at" not in batches[-1].bookmark


def test_replies_are_re_read_only_when_the_count_moved_even_inside_the_overlap() -> None:
    top = comment("UgyBusy0000000000000001", "Why was my dad's medication missed?", "2026-11-20T11:55:00Z")
    embedded = [comment(f"UgyBusy0000000000000001.r{n}", f"reply {n}", "2026-11-20T11:56:00Z") for n in range(2)]
    everything = {
        "kind": "youtube#commentListResponse",
        "items": [
            comment(f"UgyBusy0000000000000001.r{n}", f"reply {n}", "2026-11-20T11:56:00Z", parent=top["id"])
            for n in range(3)
        ],
    }
    later = NOW + timedelta(minutes=5)
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/commentThreads", json=listing(thread(top, 3, embedded)))
        rsps.get(
            f"{BASE}/comments",
            json=everything,
            match=[matchers.query_param_matcher({"parentId": top["id"]}, strict_match=False)],
        )
        first = list(owner_connector(held_every_minutes=0).fetch(None))
        replies_after_first = sum("/comments" in call.request.url for call in rsps.calls)
        second = list(owner_connector(now=later, held_every_minutes=0).fetch(first[-1].bookmark))
        replies_after_second = sum("/comments" in call.request.url for call in rsps.calls)

    assert replies_after_first == 1
    assert replies_after_second == 1  # the top comment is still inside the overlap, but its count has not moved
    assert second[-1].bookmark is not None and second[-1].bookmark["reply_counts"] == {top["id"]: 3}
