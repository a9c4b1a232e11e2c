from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pydantic
import pytest
import requests
import responses

import connectors.linkedin
from connectors.base import Batch, Comment
from connectors.errors import AuthError, FatalError, RetryableError
from connectors.linkedin import (
    LinkedInConnector,
    LinkedInSettings,
    comment_from_record,
    little_text,
    seconds_to_midnight_utc,
)
from monitor.secrets import Secret

FIXTURES = Path(__file__).parent / "fixtures" / "linkedin"
REST = "https://api.linkedin.com/rest"
ORG = "urn:li:organization:10451234"
TOKEN = "AQXsecret-linkedin-access-token"
NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)

P1, P2, P3, P4 = (
    f"urn:li:{kind}:733000000000000000{n}" for n, kind in ((1, "share"), (2, "ugcPost"), (3, "share"), (4, "share"))
)
ACTIVITY3 = "urn:li:activity:7330000000000000103"
C1, C2, C3, R1, C5, R2 = (f"urn:li:comment:({ACTIVITY3},733010000000000000{n})" for n in range(1, 7))
O1, O2 = (f"urn:li:comment:(urn:li:activity:7330000000000000101,733010000000000010{n})" for n in (1, 2))


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of two, so the fixtures show paging to the end."""
    monkeypatch.setattr(connectors.linkedin, "PAGE_SIZE", 2)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def connector(waits: list[float] | None = None, now: datetime = NOW, **overrides: Any) -> LinkedInConnector:
    settings = LinkedInSettings(
        name="brightwater-linkedin",
        platform="linkedin",
        access_token=Secret(TOKEN, "test"),
        organization_urn=ORG,
        **overrides,
    )
    made = LinkedInConnector(settings, now=lambda: now)
    made.http.sleep = (waits if waits is not None else []).append
    return made


def serve(rsps: responses.RequestsMock, path: str, by_start: dict[str, str]) -> None:
    """Answer GET ``REST/path`` with the fixture for the request's ``start``."""

    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        start = parse_qs(urlsplit(request.url or "").query).get("start", ["0"])[0]
        return 200, {}, json.dumps(fixture(by_start[start]))

    rsps.add_callback(responses.GET, re.compile(re.escape(f"{REST}/{path}") + r"(\?.*)?$"), callback=reply)


def comments_path(urn: str) -> str:
    return f"socialActions/{quote(urn, safe='')}/comments"


def serve_first_poll(rsps: responses.RequestsMock) -> None:
    serve(rsps, "posts", {"0": "posts_p1.json", "2": "posts_p2.json"})
    serve(rsps, "socialMetadata", {"0": "metadata.json"})
    serve(rsps, comments_path(P3), {"0": "comments_post3_p1.json", "2": "comments_post3_p2.json"})
    serve(rsps, comments_path(C1), {"0": "replies_c1.json"})
    serve(rsps, comments_path(P1), {"0": "comments_post1.json"})


def first_poll(made: LinkedInConnector | None = None) -> list[Batch]:
    with responses.RequestsMock() as rsps:
        serve_first_poll(rsps)
        return list((made or connector()).fetch(None))


def comments_of(batches: list[Batch]) -> dict[str, Comment]:
    return {comment.external_id: comment for batch in batches for comment in batch.comments}


def test_first_poll_reads_posts_counts_and_comments_to_the_end() -> None:
    made = connector()
    batches = first_poll(made)

    assert made.http.requests_made == 7
    assert set(comments_of(batches)) == {C1, C2, C5, R1, O2}
    assert [batch.bookmark for batch in batches[:-1]] == [None, None]
    assert batches[-1].bookmark == {
        "since": int(datetime(2026, 5, 9, 12, 0, tzinfo=UTC).timestamp() * 1000),
        "posts": {P3: [5, 4], P2: [0, 0], P1: [2, 2]},
    }


