from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pydantic
import pytest
import requests
import responses

from connectors.base import Batch, Comment
from connectors.errors import AuthError, FatalError, RetryableError
from connectors.x import XConnector, XSettings, comment_from_record, snowflake_time
from monitor.secrets import Secret

FIXTURES = Path(__file__).parent / "fixtures" / "x"
API = "https://api.x.com/2"
SEARCH = f"{API}/tweets/search/recent"
OWNER = "1187654321098765312"
MENTIONS = f"{API}/users/{OWNER}/mentions"
TOKEN = "AAAAAAAAAAAAAAAAAAAAAsecret-bearer-token"
NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
NEXT_TOKEN = "b26v89c19zqg8o3fpzbn1e0fn1zaav0xt6cy473glm83h"

ROOT = "2052720166302650385"
EDIT_ORIGINAL, EDIT_LATEST = "2053399643550654481", "2053402663449538577"
REPLY, OWNER_REPLY, MENTION = "2053429842539462673", "2053434875704266769", "2053414743045070865"
RETWEET, MALFORMED, LONG = "2053407193297874961", "2053384544056279057", "2053369444561883153"
NEWER = "2053445697008570385"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def connector(waits: list[float] | None = None, now: datetime = NOW, **overrides: Any) -> XConnector:
    settings = XSettings(
        name="brightwater-x",
        platform="x",
        bearer_token=Secret(TOKEN, "test"),
        user_id=OWNER,
        username="@BrightwaterCare",
        **overrides,
    )
    made = XConnector(settings, now=lambda: now)
    made.http.sleep = (waits if waits is not None else []).append
    return made


def serve(
    rsps: responses.RequestsMock,
    url: str,
    by_token: dict[str | None, Any],
    token_param: str = "next_token",
    **headers: str,
) -> None:
    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        token = parse_qs(urlsplit(request.url or "").query).get(token_param, [None])[0]
        return 200, headers, json.dumps(by_token[token])

    rsps.add_callback(responses.GET, re.compile(re.escape(url) + r"(\?.*)?$"), callback=reply)


def serve_error(rsps: responses.RequestsMock, name: str, status: int, **headers: str) -> None:
    rsps.add(
        responses.GET, re.compile(re.escape(SEARCH) + r"(\?.*)?$"), json=fixture(name), status=status, headers=headers
    )


def query_of(call: Any) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(call.request.url).query).items()}


def comments_of(batches: list[Batch]) -> dict[str, Comment]:
    return {comment.external_id: comment for batch in batches for comment in batch.comments}


def first_poll(made: XConnector) -> list[Batch]:
    with responses.RequestsMock() as rsps:
        serve(rsps, SEARCH, {None: fixture("search_p1.json"), NEXT_TOKEN: fixture("search_p2.json")})
        return list(made.fetch(None))


def test_first_poll_pages_to_the_end_and_bookmarks_the_newest_id_on_the_last_batch() -> None:
    made = connector()
    batches = first_poll(made)

    assert made.http.requests_made == 2
    assert [batch.bookmark for batch in batches] == [None, {"since_id": OWNER_REPLY}]
    assert set(comments_of(batches)) == {OWNER_REPLY, REPLY, MENTION, EDIT_ORIGINAL, LONG}


def test_first_poll_asks_for_one_combined_search_over_the_last_seven_days() -> None:
    with responses.RequestsMock() as rsps:
        serve(rsps, SEARCH, {None: fixture("search_empty.json")})
        batches = list(connector(lookback_days=14).fetch(None))
        query = query_of(rsps.calls[0])
        headers = rsps.calls[0].request.headers

    assert query["query"] == "(@BrightwaterCare OR to:BrightwaterCare OR (from:BrightwaterCare is:reply)) -is:retweet"
    assert query["start_time"] == "2026-05-03T12:05:00Z"
    assert "since_id" not in query
    assert query["expansions"] == "author_id"
    assert query["user.fields"] == "username,name"
    assert set(query["tweet.fields"].split(",")) >= {
        "created_at",
        "author_id",
        "conversation_id",
        "in_reply_to_user_id",
        "referenced_tweets",
        "edit_history_tweet_ids",
    }
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert batches == [Batch(comments=[], bookmark=None, skipped=[])]


