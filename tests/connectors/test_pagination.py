from __future__ import annotations

import responses

from connectors.base import classify_by_status
from connectors.http import HttpClient
from connectors.pagination import LinkHeader, NextUrl, Offset, PageNumber, PageToken, pages

BASE = "https://api.example.test"


def http() -> HttpClient:
    return HttpClient(BASE, classify_by_status, sleep=lambda s: None)


@responses.activate
def test_next_url_until_absent() -> None:
    responses.get(f"{BASE}/feed", json={"data": [1], "paging": {"next": f"{BASE}/feed2"}})
    responses.get(f"{BASE}/feed2", json={"data": [2], "paging": {"cursors": {"before": "b"}}})
    bodies = [page.body["data"] for page in pages(http(), f"{BASE}/feed", strategy=NextUrl())]
    assert bodies == [[1], [2]]


@responses.activate
def test_page_token_is_sent_back_as_a_parameter() -> None:
    responses.get(f"{BASE}/list", json={"items": [1], "nextPageToken": "T2"})
    responses.get(f"{BASE}/list", json={"items": [2]})
    strategy = PageToken(("nextPageToken",), "pageToken")
    found = [p.body["items"] for p in pages(http(), f"{BASE}/list", {"q": "x"}, strategy)]
    assert found == [[1], [2]]
    assert "pageToken=T2" in responses.calls[1].request.url and "q=x" in responses.calls[1].request.url


@responses.activate
def test_link_header() -> None:
    link = f'<{BASE}/n?max_id=5>; rel="next", <{BASE}/n?min_id=9>; rel="prev"'
    responses.get(f"{BASE}/n", json=[1], headers={"Link": link})
    responses.get(f"{BASE}/n?max_id=5", json=[2])
    assert [p.body for p in pages(http(), f"{BASE}/n", strategy=LinkHeader())] == [[1], [2]]


@responses.activate
def test_page_number_stops_at_total_pages() -> None:
    for number in (1, 2):
        responses.get(f"{BASE}/c", json=[number], headers={"X-WP-TotalPages": "2"})
    assert [p.body for p in pages(http(), f"{BASE}/c", {"page": 1}, PageNumber())] == [[1], [2]]
    assert len(responses.calls) == 2


@responses.activate
def test_offset_stops_on_a_short_page() -> None:
    responses.get(f"{BASE}/o", json={"elements": [1, 2]})
    responses.get(f"{BASE}/o", json={"elements": [3]})
    found = [p.body["elements"] for p in pages(http(), f"{BASE}/o", {"start": 0, "count": 2}, Offset(total_path=None))]
    assert found == [[1, 2], [3]]
    assert "start=2" in responses.calls[1].request.url


@responses.activate
def test_a_repeated_cursor_does_not_loop_forever() -> None:
    responses.get(f"{BASE}/loop", json={"data": [1], "paging": {"next": f"{BASE}/loop"}})
    assert len(list(pages(http(), f"{BASE}/loop"))) == 1
