from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pydantic
import pytest
import requests
import responses

from connectors.base import Batch, Comment
from connectors.errors import AuthError, ConnectorError, FatalError, RetryableError
from connectors.facebook import FacebookConnector, FacebookSettings, comment_from_record
from monitor.secrets import Secret

FIXTURES = Path(__file__).parent / "fixtures" / "facebook"
GRAPH = "https://graph.facebook.com/v23.0"
PAGE_ID = "104512345678901"
TOKEN = "EAAG-secret-page-token-1234"
POSTS = f"{GRAPH}/{PAGE_ID}/feed"
COFFEE_COMMENTS = f"{GRAPH}/{PAGE_ID}_1220056789012345/comments"
NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def connector(waits: list[float] | None = None, **overrides: Any) -> FacebookConnector:
    settings = FacebookSettings(
        name="brightwater-facebook",
        platform="facebook",
        page_id=PAGE_ID,
        access_token=Secret(TOKEN, "test"),
        **overrides,
    )
    made = FacebookConnector(settings, now=lambda: NOW)
    made.http.sleep = (waits if waits is not None else []).append
    return made


def serve(rsps: responses.RequestsMock, url: str, by_cursor: dict[str | None, Any], **headers: str) -> None:
    """Answer GET ``url`` with the body for the request's ``after`` cursor (None for the first page)."""

    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        cursor = parse_qs(urlsplit(request.url or "").query).get("after", [None])[0]
        return 200, headers, json.dumps(by_cursor[cursor])

    rsps.add_callback(responses.GET, re.compile(re.escape(url) + r"(\?.*)?$"), callback=reply)


def serve_page(rsps: responses.RequestsMock, second_page: str = "posts_p2.json") -> None:
    serve(
        rsps,
        POSTS,
        {
            None: fixture("posts_p1.json"),
            "QVFIUkNvc3RzUDI": fixture(second_page),
            "QVFIUkVtcHR5": fixture("posts_empty.json"),
        },
    )
    serve(rsps, COFFEE_COMMENTS, {"QVFIUk1vcmVDb20": fixture("post_comments_p2.json")})


def run(made: FacebookConnector, bookmark: dict[str, Any] | None = None) -> list[Batch]:
    return list(made.fetch(bookmark))


def comments_of(batches: list[Batch]) -> dict[str, Comment]:
    return {comment.external_id: comment for batch in batches for comment in batch.comments}


