from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import responses
from responses import matchers

from connectors.base import Batch, Comment
from connectors.errors import AuthError, FatalError, RetryableError
from connectors.instagram import InstagramConnector, InstagramSettings, comment_from_record
from monitor.secrets import Secret

FIXTURES = Path(__file__).parent / "fixtures" / "instagram"
BASE = "https://graph.example.test"
ACCOUNT = "17841400000000001"
MEDIA_URL = f"{BASE}/v23.0/{ACCOUNT}/media"
MEDIA3_COMMENTS_URL = f"{BASE}/v23.0/17900000000000003/comments"
TOKEN = "IGQVJ-test-token-0123456789"
NOW = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def make_connector(**overrides: Any) -> InstagramConnector:
    settings = InstagramSettings(
        name="willow-instagram",
        platform="instagram",
        base_url=BASE,
        ig_user_id=ACCOUNT,
        access_token=Secret(TOKEN, "test"),
        **overrides,
    )
    connector = InstagramConnector(settings, now=lambda: NOW)
    connector.http.sleep = lambda seconds: None
    return connector


def first_page(request: Any) -> tuple[bool, str]:
    """Matches a listing request that carries no ``after`` cursor."""
    return "after=" not in (request.url or ""), "request has an after cursor"


def serve(
    rsps: responses.RequestsMock,
    page1: Any | None = None,
    page2: Any | None = None,
    media3_rest: Any | None = None,
) -> None:
    rsps.get(
        MEDIA_URL,
        json=page2 if page2 is not None else fixture("media_p2.json"),
        match=[matchers.query_param_matcher({"after": "QVFIUm1lZGlhYTE"}, strict_match=False)],
    )
    rsps.get(MEDIA_URL, json=page1 if page1 is not None else fixture("media_p1.json"), match=[first_page])
    rsps.get(
        MEDIA3_COMMENTS_URL,
        json=media3_rest if media3_rest is not None else fixture("comments_media3_p2.json"),
    )


def comments_of(batches: list[Batch]) -> dict[str, Comment]:
    return {comment.external_id: comment for batch in batches for comment in batch.comments}


def run(connector: InstagramConnector, bookmark: dict[str, Any] | None) -> tuple[list[Batch], dict[str, Any]]:
    batches = list(connector.fetch(bookmark))
    bookmarks = [batch.bookmark for batch in batches if batch.bookmark is not None]
    assert len(bookmarks) == 1 and batches[-1].bookmark is bookmarks[0]
    return batches, bookmarks[0]


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def first_poll(rsps: responses.RequestsMock) -> tuple[list[Batch], dict[str, Any]]:
    serve(rsps)
    return run(make_connector(), None)


def test_first_poll_reads_recent_comments_and_replies_within_the_watch_window(
    rsps: responses.RequestsMock,
) -> None:
    batches, bookmark = first_poll(rsps)
    comments = comments_of(batches)

    # 32 and 33 are older than the 14-day lookback; 34 is a new reply on old comment 33.
    assert set(comments) == {
        "17850000000000011",
        "17850000000000012",
        "17850000000000013",
        "17850000000000031",
        "17850000000000034",
    }
    # two media pages (the second reaches past the 90-day window) and media 3's partial comments edge
    assert len(rsps.calls) == 3
    assert bookmark == {
        "since": "2025-06-09T20:00:00+00:00",
        "counts": {"17900000000000001": 4, "17900000000000002": 0, "17900000000000003": 4},
    }


