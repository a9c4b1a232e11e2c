from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import responses
from pydantic import ValidationError
from responses import matchers

from connectors.base import Batch, Comment
from connectors.errors import AuthError, FatalError, RetryableError
from connectors.youtube import (
    YouTubeConnector,
    YouTubeSettings,
    seconds_until_quota_reset,
)
from monitor.secrets import Secret

FIXTURES = Path(__file__).parent / "fixtures" / "youtube"
BASE = "https://youtube.example.test/youtube/v3"
THREADS_URL = f"{BASE}/commentThreads"
COMMENTS_URL = f"{BASE}/comments"
CHANNEL = "UCWillowHouseCareHome001"
API_KEY = "AIzaSy-test-key-0123456789"
NOW = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
T4 = "UgzT4dddddddddddddddAaABAg"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def make_connector(**overrides: Any) -> YouTubeConnector:
    credentials: dict[str, Any] = {"api_key": Secret(API_KEY, "test")}
    credentials.update(overrides)
    settings = YouTubeSettings(
        name="willow-youtube", platform="youtube", base_url=BASE, channel_id=CHANNEL, **credentials
    )
    connector = YouTubeConnector(settings, now=lambda: NOW)
    connector.http.sleep = lambda seconds: None
    return connector


def without(param: str) -> Any:
    def match(request: Any) -> tuple[bool, str]:
        return f"{param}=" not in (request.url or ""), f"request has {param}"

    return match


def with_param(name: str, value: str) -> Any:
    return matchers.query_param_matcher({name: value}, strict_match=False)


def serve(
    rsps: responses.RequestsMock,
    page1: Any | None = None,
    replies2: Any | None = None,
) -> None:
    rsps.get(THREADS_URL, json=page1 or fixture("threads_p1.json"), match=[without("pageToken")])
    rsps.get(THREADS_URL, json=fixture("threads_p2.json"), match=[with_param("pageToken", "QURTSl9pMnBhZ2Uy")])
    rsps.get(COMMENTS_URL, json=fixture("replies_t4_p1.json"), match=[with_param("parentId", T4), without("pageToken")])
    rsps.get(
        COMMENTS_URL,
        json=replies2 or fixture("replies_t4_p2.json"),
        match=[with_param("parentId", T4), with_param("pageToken", "R0FJeVZnbzBJTl9zNXRxNXBhZ2Uy")],
    )


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def run(connector: YouTubeConnector, bookmark: dict[str, Any] | None) -> tuple[list[Batch], dict[str, Any]]:
    batches = list(connector.fetch(bookmark))
    bookmarks = [batch.bookmark for batch in batches if batch.bookmark is not None]
    assert len(bookmarks) == 1 and batches[-1].bookmark is bookmarks[0]
    return batches, bookmarks[0]


def comments_of(batches: list[Batch]) -> dict[str, Comment]:
    return {comment.external_id: comment for batch in batches for comment in batch.comments}


def first_poll(rsps: responses.RequestsMock) -> tuple[list[Batch], dict[str, Any], YouTubeConnector]:
    serve(rsps)
    connector = make_connector()
    batches, bookmark = run(connector, None)
    return batches, bookmark, connector


def test_first_poll_reads_threads_and_all_replies_within_the_lookback(rsps: responses.RequestsMock) -> None:
    batches, bookmark, connector = first_poll(rsps)
    comments = comments_of(batches)

    assert set(comments) == {
        "UgzT1aaaaaaaaaaaaaaaaAaABAg",
        "UgzT2bbbbbbbbbbbbbbbbAaABAg",
        "UgzT2bbbbbbbbbbbbbbbbAaABAg.AKr1aaaaaaa",
        "UgzT2bbbbbbbbbbbbbbbbAaABAg.AKr2bbbbbbb",
        "UgzT3ccccccccccccccccAaABAg",
        T4,
        f"{T4}.AKr4ccccccc",
        f"{T4}.AKr4ddddddd",
        f"{T4}.AKr4eeeeeee",
        "UgzT6ffffffffffffffffAaABAg",
        "UgzT7gggggggggggggggAaABAg",
    }
    # threads page 1, thread 4's replies (two pages), threads page 2; page 3 is past the lookback
    assert len(rsps.calls) == 4
    assert connector.quota_units == 4
    assert bookmark == {"since": "2025-06-10T09:00:00+00:00", "reply_counts": {"UgzT2bbbbbbbbbbbbbbbbAaABAg": 2, T4: 3}}


