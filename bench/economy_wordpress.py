"""What a WordPress poll costs: a blog with 500 recent posts, first poll then a poll with nothing new.

``FakeWordPress`` plays ``/wp-json/wp/v2/comments`` as WordPress answers it:
``after`` compared with the site-time ``date`` (a time with a zone converted to
the site's zone first), ``orderby=date_gmt``, ``page``/``per_page`` with
``X-WP-Total`` and ``X-WP-TotalPages``, held comments only for a signed-in
``status=all``. Run it as a script to print the figures.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import responses

from connectors.base import Batch
from connectors.wordpress import WordPressConnector, WordPressSettings

SITE = "https://blog.example.org"
POSTS = 500
COMMENTS_PER_POST = 3
FIRST_POLL = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
STEADY_POLL = FIRST_POLL + timedelta(minutes=5)
BRITISH_SUMMER_TIME = timezone(timedelta(hours=1))


def wp_comment(
    number: int, created: datetime, site_zone: tzinfo = BRITISH_SUMMER_TIME, status: str = "approved"
) -> dict[str, Any]:
    post = 2000 + number // COMMENTS_PER_POST
    link = f"{SITE}/2026/05/post-{post}/#comment-{number}"
    return {
        "id": number,
        "post": post,
        "parent": 0,
        "author": 0,
        "author_name": f"Reader {number % 53}",
        "author_url": "",
        "date": created.astimezone(site_zone).replace(tzinfo=None).isoformat(timespec="seconds"),
        "date_gmt": created.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
        "content": {"rendered": f"<p>Thanks for sharing &#8211; comment {number}</p>\n"},
        "link": link,
        "status": status,
        "type": "comment",
        "author_avatar_urls": {"48": "https://secure.gravatar.com/avatar/0?s=48&d=mm&r=g"},
        "meta": [],
        "_links": {"up": [{"embeddable": True, "post_type": "post", "href": f"{SITE}/wp-json/wp/v2/posts/{post}"}]},
    }


@dataclass
class FakeWordPress:
    """One site's comments endpoint."""

    comments: list[dict[str, Any]] = field(default_factory=list)
    site_zone: tzinfo = BRITISH_SUMMER_TIME
    queries: list[dict[str, str]] = field(default_factory=list)

    def register(self, rsps: responses.RequestsMock) -> None:
        url = re.compile(rf"{re.escape(SITE)}/wp-json/wp/v2/comments(\?.*)?$")
        rsps.add_callback(responses.GET, url, callback=self.reply)

    def add(self, *records: dict[str, Any]) -> None:
        self.comments.extend(records)

    def reply(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = dict(parse_qsl(urlsplit(request.url or "").query))
        self.queries.append(query)
        if "status" in query and "Authorization" not in request.headers:
            return _error(401, "rest_forbidden_param", "Query parameter not permitted: status")
        wanted = ("approved", "hold") if query.get("status") == "all" else ("approved",)
        after = self.site_time(query["after"]) if "after" in query else None
        found = [c for c in self.comments if c["status"] in wanted and (after is None or c["date"] > after.isoformat())]
        found.sort(key=lambda c: c["date_gmt"], reverse=query.get("order") != "asc")
        per_page, page = int(query.get("per_page", "10")), int(query.get("page", "1"))
        total_pages = -(-len(found) // per_page)
        if page > max(total_pages, 1):
            return _error(
                400,
                "rest_post_invalid_page_number",
                "The page number requested is larger than the number of pages available.",
            )
        chunk = found[(page - 1) * per_page : page * per_page]
        headers = {"X-WP-Total": str(len(found)), "X-WP-TotalPages": str(total_pages)}
        return 200, headers, json.dumps(chunk)

    def site_time(self, value: str) -> datetime:
        """``after`` as WordPress reads it: a zone is converted to site time, none means site time."""
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(self.site_zone).replace(tzinfo=None)
        return moment


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], str]:
    return status, {}, json.dumps({"code": code, "message": message, "data": {"status": status}})


def connector(now: datetime) -> WordPressConnector:
    settings = WordPressSettings(name="blog", platform="wordpress", base_url=SITE)
    return WordPressConnector(settings, now=lambda: now)


def poll(made: WordPressConnector, bookmark: dict[str, Any] | None) -> tuple[int, dict[str, Any] | None, int]:
    """Run one fetch; return (requests made, final bookmark, comments read)."""
    batches: list[Batch] = list(made.fetch(bookmark))
    for batch in batches:
        bookmark = batch.bookmark or bookmark
    return made.http.requests_made, bookmark, sum(len(batch.comments) for batch in batches)


def recent_blog() -> FakeWordPress:
    """500 posts from the last 12 days, three comments each."""
    site = FakeWordPress()
    total = POSTS * COMMENTS_PER_POST
    spacing = timedelta(days=12) / total
    site.add(*(wp_comment(number, FIRST_POLL - (total - number) * spacing) for number in range(1, total + 1)))
    return site


def measure() -> dict[str, Any]:
    site = recent_blog()
    with responses.RequestsMock() as rsps:
        site.register(rsps)
        first_requests, bookmark, first_comments = poll(connector(FIRST_POLL), None)
        steady_requests, _, _ = poll(connector(STEADY_POLL), bookmark)
    return {
        "platform": "wordpress",
        "first_poll_requests": first_requests,
        "first_poll_comments": first_comments,
        "steady_state_requests": steady_requests,
        # the posts (100 a page), then each post's comments.
        "naive_requests": -(-POSTS // 100) + POSTS,
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