def test_reply_maps_author_post_parent_and_permalink() -> None:
    reply = comments_of(first_poll(connector()))[REPLY]

    assert reply.text == (
        "@BrightwaterCare My mum waited 3 hours for her evening meds & nobody answered the phone. Not good enough."
    )
    assert reply.created_at == datetime(2026, 5, 10, 11, 0, tzinfo=UTC)
    assert reply.author_id == "1390000000000000001"
    assert reply.author_name == "Jo Bloggs (@jobloggs_uk)"
    assert reply.permalink == f"https://x.com/jobloggs_uk/status/{REPLY}"
    assert reply.post_id == ROOT
    assert reply.post_url == f"https://x.com/i/web/status/{ROOT}"
    assert reply.parent_id == ROOT
    assert reply.edited_at is None
    assert not reply.by_owner


def test_owner_reply_is_marked_by_owner() -> None:
    comments = comments_of(first_poll(connector()))

    assert comments[OWNER_REPLY].by_owner
    assert comments[OWNER_REPLY].parent_id == REPLY
    assert not comments[MENTION].by_owner


def test_surrogate_pair_emoji_decode_to_one_character() -> None:
    mention = comments_of(first_poll(connector()))[MENTION]

    assert "\U0001f928 who knew" in mention.text
    assert mention.post_id == MENTION
    assert mention.parent_id is None


def test_edit_is_reported_as_the_original_comment_with_the_newest_text() -> None:
    edited = comments_of(first_poll(connector()))[EDIT_ORIGINAL]

    assert edited.text.endswith("Edit: found it on the website, thanks")
    assert edited.created_at == datetime(2026, 5, 10, 9, 0, tzinfo=UTC)
    assert edited.edited_at == datetime(2026, 5, 10, 9, 12, tzinfo=UTC)
    assert edited.permalink == f"https://x.com/dee_writes/status/{EDIT_LATEST}"
    assert EDIT_LATEST not in comments_of(first_poll(connector()))


def test_superseded_version_alone_is_not_reported() -> None:
    body = fixture("search_p1.json")
    stale = next(record for record in body["data"] if record["id"] == EDIT_ORIGINAL)
    with responses.RequestsMock() as rsps:
        serve(rsps, SEARCH, {None: {**body, "data": [stale], "meta": {"result_count": 1}}})
        batches = list(connector().fetch(None))

    assert comments_of(batches) == {}
    assert batches[-1].bookmark == {"since_id": EDIT_ORIGINAL}


def test_retweets_with_truncated_text_are_not_comments() -> None:
    batches = first_poll(connector())

    assert RETWEET not in comments_of(batches)
    assert not any("…" in comment.text for comment in comments_of(batches).values())


def test_long_post_uses_the_full_note_text() -> None:
    long = comments_of(first_poll(connector()))[LONG]

    assert long.text.endswith("especially Priya and Tom.")
    assert long.author_name == "Mark O'Neill (@markoneill)"


def test_malformed_record_and_partial_errors_are_skipped_with_reasons() -> None:
    batches = first_poll(connector())
    skipped = batches[0].skipped

    assert any(MALFORMED in reason and "ValueError" in reason for reason in skipped)
    assert any("Not Found Error for user 1390000000000000099" in reason for reason in skipped)
    assert len(batches[0].comments) == 4


def test_incremental_poll_sends_since_id_and_returns_only_new_comments() -> None:
    later = NOW + timedelta(minutes=5)
    with responses.RequestsMock() as rsps:
        serve(rsps, SEARCH, {None: fixture("search_newer.json")})
        made = connector(now=later)
        batches = list(made.fetch({"since_id": OWNER_REPLY}))
        query = query_of(rsps.calls[0])

    assert query["since_id"] == OWNER_REPLY
    assert "start_time" not in query
    assert made.http.requests_made == 1
    assert list(comments_of(batches)) == [NEWER]
    assert batches[-1].bookmark == {"since_id": NEWER}


