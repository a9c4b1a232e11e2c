from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from bench.economy_mastodon import INSTANCE, OWNER_ID, FakeInstance, measure, mention
from connectors.base import Batch, Comment
from connectors.errors import AuthError, ConnectorError, FatalError, RetryableError
from connectors.http import HttpClient
from connectors.mastodon import MastodonConnector, MastodonSettings
from monitor.secrets import Secret

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon"
NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
NOTIFICATIONS = f"{INSTANCE}/api/v1/notifications"
VERIFY = f"{INSTANCE}/api/v1/accounts/verify_credentials"
TOKEN = "mastodon-test-token-4f9a"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def connector(waits: list[float] | None = None, **overrides: Any) -> MastodonConnector:
    fields: dict[str, Any] = {
        "name": "mastodon",
        "platform": "mastodon",
        "base_url": INSTANCE,
        "access_token": Secret(TOKEN, "test"),
        "account_id": OWNER_ID,
    }
    fields.update(overrides)
    settings = MastodonSettings(**fields)
    made = MastodonConnector(settings, now=lambda: NOW)
    sleeps = waits if waits is not None else []
    made.http = HttpClient(INSTANCE, made.classify_error, made.rate_limit_delay, sleep=sleeps.append, max_attempts=2)
    made.http.auth_headers.update(made.auth_headers())
    return made


def run(made: MastodonConnector, bookmark: dict[str, Any] | None = None) -> list[Batch]:
    return list(made.fetch(bookmark))


def comments_of(batches: list[Batch]) -> dict[str, Comment]:
    return {comment.external_id: comment for batch in batches for comment in batch.comments}


def final_bookmark(batches: list[Batch], start: dict[str, Any] | None = None) -> dict[str, Any] | None:
    for batch in batches:
        start = batch.bookmark or start
    return start


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_reply_fields_html_entities_and_mention_kept_as_text(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, NOTIFICATIONS, json=fixture("mentions.json"))
    found = comments_of(run(connector()))

    reply = found["112233445566778899"]
    assert reply.text == "@brightcare Mum's carer didn't turn up again & nobody rang us.\nSecond time this week."
    assert reply.created_at == datetime(2026, 5, 10, 11, 58, 2, 901000, tzinfo=UTC)
    assert reply.parent_id == "112233440000000001"
    assert reply.author_id == "109876543210987654"
    assert reply.author_name == "Jo Parent (@jo_parent@mastodon.example)"
    assert reply.permalink == "https://mastodon.example/@jo_parent/112233445566778899"
    assert reply.edited_at is None
    assert reply.by_owner is False


def test_edit_and_content_warning(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, NOTIFICATIONS, json=fixture("mentions.json"))
    edited = comments_of(run(connector()))["112233400000000222"]

    assert edited.edited_at == datetime(2026, 5, 10, 9, 20, 11, 552000, tzinfo=UTC)
    assert edited.text == (
        "Staff conduct\nSaw two of @brightcare's staff smoking in the car park\nwith a resident waiting."
    )
    assert edited.author_name == "@sam"
    assert edited.parent_id is None


def test_first_poll_asks_for_mentions_and_bookmarks_the_newest_notification(
    rsps: responses.RequestsMock,
) -> None:
    rsps.add(responses.GET, NOTIFICATIONS, json=fixture("mentions.json"))
    batches = run(connector())

    query = rsps.calls[0].request.url or ""
    assert "types%5B%5D=mention" in query and "limit=40" in query
    assert rsps.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert final_bookmark(batches) == {"min_id": "4312"}


def test_first_poll_pages_back_only_as_far_as_the_lookback(rsps: responses.RequestsMock) -> None:
    instance = FakeInstance()
    for number in range(1, 121):
        instance.add(mention(number, NOW - timedelta(hours=121 - number)))
    instance.register(rsps)

    batches = run(connector(lookback_days=3))

    found = comments_of(batches)
    assert len(found) == 72
    assert min(comment.created_at for comment in found.values()) >= NOW - timedelta(days=3)
    assert [query.get("max_id") for query in instance.requests_seen] == [None, "81"]
    assert final_bookmark(batches) == {"min_id": "120"}


def test_first_poll_of_an_account_without_mentions_still_sets_a_bookmark(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, NOTIFICATIONS, json=[])
    assert final_bookmark(run(connector())) == {"min_id": "0"}