def test_requests_carry_version_headers_and_restli_encoding() -> None:
    with responses.RequestsMock() as rsps:
        serve_first_poll(rsps)
        list(connector().fetch(None))
        calls = [call.request for call in rsps.calls]

    posts_query = parse_qs(urlsplit(calls[0].url).query)
    assert posts_query["author"] == [ORG]
    assert posts_query["q"] == ["author"]
    assert posts_query["sortBy"] == ["CREATED"]
    assert calls[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert calls[0].headers["LinkedIn-Version"] == "202607"
    assert calls[0].headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert calls[2].url == (
        f"{REST}/socialMetadata?ids=List(urn%3Ali%3Ashare%3A7330000000000000003,"
        "urn%3Ali%3AugcPost%3A7330000000000000002,urn%3Ali%3Ashare%3A7330000000000000001)"
    )
    assert calls[3].url.startswith(f"{REST}/socialActions/urn%3Ali%3Ashare%3A7330000000000000003/comments?")


def test_member_comment_fields() -> None:
    comment = comments_of(first_poll())[C1]

    assert comment.text.startswith("My dad has been left in soiled sheets")
    assert comment.created_at == datetime(2026, 5, 9, 10, 0, tzinfo=UTC)
    assert comment.author_id == "urn:li:person:bT4nR8sWqE"
    assert comment.author_name == "LinkedIn member bT4nR8sWqE"
    assert comment.post_id == P3
    assert comment.post_url == f"https://www.linkedin.com/feed/update/{P3}/"
    assert comment.post_title == "Our Harbour House team raised £1,200 for Dorset Mind — thank you all! #CareHero…"
    assert comment.permalink == (
        f"https://www.linkedin.com/feed/update/{P3}/?commentUrn="
        "urn%3Ali%3Acomment%3A%28urn%3Ali%3Aactivity%3A7330000000000000103%2C7330100000000000001%29"
    )
    assert comment.parent_id is None
    assert comment.edited_at is None
    assert not comment.by_owner


def test_reply_by_the_page_links_to_its_thread_and_is_by_owner() -> None:
    comments = comments_of(first_poll())
    reply = comments[R1]

    assert reply.parent_id == C1
    assert reply.by_owner
    assert reply.author_id == ORG
    assert reply.author_name == "Our LinkedIn page"
    assert reply.permalink is not None
    assert "?commentUrn=urn%3Ali%3Acomment%3A%28" in reply.permalink
    assert reply.permalink.endswith("&replyUrn=" + quote(R1, safe=""))
    assert comments[C2].by_owner
    assert comments[C2].text == "Thank you to everyone who came \U0001f499"


def test_image_only_comment_has_empty_text() -> None:
    assert comments_of(first_poll())[C5].text == ""


def test_edited_comment_on_an_older_post_is_reported_with_edited_at() -> None:
    edited = comments_of(first_poll())[O2]

    assert edited.created_at == datetime(2026, 4, 22, 9, 0, tzinfo=UTC)
    assert edited.edited_at == datetime(2026, 5, 8, 17, 45, tzinfo=UTC)
    assert edited.post_title == "Spring open day at Meadow View"


def test_comments_older_than_the_lookback_are_not_reported() -> None:
    assert O1 not in comments_of(first_poll())


def test_malformed_comment_is_skipped_with_a_reason() -> None:
    batches = first_poll()
    skipped = [reason for batch in batches for reason in batch.skipped]

    assert len(skipped) == 1
    assert "7330100000000000003" in skipped[0]
    assert "KeyError" in skipped[0]


def test_steady_state_with_unchanged_counts_reads_no_comments() -> None:
    bookmark = first_poll()[-1].bookmark
    with responses.RequestsMock() as rsps:
        serve(rsps, "posts", {"0": "posts_p1.json"})
        serve(rsps, "socialMetadata", {"0": "metadata.json"})
        made = connector(now=LATER)
        batches = list(made.fetch(bookmark))

    assert made.http.requests_made == 2
    assert batches == [Batch(comments=[], bookmark=bookmark, skipped=[])]


def test_incremental_poll_finds_new_post_new_reply_and_drops_deleted_post() -> None:
    bookmark = first_poll()[-1].bookmark
    with responses.RequestsMock() as rsps:
        serve(rsps, "posts", {"0": "posts_newer.json"})
        serve(rsps, "socialMetadata", {"0": "metadata_newer.json"})
        serve(rsps, comments_path(P3), {"0": "comments_post3_p1.json", "2": "comments_post3_p2.json"})
        serve(rsps, comments_path(C1), {"0": "replies_c1_newer.json"})
        made = connector(now=LATER)
        batches = list(made.fetch(bookmark))
        metadata_url = rsps.calls[1].request.url

    comments = comments_of(batches)
    assert made.http.requests_made == 5
    assert metadata_url.startswith(f"{REST}/socialMetadata?ids=List(urn%3Ali%3Ashare%3A7330000000000000004,")
    assert set(comments) == {R1, R2}
    assert comments[R2].text == "Still waiting for that call Brightwater Care"
    assert batches[-1].bookmark == {
        "since": int((LATER - timedelta(minutes=15)).timestamp() * 1000),
        "posts": {P4: [0, 0], P3: [6, 4], P1: [2, 2]},
    }
    assert any(P2 in note and "404" in note for note in batches[-1].skipped)


def test_counts_missing_for_a_transient_reason_are_kept_so_the_post_is_read_later() -> None:
    bookmark = {"since": 0, "posts": {P3: [5, 4]}}
    body = {"results": {}, "statuses": {P3: 500}, "errors": {P3: {"status": 500, "message": "Internal"}}}
    with responses.RequestsMock() as rsps:
        serve(rsps, "posts", {"0": "posts_p1.json"})
        rsps.add(responses.GET, re.compile(re.escape(f"{REST}/socialMetadata") + r".*"), json=body)
        batches = list(connector().fetch(bookmark))

    assert batches[-1].bookmark == {"since": 0, "posts": {P3: [5, 4]}}
    assert "kept as before" in batches[-1].skipped[0]


def test_max_posts_limits_the_watched_posts() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_first_poll(rsps)
        batches = list(connector(max_posts=1).fetch(None))

    assert set(batches[-1].bookmark["posts"]) == {P3}  # type: ignore[index]


def serve_error(rsps: responses.RequestsMock, name: str, status: int, **headers: str) -> None:
    rsps.add(
        responses.GET,
        re.compile(re.escape(f"{REST}/posts") + r".*"),
        json=fixture(name),
        status=status,
        headers=headers,
    )


@pytest.mark.parametrize(
    ("name", "status", "words"),
    [("error_token_expired.json", 401, "65600"), ("error_access_denied.json", 403, "ACCESS_DENIED")],
)
def test_auth_errors(name: str, status: int, words: str) -> None:
    with responses.RequestsMock() as rsps:
        serve_error(rsps, name, status)
        with pytest.raises(AuthError) as caught:
            list(connector().fetch(None))

    message = str(caught.value)
    assert words in message
    assert TOKEN not in message
    assert "?" not in message.split(" failed", maxsplit=1)[0]


def test_daily_throttle_waits_until_midnight_utc() -> None:
    with responses.RequestsMock() as rsps:
        serve_error(rsps, "error_throttled.json", 429)
        with pytest.raises(RetryableError, match="midnight UTC") as caught:
            list(connector().fetch(None))

    assert caught.value.retry_after == 12 * 3600


def test_throttle_with_retry_after_uses_it() -> None:
    with responses.RequestsMock() as rsps:
        serve_error(rsps, "error_throttled.json", 429, **{"Retry-After": "120"})
        with pytest.raises(RetryableError) as caught:
            list(connector().fetch(None))

    assert caught.value.retry_after == 120


def test_server_error_is_retried_then_retryable() -> None:
    waits: list[float] = []
    with responses.RequestsMock() as rsps:
        serve_error(rsps, "error_server.json", 500)
        with pytest.raises(RetryableError, match=r"\(500\)"):
            list(connector(waits).fetch(None))

    assert len(waits) == 3


def test_retired_version_stops_the_account_and_names_the_setting() -> None:
    """LinkedIn answers a sunset LinkedIn-Version with 426 (Marketing API "Versioning" page)."""
    with responses.RequestsMock() as rsps:
        serve_error(rsps, "error_version.json", 426)
        with pytest.raises(AuthError, match="set linkedin_version on this account") as raised:
            list(connector(linkedin_version="202301").fetch(None))

    assert "LinkedIn-Version 202301" in str(raised.value)
    assert "default is 202607" in str(raised.value)


def test_unknown_version_answered_with_400_is_the_same_config_error() -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(re.compile(re.escape(f"{REST}/posts")), status=400, json={
            "status": 400, "code": "VERSION_MISSING", "message": "A version must be present"
        })
        with pytest.raises(AuthError, match="linkedin_version"):
            list(connector().fetch(None))


def test_bad_request_is_fatal() -> None:
    with responses.RequestsMock() as rsps:
        serve_error(rsps, "error_bad_request.json", 400)
        with pytest.raises(FatalError, match="ILLEGAL_ARGUMENT"):
            list(connector().fetch(None))


def test_check_reports_the_latest_post() -> None:
    with responses.RequestsMock() as rsps:
        serve(rsps, "posts", {"0": "posts_p1.json"})
        seen = connector().check()
        query = parse_qs(urlsplit(rsps.calls[0].request.url).query)

    assert seen == f"{ORG}: posts readable, latest {P3} (2026-05-09)"
    assert query["count"] == ["1"]


def test_settings_reject_bad_values() -> None:
    with pytest.raises(pydantic.ValidationError):
        LinkedInSettings(name="l", platform="linkedin", access_token=Secret(TOKEN, "t"), organization_urn="123")
    with pytest.raises(pydantic.ValidationError):
        LinkedInSettings(
            name="l",
            platform="linkedin",
            access_token=Secret(TOKEN, "t"),
            organization_urn=ORG,
            linkedin_version="2025",
        )


def test_little_text_becomes_plain() -> None:
    assert little_text(
        r"Hiring in Poole \(paid DBS\) with @[Dorset Mind](urn:li:organization:1) {hashtag|\#|Jobs}"
    ) == ("Hiring in Poole (paid DBS) with Dorset Mind #Jobs")


def test_comment_without_urn_builds_it_from_object_and_id() -> None:
    record = {
        "id": "99",
        "object": ACTIVITY3,
        "actor": "urn:li:organization:555",
        "created": {"time": 1_778_400_000_000},
        "message": {"text": "Hi"},
    }

    comment = comment_from_record(record, P3, ORG)

    assert comment.external_id == f"urn:li:comment:({ACTIVITY3},99)"
    assert comment.author_name == "LinkedIn page 555"


def test_seconds_to_midnight() -> None:
    assert seconds_to_midnight_utc(datetime(2026, 5, 10, 23, 59, tzinfo=UTC)) == 60


def test_steady_state_poll_of_an_organisation_with_500_posts_costs_six_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.undo()
    from bench.economy_linkedin import measure

    figures = measure()

    assert figures["steady_state_requests"] == 6
    assert figures["comments_read_on_steady_poll"] == 0
    assert figures["comments_read_on_first_poll"] > 100
    assert figures["naive_requests"] == 505


def serve_bodies(rsps: responses.RequestsMock, spoiled: dict[tuple[str, str], Any]) -> None:
    """The first poll's answers, with the body for each (path, start) in ``spoiled`` replaced."""
    pages = {
        ("posts", "0"): "posts_p1.json",
        ("posts", "2"): "posts_p2.json",
        ("socialMetadata", "0"): "metadata.json",
        (comments_path(P3), "0"): "comments_post3_p1.json",
        (comments_path(P3), "2"): "comments_post3_p2.json",
        (comments_path(C1), "0"): "replies_c1.json",
        (comments_path(P1), "0"): "comments_post1.json",
    }

    def answer(path: str) -> Any:
        def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
            start = parse_qs(urlsplit(request.url or "").query).get("start", ["0"])[0]
            body = spoiled[(path, start)] if (path, start) in spoiled else fixture(pages[(path, start)])
            return 200, {}, json.dumps(body)

        return reply

    for path in {path for path, _ in pages}:
        rsps.add_callback(responses.GET, re.compile(re.escape(f"{REST}/{path}") + r"(\?.*)?$"), callback=answer(path))


@pytest.mark.parametrize(
    ("where", "body", "words"),
    [
        (("posts", "2"), {}, "without an elements list"),
        (("socialMetadata", "0"), {"statuses": {}}, "no results object"),
        ((comments_path(P3), "2"), {"paging": {"start": 2, "count": 2}}, "without an elements list"),
        ((comments_path(P3), "0"), {"elements": {"id": "1"}}, "without an elements list"),
    ],
    ids=["posts", "metadata", "comments", "comments-elements-object"],
)
def test_a_page_without_its_records_is_retried_and_moves_no_bookmark(
    where: tuple[str, str], body: Any, words: str
) -> None:
    batches: list[Batch] = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_bodies(rsps, {where: body})
        with pytest.raises(RetryableError, match=words):
            batches.extend(connector().fetch(None))

    assert all(batch.bookmark is None for batch in batches)


def test_comments_that_are_not_objects_or_have_no_urn_are_skipped_with_reasons() -> None:
    page = fixture("comments_post3_p2.json")
    reply_less = {key: value for key, value in page["elements"][1].items() if key != "commentsSummary"}
    urnless = {key: value for key, value in reply_less.items() if key not in ("commentUrn", "$URN", "object")}
    page["elements"] = [None, urnless, page["elements"][1]]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_bodies(rsps, {(comments_path(P3), "2"): page})
        batches = list(connector().fetch(None))

    skipped = [reason for batch in batches for reason in batch.skipped]
    assert set(comments_of(batches)) == {C1, C2, C5, R1, O2}
    assert skipped == [
        f"comment ? on {P3}: TypeError: comment is null, not an object",
        f"comment {urnless['id']} on {P3}: KeyError: comment has no commentUrn, nor object and id",
    ]
    assert batches[-1].bookmark is not None


def test_new_posts_are_reported_as_own_posts_with_their_mentions() -> None:
    batches = first_poll()

    posts = {post.external_id: post for batch in batches for post in batch.posts}

    assert list(posts) == [P3, P2, P1]
    assert all(batch.posts == [] for batch in batches[:-1])  # stored with the bookmark that makes them known
    harbour = posts[P3]
    assert harbour.text.startswith("Our Harbour House team raised £1,200 for Dorset Mind — thank you all! #CareHeroes")
    assert harbour.tagged == ("Dorset Mind",)
    assert harbour.url == f"https://www.linkedin.com/feed/update/{P3}/"
    assert harbour.created_at == datetime.fromtimestamp(1778317200, tz=UTC)
    assert harbour.edited_at is None
    assert posts[P2].text == "We're hiring support workers in Poole (full training, paid DBS)"


def test_a_post_already_watched_is_not_reported_again() -> None:
    made = connector()
    first = first_poll(made)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(f"{REST}/posts", json=fixture("posts_p1.json"))
        rsps.get(re.compile(f"{re.escape(REST)}/socialMetadata.*"), json=fixture("metadata.json"))
        again = list(connector().fetch(first[-1].bookmark))

    assert [post for batch in again for post in batch.posts] == []
