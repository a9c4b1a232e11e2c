from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses

from bench.economy_bluesky import HANDLE, OWNER_DID, XRPC, FakeBluesky, jwt, measure, reply
from connectors.base import Batch, Comment
from connectors.bluesky import BlueskyConnector, BlueskySettings, Session, creation_time, jwt_expiry
from connectors.errors import AuthError, ConnectorError, FatalError, RetryableError
from connectors.http import HttpClient
from monitor.secrets import Secret

FIXTURES = Path(__file__).parent / "fixtures" / "bluesky"
NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
CREATE = f"{XRPC}/com.atproto.server.createSession"
REFRESH = f"{XRPC}/com.atproto.server.refreshSession"
LIST = f"{XRPC}/app.bsky.notification.listNotifications"
PASSWORD = "abcd-efgh-ijkl-mnop"
REPLY_URI = "at://did:plc:jo3parent7zq2mxk/app.bsky.feed.post/3lpq2vxk4hs2a"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def connector(
    sessions: dict[tuple[str, str], Session] | None = None, now: datetime = NOW, **overrides: Any
) -> BlueskyConnector:
    fields: dict[str, Any] = {
        "name": "bluesky",
        "platform": "bluesky",
        "handle": HANDLE,
        "app_password": Secret(PASSWORD, "test"),
    }
    fields.update(overrides)
    made = BlueskyConnector(BlueskySettings(**fields), now=lambda: now, sessions={} if sessions is None else sessions)
    made.http = HttpClient(XRPC, made.classify_error, made.rate_limit_delay, sleep=lambda _: None, max_attempts=2)
    return made


def run(made: BlueskyConnector, bookmark: dict[str, Any] | None = None) -> list[Batch]:
    return list(made.fetch(bookmark))


def comments_of(batches: list[Batch]) -> dict[str, Comment]:
    return {comment.external_id: comment for batch in batches for comment in batch.comments}


def final_bookmark(batches: list[Batch]) -> dict[str, Any] | None:
    return batches[-1].bookmark if batches else None


def paths(rsps: responses.RequestsMock) -> list[str]:
    return [(call.request.url or "").split("?")[0].rsplit("/", 1)[-1] for call in rsps.calls]


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def signed_in(rsps: responses.RequestsMock, body: Any = None) -> None:
    rsps.add(responses.POST, CREATE, json=fixture("session.json"))
    if body is not None:
        rsps.add(responses.GET, LIST, json=body)


def test_first_poll_signs_in_and_reads_replies_mentions_and_quotes(rsps: responses.RequestsMock) -> None:
    signed_in(rsps, fixture("notifications.json"))
    batches = run(connector())

    sign_in = json.loads(rsps.calls[0].request.body or b"{}")
    assert sign_in == {"identifier": HANDLE, "password": PASSWORD}
    listing = rsps.calls[1].request
    assert listing.headers["Authorization"] == f"Bearer {fixture('session.json')['accessJwt']}"
    assert "reasons=reply&reasons=mention&reasons=quote" in (listing.url or "")
    found = comments_of(batches)
    assert len(found) == 5
    assert not any("app.bsky.feed.like" in uri for uri in found)


def test_reply_fields(rsps: responses.RequestsMock) -> None:
    signed_in(rsps, fixture("notifications.json"))
    comment = comments_of(run(connector()))[REPLY_URI]

    owner_post = "at://did:plc:brightcare4x7qv2k3m/app.bsky.feed.post/3lpp7rw2bqk2y"
    assert comment.text == "Mum's carer didn't turn up again & nobody rang us. Second time this week."
    assert comment.created_at == datetime(2026, 5, 10, 11, 58, 2, 114000, tzinfo=UTC)
    assert comment.parent_id == owner_post
    assert comment.post_id == owner_post
    assert comment.post_url == "https://bsky.app/profile/did:plc:brightcare4x7qv2k3m/post/3lpp7rw2bqk2y"
    assert comment.author_id == "did:plc:jo3parent7zq2mxk"
    assert comment.author_name == "Jo Parent (@joparent.bsky.social)"
    assert comment.permalink == "https://bsky.app/profile/joparent.bsky.social/post/3lpq2vxk4hs2a"
    assert comment.by_owner is False