def query_of(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_first_poll_follows_every_posts_page_and_a_busy_posts_comments(
    rsps: responses.RequestsMock,
) -> None:
    serve_page(rsps)
    made = connector()

    batches = run(made)

    found = comments_of(batches)
    assert len(found) == 12
    assert "1220056789012345_1220083000000008" in found  # read from the coffee post's own edge
    assert batches[-1].bookmark == {"since": "2026-05-09T11:00:00+00:00"}
    assert all(batch.bookmark is None for batch in batches[:-1])
    assert [urlsplit(call.request.url).path for call in rsps.calls] == [
        "/v23.0/104512345678901/feed",
        "/v23.0/104512345678901_1220056789012345/comments",
        "/v23.0/104512345678901/feed",
        "/v23.0/104512345678901/feed",
    ]
    assert made.http.requests_made == 4


def test_posts_request_expands_comments_and_bounds_the_window(rsps: responses.RequestsMock) -> None:
    serve_page(rsps)

    run(connector(comments_limit=30))

    first = query_of(rsps.calls[0])
    assert first["fields"] == [
        "id,message,message_tags,permalink_url,created_time,updated_time,comments.filter(stream).order(reverse_chronological)"
        ".limit(30){id,from{id,name},message,created_time,permalink_url,parent{id},is_hidden}"
    ]
    assert first["limit"] == ["100"]
    assert first["since"] == [str(int(datetime(2026, 4, 26, 12, 0, tzinfo=UTC).timestamp()))]
    assert first["access_token"] == [TOKEN]
    followed = query_of(rsps.calls[2])
    assert followed["access_token"] == [TOKEN]
    assert followed["after"] == ["QVFIUkNvc3RzUDI"]


def test_comment_fields_owner_reply_hidden_and_empty(rsps: responses.RequestsMock) -> None:
    serve_page(rsps)

    found = comments_of(run(connector()))

    reply = found["1220034567890123_1220098765432101"]
    assert reply.by_owner is True
    assert reply.author_name == "Brightwater Care"
    assert reply.parent_id == "1220034567890123_1220045678901234"
    assert reply.post_id == "104512345678901_1220034567890123"
    assert reply.post_title == "What a day! Thank you to everyone who came to Sports Day at Brightwater House 🏅"
    assert reply.post_url == "https://www.facebook.com/104512345678901/posts/1220034567890123/"
    assert reply.created_at == datetime(2026, 5, 5, 9, 14, 3, tzinfo=UTC)
    top = found["1220034567890123_1220045678901234"]
    assert top.text == "Bloody brilliant team! Mum hasn't stopped talking about the egg and spoon race"
    assert (top.by_owner, top.parent_id, top.author_id) == (False, None, "7012345678901234")
    assert top.permalink == (
        "https://www.facebook.com/104512345678901/posts/1220034567890123/?comment_id=1220045678901234"
    )
    assert found["1220034567890123_1220041111111111"].hidden is True
    assert found["1220034567890123_1220040000000001"].text == ""
    stream_reply = found["1220056789012345_1220084000000009"]
    assert stream_reply.parent_id == "1220056789012345_1220083000000008"


def test_comments_without_id_or_from_get_stable_substitutes(rsps: responses.RequestsMock) -> None:
    serve_page(rsps)

    batches = run(connector())

    found = comments_of(batches)
    reply = found["1220067890123456_1220070000000009"]
    assert reply.parent_id == "1220067890123456_1220070000000002"
    assert (reply.author_id, reply.author_name, reply.by_owner) == (None, None, False)
    assert found["1220067890123456_1220070000000002"].text == "Congratulations on the Good rating"
    hashed = [key for key in found if key.startswith("fbhash_")]
    assert len(hashed) == 1
    assert found[hashed[0]].text == "Proud to work here"
    assert found[hashed[0]].permalink == "https://www.facebook.com/104512345678901/posts/1220067890123456/"
    again = comments_of(run(connector()))
    assert hashed[0] in again


def test_record_without_time_is_skipped_with_reason(rsps: responses.RequestsMock) -> None:
    serve_page(rsps)

    batches = run(connector())

    skipped = [reason for batch in batches for reason in batch.skipped]
    assert skipped == ["post 104512345678901_1220067890123456: comment has no created_time"]


def test_incremental_poll_returns_only_new_comments_without_reading_comment_edges(
    rsps: responses.RequestsMock,
) -> None:
    serve_page(rsps)
    made = connector()

    batches = run(made, {"since": "2026-05-09T10:31:00+00:00"})

    assert list(comments_of(batches)) == ["1220067890123456_1220070000000009"]
    assert batches[-1].bookmark == {"since": "2026-05-09T11:00:00+00:00"}
    assert not any("/comments" in call.request.url for call in rsps.calls)
    assert made.http.requests_made == 3


def test_overlap_rereads_recent_comments_so_edits_arrive(rsps: responses.RequestsMock) -> None:
    edited = fixture("posts_p2.json")
    edited["data"][0]["comments"]["data"][0]["message"] = "Well deserved! (edited to add: thank you Amy)"
    serve(
        rsps,
        POSTS,
        {None: fixture("posts_p1.json"), "QVFIUkNvc3RzUDI": edited, "QVFIUkVtcHR5": fixture("posts_empty.json")},
    )

    batches = run(connector(), {"since": "2026-05-09T11:00:00+00:00"})

    found = comments_of(batches)
    assert found["1220067890123456_1220070000000009"].text == "Well deserved! (edited to add: thank you Amy)"
    assert batches[-1].bookmark == {"since": "2026-05-09T11:00:00+00:00"}


def test_nothing_new_keeps_the_bookmark(rsps: responses.RequestsMock) -> None:
    serve_page(rsps)

    batches = run(connector(overlap_minutes=0), {"since": "2026-05-09T12:00:00+00:00"})

    assert comments_of(batches) == {}
    assert batches[-1].bookmark == {"since": "2026-05-09T12:00:00+00:00"}


def test_empty_page_without_paging_ends_the_poll(rsps: responses.RequestsMock) -> None:
    serve(rsps, POSTS, {None: fixture("posts_empty.json")})
    made = connector()

    batches = run(made)

    assert [(batch.comments, batch.bookmark) for batch in batches] == [([], {"since": NOW.isoformat()})]
    assert made.http.requests_made == 1


def test_legacy_shape_with_three_part_ids(rsps: responses.RequestsMock) -> None:
    serve(rsps, POSTS, {None: fixture("legacy_posts.json")})

    found = comments_of(run(connector()))

    assert set(found) == {"1220011122233344_1220012000000001", "1220011122233344_1220012000000002"}
    first = found["1220011122233344_1220012000000001"]
    assert (first.author_name, first.text) == ("Aisha Begum", "Do you sponsor driving lessons?")
    assert first.permalink == "https://www.facebook.com/104512345678901/posts/1220011122233344/"
    assert found["1220011122233344_1220012000000002"].text == ""


@pytest.mark.parametrize(
    ("name", "status", "kind"),
    [
        ("error_token_expired.json", 400, AuthError),
        ("error_permission.json", 403, AuthError),
        ("error_page_throttled.json", 400, RetryableError),
        ("error_buc_throttled.json", 400, RetryableError),
        ("error_transient.json", 500, RetryableError),
        ("error_unknown_field.json", 400, FatalError),
    ],
)
def test_graph_errors_are_sorted_into_three_kinds(
    rsps: responses.RequestsMock, name: str, status: int, kind: type[ConnectorError]
) -> None:
    rsps.add(responses.GET, POSTS, json=fixture(name), status=status)
    made = connector()
    made.http.max_inline_wait = 0

    with pytest.raises(kind) as raised:
        run(made)

    message = str(raised.value)
    assert f"code {fixture(name)['error']['code']}" in message
    assert TOKEN not in message
    assert "access_token" not in message
    assert message.startswith("GET https://graph.facebook.com/v23.0/104512345678901/feed failed")


def test_buc_throttle_waits_as_long_as_graph_says(rsps: responses.RequestsMock) -> None:
    usage = {
        PAGE_ID: [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 40,
                "total_time": 60,
                "estimated_time_to_regain_access": 17,
            }
        ]
    }
    rsps.add(
        responses.GET,
        POSTS,
        json=fixture("error_buc_throttled.json"),
        status=400,
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )
    waits: list[float] = []

    with pytest.raises(RetryableError) as raised:
        run(connector(waits))

    assert raised.value.retry_after == 17 * 60
    assert waits == []


