"""Requests a YouTube poll costs on a channel with 500 recent videos.

A served channel (``responses``, real Data API shapes) has 500 videos, one a
day, with comment threads on each (more on recent ones) and replies on some,
a few threads having more replies than commentThreads embeds. The figures:
the first poll, a steady-state poll with nothing new, and a naive poll that
reads every thread and every thread's full replies with no watermark.

Run: ``python bench/economy_youtube.py``
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import responses

from connectors.youtube import YouTubeConnector, YouTubeSettings
from monitor.secrets import Secret

BASE = "https://www.googleapis.com/youtube/v3"
CHANNEL = "UCbenchCareHomeChannel01"
NOW = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
VIDEOS = 500
PAGE = 100

Callback = Callable[[requests.PreparedRequest], tuple[int, dict[str, str], str]]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _comment(comment_id: str, video_id: str, author: str, at: datetime, *, parent: str | None = None) -> dict[str, Any]:
    text = "Agreed!" if parent else "Lovely to see everyone smiling"
    snippet: dict[str, Any] = {
        "channelId": CHANNEL,
        "videoId": video_id,
        "textDisplay": text,
        "textOriginal": text,
        "authorDisplayName": f"@{author}",
        "authorProfileImageUrl": f"https://yt3.ggpht.com/ytc/{author}=s48-c-k-c0x00ffffff-no-rj",
        "authorChannelUrl": f"http://www.youtube.com/@{author}",
        "authorChannelId": {"value": f"UC{author:0<22}"[:24]},
        "canRate": True,
        "viewerRating": "none",
        "likeCount": 0,
        "publishedAt": _stamp(at),
        "updatedAt": _stamp(at),
    }
    if parent:
        snippet["parentId"] = parent
    return {"kind": "youtube#comment", "etag": f"e{comment_id[-8:]}", "id": comment_id, "snippet": snippet}


def build_channel() -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Threads newest first, and every thread's full replies by thread id."""
    threads: list[dict[str, Any]] = []
    replies: dict[str, list[dict[str, Any]]] = {}
    for video in range(VIDEOS):
        video_id = f"vid{video:08d}"
        posted = NOW - timedelta(days=video, hours=12)
        for number in range(6 if video < 14 else 3):
            thread_id = f"Ugz{video:05d}{number:02d}benchthreadAaABAg"
            at = posted + timedelta(hours=number + 1)
            top = _comment(thread_id, video_id, f"viewer{video}x{number}", at)
            count = (video + number) % 9 if number == 0 else 0
            own = [
                _comment(
                    f"{thread_id}.r{k:03d}", video_id, f"friend{k}", at + timedelta(minutes=k + 1), parent=thread_id
                )
                for k in range(count)
            ]
            replies[thread_id] = own
            thread: dict[str, Any] = {
                "kind": "youtube#commentThread",
                "etag": f"t{thread_id[-10:]}",
                "id": thread_id,
                "snippet": {
                    "channelId": CHANNEL,
                    "videoId": video_id,
                    "topLevelComment": top,
                    "canReply": True,
                    "totalReplyCount": count,
                    "isPublic": True,
                },
            }
            if own:
                thread["replies"] = {"comments": own[:5]}
            threads.append(thread)
    threads.sort(key=lambda t: t["snippet"]["topLevelComment"]["snippet"]["publishedAt"], reverse=True)
    return threads, replies


def _paged(items: list[dict[str, Any]], kind: str, token: str | None, size: int) -> dict[str, Any]:
    start = int(token or 0)
    body: dict[str, Any] = {
        "kind": kind,
        "etag": f"page{start}",
        "pageInfo": {"totalResults": len(items), "resultsPerPage": size},
        "items": items[start : start + size],
    }
    if start + size < len(items):
        body["nextPageToken"] = str(start + size)
    return body


def _threads_callback(threads: list[dict[str, Any]]) -> Callback:
    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url or "").query)
        size = int(query.get("maxResults", ["20"])[0])
        body = _paged(threads, "youtube#commentThreadListResponse", query.get("pageToken", [None])[0], size)
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    return reply


def _comments_callback(replies: dict[str, list[dict[str, Any]]]) -> Callback:
    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url or "").query)
        own = replies.get(query["parentId"][0], [])
        size = int(query.get("maxResults", ["20"])[0])
        body = _paged(own, "youtube#commentListResponse", query.get("pageToken", [None])[0], size)
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    return reply


def _connector(**settings: Any) -> YouTubeConnector:
    config = YouTubeSettings(
        name="bench", platform="youtube", channel_id=CHANNEL, api_key=Secret("bench-api-key", "bench"), **settings
    )
    return YouTubeConnector(config, now=lambda: NOW)


def measure() -> dict[str, Any]:
    threads, replies = build_channel()
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, f"{BASE}/commentThreads", callback=_threads_callback(threads))
        rsps.add_callback(responses.GET, f"{BASE}/comments", callback=_comments_callback(replies))

        first = _connector()
        batches = list(first.fetch(None))
        bookmark = batches[-1].bookmark

        steady = _connector()
        list(steady.fetch(bookmark))

    extra_reply_pages = sum(math.ceil(len(own) / PAGE) for own in replies.values() if len(own) > 5)
    naive = math.ceil(len(threads) / PAGE) + extra_reply_pages
    return {
        "platform": "youtube",
        "videos": VIDEOS,
        "threads": len(threads),
        "first_poll_requests": first.http.requests_made,
        "steady_state_requests": steady.http.requests_made,
        "steady_state_quota_units": steady.quota_units,
        "naive_requests": naive,
    }


if __name__ == "__main__":
    for key, value in measure().items():
        print(f"{key}: {value}")
