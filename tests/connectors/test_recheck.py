"""Re-checking comments by id: which are still there, hidden, or deleted.

Each answer is written from the platform's reference:
- YouTube "Comments: list" with ``id`` (comma-separated): deleted comments are simply absent
  from ``items``; ``snippet.moderationStatus`` is returned to the channel owner.
- Graph API "Handling Errors": a deleted object answers code 100, ``error_subcode`` 33
  ("Unsupported get request. Object with ID '...' does not exist ..."); Instagram comment
  node fields ``id``, ``hidden``; Facebook comment ``is_hidden``.
- Bluesky lexicon ``app.bsky.feed.getPosts`` (``uris``, up to 25): missing posts are left out.
- Mastodon "GET /api/v1/statuses" (``id[]``, 4.3+; missing statuses left out) and
  "GET /api/v1/statuses/:id": 404 ``{"error": "Record not found"}``.
- WordPress REST "List Comments": ``include``, ``status`` (``any`` with edit rights).
- X API v2 "GET /2/tweets": ``errors`` entries with ``resource_id`` and ``type``
  ``https://api.twitter.com/2/problems/resource-not-found``.
- LinkedIn Comments API "Retrieve a comment": GET socialActions/{target}/comments/{id}; 404.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import responses

from connectors.bluesky import BlueskyConnector, BlueskySettings, Session
from connectors.facebook import FacebookConnector, FacebookSettings
from connectors.instagram import InstagramConnector, InstagramSettings
from connectors.linkedin import LinkedInConnector, LinkedInSettings
from connectors.mastodon import MastodonConnector, MastodonSettings
from connectors.wordpress import WordPressConnector, WordPressSettings
from connectors.x import XConnector, XSettings
from connectors.youtube import YouTubeConnector, YouTubeSettings
from monitor.secrets import Secret

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
GONE_GRAPH = {
    "error": {
        "message": "Unsupported get request. Object with ID '1220034567890123_1220099999999999' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation.",
        "type": "GraphMethodException",
        "code": 100,
        "error_subcode": 33,
        "fbtrace_id": "AGone0000001",
    }
}


def quiet(made: Any) -> Any:
    made.http.sleep = lambda seconds: None
    return made


def test_youtube_asks_50_ids_a_request_and_reads_absence_as_deleted_for_the_owner() -> None:
    ids = [f"UgyRecheck{n:014d}" for n in range(60)]
    settings = YouTubeSettings(
        name="yt", platform="youtube", channel_id="UCWillowHouseCareHome001", access_token=Secret("ya29.owner", "t")
    )
    made = quiet(YouTubeConnector(settings, now=lambda: NOW))

    def reply(request: Any) -> tuple[int, dict[str, str], str]:
        asked = parse_qs(urlsplit(request.url).query)["id"][0].split(",")
        items = [
            {"kind": "youtube#comment", "id": comment_id, "snippet": {"moderationStatus": status}}
            for comment_id, status in ((asked[0], "published"), (asked[1], "heldForReview"))
        ]
        return 200, {}, json.dumps({"kind": "youtube#commentListResponse", "items": items})

    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, re.compile(r"https://www\.googleapis\.com/youtube/v3/comments.*"), reply)
        states = made.recheck(ids)
        sizes = [len(parse_qs(urlsplit(call.request.url).query)["id"][0].split(",")) for call in rsps.calls]

    assert sizes == [50, 10]
    assert (states[ids[0]], states[ids[1]], states[ids[2]]) == ("present", "hidden", "deleted")
    assert (states[ids[50]], states[ids[51]], states[ids[59]]) == ("present", "hidden", "deleted")


def test_youtube_with_an_api_key_cannot_tell_deleted_from_held() -> None:
    settings = YouTubeSettings(name="yt", platform="youtube", channel_id="UC1", api_key=Secret("AIzaSy-key-2", "t"))
    with responses.RequestsMock() as rsps:
        rsps.get("https://www.googleapis.com/youtube/v3/comments", json={"items": []})
        assert YouTubeConnector(settings).recheck(["UgyGone"]) == {"UgyGone": "hidden"}


def test_facebook_asks_per_comment_and_code_100_33_is_deleted() -> None:
    settings = FacebookSettings(name="fb", platform="facebook", page_id="1045", access_token=Secret("EAAG-rc-1", "t"))
    graph = "https://graph.facebook.com/v23.0"
    with responses.RequestsMock() as rsps:
        rsps.get(f"{graph}/1220034567890123_1220099999999999", status=400, json=GONE_GRAPH)
        rsps.get(f"{graph}/1220034567890123_1220011111111111", json={"id": "1", "is_hidden": True})
        rsps.get(f"{graph}/1220034567890123_1220022222222222", json={"id": "2", "is_hidden": False})
        rsps.get(
            f"{graph}/1220034567890123_1220033333333333",
            status=400,
            json={"error": {"message": "(#100) Unknown field", "type": "OAuthException", "code": 100}},
        )
        states = quiet(FacebookConnector(settings)).recheck(
            [
                "1220034567890123_1220099999999999",
                "1220034567890123_1220011111111111",
                "1220034567890123_1220022222222222",
                "1220034567890123_1220033333333333",
                "fbhash_0123456789abcdef01234567",
            ]
        )
    assert states == {
        "1220034567890123_1220099999999999": "deleted",
        "1220034567890123_1220011111111111": "hidden",
        "1220034567890123_1220022222222222": "present",
    }


def test_instagram_reads_its_hidden_field() -> None:
    settings = InstagramSettings(
        name="ig", platform="instagram", ig_user_id="1784", access_token=Secret("IGQ-rc-1", "t")
    )
    with responses.RequestsMock() as rsps:
        rsps.get("https://graph.facebook.com/v23.0/17850000000000011", json={"id": "17850000000000011", "hidden": True})
        rsps.get("https://graph.facebook.com/v23.0/17850000000000012", status=400, json=GONE_GRAPH)
        states = quiet(InstagramConnector(settings)).recheck(["17850000000000011", "17850000000000012"])
        assert "fields=id%2Chidden" in (rsps.calls[0].request.url or "")
    assert states == {"17850000000000011": "hidden", "17850000000000012": "deleted"}


def test_bluesky_get_posts_leaves_out_deleted_posts() -> None:
    settings = BlueskySettings(
        name="bs", platform="bluesky", handle="care.example.org", app_password=Secret("app-pw-1", "t")
    )
    session = Session(
        Secret("header.eyJleHAiOjQxMDI0NDQ4MDB9.sig", "t"), Secret("refresh-jwt", "t"), "did:plc:care", "care"
    )
    made = quiet(
        BlueskyConnector(
            settings, now=lambda: NOW, sessions={("https://bsky.social/xrpc", "care.example.org"): session}
        )
    )
    kept = "at://did:plc:visitor/app.bsky.feed.post/3lkept"
    gone = "at://did:plc:visitor/app.bsky.feed.post/3lgone"
    with responses.RequestsMock() as rsps:
        rsps.get(
            "https://bsky.social/xrpc/app.bsky.feed.getPosts",
            json={"posts": [{"uri": kept, "cid": "bafy", "author": {"did": "did:plc:visitor"}, "record": {}}]},
        )
        states = made.recheck([kept, gone])
        assert parse_qs(urlsplit(rsps.calls[0].request.url).query)["uris"] == [kept, gone]
    assert states == {kept: "present", gone: "deleted"}


def test_mastodon_asks_20_statuses_a_request_and_a_left_out_one_is_deleted() -> None:
    settings = MastodonSettings(
        name="m", platform="mastodon", base_url="https://social.example.org", access_token=Secret("tok-m-1", "t")
    )
    ids = [str(1100 + n) for n in range(25)]
    with responses.RequestsMock() as rsps:
        rsps.get(
            "https://social.example.org/api/v1/statuses",
            json=[{"id": status_id, "content": "<p>hi</p>"} for status_id in ids if status_id != "1102"],
        )
        states = quiet(MastodonConnector(settings)).recheck(ids)
        sizes = [len(parse_qs(urlsplit(call.request.url).query)["id[]"]) for call in rsps.calls]
    assert sizes == [20, 5]
    assert states["1101"] == "present" and states["1102"] == "deleted" and len(states) == 25


def test_mastodon_before_4_3_is_asked_one_status_at_a_time() -> None:
    settings = MastodonSettings(
        name="m", platform="mastodon", base_url="https://social.example.org", access_token=Secret("tok-m-1", "t")
    )
    with responses.RequestsMock() as rsps:
        rsps.get("https://social.example.org/api/v1/statuses", status=404, json={"error": "Record not found"})
        rsps.get("https://social.example.org/api/v1/statuses/1101", json={"id": "1101", "content": "<p>hi</p>"})
        rsps.get("https://social.example.org/api/v1/statuses/1102", status=404, json={"error": "Record not found"})
        states = quiet(MastodonConnector(settings)).recheck(["1101", "1102"])
    assert states == {"1101": "present", "1102": "deleted"}


def test_wordpress_signed_in_sees_trash_and_spam() -> None:
    settings = WordPressSettings(
        name="wp",
        platform="wordpress",
        base_url="https://blog.example.org",
        username="monitor",
        application_password=Secret("abcd efgh ijkl mnop", "t"),
    )
    with responses.RequestsMock() as rsps:
        rsps.get(
            "https://blog.example.org/wp-json/wp/v2/comments",
            json=[{"id": 11, "status": "approved"}, {"id": 12, "status": "spam"}, {"id": 13, "status": "trash"}],
        )
        states = quiet(WordPressConnector(settings)).recheck(["11", "12", "13", "14"])
        query = parse_qs(urlsplit(rsps.calls[0].request.url).query)
    assert query["include"] == ["11,12,13,14"] and query["status"] == ["any"]
    assert states == {"11": "present", "12": "hidden", "13": "deleted", "14": "deleted"}


def test_x_lookup_names_deleted_and_protected_posts_in_errors() -> None:
    settings = XSettings(
        name="x", platform="x", bearer_token=Secret("AAAA-bearer-1", "t"), user_id="1187654321098765312", username="B"
    )
    body = {
        "data": [
            {"id": "1790000000000000001", "text": "still here", "edit_history_tweet_ids": ["1790000000000000001"]}
        ],
        "errors": [
            {
                "value": "1790000000000000002",
                "detail": "Could not find tweet with ids: [1790000000000000002].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": "1790000000000000002",
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            },
            {
                "value": "1790000000000000003",
                "detail": "Sorry, you are not authorized to see the Tweet with ids: [1790000000000000003].",
                "title": "Authorization Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": "1790000000000000003",
                "type": "https://api.twitter.com/2/problems/not-authorized-for-resource",
            },
        ],
    }
    with responses.RequestsMock() as rsps:
        rsps.get("https://api.x.com/2/tweets", json=body)
        states = quiet(XConnector(settings)).recheck(
            ["1790000000000000001", "1790000000000000002", "1790000000000000003"]
        )
    assert states == {
        "1790000000000000001": "present",
        "1790000000000000002": "deleted",
        "1790000000000000003": "hidden",
    }


def test_linkedin_asks_the_comment_under_its_target() -> None:
    activity = "urn:li:activity:7330000000000000103"
    kept = f"urn:li:comment:({activity},7330100000000000001)"
    gone = f"urn:li:comment:({activity},7330100000000000002)"
    settings = LinkedInSettings(
        name="li", platform="linkedin", organization_urn="urn:li:organization:1045", access_token=Secret("AQV-rc", "t")
    )
    base = f"https://api.linkedin.com/rest/socialActions/{quote(activity, safe='')}/comments"
    with responses.RequestsMock() as rsps:
        rsps.get(f"{base}/7330100000000000001", json={"id": "7330100000000000001", "object": activity})
        rsps.get(
            f"{base}/7330100000000000002",
            status=404,
            json={"status": 404, "code": "NOT_FOUND", "message": "Comment not found"},
        )
        states = quiet(LinkedInConnector(settings, now=lambda: NOW)).recheck([kept, gone, "not-a-urn"])
    assert states == {kept: "present", gone: "deleted"}
