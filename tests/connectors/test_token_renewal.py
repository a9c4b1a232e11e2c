"""Tokens renewed before they expire, kept safely, and warned about where they cannot be renewed.

The token endpoints' answers follow the platforms' references:
- Google "Using OAuth 2.0 for Web Server Applications", section "Refreshing an access
  token (offline access)": POST oauth2.googleapis.com/token, form fields, answer
  ``{access_token, expires_in, scope, token_type}``; a revoked token answers 400
  ``{"error": "invalid_grant", "error_description": "Token has been expired or revoked."}``.
- Instagram Platform reference "Refresh Access Token": GET graph.instagram.com/refresh_access_token
  ``?grant_type=ig_refresh_token``, answer ``{access_token, token_type: "bearer", expires_in}``.
- LinkedIn "Programmatic Refresh Tokens": POST linkedin.com/oauth/v2/accessToken with
  ``grant_type=refresh_token``, answer ``{access_token, expires_in, refresh_token,
  refresh_token_expires_in}`` (the refresh token's remaining life, not renewed).
"""

from __future__ import annotations

import json
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connectors.credentials import (
    CredentialStoreError,
    FileCredentialStore,
    MemoryCredentialStore,
    TokenState,
    new_key,
)
from connectors.errors import AuthError
from connectors.facebook import FacebookConnector, FacebookSettings
from connectors.instagram import InstagramConnector, InstagramSettings
from connectors.linkedin import LinkedInConnector, LinkedInSettings
from connectors.youtube import YouTubeConnector, YouTubeSettings
from monitor.secrets import Secret

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
YOUTUBE = "https://www.googleapis.com/youtube/v3"
CHANNEL = "UCWillowHouseCareHome001"
IG = "https://graph.instagram.com"
IG_USER = "17841400000000001"
LINKEDIN_TOKEN_URL = "https://www.linkedin.com/oauth/v2/accessToken"
ORG = "urn:li:organization:10451234"


class Clock:
    def __init__(self, moment: datetime = START) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def form_of(call: Any) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(call.request.body).items()}


def query_of(call: Any) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(call.request.url).query).items()}


# --- YouTube: Google refresh tokens -------------------------------------------------------------


def youtube(clock: Clock, store: Any, **settings: Any) -> YouTubeConnector:
    made = YouTubeConnector(
        YouTubeSettings(
            name="willow-youtube",
            platform="youtube",
            channel_id=CHANNEL,
            client_id="1234-app.apps.googleusercontent.com",
            client_secret=Secret("GOCSPX-client-secret-value", "t"),
            refresh_token=Secret("1//0g-refresh-token-value", "t"),
            held_every_minutes=0,  # the review queues are tested in test_youtube_moderation
            **settings,
        ),
        now=clock,
        credentials=store,
    )
    made.http.sleep = lambda seconds: None
    return made


def google_answers(rsps: responses.RequestsMock, tokens: list[str]) -> None:
    for token in tokens:
        rsps.post(
            GOOGLE_TOKEN_URL,
            json={
                "access_token": token,
                "expires_in": 3599,
                "scope": "https://www.googleapis.com/auth/youtube.force-ssl",
                "token_type": "Bearer",
            },
        )
    rsps.get(f"{YOUTUBE}/commentThreads", json={"kind": "youtube#commentThreadListResponse", "items": []})