def test_comment_fields_are_mapped(rsps: responses.RequestsMock) -> None:
    comments = comments_of(first_poll(rsps)[0])

    first = comments["17850000000000011"]
    assert first.text == "Lovely  photos, well done all"
    assert first.created_at == datetime(2025, 6, 9, 15, 30, tzinfo=UTC)
    assert first.author_name == "jane.doe"
    assert first.author_id == "17841400000000101"
    assert first.post_id == "17900000000000001"
    assert first.post_url == "https://www.instagram.com/p/DKgArdn01/"
    assert first.permalink == "https://www.instagram.com/p/DKgArdn01/c/17850000000000011/"
    assert first.post_title == "Garden party at Willow House today!"
    assert first.parent_id is None
    assert not first.by_owner
    assert not first.hidden
    assert first.edited_at is None

    reply = comments["17850000000000012"]
    assert reply.parent_id == "17850000000000011"
    assert reply.by_owner
    assert comments["17850000000000013"].hidden
    assert comments["17850000000000034"].parent_id == "17850000000000033"
    assert comments["17850000000000034"].permalink == (
        "https://www.instagram.com/p/DJx1Yq903/c/17850000000000033/r/17850000000000034/"
    )


def test_malformed_comment_is_skipped_with_a_reason(rsps: responses.RequestsMock) -> None:
    batches, _ = first_poll(rsps)
    skipped = [reason for batch in batches for reason in batch.skipped]
    assert skipped == ["media 17900000000000001: comment 17850000000000014 has no timestamp"]


def test_requests_ask_for_authors_and_embed_comments_with_replies(rsps: responses.RequestsMock) -> None:
    first_poll(rsps)
    params = rsps.calls[0].request.params
    assert params["access_token"] == TOKEN
    assert params["limit"] == "100"
    fields = params["fields"]
    assert fields.startswith("id,permalink,caption,timestamp,username,comments_count,comments.limit(25){")
    assert "username,from" in fields
    assert "replies{id,text,timestamp,username,from,user,hidden}" in fields


def test_steady_state_poll_costs_only_the_media_listing(rsps: responses.RequestsMock) -> None:
    _, bookmark = first_poll(rsps)
    rsps.calls.reset()

    batches, following = run(make_connector(), bookmark)

    assert len(rsps.calls) == 2
    assert all(MEDIA_URL in call.request.url for call in rsps.calls)
    assert comments_of(batches) == {}
    assert following == bookmark


def test_incremental_poll_returns_only_new_comments(rsps: responses.RequestsMock) -> None:
    _, bookmark = first_poll(rsps)
    rsps.reset()
    page1 = fixture("media_p1.json")
    media = page1["data"][0]
    media["comments_count"] = 5
    media["comments"]["data"].insert(
        0,
        {
            "id": "17850000000000015",
            "text": "Staff never answer the phone",
            "timestamp": "2025-06-10T11:00:00+0000",
            "username": "caller",
            "from": {"id": "17841400000000107", "username": "caller"},
            "hidden": False,
        },
    )
    serve(rsps, page1=page1)

    batches, following = run(make_connector(), bookmark)

    assert set(comments_of(batches)) == {"17850000000000015"}
    assert len(rsps.calls) == 2
    assert following["since"] == "2025-06-10T11:00:00+00:00"
    assert following["counts"]["17900000000000001"] == 5


def test_new_reply_on_an_old_comment_beyond_the_embedded_page_is_found(rsps: responses.RequestsMock) -> None:
    _, bookmark = first_poll(rsps)
    rsps.reset()
    page2 = fixture("media_p2.json")
    page2["data"][0]["comments_count"] = 5
    rest = fixture("comments_media3_p2.json")
    rest["data"][0]["replies"]["data"].append(
        {
            "id": "17850000000000035",
            "text": "@gossip.gary that is not true",
            "timestamp": "2025-06-10T11:30:00+0000",
            "username": "willowcare",
            "from": {"id": ACCOUNT, "username": "willowcare"},
            "hidden": False,
        }
    )
    serve(rsps, page2=page2, media3_rest=rest)

    batches, _ = run(make_connector(), bookmark)

    comments = comments_of(batches)
    # 34 is re-read because it lies in the overlap behind the watermark
    assert set(comments) == {"17850000000000034", "17850000000000035"}
    assert comments["17850000000000035"].by_owner
    assert comments["17850000000000035"].parent_id == "17850000000000033"
    assert len(rsps.calls) == 3