def test_quirks_mention_without_zone_quote_media_only_and_owner_reply(rsps: responses.RequestsMock) -> None:
    signed_in(rsps, fixture("notifications.json"))
    found = comments_of(run(connector()))

    mention = found["at://did:plc:sam5vq2kx3ahd/app.bsky.feed.post/3lpq2tb7wak2c"]
    # createdAt without a zone is the client's local time: indexedAt (the server's clock) stands in
    assert mention.created_at == datetime(2026, 5, 10, 11, 40, 20, 8000, tzinfo=UTC)
    assert mention.author_name == "@sam.example.org"
    assert mention.parent_id is None and mention.post_id is None
    quote = found["at://did:plc:kim8wd4hq2bzr/app.bsky.feed.post/3lpq2kqf2bc2p"]
    assert quote.post_id == "at://did:plc:brightcare4x7qv2k3m/app.bsky.feed.post/3lpn4xq7hsc2d"
    assert quote.author_name == "Kim 🌻 (@kim.bsky.social)"
    media_only = found["at://did:plc:pat9xk2mq4wzd/app.bsky.feed.post/3lpq1wcq7fk2x"]
    assert media_only.text == ""
    own = found["at://did:plc:brightcare4x7qv2k3m/app.bsky.feed.post/3lpq1zz2xkc2b"]
    assert own.by_owner is True


def test_bookmark_is_the_newest_indexed_time_with_its_uris(rsps: responses.RequestsMock) -> None:
    signed_in(rsps, fixture("notifications.json"))
    assert final_bookmark(run(connector())) == {"indexed_at": "2026-05-10T11:58:03.402000+00:00", "uris": [REPLY_URI]}


def test_first_poll_of_a_quiet_account_bookmarks_the_lookback_start(rsps: responses.RequestsMock) -> None:
    signed_in(rsps, {"notifications": []})
    assert final_bookmark(run(connector(lookback_days=7))) == {
        "indexed_at": (NOW - timedelta(days=7)).isoformat(),
        "uris": [],
    }


def test_nothing_new_is_one_request_with_a_kept_session(rsps: responses.RequestsMock) -> None:
    signed_in(rsps, fixture("notifications.json"))
    sessions: dict[tuple[str, str], Session] = {}
    bookmark = final_bookmark(run(connector(sessions)))

    again = connector(sessions, now=NOW + timedelta(minutes=5))
    batches = run(again, bookmark)

    assert again.http.requests_made == 1
    assert comments_of(batches) == {}
    assert final_bookmark(batches) == bookmark
    assert paths(rsps).count("com.atproto.server.createSession") == 1


def test_incremental_poll_pages_until_it_reaches_the_bookmark(rsps: responses.RequestsMock) -> None:
    fake = FakeBluesky()
    fake.add(*(reply(number, NOW - timedelta(minutes=300 - number)) for number in range(1, 201)))
    fake.register(rsps)
    made = connector()
    bookmark = {"indexed_at": fake.notifications[79]["indexedAt"], "uris": [fake.notifications[79]["uri"]]}

    batches = run(made, bookmark)

    assert len(comments_of(batches)) == 120
    assert [query.get("cursor") for query in fake.listed] == [None, ["50"], ["100"]]
    assert final_bookmark(batches) == {
        "indexed_at": (NOW - timedelta(minutes=100)).isoformat(),
        "uris": [fake.notifications[-1]["uri"]],
    }


def test_ties_at_the_watermark_keep_unseen_uris(rsps: responses.RequestsMock) -> None:
    fake = FakeBluesky()
    tied = NOW - timedelta(minutes=10)
    first, second = reply(1, tied), reply(2, tied)
    fake.add(reply(0, NOW - timedelta(minutes=20)), first, second)
    fake.register(rsps)

    batches = run(connector(), {"indexed_at": tied.isoformat(), "uris": [first["uri"]]})

    assert list(comments_of(batches)) == [second["uri"]]
    assert final_bookmark(batches) == {"indexed_at": tied.isoformat(), "uris": sorted([first["uri"], second["uri"]])}


def test_access_token_near_expiry_is_refreshed_not_signed_in_again(rsps: responses.RequestsMock) -> None:
    signed_in(rsps, {"notifications": []})
    rsps.add(responses.POST, REFRESH, json=fixture("session_refreshed.json"))
    sessions: dict[tuple[str, str], Session] = {}
    run(connector(sessions))

    late = datetime(2026, 5, 10, 13, 54, 30, tzinfo=UTC)
    run(connector(sessions, now=late), {"indexed_at": NOW.isoformat(), "uris": []})

    assert paths(rsps) == [
        "com.atproto.server.createSession",
        "app.bsky.notification.listNotifications",
        "com.atproto.server.refreshSession",
        "app.bsky.notification.listNotifications",
    ]
    refresh_call, last_list = rsps.calls[2].request, rsps.calls[3].request
    assert refresh_call.headers["Authorization"] == f"Bearer {fixture('session.json')['refreshJwt']}"
    assert not refresh_call.body
    assert last_list.headers["Authorization"] == f"Bearer {fixture('session_refreshed.json')['accessJwt']}"


