"""Every recorded X response in ../shared/fixtures/x read by the connector's own parsing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.errors import FatalError
from connectors.x import XConnector, XSettings, batch_from_page, is_retweet
from monitor.secrets import Secret

OWNER = "2244994945"
COMMENT_BEARING = [
    "sns-sdks__python-twitter__model_tweet.json",
    "sns-sdks__python-twitter__search_tweets_for_nyc.json",
    "sns-sdks__python-twitter__search_tweets_query.json",
    "sns-sdks__python-twitter__timeline_mentions.json",
    "sns-sdks__python-twitter__timeline_tweets.json",
    "sns-sdks__python-twitter__tweets_resp.json",
    "tweepy__tweepy__test_client_get_quote_tweets.body.json",
    "tweepy__tweepy__test_client_get_tweet.body.json",
    "tweepy__tweepy__test_client_get_users_mentions.body.json",
    "tweepy__tweepy__test_client_search_all_tweets.body.json",
    "tweepy__tweepy__test_client_search_recent_tweets.body.json",
]


def as_page(body: dict[str, Any]) -> dict[str, Any]:
    """A bare post object, or a single-post lookup, as a page with a ``data`` list."""
    if "id" in body:
        return {"data": [body]}
    if isinstance(body.get("data"), dict):
        return {**body, "data": [body["data"]]}
    return body


def load(shared_dir: Path, name: str) -> dict[str, Any]:
    return as_page(json.loads((shared_dir / "fixtures" / "x" / name).read_text(encoding="utf-8")))


def test_every_comment_bearing_file_is_listed(shared_dir: Path) -> None:
    bodies = {path.name for path in (shared_dir / "fixtures" / "x").glob("*.json")}

    assert bodies - set(COMMENT_BEARING) == {"sns-sdks__python-twitter__delete_error.json"}


@pytest.mark.parametrize("name", COMMENT_BEARING)
def test_each_post_becomes_a_complete_comment(shared_dir: Path, name: str) -> None:
    page = load(shared_dir, name)
    records = [record for record in page["data"] if not is_retweet(record)]
    users = {user["id"]: user for user in page.get("includes", {}).get("users", [])}

    batch = batch_from_page(page, OWNER)

    assert batch.skipped == []
    assert [comment.external_id for comment in batch.comments] == [record["id"] for record in records]
    for record, comment in zip(records, batch.comments, strict=True):
        assert comment.text.strip()
        assert "&amp;" not in comment.text
        assert not re.search(r"[\ud800-\udfff]", comment.text)
        assert comment.created_at.tzinfo is not None
        assert datetime(2019, 1, 1, tzinfo=UTC) < comment.created_at < datetime(2023, 1, 1, tzinfo=UTC)
        assert comment.permalink is not None
        assert comment.permalink.startswith("https://x.com/")
        assert comment.permalink.endswith(f"/status/{record['id']}")
        assert comment.author_id == record.get("author_id")
        assert comment.by_owner == (record.get("author_id") == OWNER)
        if record.get("author_id") in users:
            assert users[record["author_id"]]["username"] in (comment.author_name or "")
            assert f"x.com/{users[record['author_id']]['username']}/status/" in comment.permalink


def test_times_from_created_at_match_times_from_ids(shared_dir: Path) -> None:
    page = load(shared_dir, "sns-sdks__python-twitter__search_tweets_query.json")
    with_times = batch_from_page(page, OWNER).comments
    without = batch_from_page({"data": [{"id": r["id"], "text": r["text"]} for r in page["data"]]}, OWNER).comments

    for timed, derived in zip(with_times, without, strict=True):
        assert abs((timed.created_at - derived.created_at).total_seconds()) < 1


def test_retweets_in_search_results_are_dropped(shared_dir: Path) -> None:
    page = load(shared_dir, "sns-sdks__python-twitter__search_tweets_for_nyc.json")
    retweets = [record["id"] for record in page["data"] if record["text"].startswith("RT @")]

    kept = {comment.external_id for comment in batch_from_page(page, OWNER).comments}

    assert retweets
    assert kept.isdisjoint(retweets)


def test_replies_carry_their_parent_and_conversation_root(shared_dir: Path) -> None:
    page = load(shared_dir, "sns-sdks__python-twitter__search_tweets_query.json")
    replies = batch_from_page(page, OWNER).comments

    assert [comment.parent_id for comment in replies] == [
        record["referenced_tweets"][0]["id"] for record in page["data"]
    ]
    assert replies[1].author_name == "Jim Moffitt (@snowman)"


def test_surrogate_escaped_emoji_become_single_characters(shared_dir: Path) -> None:
    page = load(shared_dir, "tweepy__tweepy__test_client_get_users_mentions.body.json")
    texts = [comment.text for comment in batch_from_page(page, OWNER).comments]

    assert "@Twitter make \U0001f928 an available reaction emoji in dms" in texts


def test_problem_details_invalid_request_is_fatal(shared_dir: Path) -> None:
    body = (shared_dir / "fixtures" / "x" / "sns-sdks__python-twitter__delete_error.json").read_bytes()

    error = connector().classify_error(response(400, body))

    assert isinstance(error, FatalError)
    assert "Invalid Request" in str(error)


def test_recorded_rate_limit_headers_with_quota_left_set_no_cooldown(shared_dir: Path) -> None:
    cassette = (shared_dir / "fixtures" / "x" / "tweepy__tweepy__test_client_get_users_mentions.yaml").read_text()
    headers = {
        name: re.search(rf"{name}:\n\s+- '(\d+)'", cassette).group(1)  # type: ignore[union-attr]
        for name in ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")
    }
    exhausted = {**headers, "x-rate-limit-remaining": "0"}
    reset = datetime.fromtimestamp(int(headers["x-rate-limit-reset"]) - 600, tz=UTC)

    assert headers["x-rate-limit-remaining"] == "448"
    assert connector(reset).rate_limit_delay(response(200, b"{}", headers)) is None
    assert connector(reset).rate_limit_delay(response(200, b"{}", exhausted)) == 600


def connector(now: datetime = datetime(2026, 5, 10, tzinfo=UTC)) -> XConnector:
    settings = XSettings(
        name="conformance", platform="x", bearer_token=Secret("conformance-token", "t"), user_id=OWNER, username="x"
    )
    return XConnector(settings, now=lambda: now)


def response(status: int, body: bytes, headers: dict[str, str] | None = None) -> requests.Response:
    made = requests.Response()
    made.status_code = status
    made._content = body
    made.headers.update(headers or {})
    made.url = "https://api.x.com/2/tweets/search/recent?query=secret"
    return made
