"""Every recording in ../shared/fixtures/youtube goes through the connector's parsing or error sorting."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.base import Comment
from connectors.errors import AuthError
from connectors.youtube import ThreadContext, classify_google_error, comment_from_record, thread_context

PREFIX = "sns-sdks__python-youtube__"
OWN_CHANNEL = "UCa-vrCLQHviTOVnEKDOdetQ"  # the channel the recordings were made for

THREAD_FILES = [
    "comment_thread_single.json",
    "comment_threads_all_to_me.json",
    "comment_threads_by_channel.json",
    "comment_threads_by_video_paged_1.json",
    "comment_threads_by_video_paged_2.json",
    "comment_threads_insert_response.json",
    "comment_threads_multi.json",
    "comment_threads_with_search.json",
    "model_comment_thread_info.json",
]
COMMENT_FILES = [
    "comments_comments_by_parent_paged_1.json",
    "comments_comments_by_parent_paged_2.json",
    "comments_comments_multi.json",
    "comments_comments_single.json",
    "comments_insert_response.json",
]
ERROR_FILES = ["error_permission_resp.json", "error_response.json"]


def load(shared_dir: Path, name: str) -> Any:
    return json.loads((shared_dir / "fixtures" / "youtube" / f"{PREFIX}{name}").read_text(encoding="utf-8"))


def listed(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(body["items"]) if "items" in body else [body]


def parse_threads(body: Mapping[str, Any]) -> list[tuple[Comment, Mapping[str, Any]]]:
    """Each top-level comment and embedded reply, with the raw snippet it came from."""
    parsed = []
    for thread in listed(body):
        context = thread_context(thread, OWN_CHANNEL)
        records = [thread["snippet"]["topLevelComment"], *thread.get("replies", {}).get("comments", [])]
        parsed += [(comment_from_record(record, context), record["snippet"]) for record in records]
    return parsed


def parse_comments(body: Mapping[str, Any]) -> list[tuple[Comment, Mapping[str, Any]]]:
    context = ThreadContext(channel_id=OWN_CHANNEL, video_id="JE8xdDp5B8Q", thread_channel_id=None)
    return [(comment_from_record(record, context), record["snippet"]) for record in listed(body)]


def parse_file(shared_dir: Path, name: str) -> list[tuple[Comment, Mapping[str, Any]]]:
    body = load(shared_dir, name)
    return parse_threads(body) if name in THREAD_FILES else parse_comments(body)


@pytest.mark.parametrize("name", THREAD_FILES + COMMENT_FILES)
def test_every_recorded_comment_parses(shared_dir: Path, name: str) -> None:
    parsed = parse_file(shared_dir, name)
    assert parsed
    for comment, snippet in parsed:
        assert comment.external_id
        assert comment.text == snippet["textOriginal"].strip()
        assert "<" not in comment.text and "&#39;" not in comment.text
        assert comment.created_at.tzinfo is not None and comment.created_at.utcoffset() == UTC.utcoffset(None)
        assert comment.author_name == snippet["authorDisplayName"]
        assert comment.author_id == snippet["authorChannelId"]["value"]
        assert comment.permalink is not None and comment.permalink.startswith("https://www.youtube.com/")
        assert comment.by_owner == (comment.author_id == OWN_CHANNEL)
        assert comment.edited_at is None  # none of the recordings was edited


def test_the_whole_shared_folder_is_covered(shared_dir: Path) -> None:
    recorded = {path.name.removeprefix(PREFIX) for path in (shared_dir / "fixtures" / "youtube").glob("*.json")}
    assert recorded <= set(THREAD_FILES + COMMENT_FILES + ERROR_FILES)


def test_html_display_text_is_not_used(shared_dir: Path) -> None:
    (comment, snippet), *_ = parse_file(shared_dir, "comment_threads_by_video_paged_1.json")
    assert snippet["textDisplay"].startswith("<a href=")
    assert comment.text == "Google.com"
    (single, _), *_ = parse_file(shared_dir, "comment_thread_single.json")
    assert single.text.startswith("Super video !!!\nWith full power")


def test_times_with_and_without_milliseconds(shared_dir: Path) -> None:
    (with_millis, _), *_ = parse_file(shared_dir, "comment_thread_single.json")
    (without_millis, _), *_ = parse_file(shared_dir, "comment_threads_insert_response.json")
    assert with_millis.created_at == datetime(2019, 4, 20, 1, 3, 39, tzinfo=UTC)
    assert without_millis.created_at == datetime(2022, 11, 15, 2, 20, 1, tzinfo=UTC)


def test_video_comments_link_to_the_comment_on_the_video(shared_dir: Path) -> None:
    (comment, _), reply_pair = parse_file(shared_dir, "model_comment_thread_info.json")
    reply = reply_pair[0]
    assert comment.permalink == "https://www.youtube.com/watch?v=D-lhorsDlUQ&lc=UgydxWWoeA7F1OdqypJ4AaABAg"
    assert reply.parent_id == comment.external_id
    assert reply.permalink.endswith("&lc=UgydxWWoeA7F1OdqypJ4AaABAg.8wWQ3tdHcFx8xcDheui-qb")


def test_channel_discussion_threads_link_to_the_channel(shared_dir: Path) -> None:
    for comment, _ in parse_file(shared_dir, "comment_threads_by_channel.json"):
        assert comment.post_id == "UC_x5XG1OV2P6uZZ5FSM9Ttw"
        assert comment.permalink == "https://www.youtube.com/channel/UC_x5XG1OV2P6uZZ5FSM9Ttw"
    no_video = [c for c, _ in parse_file(shared_dir, "comment_threads_all_to_me.json") if "watch" not in c.post_url]
    assert no_video, "the all-threads listing mixes channel discussion with video comments"


def test_own_channel_comment_is_by_owner(shared_dir: Path) -> None:
    (comment, _), *_ = parse_file(shared_dir, "comment_threads_insert_response.json")
    assert comment.by_owner


def response_with(status: int, body: Any) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    response.request = requests.Request("GET", "https://www.googleapis.com/youtube/v3/commentThreads?key=K").prepare()
    return response


@pytest.mark.parametrize("name", ERROR_FILES)
def test_recorded_errors_are_auth_failures(shared_dir: Path, name: str) -> None:
    body = load(shared_dir, name)
    error = classify_google_error(response_with(body["error"]["code"], body), datetime(2025, 6, 10, tzinfo=UTC))
    # 403 PERMISSION_DENIED says SERVICE_UNAVAILABLE, but it is not a passing outage
    assert isinstance(error, AuthError)
    assert "key=" not in str(error)