def test_nothing_new_is_one_request_and_leaves_the_bookmark(rsps: responses.RequestsMock) -> None:
    instance = FakeInstance()
    instance.add(*(mention(number, NOW - timedelta(hours=1)) for number in range(1, 30)))
    instance.register(rsps)
    made = connector(account_id=None)

    batches = run(made, {"min_id": "29"})

    assert batches == []
    assert made.http.requests_made == 1
    assert instance.requests_seen == [{"types[]": "update", "limit": "40", "min_id": "29"}]  # the last of the types
    assert parse_qs(urlsplit(rsps.calls[0].request.url).query)["types[]"] == ["mention", "quote", "update"]


def test_many_new_mentions_are_read_oldest_page_first_towards_newer(rsps: responses.RequestsMock) -> None:
    instance = FakeInstance()
    instance.add(*(mention(number, NOW - timedelta(minutes=200 - number)) for number in range(1, 131)))
    instance.register(rsps)

    batches = run(connector(), {"min_id": "30"})

    assert [query["min_id"] for query in instance.requests_seen] == ["30", "70", "110"]
    assert [batch.bookmark for batch in batches] == [{"min_id": "70"}, {"min_id": "110"}, {"min_id": "130"}]
    found = comments_of(batches)
    assert len(found) == 100
    assert {int(comment.external_id) - 112000000000000000 for comment in found.values()} == set(range(31, 131))


def test_page_exactly_full_then_empty_page_ends_the_walk(rsps: responses.RequestsMock) -> None:
    instance = FakeInstance()
    instance.add(*(mention(number, NOW - timedelta(minutes=90 - number)) for number in range(1, 81)))
    instance.register(rsps)

    batches = run(connector(), {"min_id": "40"})

    assert [query["min_id"] for query in instance.requests_seen] == ["40", "80"]
    assert final_bookmark(batches) == {"min_id": "80"}
    assert len(comments_of(batches)) == 40


def test_ids_compare_as_integers_not_strings(rsps: responses.RequestsMock) -> None:
    instance = FakeInstance()
    instance.add(mention(9, NOW), mention(10, NOW))
    instance.register(rsps)

    assert final_bookmark(run(connector(), {"min_id": "8"})) == {"min_id": "10"}


def test_owner_is_found_from_verify_credentials_only_when_there_is_something_to_read(
    rsps: responses.RequestsMock,
) -> None:
    own = mention(5, NOW)
    own["status"]["account"]["id"] = OWNER_ID
    instance = FakeInstance()
    instance.add(mention(4, NOW), own)
    instance.register(rsps)
    rsps.add(responses.GET, VERIFY, json=fixture("verify_credentials.json"))
    made = connector(account_id=None)

    found = comments_of(run(made, {"min_id": "3"}))

    assert found["112000000000000005"].by_owner is True
    assert found["112000000000000004"].by_owner is False
    assert len([call for call in rsps.calls if call.request.url == VERIFY]) == 1


def test_malformed_records_are_skipped_with_a_reason(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, NOTIFICATIONS, json=fixture("mentions_malformed.json"))
    batches = run(connector(), {"min_id": "4300"})

    assert list(comments_of(batches)) == ["112233400000000555"]
    skipped = [reason for batch in batches for reason in batch.skipped]
    assert skipped == [
        "notification 4320: 'mention without a status (deleted or filtered)'",
        "notification 4321: 'status 112233400000000444 has no created_at'",
    ]
    assert final_bookmark(batches) == {"min_id": "4322"}


@pytest.mark.parametrize(
    ("name", "status", "kind"),
    [
        ("error_invalid_token.json", 401, AuthError),
        ("error_scope.json", 403, AuthError),
        ("error_not_found.json", 404, FatalError),
        ("error_validation_de.json", 422, FatalError),
        ("error_throttled.json", 503, RetryableError),
    ],
)
def test_errors_are_sorted_by_status_not_by_the_localised_text(
    rsps: responses.RequestsMock, name: str, status: int, kind: type[ConnectorError]
) -> None:
    rsps.add(responses.GET, NOTIFICATIONS, json=fixture(name), status=status)

    with pytest.raises(kind) as raised:
        run(connector(), {"min_id": "1"})

    message = str(raised.value)
    assert f"GET {NOTIFICATIONS}" in message
    assert "?" not in message and TOKEN not in message