def test_thread_request_declares_channel_order_and_page_size(rsps: responses.RequestsMock) -> None:
    first_poll(rsps)
    params = rsps.calls[0].request.params
    assert params == {
        "part": "snippet,replies",
        "allThreadsRelatedToChannelId": CHANNEL,
        "order": "time",
        "maxResults": "100",
        "textFormat": "plainText",
        "key": API_KEY,
    }
    replies = next(call for call in rsps.calls if call.request.url.startswith(COMMENTS_URL))
    assert replies.request.params["parentId"] == T4
    assert replies.request.params["maxResults"] == "100"


def test_comment_fields_are_mapped(rsps: responses.RequestsMock) -> None:
    comments = comments_of(first_poll(rsps)[0])

    first = comments["UgzT1aaaaaaaaaaaaaaaaAaABAg"]
    assert first.text == "My nan's carer didn't turn up\nagain. 0:42"
    assert first.created_at == datetime(2025, 6, 10, 9, 0, tzinfo=UTC)
    assert first.edited_at is None
    assert first.author_name == "@sam-visitor"
    assert first.author_id == "UCsamVisitor000000000001"
    assert first.post_id == "vWillow0001"
    assert first.post_url == "https://www.youtube.com/watch?v=vWillow0001"
    assert first.permalink == "https://www.youtube.com/watch?v=vWillow0001&lc=UgzT1aaaaaaaaaaaaaaaaAaABAg"
    assert first.parent_id is None
    assert not first.by_owner

    edited = comments["UgzT2bbbbbbbbbbbbbbbbAaABAg"]
    assert edited.created_at == datetime(2025, 6, 9, 18, 0, tzinfo=UTC)
    assert edited.edited_at == datetime(2025, 6, 10, 8, 0, tzinfo=UTC)

    owner_reply = comments["UgzT2bbbbbbbbbbbbbbbbAaABAg.AKr2bbbbbbb"]
    assert owner_reply.by_owner
    assert owner_reply.parent_id == "UgzT2bbbbbbbbbbbbbbbbAaABAg"

    fetched_reply = comments[f"{T4}.AKr4ddddddd"]
    assert fetched_reply.post_id == "vWillow0002"  # comments.list replies carry no videoId; the thread's is used
    assert fetched_reply.permalink == f"https://www.youtube.com/watch?v=vWillow0002&lc={T4}.AKr4ddddddd"

    discussion = comments["UgzT3ccccccccccccccccAaABAg"]
    assert discussion.post_id == CHANNEL
    assert discussion.permalink == f"https://www.youtube.com/channel/{CHANNEL}"


def test_malformed_thread_is_skipped_with_a_reason(rsps: responses.RequestsMock) -> None:
    batches, _, _ = first_poll(rsps)
    skipped = [reason for batch in batches for reason in batch.skipped]
    assert skipped == ["thread UgzT5eeeeeeeeeeeeeeeeAaABAg: comment UgzT5eeeeeeeeeeeeeeeeAaABAg has no publishedAt"]


def test_steady_state_poll_is_one_request(rsps: responses.RequestsMock) -> None:
    _, bookmark, _ = first_poll(rsps)
    rsps.calls.reset()
    connector = make_connector()

    batches, following = run(connector, bookmark)

    assert len(rsps.calls) == 1
    assert connector.quota_units == 1
    # only the overlap behind the watermark is re-read
    assert set(comments_of(batches)) == {"UgzT1aaaaaaaaaaaaaaaaAaABAg"}
    assert following == bookmark


def test_new_thread_is_returned_alone(rsps: responses.RequestsMock) -> None:
    _, bookmark, _ = first_poll(rsps)
    rsps.reset()
    page1 = fixture("threads_p1.json")
    new = json.loads(
        json.dumps(page1["items"][0]).replace("UgzT1aaaaaaaaaaaaaaaaAaABAg", "UgzT0zzzzzzzzzzzzzzzzAaABAg")
    )
    new["snippet"]["topLevelComment"]["snippet"].update(
        publishedAt="2025-06-10T11:00:00Z", updatedAt="2025-06-10T11:00:00Z", textOriginal="Closing down?"
    )
    page1["items"].insert(0, new)
    serve(rsps, page1=page1)

    batches, following = run(make_connector(), {**bookmark, "since": "2025-06-10T10:00:00+00:00"})

    assert set(comments_of(batches)) == {"UgzT0zzzzzzzzzzzzzzzzAaABAg"}
    assert following["since"] == "2025-06-10T11:00:00+00:00"
    assert len(rsps.calls) == 1


