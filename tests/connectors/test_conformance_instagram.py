"""Every comment-bearing recording in ../shared/fixtures/instagram goes through the connector's parsing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Comment
from connectors.instagram import comment_from_record, embedded_records

OWNER_ID = "17841406338772941"  # the IG user of these recordings (see mentioned_comment.json)
PREFIX = "sns-sdks__python-facebook__"
MEDIA = {"id": "17846368219941692", "permalink": "https://www.instagram.com/p/CSgdWACBeKr/", "caption": "Post"}


def load(shared_dir: Path, name: str) -> Any:
    return json.loads((shared_dir / "fixtures" / "instagram" / f"{PREFIX}{name}").read_text(encoding="utf-8"))


def records_in(body: Any, name: str) -> list[tuple[Mapping[str, Any], str | None]]:
    """The comment records a recording holds, each with its parent's id."""
    if name == "comments_fields.json":
        return [(record, None) for record in body.values()]
    if name == "mentioned_comment.json":
        return [(body["mentioned_comment"], None)]
    if "data" in body:
        return list(embedded_records(body))
    return list(embedded_records({"data": [body]}))


COMMENT_FILES = [
    "comment_fields.json",
    "comments_fields.json",
    "comments_p1.json",
    "comments_p2.json",
    "ig_comment.json",
    "ig_reply.json",
    "mentioned_comment.json",
    "replies.json",
]


def parse_file(shared_dir: Path, name: str) -> list[Comment]:
    body = load(shared_dir, name)
    return [comment_from_record(record, MEDIA, OWNER_ID, parent) for record, parent in records_in(body, name)]


@pytest.mark.parametrize("name", COMMENT_FILES)
def test_every_recorded_comment_parses(shared_dir: Path, name: str) -> None:
    comments = parse_file(shared_dir, name)
    assert comments
    for comment in comments:
        assert comment.external_id.isdigit()
        assert comment.text and comment.text == comment.text.strip()
        assert comment.created_at.tzinfo is not None
        assert comment.created_at.utcoffset() == UTC.utcoffset(None)
        assert comment.permalink is not None and comment.permalink.startswith(MEDIA["permalink"] + "c/")
        assert comment.post_id == MEDIA["id"]


def test_the_whole_shared_folder_is_covered(shared_dir: Path) -> None:
    recorded = {path.name.removeprefix(PREFIX) for path in (shared_dir / "fixtures" / "instagram").glob("*.json")}
    media_only = {"medias_p1.json", "medias_p2.json"}
    assert recorded - media_only <= set(COMMENT_FILES)


def test_default_fields_carry_no_author(shared_dir: Path) -> None:
    for comment in parse_file(shared_dir, "comments_p1.json"):
        assert comment.author_name is None and comment.author_id is None
        assert not comment.by_owner


def test_author_is_read_where_present(shared_dir: Path) -> None:
    (comment,) = parse_file(shared_dir, "comment_fields.json")
    assert comment.author_name == "ikroskun"


def test_nested_replies_keep_their_parent(shared_dir: Path) -> None:
    parent, reply = parse_file(shared_dir, "ig_comment.json")
    assert parent.external_id == "17892250648466172"
    assert reply.external_id == "17845747489952795"
    assert reply.parent_id == parent.external_id
    assert parent.by_owner  # written through the account's own IG user (user.id)


def test_owner_reply_is_recognised_by_user_id(shared_dir: Path) -> None:
    (reply,) = parse_file(shared_dir, "ig_reply.json")
    assert reply.by_owner
    assert not reply.hidden


def test_comments_come_newest_first_across_pages(shared_dir: Path) -> None:
    times = [c.created_at for name in ("comments_p1.json", "comments_p2.json") for c in parse_file(shared_dir, name)]
    assert times == sorted(times, reverse=True)


def test_double_space_version_is_the_same_comment_with_its_own_text(shared_dir: Path) -> None:
    (single,) = parse_file(shared_dir, "comment_fields.json")
    double = {c.external_id: c for c in parse_file(shared_dir, "comments_fields.json")}[single.external_id]
    assert single.text == "@ikroskun Hey, guys"
    assert double.text == "@ikroskun  Hey, guys"


@pytest.mark.parametrize("name", ["medias_p1.json", "medias_p2.json"])
def test_media_pages_embed_no_comments(shared_dir: Path, name: str) -> None:
    for media in load(shared_dir, name)["data"]:
        assert media["permalink"].startswith("https://www.instagram.com/p/")
        assert list(embedded_records(media.get("comments") or {})) == []