def test_expired_token_is_refreshed_once_and_the_poll_retried(rsps: responses.RequestsMock) -> None:
    signed_in(rsps)
    rsps.add(responses.GET, LIST, json=fixture("error_expired_token.json"), status=400)
    rsps.add(responses.POST, REFRESH, json=fixture("session_refreshed.json"))
    rsps.add(responses.GET, LIST, json=fixture("notifications.json"))

    found = comments_of(run(connector()))

    assert len(found) == 5
    assert paths(rsps).count("com.atproto.server.refreshSession") == 1


def test_refused_refresh_signs_in_again(rsps: responses.RequestsMock) -> None:
    signed_in(rsps)
    rsps.add(responses.GET, LIST, json=fixture("error_expired_token.json"), status=400)
    rsps.add(responses.POST, REFRESH, json=fixture("error_expired_token.json"), status=400)
    rsps.add(responses.GET, LIST, json=fixture("notifications.json"))

    assert len(comments_of(run(connector()))) == 5
    assert paths(rsps).count("com.atproto.server.createSession") == 2


def test_refused_sign_in_after_a_refused_refresh_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, CREATE, json=fixture("session.json"))
    rsps.add(responses.GET, LIST, json=fixture("error_expired_token.json"), status=400)
    rsps.add(responses.POST, REFRESH, json=fixture("error_invalid_token.json"), status=400)
    rsps.add(responses.POST, CREATE, json=fixture("error_authentication_required.json"), status=401)

    with pytest.raises(AuthError) as raised:
        run(connector())
    assert PASSWORD not in str(raised.value)


@pytest.mark.parametrize(
    ("name", "status", "kind"),
    [
        ("error_authentication_required.json", 401, AuthError),
        ("error_invalid_token.json", 400, AuthError),
        ("error_takedown.json", 400, AuthError),
        ("error_invalid_request.json", 400, FatalError),
        ("error_upstream.json", 502, RetryableError),
    ],
)
def test_xrpc_errors_are_sorted_into_three_kinds(
    rsps: responses.RequestsMock, name: str, status: int, kind: type[ConnectorError]
) -> None:
    signed_in(rsps)
    rsps.add(responses.GET, LIST, json=fixture(name), status=status)

    with pytest.raises(kind) as raised:
        run(connector())

    message = str(raised.value)
    assert fixture(name)["error"] in message
    assert "?" not in message and PASSWORD not in message


