"""Every recorded Mastodon response in ../shared/fixtures/mastodon, read the way the connector reads it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
import yaml

from connectors.base import Comment, seconds_until_header_time
from connectors.errors import AuthError, FatalError
from connectors.mastodon import (
    MastodonConnector,
    MastodonSettings,
    classify_mastodon_error,
    comment_from_notification,
    comment_from_status,
)
from monitor.secrets import Secret

RECORDED_AT = datetime(2026, 8, 1, 13, 52, tzinfo=UTC)


def cassettes(shared_dir: Path) -> list[Path]:
    found = sorted((shared_dir / "fixtures" / "mastodon").glob("*.yaml"))
    assert found, "no Mastodon cassettes"
    return found


def interactions(path: Path) -> Iterator[tuple[dict[str, Any], requests.Response]]:
    for interaction in yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]:
        yield interaction["request"], response_of(interaction)


def response_of(interaction: Mapping[str, Any]) -> requests.Response:
    recorded = interaction["response"]
    response = requests.Response()
    response.status_code = recorded["status"]["code"]
    response.headers.update({key: " ".join(values) for key, values in recorded["headers"].items()})
    body = recorded["body"]["string"] if isinstance(recorded["body"], Mapping) else recorded["body"]
    response._content = body.encode("utf-8")
    request = interaction["request"]
    response.request = requests.Request(request["method"], request["uri"]).prepare()
    response.url = request["uri"]
    return response


def comments_in(body: Any) -> list[Comment]:
    """Notifications and statuses, wherever a recorded body holds them."""
    if isinstance(body, list):
        return [comment for item in body for comment in comments_in(item)]
    if not isinstance(body, Mapping):
        return []
    if "type" in body and "status" in body:
        return [comment_from_notification(body, owner_id="")]
    if "content" in body and "account" in body:
        return [comment_from_status(body)]
    return comments_in(body.get("ancestors", [])) + comments_in(body.get("descendants", []))


def assert_well_formed(comment: Comment) -> None:
    assert comment.external_id.isdigit()
    assert comment.text and "<" not in comment.text
    assert comment.created_at.tzinfo is not None
    assert comment.created_at.utcoffset() == UTC.utcoffset(None)
    assert comment.author_id and comment.author_name
    assert comment.permalink and comment.permalink.endswith(f"/{comment.external_id}")


def test_every_recorded_status_and_notification_becomes_a_comment(shared_dir: Path) -> None:
    read = 0
    for path in cassettes(shared_dir):
        for request, response in interactions(path):
            if request["method"] == "DELETE" or response.status_code != 200:
                continue
            for comment in comments_in(response.json()):
                assert_well_formed(comment)
                read += 1
    assert read >= 15


def test_every_extracted_body_becomes_comments(shared_dir: Path) -> None:
    bodies = sorted((shared_dir / "fixtures" / "mastodon").glob("*.body*.json"))
    by_name = {path.name: comments_in(json.loads(path.read_text(encoding="utf-8"))) for path in bodies}
    for comments in by_name.values():
        for comment in comments:
            assert_well_formed(comment)

    [mention] = by_name["halcy__Mastodon.py__test_notifications_mentions_only.body1.json"]
    assert mention.text == "@mastodonpy_test hello!"
    assert mention.author_name == "@admin"
    [reply] = by_name["halcy__Mastodon.py__test_status_reply.body2.json"]
    assert reply.parent_id == "117020583245459824"
    assert reply.text == "@mastodonpy_test_2 same!"
    assert len(by_name["halcy__Mastodon.py__test_get_pagination_info.body11.json"]) == 5
    assert by_name["halcy__Mastodon.py__test_status_context.body1.json"] == []


def test_recorded_errors_sort_by_status_whatever_the_language(shared_dir: Path) -> None:
    sorted_kinds: list[tuple[int, type]] = []
    for path in cassettes(shared_dir):
        for _, response in interactions(path):
            if response.status_code >= 400:
                error = classify_mastodon_error(response, RECORDED_AT)
                sorted_kinds.append((response.status_code, type(error)))
                assert "?" not in str(error)
    assert (401, AuthError) in sorted_kinds
    assert sorted_kinds.count((422, FatalError)) == 2


def test_recorded_rate_limit_reset_is_an_iso_time(shared_dir: Path) -> None:
    for path in cassettes(shared_dir):
        for _, response in interactions(path):
            if "x-ratelimit-reset" in response.headers:
                wait = seconds_until_header_time(response, "X-RateLimit-Reset", RECORDED_AT)
                assert wait is not None and 0 <= wait < 3 * 3600


def test_recorded_notifications_page_replays_through_the_connector(shared_dir: Path) -> None:
    path = shared_dir / "fixtures" / "mastodon" / "halcy__Mastodon.py__test_notifications_mentions_only.yaml"
    recorded = yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"][1]["response"]
    settings = MastodonSettings(
        name="dev",
        platform="mastodon",
        base_url="http://localhost:3000",
        access_token=Secret("__MASTODON_PY_TEST_ACCESS_TOKEN", "test"),
        account_id="117020565966271181",
    )
    made = MastodonConnector(settings, now=lambda: RECORDED_AT)
    with responses.RequestsMock() as rsps:
        rsps.add(
            responses.GET,
            "http://localhost:3000/api/v1/notifications",
            body=recorded["body"]["string"],
            headers={"Link": " ".join(recorded["headers"]["link"])},
        )
        batches = list(made.fetch(None))

    comments = [comment for batch in batches for comment in batch.comments]
    assert [comment.external_id for comment in comments] == ["117020577157693549"]
    assert batches[-1].bookmark == {"min_id": "21"}


@pytest.mark.parametrize("name", ["test_notifications_mentions_only", "test_get_pagination_info"])
def test_recorded_link_headers_point_both_ways(shared_dir: Path, name: str) -> None:
    path = shared_dir / "fixtures" / "mastodon" / f"halcy__Mastodon.py__{name}.yaml"
    linked = [response for _, response in interactions(path) if "link" in response.headers]
    assert linked
    for response in linked:
        assert "max_id=" in response.links["next"]["url"]
        assert "min_id=" in response.links["prev"]["url"]