def test_paginates_media_to_the_end_when_all_are_watched(rsps: responses.RequestsMock) -> None:
    page3 = {"data": [], "paging": {"cursors": {"before": "b3", "after": "a3"}}}
    rsps.get(
        MEDIA_URL, json=page3, match=[matchers.query_param_matcher({"after": "QVFIUm1lZGlhYTI"}, strict_match=False)]
    )
    serve(rsps)

    batches, bookmark = run(make_connector(watch_days=3650), None)

    assert len(rsps.calls) == 4
    assert "17900000000000004" in bookmark["counts"]
    assert "17850000000000031" in comments_of(batches)


def test_replies_beyond_the_embedded_page_are_followed(rsps: responses.RequestsMock) -> None:
    page1 = fixture("media_p1.json")
    replies = page1["data"][0]["comments"]["data"][0]["replies"]
    replies["paging"] = {"next": f"{BASE}/v23.0/17850000000000011/replies?access_token=TOKEN&after=r1"}
    rsps.get(
        f"{BASE}/v23.0/17850000000000011/replies",
        json={"data": [{"id": "17850000000000016", "text": "Me too", "timestamp": "2025-06-09T17:00:00+0000"}]},
    )
    serve(rsps, page1=page1)

    comments = comments_of(run(make_connector(), None)[0])

    assert comments["17850000000000016"].parent_id == "17850000000000011"
    assert comments["17850000000000016"].author_name is None
    replies_call = next(call for call in rsps.calls if "/replies" in call.request.url)
    assert replies_call.request.params["access_token"] == TOKEN


def test_check_reports_the_username(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{BASE}/v23.0/{ACCOUNT}",
        json=fixture("account.json"),
        match=[matchers.query_param_matcher({"fields": "id,username"}, strict_match=False)],
    )
    assert make_connector().check() == f"Instagram @willowcare ({ACCOUNT})"


def test_app_secret_proof_is_sent() -> None:
    connector = make_connector(app_secret=Secret("app-secret-value", "test"))
    proof = connector.http.auth_params["appsecret_proof"]
    assert len(proof) == 64 and proof != TOKEN


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (400, "error_token_expired.json", AuthError),
        (400, "error_throttled.json", RetryableError),
        (400, "error_bad_field.json", FatalError),
        (403, {"error": {"message": "(#10) Application does not have permission", "code": 10}}, AuthError),
        (400, {"error": {"message": "(#200) Permissions error", "code": 200}}, AuthError),
        (400, {"error": {"message": "(#613) Calls within one hour exceeded", "code": 613}}, RetryableError),
        (500, {"error": {"message": "An unknown error occurred", "code": 1}}, RetryableError),
    ],
)
def test_graph_errors_sort_into_three_kinds(
    rsps: responses.RequestsMock, status: int, body: Any, kind: type[Exception]
) -> None:
    payload = fixture(body) if isinstance(body, str) else body
    rsps.get(MEDIA_URL, json=payload, status=status)
    with pytest.raises(kind) as raised:
        list(make_connector().fetch(None))
    assert TOKEN not in str(raised.value)
    assert "access_token" not in str(raised.value)
    assert type(raised.value) is kind


def test_retryable_error_is_retried_then_succeeds(rsps: responses.RequestsMock) -> None:
    waits: list[float] = []
    rsps.get(MEDIA_URL, json=fixture("error_throttled.json"), status=400)
    rsps.get(MEDIA_URL, json={"data": []})
    connector = make_connector()
    connector.http.sleep = waits.append

    batches = list(connector.fetch(None))

    assert len(waits) == 1
    assert batches[-1].bookmark is not None


def test_429_with_retry_after_is_handed_to_the_scheduler(rsps: responses.RequestsMock) -> None:
    rsps.get(MEDIA_URL, body="", status=429, headers={"Retry-After": "120"})
    with pytest.raises(RetryableError) as raised:
        list(make_connector().fetch(None))
    assert raised.value.retry_after == 120
    assert len(rsps.calls) == 1