def test_429_with_retry_after(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, POSTS, body="Too Many Requests", status=429, headers={"Retry-After": "120"})

    with pytest.raises(RetryableError) as raised:
        run(connector())

    assert raised.value.retry_after == 120


def test_transient_error_is_retried_inline_then_succeeds(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, POSTS, json=fixture("error_transient.json"), status=500)
    rsps.add(responses.GET, POSTS, json=fixture("posts_empty.json"))
    waits: list[float] = []

    batches = run(connector(waits))

    assert batches[-1].bookmark == {"since": NOW.isoformat()}
    assert len(waits) == 1


def test_timeout_is_retryable(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, POSTS, body=requests.exceptions.ReadTimeout("slow"))
    made = connector()
    made.http.max_attempts = 1

    with pytest.raises(RetryableError, match="timed out"):
        run(made)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-App-Usage": json.dumps({"call_count": 12, "total_cputime": 3, "total_time": 5})}, None),
        ({"X-Page-Usage": json.dumps({"call_count": 80, "total_cputime": 10, "total_time": 20})}, 300.0),
        ({"X-App-Usage": json.dumps({"call_count": 10, "total_cputime": 100, "total_time": 90})}, 3600.0),
        ({"X-Page-Usage": json.dumps({"call_count": 90, "total_cputime": 10, "total_time": 20})}, 1950.0),
        (
            {
                "X-Business-Use-Case-Usage": json.dumps(
                    {
                        PAGE_ID: [
                            {
                                "type": "pages",
                                "call_count": 5,
                                "total_cputime": 1,
                                "total_time": 1,
                                "estimated_time_to_regain_access": 3,
                            }
                        ]
                    }
                )
            },
            180.0,
        ),
        ({"X-App-Usage": "not json"}, None),
    ],
)
def test_usage_headers_move_the_next_poll(
    rsps: responses.RequestsMock, headers: dict[str, str], expected: float | None
) -> None:
    serve(rsps, POSTS, {None: fixture("posts_empty.json")}, **headers)
    made = connector()

    run(made)

    assert made.http.cooldown == expected


