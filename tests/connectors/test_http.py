from __future__ import annotations

import pytest
import requests
import responses

from connectors.base import classify_by_status
from connectors.errors import AuthError, FatalError, RetryableError
from connectors.http import HttpClient, retry_after_seconds

BASE = "https://api.example.test/v1"


def client(waits: list[float], **options: object) -> HttpClient:
    http = HttpClient(BASE, classify_by_status, sleep=waits.append, **options)  # type: ignore[arg-type]
    http.auth_params["access_token"] = "sekrit-token-123"
    return http


@responses.activate
def test_retries_server_errors_with_backoff_then_succeeds() -> None:
    responses.get(f"{BASE}/items", status=502)
    responses.get(f"{BASE}/items", status=503)
    responses.get(f"{BASE}/items", json={"ok": True})
    waits: list[float] = []
    assert client(waits).get_json("items") == {"ok": True}
    assert len(waits) == 2
    assert 0.5 <= waits[0] <= 1.5 and 1.0 <= waits[1] <= 3.0
    assert len(responses.calls) == 3


@responses.activate
def test_short_retry_after_is_waited_inline() -> None:
    responses.get(f"{BASE}/items", status=429, headers={"Retry-After": "7"})
    responses.get(f"{BASE}/items", json=[])
    waits: list[float] = []
    assert client(waits).get_json("items") == []
    assert waits == [7.0]


@responses.activate
def test_long_retry_after_is_raised_for_the_scheduler_not_slept() -> None:
    responses.get(f"{BASE}/items", status=429, headers={"Retry-After": "900"})
    waits: list[float] = []
    with pytest.raises(RetryableError) as caught:
        client(waits).get_json("items")
    assert caught.value.retry_after == 900.0
    assert waits == []
    assert len(responses.calls) == 1


@responses.activate
def test_gives_up_after_max_attempts() -> None:
    responses.get(f"{BASE}/items", status=500)
    waits: list[float] = []
    with pytest.raises(RetryableError, match="500"):
        client(waits, max_attempts=3).get_json("items")
    assert len(responses.calls) == 3


@responses.activate
def test_auth_and_fatal_errors_are_not_retried() -> None:
    responses.get(f"{BASE}/auth", status=401)
    responses.get(f"{BASE}/gone", status=404)
    waits: list[float] = []
    http = client(waits)
    with pytest.raises(AuthError):
        http.get_json("auth")
    with pytest.raises(FatalError):
        http.get_json("gone")
    assert len(responses.calls) == 2 and waits == []


@responses.activate
def test_timeouts_and_connection_errors_are_retryable_and_name_no_token() -> None:
    responses.get(f"{BASE}/slow", body=requests.Timeout("read timed out"))
    responses.get(f"{BASE}/down", body=requests.ConnectionError("refused"))
    waits: list[float] = []
    http = client(waits, max_attempts=1)
    for path in ("slow", "down"):
        with pytest.raises(RetryableError) as caught:
            http.get_json(path, params={"q": "x"})
        assert "sekrit-token-123" not in str(caught.value)
        assert "?" not in str(caught.value)
        assert f"{BASE}/{path}" in str(caught.value)


@responses.activate
def test_error_messages_never_carry_the_query_string() -> None:
    responses.get(f"{BASE}/items", status=400)
    with pytest.raises(FatalError) as caught:
        client([]).get_json("items", params={"since": "1"})
    assert "sekrit-token-123" not in str(caught.value)
    assert "access_token" not in str(caught.value)


@responses.activate
def test_non_json_body_is_retryable() -> None:
    responses.get(f"{BASE}/items", body="<html>gateway</html>")
    with pytest.raises(RetryableError, match="not JSON"):
        client([], max_attempts=1).get_json("items")


@responses.activate
def test_auth_params_echoed_in_next_urls_are_not_sent_twice() -> None:
    responses.get(f"{BASE}/items", json={})
    client([]).get_json(f"{BASE}/items?after=abc&access_token=old")
    sent = responses.calls[0].request.url
    assert sent.count("access_token") == 1 and "access_token=sekrit-token-123" in sent
    assert "after=abc" in sent


@responses.activate
def test_counts_every_request_made() -> None:
    responses.get(f"{BASE}/items", status=500)
    responses.get(f"{BASE}/items", json={})
    http = client([])
    http.get_json("items")
    assert http.requests_made == 2


@responses.activate
def test_cooldown_comes_from_the_connectors_rate_limit_reading() -> None:
    responses.get(f"{BASE}/items", json={}, headers={"X-Usage": "95"})

    def usage_delay(response: requests.Response) -> float | None:
        return 600.0 if int(response.headers["X-Usage"]) > 80 else None

    http = HttpClient(BASE, classify_by_status, usage_delay, sleep=lambda s: None)
    http.get_json("items")
    assert http.cooldown == 600.0


def test_retry_after_as_http_date() -> None:
    from datetime import UTC, datetime

    response = requests.Response()
    response.headers["Retry-After"] = "Mon, 23 Nov 2026 12:01:00 GMT"
    now = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(response, now) == 60.0


@responses.activate
def test_a_truncated_body_is_retried_inline_then_read() -> None:
    responses.get(f"{BASE}/items", body='{"data": [1, 2', content_type="application/json")
    responses.get(f"{BASE}/items", json={"data": [1, 2, 3]})
    waits: list[float] = []
    assert client(waits).get_json("items") == {"data": [1, 2, 3]}
    assert len(waits) == 1 and len(responses.calls) == 2