def test_nothing_new_costs_one_request_and_leaves_the_bookmark_alone() -> None:
    with responses.RequestsMock() as rsps:
        serve(rsps, SEARCH, {None: fixture("search_empty.json")})
        made = connector()
        batches = list(made.fetch({"since_id": OWNER_REPLY}))

    assert made.http.requests_made == 1
    assert batches == [Batch(comments=[], bookmark={"since_id": OWNER_REPLY}, skipped=[])]


def test_ids_compare_as_integers_not_strings() -> None:
    body = fixture("search_newer.json")
    body["data"][0]["id"] = "999999999999999999"
    body["data"][0]["edit_history_tweet_ids"] = ["999999999999999999"]
    with responses.RequestsMock() as rsps:
        serve(rsps, SEARCH, {None: body})
        batches = list(connector().fetch({"since_id": OWNER_REPLY}))

    assert batches[-1].bookmark == {"since_id": OWNER_REPLY}


def test_bookmark_older_than_the_search_window_restarts_at_the_window_edge() -> None:
    old = str((int(OWNER_REPLY) >> 22) - 9 * 24 * 3600 * 1000 << 22)
    with responses.RequestsMock() as rsps:
        serve(rsps, SEARCH, {None: fixture("search_empty.json")})
        list(connector().fetch({"since_id": old}))
        query = query_of(rsps.calls[0])

    assert "since_id" not in query
    assert query["start_time"] == "2026-05-03T12:05:00Z"


def test_mentions_source_pages_with_pagination_token() -> None:
    token = "7140dibdnow9c7btw3w3ixl43r8knib48jsfyzko1h5py"
    with responses.RequestsMock() as rsps:
        serve(
            rsps,
            MENTIONS,
            {None: fixture("mentions_p1.json"), token: fixture("mentions_p2.json")},
            token_param="pagination_token",
        )
        batches = list(connector(source="mentions", lookback_days=14).fetch(None))
        first_query = query_of(rsps.calls[0])

    assert "query" not in first_query
    assert first_query["start_time"] == "2026-04-26T12:00:00Z"
    assert set(comments_of(batches)) == {REPLY, MENTION, LONG}
    assert batches[-1].bookmark == {"since_id": REPLY}


def test_exhausted_rate_limit_sets_cooldown_until_reset() -> None:
    reset = str(int(NOW.timestamp()) + 420)
    with responses.RequestsMock() as rsps:
        serve(
            rsps,
            SEARCH,
            {None: fixture("search_empty.json")},
            **{"x-rate-limit-limit": "60", "x-rate-limit-remaining": "0", "x-rate-limit-reset": reset},
        )
        made = connector()
        list(made.fetch({"since_id": OWNER_REPLY}))

    assert made.http.cooldown == 420


def test_remaining_quota_sets_no_cooldown() -> None:
    with responses.RequestsMock() as rsps:
        serve(rsps, SEARCH, {None: fixture("search_empty.json")}, **{"x-rate-limit-remaining": "59"})
        made = connector()
        list(made.fetch({"since_id": OWNER_REPLY}))

    assert made.http.cooldown is None


def test_429_waits_until_the_reset_header() -> None:
    reset = str(int(NOW.timestamp()) + 900)
    with responses.RequestsMock() as rsps:
        serve_error(
            rsps, "error_rate_limited.json", 429, **{"x-rate-limit-remaining": "0", "x-rate-limit-reset": reset}
        )
        with pytest.raises(RetryableError) as caught:
            list(connector().fetch(None))

    assert caught.value.retry_after == 900


def test_short_429_is_retried_inline() -> None:
    waits: list[float] = []
    reset = str(int(NOW.timestamp()) + 3)
    with responses.RequestsMock() as rsps:
        serve_error(rsps, "error_rate_limited.json", 429, **{"x-rate-limit-reset": reset})
        serve(rsps, SEARCH, {None: fixture("search_empty.json")})
        batches = list(connector(waits).fetch({"since_id": OWNER_REPLY}))

    assert waits == [3]
    assert batches[-1].bookmark == {"since_id": OWNER_REPLY}