def test_check_returns_the_page_name(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, f"{GRAPH}/{PAGE_ID}", json=fixture("page.json"))

    seen = connector().check()

    assert seen == "Facebook Page Brightwater Care (104512345678901)"
    assert query_of(rsps.calls[0])["fields"] == ["id,name"]


def test_check_with_an_expired_token_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, f"{GRAPH}/{PAGE_ID}", json=fixture("error_token_expired.json"), status=400)

    with pytest.raises(AuthError, match="Session has expired"):
        connector().check()


def test_app_secret_adds_appsecret_proof(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, f"{GRAPH}/{PAGE_ID}", json=fixture("page.json"))

    connector(app_secret=Secret("app-secret-value", "test")).check()

    expected = hmac.new(b"app-secret-value", TOKEN.encode(), hashlib.sha256).hexdigest()
    assert query_of(rsps.calls[0])["appsecret_proof"] == [expected]


def test_settings_reject_unknown_keys_and_bad_versions() -> None:
    with pytest.raises(pydantic.ValidationError):
        connector(posts_per_page=10)
    with pytest.raises(pydantic.ValidationError):
        connector(api_version="23.0")


def test_comment_from_record_rejects_non_text_message() -> None:
    with pytest.raises(TypeError, match="not text"):
        comment_from_record({"created_time": "2026-05-01T10:00:00+0000", "message": 42}, PAGE_ID)


def test_steady_state_of_a_500_post_page_costs_at_most_ten_requests() -> None:
    from bench.economy_facebook import measure

    figures = measure()

    assert figures["platform"] == "facebook"
    assert figures["steady_state_requests"] <= 10
    assert figures["naive_requests"] > 500


def fetch_until_failure(made: FacebookConnector, bookmark: dict[str, Any] | None = None) -> tuple[list[Batch], Any]:
    """The batches a fetch yielded before it raised, and what it raised."""
    batches: list[Batch] = []
    with pytest.raises(RetryableError) as raised:
        batches.extend(made.fetch(bookmark))
    return batches, raised.value


@pytest.mark.parametrize("body", [{}, {"data": None}, {"data": {"id": "1"}}, {"paging": {}}, []])
def test_a_posts_page_without_a_data_list_is_retried_and_moves_no_bookmark(
    rsps: responses.RequestsMock, body: Any
) -> None:
    serve(rsps, POSTS, {None: fixture("posts_p1.json"), "QVFIUkNvc3RzUDI": body})
    serve(rsps, COFFEE_COMMENTS, {"QVFIUk1vcmVDb20": fixture("post_comments_p2.json")})

    batches, error = fetch_until_failure(connector())

    assert comments_of(batches)  # the first page's comments are kept
    assert all(batch.bookmark is None for batch in batches)
    assert "without a data list" in str(error)
    assert "access_token" not in str(error) and TOKEN not in str(error)