def test_youtube_renews_its_hour_long_token_and_keeps_it_encrypted(tmp_path: Path) -> None:
    clock = Clock()
    store = FileCredentialStore(tmp_path / "credentials.json", Secret(new_key(), "t"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        google_answers(rsps, ["ya29.first-access-token", "ya29.second-access-token"])
        list(youtube(clock, store).fetch(None))
        clock.moment = START + timedelta(minutes=50)
        list(youtube(clock, store).fetch(None))  # a new connector (as each poll builds): the stored token, no refresh
        clock.moment = START + timedelta(minutes=56)
        list(youtube(clock, store).fetch(None))  # under five minutes left: renewed
        calls = list(rsps.calls)

    token_calls = [call for call in calls if call.request.url == GOOGLE_TOKEN_URL]
    assert len(token_calls) == 2
    assert form_of(token_calls[0]) == {
        "grant_type": "refresh_token",
        "refresh_token": "1//0g-refresh-token-value",
        "client_id": "1234-app.apps.googleusercontent.com",
        "client_secret": "GOCSPX-client-secret-value",
    }
    bearers = [call.request.headers["Authorization"] for call in calls if "commentThreads" in call.request.url]
    assert bearers == [
        "Bearer ya29.first-access-token",
        "Bearer ya29.first-access-token",
        "Bearer ya29.second-access-token",
    ]
    on_disk = (tmp_path / "credentials.json").read_bytes()
    assert b"ya29." not in on_disk and b"refresh-token" not in on_disk
    assert stat.S_IMODE((tmp_path / "credentials.json").stat().st_mode) == 0o600
    expiry = youtube(clock, store).credential_expiry()
    assert expiry is not None and expiry.renewed_automatically
    assert expiry.expires_at == START + timedelta(minutes=56, seconds=3599)


def test_a_revoked_refresh_token_is_an_auth_error_that_says_what_to_do() -> None:
    with responses.RequestsMock() as rsps:
        rsps.post(
            GOOGLE_TOKEN_URL,
            status=400,
            json={"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
        )
        with pytest.raises(AuthError) as raised:
            list(youtube(Clock(), MemoryCredentialStore()).fetch(None))

    message = str(raised.value)
    assert "invalid_grant" in message and "monitor auth" in message
    assert "refresh-token-value" not in message and "client-secret" not in message


def test_a_new_token_in_the_config_replaces_the_stored_renewal(tmp_path: Path) -> None:
    store = FileCredentialStore(tmp_path / "credentials.json")
    store.save(
        "willow-youtube",
        TokenState(Secret("ya29.stored-for-the-old-one", "t"), START + timedelta(hours=1), configured="someoldmark"),
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        google_answers(rsps, ["ya29.from-the-new-refresh-token"])
        list(youtube(Clock(), store).fetch(None))
        bearer = rsps.calls[-1].request.headers["Authorization"]

    assert bearer == "Bearer ya29.from-the-new-refresh-token"
    assert not store.encrypted
    assert json.loads((tmp_path / "credentials.json").read_text())["willow-youtube"]["access_token"] == (
        "ya29.from-the-new-refresh-token"
    )


def test_a_store_read_with_the_wrong_key_says_so(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    FileCredentialStore(path, Secret(new_key(), "t")).save("a", TokenState(Secret("token-a-value", "t")))
    with pytest.raises(CredentialStoreError, match="cannot be decrypted"):
        FileCredentialStore(path, Secret(new_key(), "t")).load("a")
    with pytest.raises(CredentialStoreError, match="not a Fernet key"):
        FileCredentialStore(path, Secret("not-a-key", "t"))


# --- Instagram API with Instagram Login -----------------------------------------------------------


def instagram(clock: Clock, store: Any) -> InstagramConnector:
    made = InstagramConnector(
        InstagramSettings(
            name="willow-instagram",
            platform="instagram",
            login="instagram",
            ig_user_id=IG_USER,
            access_token=Secret("IGAAT-first-long-lived", "t"),
        ),
        now=clock,
        credentials=store,
    )
    made.http.sleep = lambda seconds: None
    return made


def test_instagram_login_token_is_refreshed_once_a_day_old_and_again_at_half_life() -> None:
    clock, store = Clock(), MemoryCredentialStore()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for token in ("IGAAT-second", "IGAAT-third"):
            rsps.get(
                f"{IG}/refresh_access_token",
                json={"access_token": token, "token_type": "bearer", "expires_in": 5184000},
            )
        rsps.get(f"{IG}/v23.0/{IG_USER}/media", json={"data": []})
        for hours in (0, 23, 25, 24 * 30, 24 * 56):
            clock.moment = START + timedelta(hours=hours)
            list(instagram(clock, store).fetch(None))
        calls = list(rsps.calls)

    refreshes = [query_of(call) for call in calls if "refresh_access_token" in call.request.url]
    assert refreshes == [
        {"grant_type": "ig_refresh_token", "access_token": "IGAAT-first-long-lived"},
        {"grant_type": "ig_refresh_token", "access_token": "IGAAT-second"},
    ]
    used = [query_of(call)["access_token"] for call in calls if "/media" in call.request.url]
    assert used == ["IGAAT-first-long-lived", "IGAAT-first-long-lived", "IGAAT-second", "IGAAT-second", "IGAAT-third"]
    expiry = instagram(clock, store).credential_expiry()
    assert expiry is not None and expiry.renewed_automatically
    assert expiry.expires_at == START + timedelta(hours=24 * 56, days=60)


def test_instagram_with_facebook_login_is_not_refreshed_but_warned_from_token_expires() -> None:
    settings = InstagramSettings(
        name="ig",
        platform="instagram",
        ig_user_id=IG_USER,
        access_token=Secret("EAAG-page-token-ig", "t"),
        token_expires=date(2026, 12, 1),
    )
    made = InstagramConnector(settings, now=Clock())
    assert made.settings.base_url is None and not made.tokens.renewable
    expiry = made.credential_expiry()
    assert expiry is not None and not expiry.renewed_automatically
    assert expiry.warning_due(datetime(2026, 11, 18, tzinfo=UTC))
    assert not expiry.warning_due(datetime(2026, 11, 16, tzinfo=UTC))


# --- LinkedIn ---------------------------------------------------------------------------------------


def linkedin(clock: Clock, store: Any, **settings: Any) -> LinkedInConnector:
    made = LinkedInConnector(
        LinkedInSettings(name="willow-linkedin", platform="linkedin", organization_urn=ORG, **settings),
        now=clock,
        credentials=store,
    )
    made.http.sleep = lambda seconds: None
    return made


def test_linkedin_refresh_token_renews_the_access_token_and_warns_before_the_year_is_up() -> None:
    clock, store = Clock(), MemoryCredentialStore()
    settings = {
        "client_id": "86abcdefghijkl",
        "client_secret": Secret("WPL_AP1.linkedin-secret", "t"),
        "refresh_token": Secret("AQWrefresh-linkedin-value", "t"),
    }
    year_left = 300 * 86400
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for n in (1, 2):
            rsps.post(
                LINKEDIN_TOKEN_URL,
                json={
                    "access_token": f"AQVaccess-{n}",
                    "expires_in": 5184000,
                    "refresh_token": "AQWrefresh-linkedin-value",
                    "refresh_token_expires_in": year_left - (n - 1) * 55 * 86400,
                },
            )
        rsps.get("https://api.linkedin.com/rest/posts", json={"elements": []})
        for days in (0, 20, 55):
            clock.moment = START + timedelta(days=days)
            linkedin(clock, store, **settings).check()
        calls = list(rsps.calls)

    assert [form_of(call)["grant_type"] for call in calls if call.request.url == LINKEDIN_TOKEN_URL] == [
        "refresh_token",
        "refresh_token",
    ]
    bearers = [call.request.headers["Authorization"] for call in calls if "/rest/posts" in call.request.url]
    assert bearers == ["Bearer AQVaccess-1", "Bearer AQVaccess-1", "Bearer AQVaccess-2"]
    expiry = linkedin(clock, store, **settings).credential_expiry()
    assert expiry is not None and expiry.what == "refresh token" and not expiry.renewed_automatically
    assert expiry.expires_at == START + timedelta(seconds=year_left)
    assert expiry.warning_due(START + timedelta(seconds=year_left) - timedelta(days=13))


def test_linkedin_without_refresh_token_is_not_renewed_and_warned_from_its_expiry() -> None:
    made = linkedin(
        Clock(), MemoryCredentialStore(), access_token=Secret("AQVonly-access", "t"), token_expires=date(2027, 1, 1)
    )
    assert not made.tokens.renewable
    expiry = made.credential_expiry()
    assert expiry is not None and expiry.expires_at == datetime(2027, 1, 2, tzinfo=UTC)
    assert "cannot be renewed automatically" in expiry.describe(datetime(2026, 12, 20, tzinfo=UTC))


def test_a_facebook_page_token_without_expiry_has_nothing_to_warn_about() -> None:
    settings = FacebookSettings(name="fb", platform="facebook", page_id="1", access_token=Secret("EAAG-fb-token", "t"))
    assert FacebookConnector(settings).credential_expiry() is None
