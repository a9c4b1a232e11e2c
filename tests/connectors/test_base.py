from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.base import Batch, Comment, as_object, objects_of, parse_time

NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
REPLACEMENT = "\ufffd"


def comment(**fields: Any) -> Comment:
    return Comment(**{"external_id": "c-1", "text": "hello", "created_at": NOW, **fields})


@pytest.mark.parametrize(
    "field", ["external_id", "text", "post_id", "post_url", "post_title", "parent_id", "author_id", "author_name"]
)
def test_a_lone_surrogate_in_any_text_field_becomes_the_replacement_character(field: str) -> None:
    made = comment(**{field: "a\ud800b\udfff"})

    assert getattr(made, field) == f"a{REPLACEMENT}b{REPLACEMENT}"
    getattr(made, field).encode("utf-8")


def test_a_lone_surrogate_in_the_permalink_is_replaced() -> None:
    assert comment(permalink="https://x.test/\udc00").permalink == f"https://x.test/{REPLACEMENT}"


def test_emoji_and_other_text_are_kept_as_given() -> None:
    text = "Bloody brilliant 🤨 team \u2013 café \u200b\u202e"

    assert comment(text=text, author_name="Zoë 👩\u200d👩\u200d👧").text == text


def test_a_surrogate_pair_left_as_two_code_points_becomes_its_character() -> None:
    assert comment(text="\ud83e\udd28 and \ud800").text == f"🤨 and {REPLACEMENT}"


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"text": None}, "Comment.text is null, not text"),
        ({"external_id": 12}, "Comment.external_id is an int, not text"),
        ({"author_name": {"name": "Sue"}}, "Comment.author_name is a dict, not text"),
        ({"post_id": ["p"]}, "Comment.post_id is a list, not text"),
        ({"edited_at": "2026-05-10"}, "Comment.edited_at is a str, not a time"),
    ],
)
def test_fields_of_the_wrong_type_are_refused_with_a_reason(fields: dict[str, Any], words: str) -> None:
    with pytest.raises(TypeError, match=words):
        comment(**fields)


@pytest.mark.parametrize("created_at", [datetime(2026, 5, 10, 12, 0), "2026-05-10T12:00:00Z"])
def test_created_at_must_be_an_aware_datetime(created_at: Any) -> None:
    with pytest.raises(ValueError, match="timezone-aware datetime"):
        comment(created_at=created_at)


@pytest.mark.parametrize(
    "value", [10**30, -(10**20), float("inf"), float("nan"), "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"]
)
def test_times_out_of_range_are_value_errors(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_time(value)


def test_as_object_names_what_it_got_instead() -> None:
    assert as_object({"id": 1}, "post") == {"id": 1}
    with pytest.raises(TypeError, match="post is null, not an object"):
        as_object(None, "post")
    with pytest.raises(TypeError, match="post is an int, not an object"):
        as_object(3, "post")


def test_objects_of_keeps_objects_and_notes_the_rest() -> None:
    batch = Batch(comments=[])

    kept = objects_of([{"id": 1}, None, ["x"], {"id": 2}], "thread", batch)

    assert kept == [{"id": 1}, {"id": 2}]
    assert batch.skipped == ["thread is null, not an object", "thread is a list, not an object"]
