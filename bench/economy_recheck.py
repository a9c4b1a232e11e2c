"""What re-checking open flags costs, per platform: requests to ask about ``OPEN_FLAGS`` comments.

Each connector's ``recheck`` is run against ``responses`` answering every
request with an empty success, and its requests are counted. The pipeline
re-checks on every poll, the newest open flags first, in at most
``RECHECK_REQUESTS_PER_POLL`` requests, so it asks about as many of the
``OPEN_FLAGS`` as those requests can carry.
YouTube with the owner's token also reads its two review queues every 30
minutes (``held_every_minutes``): two requests every six polls.

    python -m bench.economy_recheck
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests
import responses

from connectors.base import Connector
from connectors.bluesky import BlueskyConnector, BlueskySettings, Session
from connectors.facebook import FacebookConnector, FacebookSettings
from connectors.instagram import InstagramConnector, InstagramSettings
from connectors.linkedin import LinkedInConnector, LinkedInSettings
from connectors.mastodon import MastodonConnector, MastodonSettings
from connectors.wordpress import WordPressConnector, WordPressSettings
from connectors.x import XConnector, XSettings
from connectors.youtube import YouTubeConnector, YouTubeSettings
from monitor.pipeline import RECHECK_REQUESTS_PER_POLL
from monitor.secrets import Secret

OPEN_FLAGS = 20
HELD_QUEUE_REQUESTS_PER_POLL = 2 / 6
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _token(name: str) -> Secret:
    return Secret(f"bench-{name}-token", "bench")


def _builders() -> dict[str, tuple[Callable[[], Connector], Callable[[int], str]]]:
    bluesky_session = Session(_token("jwt"), _token("refresh"), "did:plc:bench", "bench")
    return {
        "facebook": (
            lambda: FacebookConnector(
                FacebookSettings(name="b", platform="facebook", page_id="1", access_token=_token("fb"))
            ),
            lambda n: f"1220034567890123_{1220000000000000 + n}",
        ),
        "instagram": (
            lambda: InstagramConnector(
                InstagramSettings(name="b", platform="instagram", ig_user_id="1", access_token=_token("ig"))
            ),
            lambda n: str(17850000000000000 + n),
        ),
        "youtube": (
            lambda: YouTubeConnector(
                YouTubeSettings(name="b", platform="youtube", channel_id="UC1", access_token=_token("yt"))
            ),
            lambda n: f"UgyBench{n:016d}",
        ),
        "x": (
            lambda: XConnector(XSettings(name="b", platform="x", bearer_token=_token("x"), user_id="1", username="b")),
            lambda n: str(1790000000000000000 + n),
        ),
        "linkedin": (
            lambda: LinkedInConnector(
                LinkedInSettings(
                    name="b", platform="linkedin", organization_urn="urn:li:organization:1", access_token=_token("li")
                )
            ),
            lambda n: f"urn:li:comment:(urn:li:activity:7330000000000000103,{7330100000000000000 + n})",
        ),
        "mastodon": (
            lambda: MastodonConnector(
                MastodonSettings(
                    name="b", platform="mastodon", base_url="https://social.example.org", access_token=_token("m")
                )
            ),
            lambda n: str(113400000000000000 + n),
        ),
        "bluesky": (
            lambda: BlueskyConnector(
                BlueskySettings(name="b", platform="bluesky", handle="bench.example", app_password=_token("bs")),
                sessions={("https://bsky.social/xrpc", "bench.example"): bluesky_session},
            ),
            lambda n: f"at://did:plc:visitor/app.bsky.feed.post/3lbench{n:04d}",
        ),
        "wordpress": (
            lambda: WordPressConnector(
                WordPressSettings(
                    name="b",
                    platform="wordpress",
                    base_url="https://blog.example.org",
                    username="bench",
                    application_password=_token("wp"),
                )
            ),
            lambda n: str(1000 + n),
        ),
    }


def _empty_success(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
    body: Any = [] if "wp-json" in (request.url or "") else {}
    return 200, {"Content-Type": "application/json"}, json.dumps(body)


def measure() -> dict[str, dict[str, Any]]:
    figures: dict[str, dict[str, Any]] = {}
    for platform, (build, ident) in _builders().items():
        connector = build()
        connector.http.sleep = lambda seconds: None
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            for method in (responses.GET, responses.POST):
                rsps.add_callback(method, re.compile(r"https?://.*"), callback=_empty_success)
            asked = min(OPEN_FLAGS, connector.recheck_batch * RECHECK_REQUESTS_PER_POLL)
            connector.recheck([ident(n) for n in range(asked)])
        made = connector.http.requests_made
        figures[platform] = {
            "batch": connector.recheck_batch,
            "requests": made,
            "per_poll": made,
        }
    return figures


def main() -> int:
    figures = measure()
    print(f"re-checking {OPEN_FLAGS} open flags on every poll, in at most {RECHECK_REQUESTS_PER_POLL} requests")
    print(f"{'platform':10} {'ids/request':>11} {'requests':>8} {'per poll':>8}")
    for platform, row in figures.items():
        print(f"{platform:10} {row['batch']:>11} {row['requests']:>8} {row['per_poll']:>8.2f}")
    print(f"youtube with the owner's token also reads its review queues: {HELD_QUEUE_REQUESTS_PER_POLL:.2f} per poll")
    return 0


if __name__ == "__main__":
    sys.exit(main())