def test_a_comments_edge_page_without_data_is_retried(rsps: responses.RequestsMock) -> None:
    serve(rsps, POSTS, {None: fixture("posts_p1.json")})
    serve(rsps, COFFEE_COMMENTS, {"QVFIUk1vcmVDb20": {}})

    batches, _ = fetch_until_failure(connector())

    assert all(batch.bookmark is None for batch in batches)


def test_a_post_without_comments_is_not_an_error(rsps: responses.RequestsMock) -> None:
    post = {"id": f"{PAGE_ID}_1", "message": "Quiet", "created_time": "2026-05-09T10:00:00+0000"}
    serve(rsps, POSTS, {None: {"data": [post]}})

    batches = run(connector())

    assert [(batch.comments, batch.skipped) for batch in batches] == [([], []), ([], [])]
    assert [batch.bookmark for batch in batches] == [None, {"since": NOW.isoformat()}]
    assert [post.external_id for post in batches[0].posts] == [f"{PAGE_ID}_1"]  # the post itself is still read


def test_the_pages_posts_are_reported_as_own_posts_with_their_tags(rsps: responses.RequestsMock) -> None:
    post = {
        "id": f"{PAGE_ID}_2",
        "message": "Well done Margaret Jones and thank you Riverside Lions!",
        "message_tags": [
            {"id": "7011111111111111", "name": "Margaret Jones", "type": "user", "offset": 10, "length": 14},
            {"id": "3344556677", "name": "Riverside Lions", "type": "page", "offset": 39, "length": 15},
        ],
        "permalink_url": "https://www.facebook.com/104512345678901/posts/2/",
        "created_time": "2026-05-09T10:00:00+0000",
        "updated_time": "2026-05-09T11:30:00+0000",
    }
    serve(rsps, POSTS, {None: {"data": [post, {"id": f"{PAGE_ID}_3", "message": "no time"}]}})

    batches = run(connector())

    (own,) = [post for batch in batches for post in batch.posts]
    assert own.external_id == f"{PAGE_ID}_2"
    assert own.text == "Well done Margaret Jones and thank you Riverside Lions!"
    assert own.tagged == ("Margaret Jones", "Riverside Lions")
    assert own.url == "https://www.facebook.com/104512345678901/posts/2/"
    assert own.created_at == datetime(2026, 5, 9, 10, 0, tzinfo=UTC)
    assert own.edited_at == datetime(2026, 5, 9, 11, 30, tzinfo=UTC)
    assert [reason for batch in batches for reason in batch.skipped] == [f"post {PAGE_ID}_3: post has no created_time"]


def test_records_that_are_not_objects_are_skipped_with_a_reason(rsps: responses.RequestsMock) -> None:
    page = fixture("posts_p2.json")
    post_id = page["data"][0]["id"]
    page["data"][0]["comments"]["data"][1:1] = [None, ["a list"]]
    page["data"].insert(0, None)
    serve(rsps, POSTS, {None: page, "QVFIUkVtcHR5": fixture("posts_empty.json")})
    batches = run(connector())
    rsps.reset()
    serve(rsps, POSTS, {None: fixture("posts_p2.json"), "QVFIUkVtcHR5": fixture("posts_empty.json")})
    unspoiled = run(connector())

    skipped = [reason for batch in batches for reason in batch.skipped]
    assert skipped[:3] == [
        "post is null, not an object",
        f"post {post_id}: comment is null, not an object",
        f"post {post_id}: comment is a list, not an object",
    ]
    assert skipped[3:] == [reason for batch in unspoiled for reason in batch.skipped]
    assert comments_of(batches).keys() == comments_of(unspoiled).keys()
