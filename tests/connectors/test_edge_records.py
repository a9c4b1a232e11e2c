"""Hardening of records at the connector edge (issue 19): odd times, held comments and imported links."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from bench.economy_wordpress import SITE, wp_comment
from connectors.base import Batch, Comment
from connectors.facebook import FacebookConnector, FacebookSettings
from connectors.file import FileConnector, FileSettings
from connectors.instagram import InstagramConnector, InstagramSettings
from connectors.wordpress import WordPressConnector, WordPressSettings, comment_from_record
from connectors.youtube import YouTubeConnector, YouTubeSettings
from monitor.secrets import Secret

NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
FUTURE = "2099-01-01T00:00:00+0000"
GRAPH = "https://graph.facebook.com/v23.0"
PAGE_ID = "104512345678901"
POST_ID = f"{PAGE_ID}_1220034567890123"
IG_USER = "17841400000000001"
YOUTUBE = "https://www.googleapis.com/youtube/v3"
CHANNEL = "UCWillowHouseCareHome001"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def comments_of(batches: list[Batch]) -> dict[str, Comment]:
    return {comment.external_id: comment for batch in batches for comment in batch.comments}


def notes_of(batches: list[Batch]) -> list[str]:
    return [note for batch in batches for note in batch.notes]


def skipped_of(batches: list[Batch]) -> list[str]:
    return [reason for batch in batches for reason in batch.skipped]


# Facebook


def facebook() -> FacebookConnector:
    settings = FacebookSettings(
        name="page", platform="facebook", page_id=PAGE_ID, access_token=Secret("EAAG-hardening-token-77", "test")
    )
    made = FacebookConnector(settings, now=lambda: NOW)
    made.http.sleep = lambda _seconds: None
    return made


def fb_comment(number: int, created: str, message: str = "Lovely afternoon") -> dict[str, Any]:
    comment_id = f"1220034567890123_12200{number:010d}"
    return {
        "id": comment_id,
        "from": {"id": f"70100000000{number:05d}", "name": f"Visitor {number}"},
        "message": message,
        "created_time": created,
        "permalink_url": f"https://www.facebook.com/{PAGE_ID}/posts/1220034567890123/?comment_id=12200{number:010d}",
        "is_hidden": False,
    }


def fb_posts(*comments: dict[str, Any], next_url: str | None = None) -> dict[str, Any]:
    paging: dict[str, Any] = {"cursors": {"before": "QVFIUmJlZm9yZQ", "after": "QVFIUmFmdGVy"}}
    if next_url:
        paging["next"] = next_url
    post = {
        "id": POST_ID,
        "message": "Sports Day at Brightwater House",
        "permalink_url": f"https://www.facebook.com/{PAGE_ID}/posts/1220034567890123/",
        "created_time": "2026-05-04T10:02:11+0000",
        "comments": {"data": list(comments), "paging": {"cursors": {"before": "QVFIUmE", "after": "QVFIUmI"}}},
    }
    return {"data": [post], "paging": paging}


def test_h1_future_comment_does_not_move_the_facebook_watermark(rsps: responses.RequestsMock) -> None:
    future = fb_comment(1, FUTURE, "I know where you all work")
    recent = fb_comment(2, "2026-05-10T11:40:00+0000")
    rsps.get(f"{GRAPH}/{PAGE_ID}/feed", json=fb_posts(future, recent))

    batches = list(facebook().fetch({"since": "2026-05-10T11:00:00+00:00"}))

    stored = comments_of(batches)
    assert {future["id"], recent["id"]} <= set(stored)  # the future one is kept, not dropped
    assert batches[-1].bookmark == {"since": "2026-05-10T11:40:00+00:00"}
    assert any(future["id"] in note and "2099" in note for note in notes_of(batches))


def test_h1_a_watermark_already_in_the_future_is_not_trusted(rsps: responses.RequestsMock) -> None:
    """A bookmark written before the fix (``since=2099``) would hide every later comment for good."""
    threat = fb_comment(3, "2026-05-09T08:00:00+0000", "I'll burn that place down")
    rsps.get(f"{GRAPH}/{PAGE_ID}/feed", json=fb_posts(threat))

    batches = list(facebook().fetch({"since": "2099-01-01T00:00:00+00:00"}))

    assert threat["id"] in comments_of(batches)
    assert batches[-1].bookmark == {"since": "2026-05-09T08:00:00+00:00"}
    assert any("2099" in note for note in notes_of(batches))


# Instagram


def test_h1_future_comment_does_not_move_the_instagram_watermark(rsps: responses.RequestsMock) -> None:
    settings = InstagramSettings(
        name="ig", platform="instagram", ig_user_id=IG_USER, access_token=Secret("IGQVJ-hardening-77", "test")
    )
    made = InstagramConnector(settings, now=lambda: NOW)
    media = {
        "id": "17900000000000001",
        "permalink": "https://www.instagram.com/p/C7abcdefghi/",
        "caption": "Garden party",
        "timestamp": "2026-05-01T10:00:00+0000",
        "username": "brightwatercare",
        "comments_count": 2,
        "comments": {
            "data": [
                {"id": "17850000000000001", "text": "from the future", "timestamp": FUTURE, "username": "a"},
                {"id": "17850000000000002", "text": "lovely", "timestamp": "2026-05-10T11:30:00+0000", "username": "b"},
            ]
        },
    }
    rsps.get(f"{GRAPH}/{IG_USER}/media", json={"data": [media], "paging": {"cursors": {"after": "QVFI"}}})

    batches = list(made.fetch({"since": "2026-05-10T11:00:00+00:00", "counts": {}}))

    assert {"17850000000000001", "17850000000000002"} <= set(comments_of(batches))
    assert batches[-1].bookmark is not None
    assert batches[-1].bookmark["since"] == "2026-05-10T11:30:00+00:00"
    assert any("17850000000000001" in note for note in notes_of(batches))


# YouTube


def yt_thread(comment_id: str, published: str, text: str) -> dict[str, Any]:
    snippet = {
        "channelId": CHANNEL,
        "videoId": "dQw4w9WgXcQ",
        "textDisplay": text,
        "textOriginal": text,
        "authorDisplayName": "@visitor",
        "authorChannelId": {"value": "UCvisitor0000000000000001"},
        "canRate": True,
        "viewerRating": "none",
        "likeCount": 0,
        "publishedAt": published,
        "updatedAt": published,
    }
    return {
        "kind": "youtube#commentThread",
        "etag": "etag",
        "id": comment_id,
        "snippet": {
            "channelId": CHANNEL,
            "videoId": "dQw4w9WgXcQ",
            "topLevelComment": {"kind": "youtube#comment", "etag": "etag", "id": comment_id, "snippet": snippet},
            "canReply": True,
            "totalReplyCount": 0,
            "isPublic": True,
        },
    }


def test_h1_future_comment_does_not_move_the_youtube_watermark(rsps: responses.RequestsMock) -> None:
    settings = YouTubeSettings(
        name="yt", platform="youtube", channel_id=CHANNEL, api_key=Secret("AIzaSy-hardening-77", "test")
    )
    made = YouTubeConnector(settings, now=lambda: NOW)
    threads = [
        yt_thread("UgzFutureAAAAAAAAAAAAAAA", "2099-01-01T00:00:00Z", "from the future"),
        yt_thread("UgzRecentAAAAAAAAAAAAAAA", "2026-05-10T11:20:00Z", "great video"),
    ]
    rsps.get(f"{YOUTUBE}/commentThreads", json={"kind": "youtube#commentThreadListResponse", "items": threads})

    batches = list(made.fetch({"since": "2026-05-10T11:00:00+00:00", "reply_counts": {}}))

    assert {"UgzFutureAAAAAAAAAAAAAAA", "UgzRecentAAAAAAAAAAAAAAA"} <= set(comments_of(batches))
    assert batches[-1].bookmark is not None
    assert batches[-1].bookmark["since"] == "2026-05-10T11:20:00+00:00"
    assert any("UgzFutureAAAAAAAAAAAAAAA" in note for note in notes_of(batches))


# WordPress


def wordpress() -> WordPressConnector:
    made = WordPressConnector(WordPressSettings(name="blog", platform="wordpress", base_url=SITE), now=lambda: NOW)
    made.http.sleep = lambda _seconds: None
    return made


def test_h1_future_comment_does_not_move_the_wordpress_watermark(rsps: responses.RequestsMock) -> None:
    future = wp_comment(1, datetime(2099, 1, 1, tzinfo=UTC))
    recent = wp_comment(2, datetime(2026, 5, 10, 11, 30, tzinfo=UTC))
    rsps.get(f"{SITE}/wp-json/wp/v2/comments", json=[recent, future], headers={"X-WP-TotalPages": "1"})

    batches = list(wordpress().fetch({"date": "2026-05-10T12:00:00"}))

    assert {"1", "2"} <= set(comments_of(batches))
    assert batches[-1].bookmark == {"date": recent["date"]}
    assert any("comment 1" in note and "2099" in note for note in notes_of(batches))


def test_h1_a_wordpress_watermark_already_in_the_future_is_not_trusted(rsps: responses.RequestsMock) -> None:
    recent = wp_comment(2, datetime(2026, 5, 10, 11, 30, tzinfo=UTC))
    rsps.get(f"{SITE}/wp-json/wp/v2/comments", json=[recent], headers={"X-WP-TotalPages": "1"})

    batches = list(wordpress().fetch({"date": "2099-01-01T00:00:00"}))

    after = parse_qs(urlsplit(rsps.calls[0].request.url or "").query)["after"][0]
    assert after == (NOW - timedelta(days=14)).isoformat(timespec="seconds")
    assert "2" in comments_of(batches)
    assert batches[-1].bookmark == {"date": recent["date"]}


@pytest.mark.parametrize(("status", "hidden"), [("hold", False), ("approved", False), ("spam", True), ("trash", True)])
def test_h4_held_wordpress_comment_is_live_not_hidden(status: str, hidden: bool) -> None:
    record = wp_comment(7, datetime(2026, 5, 10, 11, 0, tzinfo=UTC), status=status)
    assert comment_from_record(record).hidden is hidden


# H2: times no calendar can show


@pytest.mark.parametrize("created", ["9999-12-31T23:59:59+0000", "0001-01-01T00:00:00+0000", 253402300799999, 1e20])
def test_h2_out_of_range_time_is_one_skipped_record_not_a_crash(rsps: responses.RequestsMock, created: Any) -> None:
    broken = fb_comment(4, "2026-05-10T11:00:00+0000", "I know where you live")
    broken["created_time"] = created
    fine = fb_comment(5, "2026-05-10T11:10:00+0000")
    rsps.get(f"{GRAPH}/{PAGE_ID}/feed", json=fb_posts(broken, fine))

    batches = list(facebook().fetch({"since": "2026-05-10T10:00:00+00:00"}))

    assert set(comments_of(batches)) == {fine["id"]}
    skipped = skipped_of(batches)
    assert len(skipped) == 1 and "out of range" in skipped[0]
    assert batches[-1].bookmark == {"since": "2026-05-10T11:10:00+00:00"}


def test_h2_comment_record_refuses_a_time_outside_the_range() -> None:
    with pytest.raises(ValueError, match="out of range"):
        Comment(external_id="1", text="hi", created_at=datetime(9999, 12, 31, 23, 59, tzinfo=UTC))
    with pytest.raises(ValueError, match="out of range"):
        Comment(
            external_id="1",
            text="hi",
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
            edited_at=datetime(9999, 12, 31, tzinfo=UTC),
        )


def test_h2_file_import_line_with_year_9999_is_skipped_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    lines = [
        {"id": "a", "text": "fine", "created_at": "2026-05-10T10:00:00Z"},
        {"id": "b", "text": "broken", "created_at": "9999-12-31T23:59:59Z"},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    made = FileConnector(FileSettings(name="import", platform="file", path=path))

    batches = list(made.fetch(None))

    assert set(comments_of(batches)) == {"a"}
    assert skipped_of(batches) == ["export.jsonl line 2: created_at 9999-12-31T23:59:59+00:00 is out of range"]


# L5: links from file imports go only to the platforms


@pytest.mark.parametrize(
    ("permalink", "kept"),
    [
        ("https://www.facebook.com/104512345678901/posts/1/?comment_id=2", True),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&lc=Ugz", True),
        ("https://evil.example/facebook.com/posts/1", False),
        ("https://www.faceb\u043e\u043ek.com/104512345678901/posts/1", False),  # Cyrillic o
        ("https://www.facebook.com@evil.example/posts/1", False),
        ("http://www.facebook.com/104512345678901/posts/1", False),
        ("https://facebook.com.evil.example/posts/1", False),
        ("javascript:alert(1)", False),
    ],
)
def test_l5_file_import_links_only_to_platform_hosts(tmp_path: Path, permalink: str, kept: bool) -> None:
    path = tmp_path / "export.jsonl"
    record = {"id": "c1", "text": "a comment", "created_at": "2026-05-10T10:00:00Z", "permalink": permalink}
    record["post_url"] = permalink
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")

    batches = list(FileConnector(FileSettings(name="import", platform="file", path=path)).fetch(None))

    stored = comments_of(batches)["c1"]
    assert stored.text == "a comment"
    assert (stored.permalink == permalink) is kept and (stored.post_url == permalink) is kept
    if not kept:
        assert stored.permalink is None and stored.post_url is None
        assert any("line 1: link to" in note and "dropped" in note for note in notes_of(batches))



# Bluesky: its bookmark is a time too (``indexedAt``), and a hostile server can date one in the future


def test_h1_future_indexed_notification_does_not_move_the_bluesky_watermark(rsps: responses.RequestsMock) -> None:
    from tests.connectors.test_bluesky import CREATE, LIST, REPLY_URI, connector, fixture

    body = fixture("notifications.json")
    body["notifications"][0]["indexedAt"] = "2099-01-01T00:00:00.000Z"
    newest_true_time = max(n["indexedAt"] for n in body["notifications"][1:])
    rsps.post(CREATE, json=fixture("session.json"))
    rsps.get(LIST, json=body)

    batches = list(connector().fetch(None))

    assert REPLY_URI in comments_of(batches)
    assert batches[-1].bookmark is not None
    assert batches[-1].bookmark["indexed_at"] == datetime.fromisoformat(newest_true_time).isoformat()
    assert any(REPLY_URI in note and "2099" in note for note in notes_of(batches))

    rsps.get(LIST, json={"notifications": []})
    again = list(connector().fetch({"indexed_at": "2099-01-01T00:00:00+00:00", "uris": [REPLY_URI]}))
    assert any("2099" in note and "bookmark" in note for note in notes_of(again))