def test_new_reply_on_an_old_thread_in_the_reply_window_is_found(rsps: responses.RequestsMock) -> None:
    _, bookmark, _ = first_poll(rsps)
    rsps.reset()
    page1 = fixture("threads_p1.json")
    page1["items"][3]["snippet"]["totalReplyCount"] = 4
    replies2 = fixture("replies_t4_p2.json")
    late = json.loads(json.dumps(replies2["items"][0]).replace("AKr4eeeeeee", "AKr4fffffff"))
    late["snippet"].update(
        publishedAt="2025-06-10T11:30:00.000Z",
        updatedAt="2025-06-10T11:30:00.000Z",
        textOriginal="I have reported this to CQC",
        authorChannelId={"value": "UCconcernedRelative00001"},
    )
    replies2["items"].append(late)
    serve(rsps, page1=page1, replies2=replies2)

    batches, following = run(make_connector(), bookmark)

    comments = comments_of(batches)
    assert f"{T4}.AKr4fffffff" in comments
    assert comments[f"{T4}.AKr4fffffff"].parent_id == T4
    assert not comments[f"{T4}.AKr4fffffff"].by_owner
    assert following["reply_counts"][T4] == 4
    assert len(rsps.calls) == 3


def test_edit_of_an_old_comment_is_returned_with_its_edit_time(rsps: responses.RequestsMock) -> None:
    _, bookmark, _ = first_poll(rsps)
    rsps.reset()
    page1 = fixture("threads_p1.json")
    snippet = page1["items"][2]["snippet"]["topLevelComment"]["snippet"]
    snippet.update(updatedAt="2025-06-10T11:45:00.000Z", textOriginal="Are you hiring night staff? Asking again")
    serve(rsps, page1=page1)

    comments = comments_of(run(make_connector(), bookmark)[0])

    edited = comments["UgzT3ccccccccccccccccAaABAg"]
    assert edited.text == "Are you hiring night staff? Asking again"
    assert edited.edited_at == datetime(2025, 6, 10, 11, 45, tzinfo=UTC)


def test_paging_follows_page_tokens_to_the_end(rsps: responses.RequestsMock) -> None:
    page2 = fixture("threads_p2.json")
    del page2["nextPageToken"]
    rsps.get(THREADS_URL, json=fixture("threads_p1.json"), match=[without("pageToken")])
    rsps.get(THREADS_URL, json=page2, match=[with_param("pageToken", "QURTSl9pMnBhZ2Uy")])
    rsps.get(COMMENTS_URL, json={"items": []})

    batches, _ = run(make_connector(lookback_days=365), None)

    assert "UgzT8hhhhhhhhhhhhhhhAaABAg" in comments_of(batches)
    assert len([call for call in rsps.calls if call.request.url.startswith(THREADS_URL)]) == 2