@pytest.mark.parametrize("status", [429, 403])
def test_usage_cap_is_retryable_with_a_long_wait(status: int) -> None:
    with responses.RequestsMock() as rsps:
        serve_error(rsps, "error_usage_capped.json", status)
        with pytest.raises(RetryableError) as caught:
            list(connector().fetch(None))

    assert caught.value.retry_after == 24 * 3600
    assert "usage cap" in str(caught.value)


def test_server_error_is_retryable() -> None:
    waits: list[float] = []
    with responses.RequestsMock() as rsps:
        serve_error(rsps, "error_unavailable.json", 503)
        with pytest.raises(RetryableError, match=r"\(503\)"):
            list(connector(waits).fetch(None))

    assert len(waits) == 3


@pytest.mark.parametrize(
    ("name", "status", "words"),
    [("error_unauthorized.json", 401, "Unauthorized"), ("error_client_not_enrolled.json", 403, "client-not-enrolled")],
)
def test_auth_errors(name: str, status: int, words: str) -> None:
    with responses.RequestsMock() as rsps:
        serve_error(rsps, name, status)
        with pytest.raises(AuthError) as caught:
            list(connector().fetch(None))

    message = str(caught.value)
    assert words in message
    assert TOKEN not in message
    assert "?" not in message
    assert message.startswith("GET https://api.x.com/2/tweets/search/recent failed")


def test_invalid_request_is_fatal() -> None:
    with responses.RequestsMock() as rsps:
        serve_error(rsps, "error_invalid_request.json", 400)
        with pytest.raises(FatalError, match="Invalid Request"):
            list(connector().fetch(None))


def test_check_returns_the_username() -> None:
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{API}/users/{OWNER}", json=fixture("user.json"))
        assert connector().check() == f"@BrightwaterCare (Brightwater Care), user id {OWNER}"


def test_check_refuses_a_user_id_belonging_to_someone_else() -> None:
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{API}/users/{OWNER}", json={"data": {"id": OWNER, "username": "someoneelse"}})
        with pytest.raises(FatalError, match="@someoneelse"):
            connector().check()


def test_settings_reject_bad_values() -> None:
    with pytest.raises(pydantic.ValidationError):
        XSettings(name="x", platform="x", bearer_token=Secret(TOKEN, "t"), user_id="abc", username="a")
    with pytest.raises(pydantic.ValidationError):
        XSettings(name="x", platform="x", bearer_token=Secret(TOKEN, "t"), user_id="1", username="not a name")


def test_record_without_created_at_takes_its_time_from_the_id() -> None:
    comment = comment_from_record({"id": REPLY, "text": "hi"}, {}, OWNER)

    assert comment.created_at == snowflake_time(REPLY) == datetime(2026, 5, 10, 11, 0, tzinfo=UTC)
    assert comment.permalink == f"https://x.com/i/web/status/{REPLY}"
    assert comment.author_name is None


def test_steady_state_poll_of_an_account_with_500_posts_costs_one_request() -> None:
    from bench.economy_x import measure

    figures = measure()

    assert figures["steady_state_requests"] == 1
    assert figures["comments_read_on_steady_poll"] == 0
    assert figures["first_poll_requests"] == 2
    assert figures["comments_read_on_first_poll"] > 100
    assert figures["naive_requests"] == 501


