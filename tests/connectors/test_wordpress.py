from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses

from bench.economy_wordpress import SITE, FakeWordPress, measure, wp_comment
from connectors.base import Batch, Comment
from connectors.errors import AuthError, ConnectorError, FatalError, RetryableError
from connectors.http import HttpClient
from connectors.wordpress import WordPressConnector, WordPressSettings
from monitor.secrets import Secret

FIXTURES = Path(__file__).parent / "fixtures" / "wordpress"
NOW = datetime(2026, 5, 10, 12, 30, tzinfo=UTC)
COMMENTS = f"{SITE}/wp-json/wp/v2/comments"
APP_PASSWORD = "abcd EFGH 1234 ijkl MNOP 6789"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def connector(waits: list[float] | None = None, **overrides: Any) -> WordPressConnector:
    fields: dict[str, Any] = {"name": "blog", "platform": "wordpress", "base_url": SITE}
    fields.update(overrides)
    made = WordPressConnector(WordPressSettings(**fields), now=lambda: NOW)
    sleeps = waits if waits is not None else []
    made.http = HttpClient(SITE, made.classify_error, made.rate_limit_delay, sleep=sleeps.append, max_attempts=2)
    made.http.auth_headers.update(made.auth_headers())
    return made


def signed_in(**overrides: Any) -> WordPressConnector:
    return connector(username="office", application_password=Secret(APP_PASSWORD, "test"), **overrides)


def run(made: WordPressConnector, bookmark: dict[str, Any] | None = None) -> list[Batch]:
    return list(made.fetch(bookmark))


def comments_of(batches: list[Batch]) -> dict[str, Comment]:
    return {comment.external_id: comment for batch in batches for comment in batch.comments}


