"""Ninety simulated days in which every expiring credential expires at least twice.

Each platform's token endpoint and API are played by ``responses`` with an
injected clock; an API answers a token that is unknown or past its expiry as
the platform does (Google 401 UNAUTHENTICATED, Graph code 190, LinkedIn 401,
XRPC ExpiredToken). Every account is polled every six hours through the real
pipeline, store (a SQLite file) and encrypted credential store. The accounts:

- YouTube with a Google refresh token: hour-long access tokens (each poll's has expired).
- Instagram Login: a 60-day token already 40 days old when first seen (it dies on day 20).
- LinkedIn with refresh tokens: the consent is 300 days old (its refresh token dies on day
  65): the operator must be warned, and consents again (``monitor auth``) after the warning.
- LinkedIn and Facebook without any renewal (60-day tokens, ``token_expires`` set): the
  operator must be warned 14 days ahead, and puts a new token in the config after the warning.
- Bluesky: two-hour access JWTs and 20-day refresh JWTs (renewed, then signed in again).

Mastodon, X and WordPress credentials (OAuth tokens, app bearer tokens, application
passwords) do not expire, so they have no part here.

Asserted: no account is ever stopped by an auth failure; every credential the
monitor cannot renew was warned about at least 14 days (less one poll interval)
before it expired; each platform's credentials expired at least twice.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from structlog.testing import capture_logs

from connectors import Connector, connector_class
from connectors.bluesky import BlueskyConnector, Session
from connectors.credentials import FileCredentialStore, TokenState, new_key
from monitor.config import AccountConfig, from_mapping
from monitor.filter import Classifier, FilterSettings
from monitor.pipeline import Pipeline
from monitor.secrets import Secret
from monitor.store import Store

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

START = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
DAYS = 90
POLL_EVERY = timedelta(hours=6)
WARN_AHEAD = timedelta(days=14)
OPERATOR_DELAY = timedelta(days=3)  # how long the operator takes to act on a warning
Reply = tuple[int, dict[str, str], str]


class Clock:
    def __init__(self) -> None:
        self.moment = START

    def __call__(self) -> datetime:
        return self.moment


@dataclass
class Tokens:
    """One platform's issued credentials: value -> (issued, expires)."""

    clock: Clock
    issued: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    count: int = 0

    def issue(self, prefix: str, lifetime: timedelta, issued: datetime | None = None) -> str:
        self.count += 1
        token = f"{prefix}-{self.count:04d}-secret"
        moment = issued or self.clock()
        self.issued[token] = (moment, moment + lifetime)
        return token

    def valid(self, token: str | None) -> bool:
        span = self.issued.get(token or "")
        return span is not None and span[0] <= self.clock() < span[1]

    def age(self, token: str) -> timedelta:
        return self.clock() - self.issued[token][0]

    def expired(self) -> int:
        """How many issued credentials have reached their expiry by now."""
        return sum(expires <= self.clock() for _, expires in self.issued.values())


def bearer(request: requests.PreparedRequest) -> str:
    return str(request.headers.get("Authorization", "")).removeprefix("Bearer ")


def query(request: requests.PreparedRequest) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(request.url or "").query).items()}


def form(request: requests.PreparedRequest) -> dict[str, str]:
    body = request.body if isinstance(request.body, str) else (request.body or b"").decode()
    return {key: values[0] for key, values in parse_qs(body).items()}


def ok(body: Any) -> Reply:
    return 200, {"Content-Type": "application/json"}, json.dumps(body)


