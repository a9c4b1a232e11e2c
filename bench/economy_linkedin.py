"""What a LinkedIn poll costs: an organisation with 500 recent posts, first poll then a poll with nothing new.

The REST API is played by ``responses`` with the documented shapes: ``/posts``
newest first with start/count paging, ``/socialMetadata`` batch gets keyed by
post URN (Rest.li ``ids=List(...)``), and ``/socialActions/{urn}/comments`` for
comments and for replies. The naive figure lists the posts and reads every
post's comments. Run it as a script to print the figures.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
import responses

from connectors.linkedin import PAGE_SIZE, LinkedInConnector, LinkedInSettings
from monitor.secrets import Secret

BASE = "https://api.linkedin.com/rest"
ORG = "urn:li:organization:10451234"
POSTS = 500
FIRST_POLL = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
STEADY_POLL = FIRST_POLL + timedelta(minutes=5)

Reply = tuple[int, dict[str, str], str]


@dataclass
class FakeOrganisation:
    """One organisation's posts and their comment threads, served the way LinkedIn pages them."""

    posts: list[dict[str, Any]]
    comments: dict[str, list[dict[str, Any]]]

    def register(self, rsps: responses.RequestsMock) -> None:
        rsps.add_callback(responses.GET, re.compile(rf"{re.escape(BASE)}/posts\?.*$"), self.posts_page)
        rsps.add_callback(responses.GET, re.compile(rf"{re.escape(BASE)}/socialMetadata\?.*$"), self.metadata)
        rsps.add_callback(
            responses.GET, re.compile(rf"{re.escape(BASE)}/socialActions/([^/?]+)/comments\?.*$"), self.comment_page
        )

    def posts_page(self, request: requests.PreparedRequest) -> Reply:
        return self._page(self.posts, request)

    def metadata(self, request: requests.PreparedRequest) -> Reply:
        listed = re.search(r"ids=List\(([^)]*)\)", request.url or "")
        urns = [unquote(each) for each in listed.group(1).split(",")] if listed else []
        results = {urn: self._summary(urn) for urn in urns}
        return 200, {}, json.dumps({"results": results, "statuses": dict.fromkeys(urns, 200), "errors": {}})

    def comment_page(self, request: requests.PreparedRequest) -> Reply:
        target = unquote(urlsplit(request.url or "").path.split("/")[-2])
        return self._page(self.comments.get(target, []), request)

    def _summary(self, urn: str) -> dict[str, Any]:
        top_level = self.comments.get(urn, [])
        replies = sum(len(self.comments.get(comment["commentUrn"], [])) for comment in top_level)
        return {
            "commentSummary": {"count": len(top_level) + replies, "topLevelCount": len(top_level)},
            "commentsState": "OPEN",
            "reactionSummaries": {},
            "entity": urn,
        }

    @staticmethod
    def _page(elements: list[dict[str, Any]], request: requests.PreparedRequest) -> Reply:
        query = parse_qs(urlsplit(request.url or "").query)
        start, count = int(query.get("start", ["0"])[0]), int(query.get("count", ["10"])[0])
        paging = {"start": start, "count": count, "links": [], "total": len(elements)}
        return 200, {}, json.dumps({"elements": elements[start : start + count], "paging": paging})


def build_organisation(posts: int = POSTS) -> FakeOrganisation:
    """A post every eight hours back from the first poll; every seventh has a thread with replies."""
    made: list[dict[str, Any]] = []
    comments: dict[str, list[dict[str, Any]]] = {}
    for index in range(posts):
        posted = FIRST_POLL - timedelta(hours=1 + 8 * index)
        urn = f"urn:li:share:{7330000000000000000 + posts - index}"
        activity = f"urn:li:activity:{7330000000000100000 + posts - index}"
        made.append(_post(urn, posted, posts - index))
        count = 12 if index % 7 == 0 else index % 3
        thread = [
            _comment(activity, posted + timedelta(minutes=5 + n), index * 100 + n, replies=int(count == 12 and n < 2))
            for n in range(count)
        ]
        comments[urn] = thread
        for parent in thread[:2] if count == 12 else []:
            reply = _comment(activity, posted + timedelta(hours=2), index * 100 + 50, parent["commentUrn"])
            comments[parent["commentUrn"]] = [reply]
    return FakeOrganisation(made, comments)


def measure() -> dict[str, Any]:
    organisation = build_organisation()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        organisation.register(rsps)
        first = _connector(FIRST_POLL)
        batches = list(first.fetch(None))
        steady = _connector(STEADY_POLL)
        steady_batches = list(steady.fetch(batches[-1].bookmark))
    return {
        "platform": "linkedin",
        "posts": POSTS,
        "comments_read_on_first_poll": sum(len(batch.comments) for batch in batches),
        "comments_read_on_steady_poll": sum(len(batch.comments) for batch in steady_batches),
        "first_poll_requests": first.http.requests_made,
        "steady_state_requests": steady.http.requests_made,
        "naive_requests": -(-POSTS // PAGE_SIZE) + POSTS,
    }


def _connector(now: datetime) -> LinkedInConnector:
    settings = LinkedInSettings(
        name="bench-linkedin", platform="linkedin", organization_urn=ORG, access_token=Secret("bench-token", "bench")
    )
    return LinkedInConnector(settings, now=lambda: now)


def _post(urn: str, posted: datetime, number: int) -> dict[str, Any]:
    moment = int(posted.timestamp() * 1000)
    return {
        "id": urn,
        "author": ORG,
        "commentary": f"News from Brightwater Care, update {number}",
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED",
        "lifecycleStateInfo": {"isEditedByAuthor": False},
        "isReshareDisabledByAuthor": False,
        "createdAt": moment,
        "publishedAt": moment,
        "lastModifiedAt": moment,
    }


def _comment(
    activity: str, created: datetime, number: int, parent: str | None = None, replies: int = 0
) -> dict[str, Any]:
    comment_id = str(7331000000000000000 + number)
    urn = f"urn:li:comment:({activity},{comment_id})"
    actor = f"urn:li:person:Member{number % 40:04d}"
    moment = int(created.timestamp() * 1000)
    record: dict[str, Any] = {
        "actor": actor,
        "commentUrn": urn,
        "created": {"actor": actor, "time": moment},
        "lastModified": {"actor": actor, "time": moment},
        "id": comment_id,
        "message": {"attributes": [], "text": f"Lovely to see, comment {number}"},
        "object": activity,
        "likesSummary": {"selectedLikes": [], "aggregatedTotalLikes": 0, "likedByCurrentUser": False, "totalLikes": 0},
        "$URN": urn,
    }
    if parent:
        record["parentComment"] = parent
    else:
        record["commentsSummary"] = {"selectedComments": [], "aggregatedTotalComments": replies}
    return record


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