@pytest.mark.parametrize(
    "body",
    [{}, {"meta": {"result_count": 3}}, {"meta": {}}, {"data": {"id": "1"}}, []],
    ids=["empty-object", "count-without-data", "meta-without-count", "object-data", "list"],
)
def test_a_page_without_data_that_is_not_the_empty_page_is_retried(body: Any) -> None:
    batches: list[Batch] = []
    with responses.RequestsMock() as rsps:
        serve(rsps, SEARCH, {None: fixture("search_p1.json"), NEXT_TOKEN: body})
        with pytest.raises(RetryableError, match="without a data list"):
            batches.extend(connector().fetch({"since_id": ROOT}))

    assert all(batch.bookmark is None for batch in batches)
    assert EDIT_ORIGINAL in comments_of(batches)  # the first page is kept; the next poll reads the rest


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        "2053399643550654481",
        {"id": REPLY, "text": "hi", "referenced_tweets": [None]},
        {"id": REPLY, "text": "hi", "referenced_tweets": {"type": "retweeted"}},
        {"id": REPLY, "text": "hi", "edit_history_tweet_ids": 5},
        {"id": REPLY, "text": "hi", "edit_history_tweet_ids": [{"id": REPLY}]},
        {"id": "9" * 40, "text": "an id too large for 64 bits"},
        {"id": "²", "text": "a digit that is not ASCII"},
    ],
    ids=[
        "null",
        "list",
        "text",
        "null-reference",
        "object-references",
        "number-history",
        "object-in-history",
        "huge-id",
        "unicode-digit-id",
    ],
)
def test_one_malformed_post_is_skipped_with_a_reason_and_the_rest_of_the_page_read(bad: Any) -> None:
    page = fixture("search_p2.json")
    good = page["data"][0]["id"]
    page["data"].insert(0, bad)
    with responses.RequestsMock() as rsps:
        serve(rsps, SEARCH, {None: page})
        batches = list(connector().fetch({"since_id": ROOT}))

    assert list(comments_of(batches)) == [good]
    assert len(batches[-1].skipped) == 1 and batches[-1].skipped[0].strip()
    readable_ids = [good, *([bad["id"]] if isinstance(bad, dict) and bad["id"] == REPLY else [])]
    assert batches[-1].bookmark == {"since_id": max(readable_ids, key=int)}


def test_optional_fields_of_the_wrong_type_are_left_out_and_the_post_kept() -> None:
    page = fixture("search_p2.json")
    page["data"][0].update(author_id={"id": "1"}, conversation_id=["1"], referenced_tweets=[{"type": "replied_to"}])
    with responses.RequestsMock() as rsps:
        serve(rsps, SEARCH, {None: page})
        batches = list(connector().fetch({"since_id": ROOT}))

    [comment] = comments_of(batches).values()
    assert (comment.author_id, comment.post_id, comment.parent_id) == (None, None, None)
    assert batches[-1].skipped == []


def test_a_malformed_users_expansion_does_not_stop_the_page() -> None:
    page = fixture("search_p2.json")
    page["includes"]["users"] = [None, "user", {"id": ["x"]}, *page["includes"]["users"]]
    with responses.RequestsMock() as rsps:
        serve(rsps, SEARCH, {None: page})
        batches = list(connector().fetch({"since_id": ROOT}))

    assert [comment.author_name for comment in comments_of(batches).values()] == ["Mark O'Neill (@markoneill)"]


def test_with_own_posts_on_the_accounts_posts_are_reported_with_mentions_and_alt_text() -> None:
    own_url = f"{API}/users/{OWNER}/tweets"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve(rsps, own_url, {None: fixture("own_posts.json")})
        serve(rsps, SEARCH, {None: fixture("search_empty.json")})
        batches = list(connector(own_posts=True).fetch(None))
        own_query = query_of(next(call for call in rsps.calls if call.request.url.startswith(own_url)))

    sports, coffee = [post for batch in batches for post in batch.posts]
    assert sports.external_id == "2053000000000000555"  # an edited post keeps its first id
    assert sports.text == "Sports Day at Brightwater House! Well done @maggie_j & thank you @RiversideLions \U0001f3c5"
    assert sports.tagged == ("@maggie_j", "@RiversideLions")
    assert sports.media_text == ("Margaret Jones holding her medal",)
    assert sports.edited_at == datetime(2026, 5, 9, 14, 31, 2, tzinfo=UTC)
    assert sports.url == "https://x.com/BrightwaterCare/status/2053000000000000555"
    assert (coffee.edited_at, coffee.tagged, coffee.media_text) == (None, (), ())
    assert own_query["exclude"] == "replies,retweets"
    assert own_query["expansions"] == "attachments.media_keys"


def test_without_own_posts_the_accounts_posts_are_not_read() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve(rsps, SEARCH, {None: fixture("search_empty.json")})
        batches = list(connector().fetch(None))
        urls = [call.request.url.split("?")[0] for call in rsps.calls]

    assert urls == [SEARCH]
    assert all(not batch.posts for batch in batches)
