"""Every recorded Graph response in ../shared/fixtures/facebook goes through the connector's parsing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.base import Comment
from connectors.errors import FatalError
from connectors.facebook import FacebookConnector, FacebookSettings, comment_from_record
from connectors.graph import records_of
from monitor.secrets import Secret

PREFIX = "sns-sdks__python-facebook__"
PAGE_ID = "19292868552"

# How each recorded file holds its comments.
SHAPES = {
    "comment_info.json": "comment",
    "model_comment.json": "comment",
    "comments_info.json": "comments_by_id",
    "comments_p1.json": "comments_page",
    "comments_p2.json": "comments_page",
    "feeds_default_fields_p1.json": "posts_page",
    "feeds_default_fields_p2.json": "posts_page",
    "feed_fields_p1.json": "posts_page",
    "feed_fields_p2.json": "posts_page",
    "model_post.json": "post",
    "multi_posts_data.json": "posts_by_id",
    "error.json": "error",
    "error_data.json": "error",
}
COUNTS = {
    "comment_info.json": 1,
    "model_comment.json": 1,
    "comments_info.json": 2,
    "comments_p1.json": 10,
    "comments_p2.json": 5,
    "multi_posts_data.json": 16,
}
GRAPH_ID = re.compile(r"^\d+_\d+$")


def recorded(shared_dir: Path) -> dict[str, Any]:
    folder = shared_dir / "fixtures" / "facebook"
    return {
        path.name.removeprefix(PREFIX): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.glob("*.json"))
    }


def pairs(shape: str, body: Any) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any] | None]]:
    """(comment record, the post it is under when known)."""
    if shape == "comment":
        yield body, None
    elif shape == "comments_by_id":
        for record in body.values():
            yield record, None
    elif shape == "comments_page":
        for record in records_of(body):
            yield record, None
    elif shape in ("post", "posts_page", "posts_by_id"):
        posts = [body] if shape == "post" else records_of(body) if shape == "posts_page" else body.values()
        for post in posts:
            for record in records_of(post.get("comments")):
                yield record, post


def parsed(shape: str, body: Any) -> list[tuple[Mapping[str, Any], Comment]]:
    return [(record, comment_from_record(record, PAGE_ID, post)) for record, post in pairs(shape, body)]


def test_every_recorded_file_has_a_known_shape(shared_dir: Path) -> None:
    assert set(recorded(shared_dir)) == set(SHAPES)


@pytest.mark.parametrize("name", sorted(name for name, shape in SHAPES.items() if shape != "error"))
def test_recorded_comments_parse(shared_dir: Path, name: str) -> None:
    results = parsed(SHAPES[name], recorded(shared_dir)[name])

    assert len(results) == COUNTS.get(name, 0)
    ids = [comment.external_id for _, comment in results]
    assert len(set(ids)) == len(ids)
    for record, comment in results:
        assert GRAPH_ID.match(comment.external_id), comment.external_id
        assert comment.text == (record.get("message") or "").strip()
        assert comment.created_at.tzinfo is UTC
        assert comment.author_name == (record.get("from") or {}).get("name")
        assert comment.author_id == (record.get("from") or {}).get("id")
        if record.get("permalink_url"):
            assert comment.permalink == record["permalink_url"]
        assert comment.permalink is None or comment.permalink.startswith("https://www.facebook.com/")


def test_stream_replies_without_ids_keep_their_parent(shared_dir: Path) -> None:
    results = parsed("comments_page", recorded(shared_dir)["comments_p1.json"])

    replies = {comment.external_id: comment.parent_id for _, comment in results if comment.parent_id}
    assert replies == {
        "10158407654328553_10158409983033553": "10158407654328553_10158407903973553",
        "10158407654328553_10158409984053553": "10158407654328553_10158407903973553",
        "10158407654328553_10158409984103553": "10158407654328553_10158407835073553",
        "10158407654328553_10158411321043553": "10158407654328553_10158410332078553",
    }
    assert all(comment.post_id == "10158407654328553" for _, comment in results)


def test_ids_match_across_shapes(shared_dir: Path) -> None:
    files = recorded(shared_dir)
    single = parsed("comment", files["comment_info.json"])[0][1]
    by_id = {comment.external_id for _, comment in parsed("comments_by_id", files["comments_info.json"])}

    assert single.external_id == "10158371815748553_10158371930463553"
    assert single.external_id in by_id


def test_legacy_embedded_comments(shared_dir: Path) -> None:
    results = parsed("posts_by_id", recorded(shared_dir)["multi_posts_data.json"])

    comments = {comment.external_id: comment for _, comment in results}
    assert "10158347294088553_10158348537573553" in comments
    assert comments["10158345715593553_10158347177138553"].text == ""
    assert {comment.post_id for comment in comments.values()} == {
        "19292868552_10158347294088553",
        "19292868552_10158345715593553",
    }
    assert all(comment.post_url for comment in comments.values())


def test_model_comment_fields(shared_dir: Path) -> None:
    comment = parsed("comment", recorded(shared_dir)["model_comment.json"])[0][1]

    assert (comment.author_name, comment.text, comment.hidden, comment.by_owner) == (
        "Kun Liu",
        "My Nice Car",
        False,
        False,
    )


@pytest.mark.parametrize("name", ["error.json", "error_data.json"])
def test_recorded_code_100_errors_are_fatal(shared_dir: Path, name: str) -> None:
    response = requests.Response()
    response.status_code = 400
    response._content = json.dumps(recorded(shared_dir)[name]).encode()
    response.url = "https://graph.facebook.com/v23.0/19292868552/posts?access_token=recorded-token-value"
    settings = FacebookSettings(
        name="fb", platform="facebook", page_id=PAGE_ID, access_token=Secret("conformance-token", "test")
    )

    error = FacebookConnector(settings).classify_error(response)

    assert isinstance(error, FatalError)
    assert "code 100" in str(error)
    assert "access_token" not in str(error)
    assert "recorded-token-value" not in str(error)
