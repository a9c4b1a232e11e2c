"""Hardening of the shared HTTP layer (issue 19): tokens stay home, errors are redacted, waits and sizes capped."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
import responses

from connectors.bluesky import classify_xrpc_error
from connectors.errors import ConnectorError, FatalError, RetryableError
from connectors.http import MAX_WAIT_SECONDS, HttpClient, retry_after_seconds
from connectors.mastodon import MastodonConnector, MastodonSettings, classify_mastodon_error
from connectors.pagination import LinkHeader, pages
from monitor.secrets import Secret
from tests.connectors.test_edge_records import GRAPH, NOW, PAGE_ID, facebook, fb_comment, fb_posts

MASTODON = "https://social.example.org"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


# M2: tokens go only to the platform's own host


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/v23.0/104512345678901/posts?access_token=x&after=QVFI",
        "http://graph.facebook.com/v23.0/104512345678901/posts?after=QVFI",
        "https://graph.facebook.com.evil.example/v23.0/104512345678901/posts?after=QVFI",
    ],
)
def test_m2_graph_next_page_on_another_host_is_refused(rsps: responses.RequestsMock, next_url: str) -> None:
    rsps.get(f"{GRAPH}/{PAGE_ID}/feed", json=fb_posts(fb_comment(6, "2026-05-10T11:00:00+0000"), next_url=next_url))
    elsewhere = rsps.get(next_url.split("?", maxsplit=1)[0], json={"data": []})

    with pytest.raises(FatalError, match="next page") as caught:
        list(facebook().fetch(None))

    assert elsewhere.call_count == 0
    assert "EAAG-hardening-token-77" not in str(caught.value)


def test_m2_mastodon_link_next_to_another_host_is_refused(rsps: responses.RequestsMock) -> None:
    settings = MastodonSettings(
        name="masto", platform="mastodon", base_url=MASTODON, access_token=Secret("masto-hardening-token-77", "t")
    )
    made = MastodonConnector(settings, now=lambda: NOW)
    rsps.get(
        f"{MASTODON}/api/v1/notifications",
        json=[],
        headers={"Link": '<https://collector.example/api/v1/notifications?max_id=1>; rel="next"'},
    )
    elsewhere = rsps.get("https://collector.example/api/v1/notifications", json=[])

    with pytest.raises(FatalError, match=r"collector\.example"):
        list(pages(made.http, "api/v1/notifications", {}, LinkHeader("next")))

    assert elsewhere.call_count == 0


def test_m2_same_host_next_page_is_still_followed(rsps: responses.RequestsMock) -> None:
    http = HttpClient(MASTODON, lambda response: None)
    rsps.get(
        f"{MASTODON}/api/v1/notifications",
        json=[{"id": "2"}],
        headers={"Link": f'<{MASTODON}/api/v1/notifications?max_id=2>; rel="next"'},
        match=[responses.matchers.query_param_matcher({})],
    )
    rsps.get(
        f"{MASTODON}/api/v1/notifications",
        json=[],
        match=[responses.matchers.query_param_matcher({"max_id": "2"})],
    )
    bodies = [page.body for page in pages(http, "api/v1/notifications", {}, LinkHeader("next"))]
    assert bodies == [[{"id": "2"}], []]


# M3: redact before truncating


def mastodon_401(token: str, padding: int) -> requests.Response:
    response = requests.Response()
    response.status_code = 401
    response._content = json.dumps({"error": "x" * padding + f" The access token {token} is invalid"}).encode()
    response.request = requests.Request("GET", f"{MASTODON}/api/v1/notifications").prepare()
    return response


@pytest.mark.parametrize("padding", [0, 170, 185])
def test_m3_mastodon_error_text_never_carries_the_token_or_a_prefix(padding: int) -> None:
    token = Secret("masto-LeakyToken-0123456789abcdef", "test").reveal()
    error = classify_mastodon_error(mastodon_401(token, padding), NOW)
    assert error is not None
    assert token[:8] not in str(error)


@pytest.mark.parametrize("padding", [0, 185])
def test_m3_bluesky_error_text_never_carries_the_token_or_a_prefix(padding: int) -> None:
    token = Secret("bsky-LeakyPassword-0123456789", "test").reveal()
    response = requests.Response()
    response.status_code = 400
    body = {"error": "InvalidRequest", "message": "y" * padding + f" bad password {token}"}
    response._content = json.dumps(body).encode()
    response.request = requests.Request("POST", "https://bsky.social/xrpc/com.atproto.server.createSession").prepare()
    error = classify_xrpc_error(response, NOW)
    assert error is not None
    assert token[:8] not in str(error)


def test_m3_every_connector_error_is_redacted() -> None:
    token = Secret("plain-error-token-0123456789", "test").reveal()
    assert token not in str(FatalError(f"refused {token}"))
    assert token not in str(RetryableError(f"throttled {token}", 5.0))


# M4: Retry-After and reset headers are capped


@pytest.mark.parametrize("value", ["999999999", "9" * 400])
def test_m4_huge_retry_after_is_capped_at_a_day(value: str) -> None:
    response = requests.Response()
    response.status_code = 429
    response.headers["Retry-After"] = value
    assert retry_after_seconds(response) == MAX_WAIT_SECONDS == 24 * 3600


def test_m4_retryable_error_caps_its_wait_and_says_what_was_asked() -> None:
    error = RetryableError("GET api.example.test/items was rate limited (429)", float("inf"))
    assert error.retry_after == MAX_WAIT_SECONDS
    assert "1 day" in str(error)


def test_m4_cooldown_from_headers_is_capped(rsps: responses.RequestsMock) -> None:
    http = HttpClient("https://api.example.test", lambda response: None, lambda response: 10.0**12)
    rsps.get("https://api.example.test/items", json=[])
    http.get_json("items")
    assert http.cooldown == MAX_WAIT_SECONDS


# L4: response size is bounded


def test_l4_a_response_larger_than_the_limit_is_an_error_not_memory(rsps: responses.RequestsMock) -> None:
    http = HttpClient("https://api.example.test", lambda response: None, sleep=lambda _seconds: None)
    http.max_body_bytes = 1024 * 1024
    rsps.get("https://api.example.test/items", body=b"[" + b"1," * (1024 * 1024) + b"1]")
    with pytest.raises(ConnectorError, match="larger than 1 MB"):
        http.get_json("items")
    assert len(rsps.calls) == 1  # not retried: a second read would be just as big