def jwt(expires: datetime) -> str:
    claims = base64.urlsafe_b64encode(json.dumps({"exp": int(expires.timestamp())}).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJIUzI1NiJ9.{claims}.signature"


class World:
    """Every platform's token endpoints and one cheap API call each, keeping its own books."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.google = Tokens(clock)
        self.google_refresh = self.google.issue("1//google-refresh", timedelta(days=3650), START - timedelta(days=30))
        self.instagram = Tokens(clock)
        self.instagram_first = self.instagram.issue("IGAA", timedelta(days=60), START - timedelta(days=40))
        self.linkedin = Tokens(clock)
        self.linkedin_refresh = Tokens(clock)
        self.linkedin_fixed = Tokens(clock)
        self.facebook = Tokens(clock)
        self.bluesky = Tokens(clock)
        self.bluesky_refresh = Tokens(clock)

    def register(self, rsps: responses.RequestsMock) -> None:
        def on(method: str, pattern: str, handler: Callable[[requests.PreparedRequest], Reply]) -> None:
            rsps.add_callback(method, re.compile(pattern), callback=handler)

        on(responses.POST, r"https://oauth2\.googleapis\.com/token", self.google_token)
        on(responses.GET, r"https://www\.googleapis\.com/youtube/v3/commentThreads.*", self.youtube_threads)
        on(responses.GET, r"https://graph\.instagram\.com/refresh_access_token.*", self.instagram_refresh)
        on(responses.GET, r"https://graph\.instagram\.com/v23\.0/17841400000000001/media.*", self.instagram_media)
        on(responses.POST, r"https://www\.linkedin\.com/oauth/v2/accessToken", self.linkedin_token)
        on(responses.GET, r"https://api\.linkedin\.com/rest/posts.*", self.linkedin_posts)
        on(responses.GET, r"https://graph\.facebook\.com/v23\.0/104512345678901/feed.*", self.facebook_feed)
        on(responses.POST, r"https://bsky\.social/xrpc/com\.atproto\.server\.createSession", self.bluesky_sign_in)
        on(
            responses.POST,
            r"https://bsky\.social/xrpc/com\.atproto\.server\.refreshSession",
            self.bluesky_refresh_session,
        )
        on(responses.GET, r"https://bsky\.social/xrpc/app\.bsky\.notification\.listNotifications.*", self.bluesky_list)

    # Google: "Using OAuth 2.0 for Web Server Applications"; YouTube Data API errors.
    def google_token(self, request: requests.PreparedRequest) -> Reply:
        if form(request).get("refresh_token") != self.google_refresh:
            return 400, {}, json.dumps({"error": "invalid_grant", "error_description": "Bad Request"})
        token = self.google.issue("ya29", timedelta(seconds=3599))
        return ok({"access_token": token, "expires_in": 3599, "scope": "youtube.force-ssl", "token_type": "Bearer"})

    def youtube_threads(self, request: requests.PreparedRequest) -> Reply:
        if not self.google.valid(bearer(request)):
            error = {
                "code": 401,
                "message": "Request had invalid authentication credentials.",
                "status": "UNAUTHENTICATED",
            }
            return 401, {}, json.dumps({"error": error})
        return ok({"kind": "youtube#commentThreadListResponse", "items": []})

    # Instagram Platform "Refresh Access Token"; Graph error code 190.
    def instagram_refresh(self, request: requests.PreparedRequest) -> Reply:
        token = query(request).get("access_token", "")
        if not self.instagram.valid(token) or self.instagram.age(token) < timedelta(days=1):
            return graph_error(190, "Error validating access token")
        fresh = self.instagram.issue("IGAA", timedelta(days=60))
        return ok({"access_token": fresh, "token_type": "bearer", "expires_in": 60 * 86400})

    def instagram_media(self, request: requests.PreparedRequest) -> Reply:
        if not self.instagram.valid(query(request).get("access_token")):
            return graph_error(190, "Error validating access token: Session has expired")
        return ok({"data": []})

    # LinkedIn "Programmatic Refresh Tokens": the refresh token keeps the consent's expiry.
    def linkedin_token(self, request: requests.PreparedRequest) -> Reply:
        refresh = form(request).get("refresh_token", "")
        if not self.linkedin_refresh.valid(refresh):
            return 400, {}, json.dumps({"error": "invalid_grant", "error_description": "The token has expired"})
        token = self.linkedin.issue("AQV", timedelta(days=60))
        left = int((self.linkedin_refresh.issued[refresh][1] - self.clock()).total_seconds())
        return ok(
            {
                "access_token": token,
                "expires_in": 60 * 86400,
                "refresh_token": refresh,
                "refresh_token_expires_in": left,
            }
        )

    def linkedin_posts(self, request: requests.PreparedRequest) -> Reply:
        token = bearer(request)
        if not (self.linkedin.valid(token) or self.linkedin_fixed.valid(token)):
            return 401, {}, json.dumps({"status": 401, "serviceErrorCode": 65601, "code": "REVOKED_ACCESS_TOKEN"})
        return ok({"paging": {"start": 0, "count": 100, "links": []}, "elements": []})

    def facebook_feed(self, request: requests.PreparedRequest) -> Reply:
        if not self.facebook.valid(query(request).get("access_token")):
            return graph_error(190, "Error validating access token: Session has expired")
        return ok({"data": []})

    # AT Protocol: createSession / refreshSession; ExpiredToken.
    def bluesky_sign_in(self, request: requests.PreparedRequest) -> Reply:
        return ok(self._bluesky_session())

    def bluesky_refresh_session(self, request: requests.PreparedRequest) -> Reply:
        if not self.bluesky_refresh.valid(bearer(request)):
            return 400, {}, json.dumps({"error": "ExpiredToken", "message": "Token has expired"})
        return ok(self._bluesky_session())

    def _bluesky_session(self) -> dict[str, Any]:
        access_expiry, refresh_expiry = self.clock() + timedelta(hours=2), self.clock() + timedelta(days=20)
        access = jwt(access_expiry)
        refresh = jwt(refresh_expiry) + f"-{self.bluesky_refresh.count}"
        self.bluesky.issued[access] = (self.clock(), access_expiry)
        self.bluesky_refresh.issued[refresh] = (self.clock(), refresh_expiry)
        self.bluesky_refresh.count += 1
        return {"accessJwt": access, "refreshJwt": refresh, "handle": "care.example.org", "did": "did:plc:care"}

    def bluesky_list(self, request: requests.PreparedRequest) -> Reply:
        if not self.bluesky.valid(bearer(request)):
            return 400, {}, json.dumps({"error": "ExpiredToken", "message": "Token has expired"})
        return ok({"notifications": []})


def graph_error(code: int, message: str) -> Reply:
    return (
        400,
        {},
        json.dumps({"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "x"}}),
    )


RENEWABLE = ("youtube", "instagram", "bluesky")


def accounts(linkedin_token: str, linkedin_expires: date, facebook_expires: date) -> list[dict[str, Any]]:
    return [
        {
            "name": "youtube",
            "platform": "youtube",
            "channel_id": "UCWillowHouseCareHome001",
            "client_id": "1234-app.apps.googleusercontent.com",
            "client_secret": {"env": "SOAK_GOOGLE_SECRET"},
            "refresh_token": {"env": "SOAK_GOOGLE_REFRESH"},
            "held_every_minutes": 0,
        },
        {
            "name": "instagram",
            "platform": "instagram",
            "login": "instagram",
            "ig_user_id": "17841400000000001",
            "access_token": {"env": "SOAK_INSTAGRAM_TOKEN"},
        },
        {
            "name": "linkedin-refresh",
            "platform": "linkedin",
            "organization_urn": "urn:li:organization:10451234",
            "client_id": "86abcdefghijkl",
            "client_secret": {"env": "SOAK_LINKEDIN_SECRET"},
        },
        {
            "name": "linkedin-fixed",
            "platform": "linkedin",
            "organization_urn": "urn:li:organization:10451235",
            "access_token": {"env": linkedin_token},
            "token_expires": linkedin_expires.isoformat(),
        },
        {
            "name": "facebook",
            "platform": "facebook",
            "page_id": "104512345678901",
            "access_token": {"env": "SOAK_FACEBOOK_TOKEN"},
            "token_expires": facebook_expires.isoformat(),
        },
        {"name": "bluesky", "platform": "bluesky", "handle": "care.example.org", "app_password": {"env": "SOAK_BSKY"}},
    ]


@dataclass
class Outcome:
    stopped: list[str]
    warnings: dict[str, list[datetime]]
    expiries: dict[str, list[datetime]]
    expired: dict[str, int]


def run_soak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Outcome:
    clock = Clock()
    world = World(clock)
    credentials = FileCredentialStore(tmp_path / "credentials.json", Secret(new_key(), "soak"))
    # The LinkedIn app's consent, from `monitor auth` 300 days ago: its refresh token dies on day 65.
    consent = START - timedelta(days=300)
    refresh = world.linkedin_refresh.issue("AQW", timedelta(days=365), consent)
    first_access = world.linkedin.issue("AQV", timedelta(days=60), START - timedelta(days=10))
    credentials.save(
        "linkedin-refresh",
        TokenState(
            Secret(first_access, "soak"),
            START + timedelta(days=50),
            Secret(refresh, "soak"),
            consent + timedelta(days=365),
            START - timedelta(days=10),
        ),
    )
    fixed = {
        "linkedin-fixed": world.linkedin_fixed.issue("AQVfixed", timedelta(days=60), START - timedelta(days=30)),
        "facebook": world.facebook.issue("EAAG", timedelta(days=60), START - timedelta(days=20)),
    }
    expiry_of = {
        name: (world.linkedin_fixed if name == "linkedin-fixed" else world.facebook).issued[token][1]
        for name, token in fixed.items()
    }
    env = {
        "SOAK_GOOGLE_SECRET": "GOCSPX-soak-secret",
        "SOAK_GOOGLE_REFRESH": world.google_refresh,
        "SOAK_INSTAGRAM_TOKEN": world.instagram_first,
        "SOAK_LINKEDIN_SECRET": "WPL-soak-secret",
        "SOAK_LINKEDIN_FIXED_1": fixed["linkedin-fixed"],
        "SOAK_FACEBOOK_TOKEN_1": fixed["facebook"],
        "SOAK_BSKY": "abcd-efgh-ijkl-mnop",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    generation = {"linkedin-fixed": 1, "facebook": 1}

    def configured() -> dict[str, AccountConfig]:
        monkeypatch.setenv("SOAK_FACEBOOK_TOKEN", env[f"SOAK_FACEBOOK_TOKEN_{generation['facebook']}"])
        made = accounts(
            f"SOAK_LINKEDIN_FIXED_{generation['linkedin-fixed']}",
            (expiry_of["linkedin-fixed"] - timedelta(days=1)).date(),
            (expiry_of["facebook"] - timedelta(days=1)).date(),
        )
        return {account.name: account for account in from_mapping({"accounts": made}).accounts}

    sessions: dict[tuple[str, str], Session] = {}

    def connector_for(account: AccountConfig) -> Connector:
        if account.platform == "bluesky":
            made: Connector = BlueskyConnector(account.connector, now=clock, sessions=sessions, credentials=credentials)
        else:
            made = connector_class(account.platform)(account.connector, now=clock, credentials=credentials)
        made.http.sleep = lambda seconds: None
        return made

    store = Store(f"sqlite:///{tmp_path / 'soak.db'}")
    store.create_schema()
    pipeline = Pipeline(store, Classifier.from_settings(FilterSettings(), ["Brightwater Care"]), connector_for, clock)
    warnings: dict[str, list[datetime]] = {}
    expiries: dict[str, list[datetime]] = {name: [expiry] for name, expiry in expiry_of.items()}
    expiries["linkedin-refresh"] = [consent + timedelta(days=365)]
    act_at: dict[str, datetime] = {}
    stopped: list[str] = []
    current = configured()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps, capture_logs() as logs:
        world.register(rsps)
        while clock.moment < START + timedelta(days=DAYS):
            for name, account in current.items():
                seen = len(logs)
                outcome = pipeline.poll(account)
                if outcome.status in ("auth_failed", "skipped") and outcome.error:
                    stopped.append(f"{clock.moment:%Y-%m-%d %H:%M} {name}: {outcome.error}")
                for entry in logs[seen:]:
                    if entry["event"].startswith("credentials expire soon"):
                        warnings.setdefault(name, []).append(clock.moment)
                        act_at.setdefault(name, clock.moment + OPERATOR_DELAY)
            for name, moment in list(act_at.items()):
                if clock.moment < moment:
                    continue
                del act_at[name]
                if name == "linkedin-refresh":  # the operator consents again: `monitor auth linkedin-refresh`
                    new_refresh = world.linkedin_refresh.issue("AQW", timedelta(days=365))
                    access = world.linkedin.issue("AQV", timedelta(days=60))
                    credentials.save(
                        name,
                        TokenState(
                            Secret(access, "soak"),
                            clock.moment + timedelta(days=60),
                            Secret(new_refresh, "soak"),
                            clock.moment + timedelta(days=365),
                            clock.moment,
                        ),
                    )
                    expiries[name].append(clock.moment + timedelta(days=365))
                else:  # the operator makes a new token and puts it and its expiry in the config
                    tokens = world.linkedin_fixed if name == "linkedin-fixed" else world.facebook
                    generation[name] += 1
                    variable = "SOAK_LINKEDIN_FIXED" if name == "linkedin-fixed" else "SOAK_FACEBOOK_TOKEN"
                    env[f"{variable}_{generation[name]}"] = tokens.issue(variable, timedelta(days=60))
                    monkeypatch.setenv(f"{variable}_{generation[name]}", env[f"{variable}_{generation[name]}"])
                    expiry_of[name] = clock.moment + timedelta(days=60)
                    expiries[name].append(expiry_of[name])
                current = configured()
            clock.moment += POLL_EVERY
    store.close()
    expired = {
        "youtube": world.google.expired(),
        "instagram": world.instagram.expired(),
        "linkedin-refresh": world.linkedin.expired() + world.linkedin_refresh.expired(),
        "linkedin-fixed": world.linkedin_fixed.expired(),
        "facebook": world.facebook.expired(),
        "bluesky": world.bluesky.expired() + world.bluesky_refresh.expired(),
    }
    return Outcome(stopped, warnings, expiries, expired)


@pytest.fixture(scope="module")
def soak(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return run_soak(tmp_path_factory.mktemp("token-soak"), monkeypatch)


def test_no_account_is_ever_stopped_by_an_expired_token(soak: Outcome) -> None:
    assert soak.stopped == []


def test_every_platform_saw_its_credentials_expire_at_least_twice(soak: Outcome) -> None:
    assert all(count >= 2 for count in soak.expired.values()), soak.expired
    assert soak.expired["youtube"] > 300  # an hour-long token behind every six-hourly poll


def test_credentials_that_cannot_be_renewed_were_warned_about_14_days_ahead(soak: Outcome) -> None:
    for name in ("linkedin-fixed", "facebook", "linkedin-refresh"):
        due = [expiry for expiry in soak.expiries[name] if expiry <= START + timedelta(days=DAYS)]
        assert due, f"{name}: nothing expired inside the 90 days"
        for expiry in due:
            warned = [moment for moment in soak.warnings.get(name, []) if moment < expiry]
            assert warned, f"{name}: no warning before {expiry}"
            assert expiry - min(warned) >= WARN_AHEAD - POLL_EVERY, (name, expiry, warned)


def test_renewable_credentials_never_needed_a_warning(soak: Outcome) -> None:
    assert not any(name in soak.warnings for name in RENEWABLE)
