"""How an item reads: safe links only, the matched words marked, tone and time in words."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.notify.export import cell
from monitor.notify.present import (
    Segment,
    account_hosts,
    describe_categories,
    excerpt,
    local_time,
    one_line,
    safe_link,
    spans_of,
    tone,
    tone_worth_showing,
)


@pytest.mark.parametrize(
    ("platform", "base_url", "url", "expected"),
    [
        ("facebook", None, "https://www.facebook.com/p/1?comment_id=2", "https://www.facebook.com/p/1?comment_id=2"),
        ("facebook", None, "https://m.facebook.com/x", "https://m.facebook.com/x"),
        ("facebook", None, "http://www.facebook.com/x", None),
        ("facebook", None, "https://facebook.com.evil.example/x", None),
        ("facebook", None, "https://evilfacebook.com/x", None),
        ("facebook", None, "https://user:pw@facebook.com/x", None),
        ("facebook", None, "https://facebook.com:8443/x", None),
        ("facebook", None, "javascript:alert(1)", None),
        ("facebook", None, "https://facebook.com/x\r\nBcc: a@b", None),
        ("facebook", None, 'https://facebook.com/"><script>', None),
        ("facebook", None, "https://www.instagram.com/p/1", None),
        ("instagram", None, "https://www.instagram.com/p/1", "https://www.instagram.com/p/1"),
        ("youtube", None, "https://www.youtube.com/watch?v=1&lc=2", "https://www.youtube.com/watch?v=1&lc=2"),
        ("x", None, "https://twitter.com/a/status/1", "https://twitter.com/a/status/1"),
        ("x", None, "https://x.com/a/status/1", "https://x.com/a/status/1"),
        (
            "linkedin",
            None,
            "https://www.linkedin.com/feed/update/urn:li:activity:1",
            "https://www.linkedin.com/feed/update/urn:li:activity:1",
        ),
        ("bluesky", None, "https://bsky.app/profile/a/post/1", "https://bsky.app/profile/a/post/1"),
        (
            "mastodon",
            "https://social.example.org",
            "https://social.example.org/@a/1",
            "https://social.example.org/@a/1",
        ),
        ("mastodon", "https://social.example.org", "https://mastodon.social/@a/1", None),
        ("mastodon", None, "https://mastodon.social/@a/1", None),
        (
            "wordpress",
            "https://brightwater.example/wp-json",
            "https://brightwater.example/news/#comment-4",
            "https://brightwater.example/news/#comment-4",
        ),
        ("file", None, "https://anything.example/comment/1", "https://anything.example/comment/1"),
        ("file", None, "http://anything.example/comment/1", None),
        ("facebook", None, None, None),
    ],
)
def test_safe_link(platform: str, base_url: str | None, url: str | None, expected: str | None) -> None:
    assert safe_link(url, account_hosts(platform, base_url)) == expected


def test_excerpt_marks_each_matched_span() -> None:
    text = "You are liars and thieves"

    assert excerpt(text, [(8, 13), (18, 25)]) == (
        Segment("You are ", False),
        Segment("liars", True),
        Segment(" and ", False),
        Segment("thieves", True),
    )


def test_excerpt_merges_overlaps_and_ignores_spans_past_the_end() -> None:
    assert excerpt("burn it down", [(0, 4), (2, 7), (50, 60)]) == (
        Segment("burn it", True),
        Segment(" down", False),
    )


def test_a_long_comment_is_cut_around_its_first_match() -> None:
    text = "a" * 500 + " threat " + "b" * 500
    segments = excerpt(text, [(501, 507)])

    assert segments[0] == Segment("…", False) and segments[-1] == Segment("…", False)
    assert Segment("threat", True) in segments
    assert sum(len(s.text) for s in segments) <= 282


def test_control_characters_never_reach_an_excerpt_or_a_line() -> None:
    assert excerpt("hi\x1b[31m red\x07", []) == (Segment("hi [31m red ", False),)
    assert one_line("Eve\r\nBcc: x\u202e") == "Eve Bcc: x"


def test_spans_of_keeps_only_well_formed_spans() -> None:
    reasons = [{"spans": [[0, 3], [5, 2], ["a", 4], [True, 2]]}, {"spans": "0-3"}, {}, {"spans": [(4, 9)]}]

    assert spans_of(reasons) == [(0, 3), (4, 9)]


@pytest.mark.parametrize(
    ("compound", "words"),
    [(-0.9, "very negative"), (-0.3, "negative"), (0.0, "neutral"), (0.3, "positive"), (0.8, "very positive")],
)
def test_tone_in_words(compound: float, words: str) -> None:
    assert tone({"compound": compound}) == words


def test_no_tone_without_a_score() -> None:
    assert tone(None) is None and tone({"neg": 0.4}) is None


def test_categories_read_as_a_phrase() -> None:
    assert describe_categories(["threat"]) == "a threat"
    assert describe_categories(["hate", "abuse", "new-thing"]) == "hate, abuse and new-thing"
    assert describe_categories([]) == "a flagged comment"


def test_local_time_in_the_organisations_zone() -> None:
    assert (
        local_time(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), ZoneInfo("Europe/London")) == "Sun 29 Mar 2026, 02:30 BST"
    )


@pytest.mark.parametrize(
    ("value", "expected"), [("=HYPERLINK(1)", "'=HYPERLINK(1)"), ("@SUM", "'@SUM"), ("plain", "plain"), (7, "7")]
)
def test_csv_cells_never_start_a_formula(value: object, expected: str) -> None:
    assert cell(value) == expected


@pytest.mark.parametrize(
    ("compound", "categories", "shown"),
    [
        (-0.7, ("allegation",), "very negative"),
        (-0.3, ("abuse", "negative"), "negative"),
        (0.4, ("threat",), None),  # a cheerful threat: "positive" would contradict the flag
        (0.0, ("misrepresentation",), None),
        (-0.8, ("negative",), None),  # the tone is the reason itself
    ],
)
def test_the_tone_is_shown_only_where_it_adds_something(
    compound: float, categories: tuple[str, ...], shown: str | None
) -> None:
    assert tone_worth_showing({"compound": compound}, categories) == shown