def test_usage_header_above_threshold_sets_a_cooldown(rsps: responses.RequestsMock) -> None:
    usage = {"1234567890": [{"type": "instagram", "call_count": 92, "total_cputime": 10, "total_time": 12}]}
    rsps.get(MEDIA_URL, json={"data": []}, headers={"X-Business-Use-Case-Usage": json.dumps(usage)})
    connector = make_connector()
    list(connector.fetch(None))
    assert connector.http.cooldown is not None and connector.http.cooldown > 0


def test_usage_below_threshold_leaves_no_cooldown(rsps: responses.RequestsMock) -> None:
    rsps.get(MEDIA_URL, json={"data": []}, headers={"X-App-Usage": json.dumps({"call_count": 20})})
    connector = make_connector()
    list(connector.fetch(None))
    assert connector.http.cooldown is None


def test_owner_is_recognised_by_username_when_from_is_absent() -> None:
    media = {"id": "m1", "permalink": "https://www.instagram.com/p/X/", "username": "WillowCare"}
    record = {"id": "c1", "text": "Thanks!", "timestamp": "2025-06-01T10:00:00+0000", "username": "willowcare"}
    assert comment_from_record(record, media, ACCOUNT).by_owner


def test_empty_bookmark_counts_are_tolerated(rsps: responses.RequestsMock) -> None:
    serve(rsps)
    bookmark = {"since": "2025-06-09T20:00:00+00:00", "counts": "garbage"}
    batches, following = run(make_connector(), copy.deepcopy(bookmark))
    # unknown counts mean every partial media is read again
    assert len(rsps.calls) == 3
    assert following["counts"]["17900000000000003"] == 4
    assert set(comments_of(batches)) == {"17850000000000034"}


def test_economy_bench_steady_state_is_one_listing_request_per_hundred_watched_posts() -> None:
    from bench.economy_instagram import measure

    figures = measure()

    assert figures["platform"] == "instagram"
    assert figures["steady_state_requests"] == 5  # 500 watched posts / 100 per page
    assert figures["first_poll_requests"] == 15  # plus the ten posts with more comments than embedded
    assert figures["naive_requests"] > 1000


@pytest.mark.parametrize("where", ["media page 2", "comments edge"])
def test_a_page_without_a_data_list_is_retried_and_moves_no_bookmark(rsps: responses.RequestsMock, where: str) -> None:
    if where == "media page 2":
        serve(rsps, page2={})
    else:
        serve(rsps, media3_rest={"paging": {}})

    batches: list[Batch] = []
    with pytest.raises(RetryableError, match="without a data list"):
        batches.extend(make_connector().fetch(None))

    assert all(batch.bookmark is None for batch in batches)


def test_media_and_comments_that_are_not_objects_are_skipped_with_a_reason(rsps: responses.RequestsMock) -> None:
    page1 = fixture("media_p1.json")
    page1["data"][0]["comments"]["data"].insert(0, 7)
    page1["data"].insert(0, None)
    serve(rsps, page1=page1)

    batches, _ = run(make_connector(), None)

    skipped = [reason for batch in batches for reason in batch.skipped]
    assert "media is null, not an object" in skipped
    assert f"media {page1['data'][1]['id']}: comment is an int, not an object" in skipped
    assert "17850000000000011" in comments_of(batches)


def test_the_accounts_watched_media_are_reported_as_own_posts(rsps: responses.RequestsMock) -> None:
    batches, _ = first_poll(rsps)

    posts = {post.external_id: post for batch in batches for post in batch.posts}

    # 17900000000000004 (1 February) is older than the 90-day watch window.
    assert sorted(posts) == ["17900000000000001", "17900000000000002", "17900000000000003"]
    garden = posts["17900000000000001"]
    assert garden.text == "Garden party at Willow House today!\nThank you to everyone who came."
    assert garden.title == "Garden party at Willow House today!"
    assert garden.url == "https://www.instagram.com/p/DKgArdn01/"
    assert garden.created_at == datetime(2025, 6, 9, 10, 0, tzinfo=UTC)