def test_429_waits_until_the_iso_reset_time(rsps: responses.RequestsMock) -> None:
    rsps.add(
        responses.GET,
        NOTIFICATIONS,
        json=fixture("error_throttled.json"),
        status=429,
        headers={
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "2026-05-10T12:04:30.120000Z",
        },
    )
    with pytest.raises(RetryableError) as raised:
        run(connector(), {"min_id": "1"})
    assert raised.value.retry_after == pytest.approx(270.12)


def test_429_with_retry_after_prefers_it(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, NOTIFICATIONS, json={}, status=429, headers={"Retry-After": "90"})
    with pytest.raises(RetryableError) as raised:
        run(connector(), {"min_id": "1"})
    assert raised.value.retry_after == 90


def test_5xx_is_retried_inline_then_succeeds(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, NOTIFICATIONS, body="<html>Bad gateway</html>", status=502)
    rsps.add(responses.GET, NOTIFICATIONS, json=fixture("mentions.json"))
    waits: list[float] = []

    found = comments_of(run(connector(waits), {"min_id": "4000"}))

    assert len(found) == 2
    assert len(waits) == 1


def test_a_body_that_is_not_a_list_is_retried_and_moves_no_bookmark(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, NOTIFICATIONS, json={"unexpected": "object"})
    with pytest.raises(RetryableError, match="not a list"):
        run(connector(), {"min_id": "4000"})


def test_connection_failure_is_retryable(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, NOTIFICATIONS, body=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(RetryableError):
        run(connector(), {"min_id": "1"})


def test_low_remaining_sets_a_cooldown_until_reset(rsps: responses.RequestsMock) -> None:
    instance = FakeInstance(remaining=3)
    instance.register(rsps)
    made = connector()

    run(made, {"min_id": "1"})

    assert made.http.cooldown == pytest.approx(300.0)


def test_plenty_remaining_sets_no_cooldown(rsps: responses.RequestsMock) -> None:
    FakeInstance(remaining=250).register(rsps)
    made = connector()
    run(made, {"min_id": "1"})
    assert made.http.cooldown is None


def test_check_names_the_account(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, VERIFY, json=fixture("verify_credentials.json"))
    assert connector().check() == f"Mastodon account @brightcare on {INSTANCE}"


def test_check_with_a_revoked_token_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, VERIFY, json=fixture("error_invalid_token.json"), status=401)
    with pytest.raises(AuthError):
        connector().check()


@pytest.mark.parametrize("base_url", ["mastodon.social", ""])
def test_settings_need_the_instance_address(base_url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        connector(base_url=base_url)


def test_economy_steady_state_is_one_request() -> None:
    figures = measure()
    assert figures["platform"] == "mastodon"
    assert 1 <= figures["steady_state_requests"] <= 2
    assert figures["first_poll_comments"] == 1500
    assert figures["naive_requests"] > 100 * figures["steady_state_requests"]


def test_with_own_posts_on_the_accounts_statuses_are_reported_with_mentions_and_alt_text(
    rsps: responses.RequestsMock,
) -> None:
    rsps.add(responses.GET, NOTIFICATIONS, json=[])
    statuses_url = f"{INSTANCE}/api/v1/accounts/{OWNER_ID}/statuses"
    rsps.add(responses.GET, statuses_url, json=fixture("own_statuses.json"))

    batches = run(connector(own_posts=True))

    (own,) = [post for batch in batches for post in batch.posts]
    assert own.external_id == "112233449000000002"
    assert own.text == "Well done @maggie on winning the egg & spoon race!"
    assert own.tagged == ("@maggie",)
    assert own.media_text == ("Margaret Jones holding her medal",)
    assert own.url == "https://social.example.org/@brightcare/112233449000000002"
    assert own.edited_at == datetime(2026, 5, 9, 15, 2, 11, tzinfo=UTC)
    assert [reason for batch in batches for reason in batch.skipped] == [
        "status 112233449000000003: 'status 112233449000000003 has no created_at'"
    ]
    statuses_call = next(call for call in rsps.calls if call.request.url.startswith(statuses_url))
    assert "exclude_replies=true" in statuses_call.request.url
    assert "exclude_reblogs=true" in statuses_call.request.url


def test_without_own_posts_the_accounts_statuses_are_not_read(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, NOTIFICATIONS, json=[])

    batches = run(connector())

    assert [call.request.url.split("?")[0] for call in rsps.calls] == [NOTIFICATIONS]
    assert all(not batch.posts for batch in batches)