def test_oauth_token_is_sent_as_bearer_header(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/channels", json=fixture("channel.json"))
    connector = make_connector(api_key=None, access_token=Secret("ya29.test-oauth-token", "test"))

    assert connector.check() == f"YouTube channel Willow House Care ({CHANNEL})"
    request = rsps.calls[0].request
    assert request.headers["Authorization"] == "Bearer ya29.test-oauth-token"
    assert "key" not in request.params
    assert request.params == {"part": "id,snippet", "id": CHANNEL}


def test_check_of_a_missing_channel_is_fatal(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{BASE}/channels", json={"kind": "youtube#channelListResponse", "pageInfo": {"totalResults": 0}})
    with pytest.raises(FatalError, match="not found"):
        make_connector().check()


@pytest.mark.parametrize("credentials", [{}, {"access_token": Secret("ya29.other-token", "test")}])
def test_exactly_one_credential_is_required(credentials: dict[str, Any]) -> None:
    base = {"name": "yt", "platform": "youtube", "channel_id": CHANNEL}
    if credentials:
        credentials = {**credentials, "api_key": Secret(API_KEY, "test")}
    with pytest.raises(ValidationError, match="exactly one of api_key or access_token"):
        YouTubeSettings(**base, **credentials)


def test_quota_exceeded_waits_until_midnight_pacific(rsps: responses.RequestsMock) -> None:
    rsps.get(THREADS_URL, json=fixture("error_quota.json"), status=403)
    with pytest.raises(RetryableError) as raised:
        list(make_connector().fetch(None))
    # 12:00 UTC is 05:00 PDT; the quota resets at 00:00 PDT, 19 hours later
    assert raised.value.retry_after == 19 * 3600
    assert len(rsps.calls) == 1
    assert "quotaExceeded" in str(raised.value)


def test_quota_reset_follows_standard_time_in_winter() -> None:
    assert seconds_until_quota_reset(datetime(2025, 1, 15, 12, 0, tzinfo=UTC)) == 20 * 3600
    assert seconds_until_quota_reset(datetime(2025, 1, 15, 7, 59, tzinfo=UTC)) == 60


def google_error(status: int, reason: str, message: str = "failed", rpc_status: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": status, "message": message, "errors": [{"domain": "youtube", "reason": reason}]}
    if rpc_status:
        error["status"] = rpc_status
    return {"error": error}


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (403, google_error(403, "rateLimitExceeded"), RetryableError),
        (403, google_error(403, "userRateLimitExceeded"), RetryableError),
        (500, google_error(500, "backendError"), RetryableError),
        (503, "upstream connect error", RetryableError),
        (401, google_error(401, "authError", rpc_status="UNAUTHENTICATED"), AuthError),
        (400, google_error(400, "keyInvalid"), AuthError),
        (400, "error_key_invalid.json", AuthError),
        (403, google_error(403, "forbidden"), AuthError),
        (403, google_error(403, "insufficientPermissions"), AuthError),
        (403, google_error(403, "SERVICE_UNAVAILABLE", rpc_status="PERMISSION_DENIED"), AuthError),
        (400, google_error(400, "invalidPageToken"), FatalError),
        (404, google_error(404, "channelNotFound"), FatalError),
    ],
)
def test_google_errors_sort_into_three_kinds(
    rsps: responses.RequestsMock, status: int, body: Any, kind: type[Exception]
) -> None:
    if isinstance(body, str) and body.endswith(".json"):
        rsps.get(THREADS_URL, json=fixture(body), status=status)
    elif isinstance(body, str):
        rsps.get(THREADS_URL, body=body, status=status)
    else:
        rsps.get(THREADS_URL, json=body, status=status)
    with pytest.raises(kind) as raised:
        list(make_connector().fetch(None))
    assert isinstance(raised.value, kind)
    assert API_KEY not in str(raised.value)
    assert "key=" not in str(raised.value)


def test_429_retry_after_is_handed_to_the_scheduler(rsps: responses.RequestsMock) -> None:
    rsps.get(THREADS_URL, json=google_error(429, "rateLimitExceeded"), status=429, headers={"Retry-After": "90"})
    with pytest.raises(RetryableError) as raised:
        list(make_connector().fetch(None))
    assert raised.value.retry_after == 90
    assert len(rsps.calls) == 1


def test_backend_error_is_retried_inline_then_succeeds(rsps: responses.RequestsMock) -> None:
    waits: list[float] = []
    rsps.get(THREADS_URL, json=google_error(500, "backendError"), status=500)
    rsps.get(THREADS_URL, json={"kind": "youtube#commentThreadListResponse", "items": []})
    connector = make_connector()
    connector.http.sleep = waits.append

    batches = list(connector.fetch(None))

    assert len(waits) == 1
    assert batches[-1].bookmark is not None
    assert connector.quota_units == 2


def test_comments_disabled_on_the_channel_is_not_a_failure(rsps: responses.RequestsMock) -> None:
    rsps.get(THREADS_URL, json=fixture("error_comments_disabled.json"), status=403)

    batches = list(make_connector().fetch(None))

    assert [batch.bookmark for batch in batches] == [None]
    assert "commentsDisabled" in batches[0].skipped[0]


def test_comments_disabled_on_one_thread_skips_only_its_replies(rsps: responses.RequestsMock) -> None:
    rsps.get(THREADS_URL, json=fixture("threads_p1.json"), match=[without("pageToken")])
    rsps.get(THREADS_URL, json=fixture("threads_p2.json"), match=[with_param("pageToken", "QURTSl9pMnBhZ2Uy")])
    rsps.get(COMMENTS_URL, json=fixture("error_comments_disabled.json"), status=403)

    batches, bookmark = run(make_connector(), None)

    comments = comments_of(batches)
    assert T4 in comments and f"{T4}.AKr4ccccccc" in comments  # the embedded reply is kept
    assert f"{T4}.AKr4ddddddd" not in comments
    assert any("commentsDisabled" in reason for batch in batches for reason in batch.skipped)
    assert T4 not in bookmark["reply_counts"]  # read again next time


def test_replies_of_threads_past_the_reply_window_are_not_fetched_again(rsps: responses.RequestsMock) -> None:
    page1 = fixture("threads_p1.json")
    page1["items"][5]["snippet"]["totalReplyCount"] = 9  # thread 6, 11 days old, embeds none of them
    rsps.get(THREADS_URL, json=page1, match=[without("pageToken")])
    rsps.get(COMMENTS_URL, json={"items": []}, match=[with_param("parentId", T4)])
    bookmark = {"since": "2025-06-10T09:00:00+00:00", "reply_counts": {T4: 3}}

    run(make_connector(), bookmark)

    assert len(rsps.calls) == 1


def test_economy_bench_steady_state_is_one_request() -> None:
    from bench.economy_youtube import measure

    figures = measure()

    assert figures["platform"] == "youtube"
    assert figures["steady_state_requests"] == 1
    assert figures["steady_state_quota_units"] == 1
    assert figures["naive_requests"] > 100


@pytest.mark.parametrize("where", ["threads page", "replies page"])
def test_a_page_without_an_items_list_is_retried_and_moves_no_bookmark(
    rsps: responses.RequestsMock, where: str
) -> None:
    garbage = {"kind": "youtube#commentThreadListResponse", "items": None}
    if where == "threads page":
        serve(rsps, page1=garbage)
    else:
        serve(rsps, replies2={"kind": "youtube#commentListResponse", "pageInfo": {"totalResults": 0}})

    batches: list[Batch] = []
    with pytest.raises(RetryableError, match="without an items list"):
        batches.extend(make_connector().fetch(None))

    assert all(batch.bookmark is None for batch in batches)


def test_threads_and_replies_that_are_not_objects_are_skipped_with_a_reason(rsps: responses.RequestsMock) -> None:
    page = fixture("threads_p1.json")
    page["items"][1:1] = [None, "thread"]
    replies = fixture("replies_t4_p2.json")
    replies["items"].append([1])
    serve(rsps, page1=page, replies2=replies)
    batches, _ = run(make_connector(), None)
    rsps.reset()
    serve(rsps)
    unspoiled, _ = run(make_connector(), None)

    skipped = [reason for batch in batches for reason in batch.skipped]
    assert skipped[:2] == ["thread is null, not an object", "thread is a str, not an object"]
    assert f"reply in thread {T4}: comment is missing or not an object" in skipped
    assert comments_of(batches).keys() == comments_of(unspoiled).keys()


def test_with_own_posts_on_the_channels_uploads_are_reported_as_own_posts(rsps: responses.RequestsMock) -> None:
    serve(rsps)
    uploads = with_param("playlistId", "UUWillowHouseCareHome001")
    rsps.get(f"{BASE}/playlistItems", json=fixture("uploads.json"), match=[uploads])

    batches, _ = run(make_connector(own_posts=True), None)

    (garden,) = [post for batch in batches for post in batch.posts]
    assert garden.external_id == "wh0Garden01"
    assert garden.text == (
        "Garden party at Willow House\n\n"
        "Our residents and families enjoyed the sunshine. Thank you to Jane Doe for the music!"
    )
    assert garden.title == "Garden party at Willow House"
    assert garden.url == "https://www.youtube.com/watch?v=wh0Garden01"
    assert garden.created_at == datetime(2025, 6, 8, 16, 30, tzinfo=UTC)
    assert "video ?: playlist item has no videoId" in [reason for batch in batches for reason in batch.skipped]


def test_without_own_posts_the_uploads_are_not_read(rsps: responses.RequestsMock) -> None:
    batches, _, _ = first_poll(rsps)

    assert not any("playlistItems" in (call.request.url or "") for call in rsps.calls)
    assert all(not batch.posts for batch in batches)
