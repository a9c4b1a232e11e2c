"""The Page's feed, Graph's "reduce the amount of data" answer, and a retired version.

Payload shapes follow the Graph API reference pages "Page Feed" (``/{page-id}/feed``:
``data`` with ``paging.next``) and "Handling Errors" (``error`` with ``message``,
``type``, ``code``, ``fbtrace_id``; code 1 with "Please reduce the amount of data
you're asking for, then retry your request"; code 12 for a deprecated field or version).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from connectors.errors import AuthError, RetryableError
from connectors.facebook import GROW_AFTER_POLLS, FacebookConnector, FacebookSettings, Limits
from monitor.secrets import Secret

FIXTURES = Path(__file__).parent / "fixtures" / "facebook"
GRAPH = "https://graph.facebook.com/v23.0"
PAGE_ID = "104512345678901"
FEED = f"{GRAPH}/{PAGE_ID}/feed"
NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
VISITOR_POST = {
    "id": f"{PAGE_ID}_1220077700000001",
    "message": "Posting here because nobody answers the phone at Brightwater House",
    "permalink_url": f"https://www.facebook.com/{PAGE_ID}/posts/1220077700000001/",
    "created_time": "2026-05-09T08:00:00+0000",
    "comments": {
        "data": [
            {
                "id": "1220077700000001_1220077700000009",
                "from": {"id": "7011111111111111", "name": "Jo Marsh"},
                "message": "Same here, three days and no call back about my dad's medication",
                "created_time": "2026-05-09T09:30:00+0000",
                "permalink_url": f"https://www.facebook.com/{PAGE_ID}/posts/1220077700000001/?comment_id=1220077700000009",
                "is_hidden": False,
            }
        ],
        "paging": {"cursors": {"before": "QVFIUmJlZm9yZQ", "after": "QVFIUmFmdGVy"}},
    },
}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def connector(**overrides: Any) -> FacebookConnector:
    settings = FacebookSettings(
        name="brightwater-facebook",
        platform="facebook",
        page_id=PAGE_ID,
        access_token=Secret("EAAG-feed-token", "t"),
        **overrides,
    )
    made = FacebookConnector(settings, now=lambda: NOW)
    made.http.sleep = lambda seconds: None
    return made


def sizes_asked(call: Any) -> tuple[int, int]:
    query = parse_qs(urlsplit(call.request.url).query)
    comments = re.search(r"\.limit\((\d+)\)", query["fields"][0])
    assert comments is not None
    return int(query["limit"][0]), int(comments.group(1))


def serve_feed_refusing_above(rsps: responses.RequestsMock, most_posts: int) -> None:
    """Graph's answer: code 1 for more than ``most_posts`` posts, else one page with a visitor's post."""

    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        limit = int(parse_qs(urlsplit(request.url or "").query)["limit"][0])
        if limit > most_posts:
            return 500, {}, json.dumps(fixture("error_reduce_data.json"))
        return 200, {}, json.dumps({"data": [VISITOR_POST]})

    rsps.add_callback(responses.GET, re.compile(re.escape(FEED) + r"(\?.*)?$"), callback=reply)


def test_the_feed_is_read_so_comments_under_a_visitors_post_are_found() -> None:
    with responses.RequestsMock() as rsps:
        serve_feed_refusing_above(rsps, 100)
        batches = list(connector().fetch(None))
        assert urlsplit(rsps.calls[0].request.url).path == f"/v23.0/{PAGE_ID}/feed"

    comments = [comment for batch in batches for comment in batch.comments]
    assert [comment.external_id for comment in comments] == ["1220077700000001_1220077700000009"]
    assert comments[0].post_title == "Posting here because nobody answers the phone at Brightwater House"
    assert batches[-1].bookmark is not None and "limits" not in batches[-1].bookmark


def test_reduce_the_amount_of_data_halves_posts_and_comments_until_graph_answers() -> None:
    with responses.RequestsMock() as rsps:
        serve_feed_refusing_above(rsps, 30)
        batches = list(connector().fetch(None))
        asked = [sizes_asked(call) for call in rsps.calls]

    assert asked == [(100, 25), (50, 12), (25, 6)]
    assert sum(len(batch.comments) for batch in batches) == 1
    assert batches[-1].bookmark is not None
    assert batches[-1].bookmark["limits"] == {"posts": 25, "comments": 6, "good_polls": 1}


def test_smaller_sizes_are_kept_then_grown_back_after_enough_good_polls() -> None:
    bookmark: dict[str, Any] = {"since": "2026-05-09T00:00:00+00:00"}
    asked: list[tuple[int, int]] = []
    with responses.RequestsMock() as rsps:
        serve_feed_refusing_above(rsps, 60)
        for _ in range(GROW_AFTER_POLLS + 2):
            before = len(rsps.calls)
            batches = list(connector().fetch(bookmark))
            asked.extend(sizes_asked(call) for call in list(rsps.calls)[before:])
            bookmark = batches[-1].bookmark or {}

    assert asked[:2] == [(100, 25), (50, 12)]
    # Twelve polls at 50 posts with one request each; then it tries 100 again, is refused, and drops back.
    assert asked[2 : 1 + GROW_AFTER_POLLS] == [(50, 12)] * (GROW_AFTER_POLLS - 1)
    assert asked[1 + GROW_AFTER_POLLS :] == [(100, 24), (50, 12), (50, 12)]


def test_at_one_post_and_one_comment_the_refusal_is_retried_later() -> None:
    with responses.RequestsMock() as rsps:
        serve_feed_refusing_above(rsps, 0)
        with pytest.raises(RetryableError, match="one post and one comment"):
            list(connector(posts_limit=4, comments_limit=2).fetch(None))
        assert [sizes_asked(call) for call in rsps.calls] == [(4, 2), (2, 1), (1, 1)]


def test_limits_read_from_a_damaged_bookmark_fall_back_to_the_settings() -> None:
    settings = connector().settings
    limits = Limits.of({"limits": {"posts": "many", "comments": 500}}, settings)
    assert (limits.posts, limits.comments, limits.reduced) == (100, 25, False)


def test_a_deprecated_version_stops_the_account_and_names_the_setting() -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(re.compile(re.escape(FEED)), status=400, json=fixture("error_deprecated.json"))
        with pytest.raises(AuthError, match="set api_version on this account") as raised:
            list(connector().fetch(None))
    assert "default is v23.0" in str(raised.value)


def test_instagram_halves_media_and_comments_for_the_rest_of_the_poll() -> None:
    """Instagram Graph answers the same code 1 ("Handling Errors"); the listing is asked again, smaller."""
    from connectors.instagram import InstagramConnector, InstagramSettings

    settings = InstagramSettings(
        name="ig", platform="instagram", ig_user_id="17841400000000001", access_token=Secret("IGQ-shrink-1", "t")
    )
    made = InstagramConnector(settings, now=lambda: NOW)
    made.http.sleep = lambda seconds: None

    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        if int(parse_qs(urlsplit(request.url or "").query)["limit"][0]) > 30:
            return 500, {}, json.dumps(fixture("error_reduce_data.json"))
        return 200, {}, json.dumps({"data": []})

    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, re.compile(re.escape(f"{GRAPH}/17841400000000001/media")), callback=reply)
        batches = list(made.fetch(None))
        asked = [sizes_asked(call) for call in rsps.calls]

    assert asked == [(100, 25), (50, 12), (25, 6)]
    assert batches[-1].bookmark is not None and batches[-1].bookmark["counts"] == {}