def query_of(call: Any) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(call.request.url or "").query))


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def serve(rsps: responses.RequestsMock, body: Any, pages: int = 1) -> None:
    total = len(body) if isinstance(body, list) else 0
    rsps.add(responses.GET, COMMENTS, json=body, headers={"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)})


def test_comment_fields_entities_links_and_replies(rsps: responses.RequestsMock) -> None:
    serve(rsps, fixture("comments.json"))
    found = comments_of(run(connector(owner_user_ids=[3])))

    guest = found["1041"]
    assert guest.text == "Mum\u2019s carer didn\u2019t turn up again & nobody rang us.\nSecond time this week."
    assert guest.created_at == datetime(2026, 5, 10, 11, 58, 2, tzinfo=UTC)
    assert guest.post_id == "2210"
    assert guest.post_url == "https://blog.example.org/2026/05/07/open-day-at-oak-house/"
    assert guest.permalink == "https://blog.example.org/2026/05/07/open-day-at-oak-house/#comment-1041"
    assert guest.author_id is None and guest.author_name == "Jo Parent"
    assert guest.parent_id is None and guest.by_owner is False and guest.hidden is False

    staff = found["1042"]
    assert staff.parent_id == "1041"
    assert staff.author_id == "3"
    assert staff.by_owner is True
    assert staff.text == (
        "Hi Jo, I\u2019m so sorry. I\u2019ve passed this to the manager \u2013 we\u2019ll ring you today. Contact us"
    )
    held = found["1043"]
    assert held.hidden is False  # held for moderation is live, awaiting the site's decision (H4)
    assert held.text == "I heard Oak House is closing down \u2026 is that true?"


def test_first_poll_asks_oldest_first_since_the_lookback(rsps: responses.RequestsMock) -> None:
    serve(rsps, fixture("comments.json"))
    batches = run(connector(lookback_days=7))

    assert query_of(rsps.calls[0]) == {
        "after": "2026-05-03T12:30:00+00:00",
        "orderby": "date_gmt",
        "order": "asc",
        "per_page": "100",
    }
    assert "Authorization" not in rsps.calls[0].request.headers
    assert batches[-1].bookmark == {"date": "2026-05-10T13:20:00"}


def test_first_poll_of_a_blog_without_comments_bookmarks_the_lookback_start(rsps: responses.RequestsMock) -> None:
    serve(rsps, [], pages=0)
    batches = run(connector())
    assert comments_of(batches) == {}
    assert batches[-1].bookmark == {"date": "2026-04-26T12:30:00+00:00"}


def test_signed_in_reads_held_comments_with_basic_auth(rsps: responses.RequestsMock) -> None:
    serve(rsps, fixture("comments.json"))
    run(signed_in())

    request = rsps.calls[0].request
    expected = base64.b64encode(f"office:{APP_PASSWORD}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert query_of(rsps.calls[0])["status"] == "all"


def test_pages_follow_total_pages_to_the_end(rsps: responses.RequestsMock) -> None:
    site = FakeWordPress()
    site.add(*(wp_comment(number, NOW - timedelta(hours=300 - number)) for number in range(1, 251)))
    site.register(rsps)

    batches = run(connector())

    assert len(comments_of(batches)) == 250
    assert [query.get("page") for query in site.queries] == [None, "2", "3"]
    assert batches[-1].bookmark == {"date": site.comments[-1]["date"]}


def test_incremental_poll_sends_site_time_less_the_overlap_and_returns_new_comments(
    rsps: responses.RequestsMock,
) -> None:
    site = FakeWordPress()
    site.add(*(wp_comment(number, NOW - timedelta(minutes=200 - 10 * number)) for number in range(1, 21)))
    site.register(rsps)
    bookmark = {"date": site.comments[14]["date"]}

    batches = run(connector(overlap_minutes=30), bookmark)

    sent = datetime.fromisoformat(site.queries[0]["after"])
    assert sent.tzinfo is None
    assert sent == datetime.fromisoformat(bookmark["date"]) - timedelta(minutes=30)
    assert sorted(int(key) for key in comments_of(batches)) == [13, 14, 15, 16, 17, 18, 19, 20]
    assert batches[-1].bookmark == {"date": site.comments[-1]["date"]}


def test_site_west_of_utc_misses_nothing(rsps: responses.RequestsMock) -> None:
    eastern = timezone(timedelta(hours=-5))
    site = FakeWordPress(site_zone=eastern)
    old = wp_comment(1, NOW - timedelta(hours=3), site_zone=eastern)
    site.add(old)
    site.register(rsps)
    bookmark = run(connector(overlap_minutes=0))[-1].bookmark
    site.add(wp_comment(2, NOW - timedelta(minutes=1), site_zone=eastern))

    assert list(comments_of(run(connector(overlap_minutes=0), bookmark))) == ["2"]


def test_nothing_new_is_one_request_and_keeps_the_bookmark(rsps: responses.RequestsMock) -> None:
    site = FakeWordPress()
    site.add(wp_comment(1, NOW - timedelta(hours=5)))
    site.register(rsps)
    made = connector(overlap_minutes=0)

    batches = run(made, {"date": site.comments[0]["date"]})

    assert made.http.requests_made == 1
    assert comments_of(batches) == {}
    assert batches[-1].bookmark == {"date": site.comments[0]["date"]}


def test_page_past_the_end_is_the_end(rsps: responses.RequestsMock) -> None:
    rsps.add(
        responses.GET,
        COMMENTS,
        json=fixture("comments.json"),
        headers={"X-WP-Total": "200", "X-WP-TotalPages": "2"},
    )
    rsps.add(responses.GET, COMMENTS, json=fixture("error_invalid_page_number.json"), status=400)

    batches = run(connector())

    assert len(comments_of(batches)) == 3
    assert batches[-1].bookmark == {"date": "2026-05-10T13:20:00"}


def test_malformed_records_are_skipped_with_a_reason(rsps: responses.RequestsMock) -> None:
    serve(rsps, fixture("comments_malformed.json"))
    batches = run(connector())

    assert list(comments_of(batches)) == ["1052"]
    assert comments_of(batches)["1052"].text == "Lovely team \U0001f33b"
    skipped = [reason for batch in batches for reason in batch.skipped]
    assert skipped == ["comment 1050: 'comment 1050 has no date_gmt'", "comment ?: comment is not an object"]


@pytest.mark.parametrize(
    ("name", "status", "kind"),
    [
        ("error_incorrect_password.json", 401, AuthError),
        ("error_forbidden_param.json", 401, AuthError),
        ("error_forbidden.json", 403, AuthError),
        ("error_invalid_param.json", 400, FatalError),
        ("error_critical.json", 500, RetryableError),
    ],
)
def test_errors_are_sorted_into_three_kinds(
    rsps: responses.RequestsMock, name: str, status: int, kind: type[ConnectorError]
) -> None:
    rsps.add(responses.GET, COMMENTS, json=fixture(name), status=status)

    with pytest.raises(kind) as raised:
        run(signed_in())

    message = str(raised.value)
    assert fixture(name)["code"] in message
    assert "?" not in message and APP_PASSWORD not in message


def test_429_with_retry_after(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, COMMENTS, body="Too Many Requests", status=429, headers={"Retry-After": "600"})
    with pytest.raises(RetryableError) as raised:
        run(connector())
    assert raised.value.retry_after == 600


def test_5xx_is_retried_inline_then_succeeds(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, COMMENTS, json=fixture("error_critical.json"), status=503)
    serve(rsps, fixture("comments.json"))
    waits: list[float] = []

    assert len(comments_of(run(connector(waits)))) == 3
    assert len(waits) == 1


def test_html_instead_of_json_is_retryable(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, COMMENTS, body="<html>Maintenance</html>", content_type="text/html")
    with pytest.raises(RetryableError, match="not JSON"):
        run(connector())


def test_timeout_is_retryable(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, COMMENTS, body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(RetryableError):
        run(connector())


def test_check_counts_the_visible_comments(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, COMMENTS, json=fixture("comments.json")[:1], headers={"X-WP-Total": "87"})
    assert signed_in().check() == f"WordPress site {SITE}: 87 all comments"
    assert query_of(rsps.calls[0]) == {"per_page": "1", "status": "all"}


def test_check_with_a_wrong_application_password_is_an_auth_error(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, COMMENTS, json=fixture("error_incorrect_password.json"), status=401)
    with pytest.raises(AuthError, match="incorrect_password"):
        signed_in().check()


def test_settings_want_both_credentials_or_neither() -> None:
    with pytest.raises(ValueError, match="both username and application_password"):
        connector(username="office")
    with pytest.raises(ValueError, match="base_url"):
        connector(base_url="blog.example.org")


def test_economy_steady_state_is_one_request() -> None:
    figures = measure()
    assert figures["platform"] == "wordpress"
    assert 1 <= figures["steady_state_requests"] <= 2
    assert figures["first_poll_comments"] == 1500
    assert figures["naive_requests"] > 100


def test_with_own_posts_on_the_sites_posts_are_reported_with_alt_text_and_captions(
    rsps: responses.RequestsMock,
) -> None:
    serve(rsps, [])
    posts_url = f"{SITE}/wp-json/wp/v2/posts"
    rsps.add(responses.GET, posts_url, json=fixture("posts.json"), headers={"X-WP-TotalPages": "1"})

    batches = run(connector(own_posts=True))

    sports, coffee = [post for batch in batches for post in batch.posts]
    assert sports.external_id == "412"
    assert sports.title == "Sports Day at Brightwater House \u2013 what a day!"
    assert sports.text == (
        "Sports Day at Brightwater House \u2013 what a day!\n\n"
        "Congratulations to Margaret Jones, who won the egg and spoon race.\n"
        "The sack race, with Priya Shah cheering"
    )
    assert sports.media_text == ("Arthur Bennett crossing the finish line", "The sack race, with Priya Shah cheering")
    assert sports.url == "https://blog.brightwater-care.example/2026/05/09/sports-day/"
    assert sports.created_at == datetime(2026, 5, 9, 14, 4, tzinfo=UTC)
    assert sports.edited_at == datetime(2026, 5, 9, 15, 20, 31, tzinfo=UTC)
    assert coffee.edited_at is None
    assert [reason for batch in batches for reason in batch.skipped] == ["post 416: 'post 416 has no date_gmt'"]
    posts_query = query_of(next(call for call in rsps.calls if call.request.url.startswith(posts_url)))
    assert posts_query["modified_after"] == (NOW - timedelta(days=14)).isoformat(timespec="seconds")
    assert posts_query["_fields"] == "id,link,date_gmt,modified,modified_gmt,title,content"
    assert batches[-1].bookmark is not None
    assert batches[-1].bookmark["posts_modified"] == "2026-05-10T09:00:00"

    rsps.calls.reset()
    run(connector(own_posts=True), batches[-1].bookmark)
    again = query_of(next(call for call in rsps.calls if call.request.url.startswith(posts_url)))
    assert again["modified_after"] == "2026-05-10T08:00:00"  # the watermark less the hour's overlap


def test_without_own_posts_the_sites_posts_are_not_read(rsps: responses.RequestsMock) -> None:
    serve(rsps, [])

    batches = run(connector())

    assert [call.request.url.split("?")[0] for call in rsps.calls] == [COMMENTS]
    assert all(not batch.posts for batch in batches)
@pytest.mark.parametrize(
    ("link", "post"),
    [
        # WP REST "Comments" reference: link is the comment's URL; with paged comments it carries the page.
        ("https://blog.example.org/2026/05/open-day/comment-page-2/#comment-912", "https://blog.example.org/2026/05/open-day/"),
        ("https://blog.example.org/2026/05/open-day/comment-page-1#comment-3", "https://blog.example.org/2026/05/open-day/"),
        ("https://blog.example.org/?p=88&cpage=2#comment-41", "https://blog.example.org/?p=88"),
        ("https://blog.example.org/2026/05/open-day/#comment-7", "https://blog.example.org/2026/05/open-day/"),
    ],
)
def test_the_posts_address_has_no_comment_page(link: str, post: str) -> None:
    from connectors.wordpress import post_address

    assert post_address(link) == post
