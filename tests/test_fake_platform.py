"""The fake Graph API, read end to end by the real Facebook connector over loopback HTTP."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.base import Batch
from connectors.errors import AuthError, RetryableError
from connectors.facebook import FacebookConnector, FacebookSettings
from monitor.secrets import Secret
from tests.fake_platform import (
    BODY_FAULTS,
    FAULTS,
    FLAGGABLE,
    PAGE_ID,
    PAGING_FAULTS,
    Dataset,
    FakeGraph,
    comment_text,
)

TOKEN = "EAAG-fake-platform-token-4242"
COMMENTS = 300
POSTS = 6
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph(comments=COMMENTS, posts=POSTS, token=TOKEN, timeout_delay=2.0) as fake:
        yield fake


def connector(fake: FakeGraph, token: str = TOKEN) -> FacebookConnector:
    settings = FacebookSettings(
        name="fake-page", platform="facebook", page_id=PAGE_ID, access_token=Secret(token, "test"), base_url=fake.url
    )
    made = FacebookConnector(settings)
    made.http.sleep = lambda seconds: None
    # Long enough that a busy machine's slow answer is not taken for the "timeout" fault (2 s), which still trips it.
    made.http.timeout = (1.0, 1.5)
    return made


def fetch(made: FacebookConnector, bookmark: dict[str, Any] | None = None) -> list[Batch]:
    return list(made.fetch(bookmark))


def ids_of(batches: list[Batch]) -> list[str]:
    return [comment.external_id for batch in batches for comment in batch.comments]


def get(fake: FakeGraph, path: str, **params: Any) -> dict[str, Any]:
    response = requests.get(f"{fake.url}/v23.0/{path}", params={"access_token": TOKEN, **params}, timeout=5)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def test_the_connector_reads_every_comment_and_the_requests_are_counted(graph: FakeGraph) -> None:
    made = connector(graph)

    batches = fetch(made)

    ids = ids_of(batches)
    assert len(ids) == COMMENTS == len(set(ids))
    assert graph.request_count == made.http.requests_made
    assert graph.requests["posts"] == 1
    assert graph.requests["comments"] == made.http.requests_made - 1
    assert all(not batch.skipped for batch in batches)
    assert batches[-1].bookmark is not None


def test_records_have_the_graph_shapes_the_connector_reads(graph: FakeGraph) -> None:
    comments = [comment for batch in fetch(connector(graph)) for comment in batch.comments]

    assert {comment.post_id for comment in comments} == {post.id for post in graph.data.posts}
    assert all(comment.created_at.tzinfo is not None for comment in comments)
    assert all(comment.permalink and comment.permalink.startswith("https://www.facebook.com/") for comment in comments)
    replies = [comment for comment in comments if comment.parent_id]
    assert replies, "some generated comments are replies"
    assert {reply.parent_id for reply in replies} <= {comment.external_id for comment in comments}
    assert any(comment.by_owner for comment in comments)


def test_a_comment_added_while_running_is_read_by_the_next_poll_for_one_request(graph: FakeGraph) -> None:
    bookmark = fetch(connector(graph))[-1].bookmark
    added = graph.add_comment(2, "I know where you all work.", author="Gary Angry")

    made = connector(graph)
    batches = fetch(made, bookmark)

    texts = {comment.external_id: comment.text for batch in batches for comment in batch.comments}
    assert texts[added] == "I know where you all work."
    assert made.http.requests_made == 1
    assert graph.data.comment_count == COMMENTS + 1


INLINE_RETRIED = [fault for fault in FAULTS if fault not in (*BODY_FAULTS, *PAGING_FAULTS)]


@pytest.mark.parametrize("fault", INLINE_RETRIED)
def test_each_fault_is_recovered_by_a_retry(graph: FakeGraph, fault: str) -> None:
    graph.inject(fault, on="comments")
    made = connector(graph)

    ids = ids_of(fetch(made))

    assert len(ids) == COMMENTS == len(set(ids))
    assert graph.faults_served == {fault: 1}
    assert made.http.requests_made == graph.request_count


@pytest.mark.parametrize("fault", BODY_FAULTS)
def test_a_broken_body_is_retried_within_the_poll(graph: FakeGraph, fault: str) -> None:
    graph.inject(fault, on="comments")

    ids = ids_of(fetch(connector(graph)))

    assert len(ids) == COMMENTS == len(set(ids))
    assert graph.faults_served == {fault: 1}


def test_a_body_broken_on_every_attempt_fails_the_poll_as_retryable(graph: FakeGraph) -> None:
    made = connector(graph)
    graph.inject(*["malformed"] * made.http.max_attempts, on="comments")

    with pytest.raises(RetryableError, match="not JSON"):
        fetch(made)


def test_paging_faults_do_not_lose_or_repeat_comments(graph: FakeGraph) -> None:
    graph.inject("duplicate", "out-of-order", "duplicate", on="comments")

    ids = ids_of(fetch(connector(graph)))

    assert len(ids) == COMMENTS == len(set(ids))
    assert graph.faults_served == {"duplicate": 2, "out-of-order": 1}


def test_faults_at_random_rates_are_all_recovered(graph: FakeGraph) -> None:
    graph.set_fault_rates({"503": 0.15, "throttle-613": 0.05, "reset": 0.05}, seed=7)
    made = connector(graph)
    made.http.max_attempts = 8

    ids = ids_of(fetch(made))

    assert len(ids) == COMMENTS == len(set(ids))
    assert sum(graph.faults_served.values()) >= 2
    assert made.http.requests_made == graph.request_count


def test_a_duplicate_fault_repeats_the_last_item_of_the_previous_page(graph: FakeGraph) -> None:
    post = graph.data.posts[0].id
    first = get(graph, f"{post}/comments", limit=10)
    graph.inject("duplicate")

    second = get(graph, f"{post}/comments", limit=10, after=first["paging"]["cursors"]["after"])

    assert second["data"][0] == first["data"][-1]
    assert len(second["data"]) == 10


def test_an_out_of_order_fault_serves_a_page_oldest_first(graph: FakeGraph) -> None:
    post = graph.data.posts[0].id
    graph.inject("out-of-order")

    times = [record["created_time"] for record in get(graph, f"{post}/comments", limit=10)["data"]]

    assert times == sorted(times)
    assert [r["created_time"] for r in get(graph, f"{post}/comments", limit=10)["data"]] == sorted(times, reverse=True)


def test_since_and_limit_are_honoured_and_next_points_back_to_the_fake(graph: FakeGraph) -> None:
    middle = graph.data.posts[POSTS // 2].created

    body = get(graph, f"{PAGE_ID}/posts", limit=2, since=middle)
    following = requests.get(body["paging"]["next"], timeout=5).json()

    assert len(body["data"]) == 2
    assert body["paging"]["next"].startswith(graph.url + "/v23.0/")
    returned = [post["id"] for post in body["data"] + following["data"]]
    assert returned == [post.id for post in graph.data.posts if post.created >= middle]


def test_a_comments_page_honours_since(graph: FakeGraph) -> None:
    post = graph.data.posts[0]
    since = post.generated_key(post.generated - 5)[0]

    records = get(graph, f"{post.id}/comments", limit=100, since=since)["data"]

    assert 5 <= len(records) < post.generated
    assert "next" not in get(graph, f"{post.id}/comments", limit=100, since=since).get("paging", {})


def test_a_wrong_token_is_an_auth_error(graph: FakeGraph) -> None:
    with pytest.raises(AuthError, match="code 190"):
        connector(graph, token="EAAG-revoked").check()


def test_comments_added_from_many_threads_all_arrive(graph: FakeGraph) -> None:
    def add(worker: int) -> None:
        for number in range(50):
            graph.add_comment(worker, f"thread {worker} comment {number}", created_time=datetime.now(UTC))

    workers = [threading.Thread(target=add, args=(index,)) for index in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    ids = ids_of(fetch(connector(graph)))
    assert len(ids) == COMMENTS + 200 == len(set(ids))


def test_texts_come_from_the_seed_and_mix_harmless_and_flaggable() -> None:
    texts = [comment_text(3, number) for number in range(2000)]
    patterns = [re.compile(re.sub(r"\\\{\w+\\\}", ".+", re.escape(template)) + "$") for template in FLAGGABLE]
    flagged = [text for text in texts if any(pattern.match(text) for pattern in patterns)]

    assert texts == [comment_text(3, number) for number in range(2000)]
    assert texts != [comment_text(4, number) for number in range(2000)]
    assert 0.05 < len(flagged) / len(texts) < 0.2


def test_a_million_comments_cost_little_memory() -> None:
    tracemalloc.start()
    data = Dataset(1_000_000, now=datetime(2026, 5, 10, tzinfo=UTC), span=timedelta(days=12))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert data.comment_count == 1_000_000
    assert peak < 20 * 1024 * 1024
    busiest = max(data.posts, key=lambda post: post.generated)
    newest = data.comments_window(busiest.id, None, 100, None)
    assert len(newest.records) == 100 and newest.more


def test_it_runs_on_its_own_and_prints_its_url() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_platform", "--comments", "500"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        page = requests.get(f"{url}/v23.0/{PAGE_ID}", timeout=5).json()
    finally:
        process.terminate()
        process.wait(timeout=5)
    assert page == {"id": PAGE_ID, "name": "Brightwater Care"}