def test_rate_limited_waits_until_the_epoch_reset(rsps: responses.RequestsMock) -> None:
    signed_in(rsps)
    reset = int((NOW + timedelta(seconds=240)).timestamp())
    rsps.add(
        responses.GET,
        LIST,
        json=fixture("error_rate_limited.json"),
        status=429,
        headers={"RateLimit-Limit": "3000", "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)},
    )
    with pytest.raises(RetryableError) as raised:
        run(connector())
    assert raised.value.retry_after == 240


def test_sign_in_rate_limited_is_retryable(rsps: responses.RequestsMock) -> None:
    reset = int((NOW + timedelta(hours=3)).timestamp())
    rsps.add(
        responses.POST,
        CREATE,
        json=fixture("error_rate_limited.json"),
        status=429,
        headers={"RateLimit-Limit": "30", "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)},
    )
    with pytest.raises(RetryableError) as raised:
        connector().check()
    assert raised.value.retry_after == 3 * 3600


def test_low_remaining_sets_a_cooldown(rsps: responses.RequestsMock) -> None:
    signed_in(rsps)
    reset = int((NOW + timedelta(seconds=100)).timestamp())
    rsps.add(
        responses.GET,
        LIST,
        json={"notifications": []},
        headers={"RateLimit-Limit": "3000", "RateLimit-Remaining": "2", "RateLimit-Reset": str(reset)},
    )
    made = connector()
    run(made)
    assert made.http.cooldown == 100


def test_malformed_notifications_are_skipped_with_a_reason(rsps: responses.RequestsMock) -> None:
    signed_in(rsps, fixture("notifications_malformed.json"))
    batches = run(connector())

    assert list(comments_of(batches)) == ["at://did:plc:ok4mq2xkd7zqv/app.bsky.feed.post/3lpq3aaaaaa2a"]
    skipped = [reason for batch in batches for reason in batch.skipped]
    assert skipped == [
        "notification not-a-post-uri: not a post URI: 'not-a-post-uri'",
        "notification at://did:plc:gone7xk2mq4zd/app.bsky.feed.post/3lpq3ccccc2c: "
        "post at://did:plc:gone7xk2mq4zd/app.bsky.feed.post/3lpq3ccccc2c has no record",
        "notification at://did:plc:notime2xk4mq7/app.bsky.feed.post/3lpq3ddddd2d: no readable indexedAt",
    ]


def test_check_signs_in_and_names_the_account(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, CREATE, json=fixture("session.json"))
    assert connector().check() == f"Bluesky account @{HANDLE} ({OWNER_DID})"


def test_check_with_a_wrong_app_password_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.POST, CREATE, json=fixture("error_authentication_required.json"), status=401)
    with pytest.raises(AuthError, match="AuthenticationRequired"):
        connector().check()


def test_jwt_expiry_reads_the_claim_and_tolerates_garbage() -> None:
    expires = datetime(2026, 5, 10, 14, 0, tzinfo=UTC)
    assert jwt_expiry(jwt(expires)) == expires
    assert jwt_expiry("not-a-jwt") is None


def test_economy_steady_state_is_one_or_two_requests() -> None:
    figures = measure()
    assert figures["platform"] == "bluesky"
    assert figures["steady_state_requests"] == 1
    assert 1 <= figures["steady_state_requests_new_process"] <= 2
    assert figures["first_poll_comments"] == 1500
    assert figures["naive_requests"] > 100


def test_with_own_posts_on_the_accounts_posts_are_reported_with_alt_text(rsps: responses.RequestsMock) -> None:
    signed_in(rsps, {"notifications": []})
    feed_url = f"{XRPC}/app.bsky.feed.getAuthorFeed"
    rsps.add(responses.GET, feed_url, json=fixture("author_feed.json"))

    batches = run(connector(own_posts=True))

    (own,) = [post for batch in batches for post in batch.posts]  # the repost of someone else's post is left out
    assert own.external_id == "at://did:plc:brightcare4x7qv2k3m/app.bsky.feed.post/3lpq7sportsday2"
    assert own.text == "Sports Day at Brightwater House! Well done @maggie.bsky.social"
    assert own.media_text == ("Margaret Jones holding her medal",)
    assert own.url == "https://bsky.app/profile/brightcare.bsky.social/post/3lpq7sportsday2"
    assert own.created_at == datetime(2026, 5, 9, 14, 10, tzinfo=UTC)
    assert [reason for batch in batches for reason in batch.skipped] == [
        "post at://did:plc:brightcare4x7qv2k3m/app.bsky.feed.post/3lpq5broken: "
        "'post at://did:plc:brightcare4x7qv2k3m/app.bsky.feed.post/3lpq5broken has no createdAt'"
    ]
    feed_call = next(call for call in rsps.calls if (call.request.url or "").startswith(feed_url))
    assert "actor=did%3Aplc%3Abrightcare4x7qv2k3m" in (feed_call.request.url or "")
    assert "filter=posts_no_replies" in (feed_call.request.url or "")


def test_without_own_posts_the_author_feed_is_not_read(rsps: responses.RequestsMock) -> None:
    signed_in(rsps, {"notifications": []})

    batches = run(connector())

    assert paths(rsps) == ["com.atproto.server.createSession", "app.bsky.notification.listNotifications"]
    assert all(not batch.posts for batch in batches)
@pytest.mark.parametrize(
    ("created", "indexed", "expected"),
    [
        # A client in New York writing local time with no zone: read as UTC it is five hours early.
        ("2026-11-20T07:00:00.000", "2026-11-20T12:00:01.120Z", datetime(2026, 11, 20, 12, 0, 1, 120000, tzinfo=UTC)),
        # A client in Tokyo: read as UTC it is nine hours in the future.
        ("2026-11-20T21:00:00", "2026-11-20T12:00:02Z", datetime(2026, 11, 20, 12, 0, 2, tzinfo=UTC)),
        # A zone, and a clock running fast: no later than the server indexed it.
        ("2026-11-20T12:10:00+00:00", "2026-11-20T12:00:03Z", datetime(2026, 11, 20, 12, 0, 3, tzinfo=UTC)),
        # A zone and a sane clock: the client's own time, a second before indexing.
        ("2026-11-20T13:00:00+01:00", "2026-11-20T12:00:01Z", datetime(2026, 11, 20, 12, 0, tzinfo=UTC)),
        # No indexedAt to bound it: read as UTC.
        ("2026-11-20T07:00:00", None, datetime(2026, 11, 20, 7, 0, tzinfo=UTC)),
    ],
)
def test_created_at_is_bounded_by_indexed_at(created: str, indexed: str | None, expected: datetime) -> None:
    """Lexicon app.bsky.feed.post: createdAt is "client-declared"; indexedAt comes from the AppView."""
    assert creation_time(created, indexed) == expected
