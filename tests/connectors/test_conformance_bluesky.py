"""The recorded Bluesky post records and thread views in ../shared/fixtures/bluesky, read as notifications are.

They are not notifications, but a notification carries the same three parts
(``uri``, ``author``, ``record``), so each goes through the same
``comment_from_post``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import Comment
from connectors.bluesky import comment_from_post

SDK_DID = "did:plc:kvwvcn5iqfooopmyzvb4qzba"


def posts_in(body: Any) -> Iterator[tuple[Any, Any, Any, Any]]:
    """(uri, author, record, indexedAt) of every post a recorded body holds."""
    if isinstance(body, list):
        for item in body:
            yield from posts_in(item)
        return
    if not isinstance(body, Mapping):
        return
    if "uri" in body and isinstance(body.get("value"), Mapping):
        yield body["uri"], body.get("author"), body["value"], body.get("indexedAt")
    elif "uri" in body and isinstance(body.get("record"), Mapping):
        yield body["uri"], body.get("author"), body["record"], body.get("indexedAt")
    for key in ("thread", "post", "parent", "replies"):
        if key in body:
            yield from posts_in(body[key])


def read_all(shared_dir: Path) -> dict[str, list[Comment]]:
    files = sorted((shared_dir / "fixtures" / "bluesky").glob("*.json"))
    assert files, "no Bluesky fixtures"
    return {
        path.name: [
            comment_from_post(uri, author, record, fallback_time=indexed)
            for uri, author, record, indexed in posts_in(json.loads(path.read_text(encoding="utf-8")))
        ]
        for path in files
    }


def test_every_recorded_post_becomes_a_well_formed_comment(shared_dir: Path) -> None:
    by_file = read_all(shared_dir)
    for name, comments in by_file.items():
        assert comments, f"{name} held no post"
        for comment in comments:
            assert comment.external_id.startswith("at://")
            assert comment.created_at.utcoffset() == UTC.utcoffset(None)
            assert comment.author_id == SDK_DID
            assert comment.permalink is not None
            assert comment.permalink.startswith("https://bsky.app/profile/")
            assert comment.permalink.endswith(comment.external_id.rsplit("/", 1)[-1])


def test_created_at_without_a_zone_is_utc_and_unknown_fields_are_ignored(shared_dir: Path) -> None:
    [extended] = read_all(shared_dir)["MarshalX__atproto__extended_post_record.json"]
    assert extended.text == "regress test"
    assert extended.created_at == datetime(2023, 7, 21, 1, 33, 51, 481951, tzinfo=UTC)
    assert extended.permalink == f"https://bsky.app/profile/{SDK_DID}/post/3k2yinh52ne2x"
    assert extended.author_name is None


def test_created_at_with_offset_and_microseconds(shared_dir: Path) -> None:
    [post] = read_all(shared_dir)["MarshalX__atproto__post_record.json"]
    assert post.text == "new text114"
    assert post.created_at == datetime(2024, 2, 22, 19, 58, 13, 903293, tzinfo=UTC)


def test_media_only_post_in_a_thread_view_has_empty_text_and_quotes_its_subject(shared_dir: Path) -> None:
    [post] = read_all(shared_dir)["MarshalX__atproto__thread_view_post_with_embed_media.json"]
    assert post.text == ""
    assert post.author_name == "Python SDK (@test.marshal.dev)"
    assert post.permalink == "https://bsky.app/profile/test.marshal.dev/post/3kaheyt6vpc22"
    assert post.post_id == f"at://{SDK_DID}/app.bsky.feed.post/3kahesw26il2z"
    assert post.created_at == datetime(2023, 9, 28, 12, 49, 36, 735000, tzinfo=UTC)
