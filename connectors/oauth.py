"""The platforms' OAuth token endpoints: renewing a token, and the first token from a consent.

Each flow follows the platform's own reference:

- Google (YouTube): "Using OAuth 2.0 for Web Server Applications": consent at
  ``accounts.google.com/o/oauth2/v2/auth`` with ``access_type=offline``; the
  code, then each refresh token, exchanged at ``oauth2.googleapis.com/token``.
  Access tokens last about an hour.
- Instagram API with Instagram Login: consent at ``instagram.com/oauth/authorize``,
  the code exchanged at ``api.instagram.com/oauth/access_token`` for a short-lived
  token, that for a 60-day one at ``graph.instagram.com/access_token``
  (``ig_exchange_token``), renewed at ``graph.instagram.com/refresh_access_token``
  (``ig_refresh_token``) once it is a day old.
- LinkedIn: "Authorization Code Flow" and "Programmatic Refresh Tokens":
  ``linkedin.com/oauth/v2/authorization`` and ``/accessToken``. Access tokens
  last 60 days; refresh tokens (for apps LinkedIn allows them) a year from the
  consent, not extended by use.

Token endpoints are not the platforms' APIs, so they are called here with the
connector's session rather than through the API request loop. Their refusals
(``invalid_grant``: revoked, expired, or consent withdrawn) are auth errors
telling the operator to run ``monitor auth``; anything else is retried on a
later poll. Tokens never appear in errors.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests

from connectors.credentials import TokenState
from connectors.errors import AuthError, ConnectorError, RetryableError
from monitor.secrets import Secret, redact

TIMEOUT = (5.0, 30.0)
MESSAGE_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Provider:
    """One platform's consent page and token endpoint."""

    platform: str
    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    scope_separator: str = " "
    extra_authorize: tuple[tuple[str, str], ...] = ()
    pkce: bool = False


GOOGLE = Provider(
    platform="youtube",
    authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
    token_url="https://oauth2.googleapis.com/token",
    # Reading held-for-review comments needs the channel owner's force-ssl scope.
    scopes=("https://www.googleapis.com/auth/youtube.force-ssl",),
    extra_authorize=(("access_type", "offline"), ("prompt", "consent")),
    pkce=True,
)
INSTAGRAM = Provider(
    platform="instagram",
    authorize_url="https://www.instagram.com/oauth/authorize",
    token_url="https://api.instagram.com/oauth/access_token",
    scopes=("instagram_business_basic", "instagram_business_manage_comments"),
    scope_separator=",",
)
INSTAGRAM_LONG_LIVED_URL = "https://graph.instagram.com/access_token"
INSTAGRAM_REFRESH_URL = "https://graph.instagram.com/refresh_access_token"
LINKEDIN = Provider(
    platform="linkedin",
    authorize_url="https://www.linkedin.com/oauth/v2/authorization",
    token_url="https://www.linkedin.com/oauth/v2/accessToken",
    scopes=("r_organization_social",),
)
PROVIDERS = {provider.platform: provider for provider in (GOOGLE, INSTAGRAM, LINKEDIN)}


@dataclass(frozen=True, slots=True)
class Consent:
    """What one consent needs remembered between the page and the redirect."""

    url: str
    state: str
    verifier: str | None


def consent(provider: Provider, client_id: str, redirect_uri: str) -> Consent:
    """The consent page's address, with a fresh ``state`` (and a PKCE challenge where the platform takes one)."""
    state = secrets.token_urlsafe(24)
    params: dict[str, str] = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": provider.scope_separator.join(provider.scopes),
        "state": state,
        **dict(provider.extra_authorize),
    }
    verifier = None
    if provider.pkce:
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode()).digest()
        params["code_challenge"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        params["code_challenge_method"] = "S256"
    return Consent(url=f"{provider.authorize_url}?{urlencode(params)}", state=state, verifier=verifier)


@dataclass(frozen=True, slots=True)
class Client:
    """The app's id and secret, as registered with the platform."""

    client_id: str
    client_secret: Secret


def exchange_code(
    session: requests.Session,
    provider: Provider,
    client: Client,
    code: str,
    *,
    redirect_uri: str,
    verifier: str | None,
    now: datetime,
) -> TokenState:
    """The first token from the code the consent page sent to the redirect."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client.client_id,
        "client_secret": client.client_secret.reveal(),
    }
    if verifier is not None:
        form["code_verifier"] = verifier
    body = _call(session, "POST", provider.token_url, data=form)
    if provider is INSTAGRAM:
        short = _first_of(body)
        long_lived = _call(
            session,
            "GET",
            INSTAGRAM_LONG_LIVED_URL,
            params={
                "grant_type": "ig_exchange_token",
                "client_secret": client.client_secret.reveal(),
                "access_token": _text(short, "access_token"),
            },
        )
        return token_state(long_lived, now, provider.platform)
    return token_state(body, now, provider.platform)


def refresh_google(session: requests.Session, client: Client, state: TokenState, now: datetime) -> TokenState:
    """Google: a new access token (about an hour) for the refresh token, which stays the same."""
    if state.refresh_token is None:
        raise AuthError("no refresh token for YouTube; run `monitor auth ACCOUNT`")
    body = _call(
        session,
        "POST",
        GOOGLE.token_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": state.refresh_token.reveal(),
            "client_id": client.client_id,
            "client_secret": client.client_secret.reveal(),
        },
    )
    renewed = token_state(body, now, "youtube")
    return TokenState(renewed.access_token, renewed.expires_at, renewed.refresh_token or state.refresh_token)


def refresh_instagram(session: requests.Session, state: TokenState, now: datetime) -> TokenState:
    """Instagram Login: a long-lived token at least a day old, renewed for 60 days from now."""
    body = _call(
        session,
        "GET",
        INSTAGRAM_REFRESH_URL,
        params={"grant_type": "ig_refresh_token", "access_token": state.access_token.reveal()},
    )
    return token_state(body, now, "instagram")


def refresh_linkedin(session: requests.Session, client: Client, state: TokenState, now: datetime) -> TokenState:
    """LinkedIn: a new 60-day access token; the refresh token keeps the expiry of the first consent."""
    if state.refresh_token is None:
        raise AuthError("no refresh token for LinkedIn; run `monitor auth ACCOUNT`")
    body = _call(
        session,
        "POST",
        LINKEDIN.token_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": state.refresh_token.reveal(),
            "client_id": client.client_id,
            "client_secret": client.client_secret.reveal(),
        },
    )
    renewed = token_state(body, now, "linkedin")
    return TokenState(
        renewed.access_token,
        renewed.expires_at,
        renewed.refresh_token or state.refresh_token,
        renewed.refresh_expires_at or state.refresh_expires_at,
    )


def token_state(body: Mapping[str, Any], now: datetime, platform: str) -> TokenState:
    """A token endpoint's answer: ``access_token``, ``expires_in`` and, where given, the refresh token."""
    source = f"{platform} token endpoint"
    refresh = body.get("refresh_token")
    return TokenState(
        access_token=Secret(_text(body, "access_token"), source),
        expires_at=_after(now, body.get("expires_in")),
        refresh_token=Secret(str(refresh), source) if isinstance(refresh, str) and refresh else None,
        refresh_expires_at=_after(now, body.get("refresh_token_expires_in")),
        obtained_at=now,
    )


def _call(session: requests.Session, method: str, url: str, **kwargs: Any) -> Mapping[str, Any]:
    try:
        response = session.request(method, url, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as exc:
        raise RetryableError(f"{method} {url}: {type(exc).__name__}") from None
    error = classify_token_error(response, f"{method} {url}")
    if error is not None:
        raise error
    try:
        body = response.json()
    except ValueError:
        raise RetryableError(f"{method} {url} returned a body that is not JSON") from None
    if not isinstance(body, Mapping):
        raise RetryableError(f"{method} {url} returned no JSON object")
    return body


def classify_token_error(response: requests.Response, where: str) -> ConnectorError | None:
    """OAuth errors are ``{error, error_description}``; Instagram's refresh answers a Graph ``error`` object."""
    status = response.status_code
    if status < 400:
        return None
    name, detail = _oauth_error(response)
    message = f"{where} failed ({status}){f': {name}' if name else ''}{f' ({detail})' if detail else ''}"
    if status == 429 or status >= 500:
        return RetryableError(message)
    return AuthError(f"{message}; the token can no longer be renewed: run `monitor auth ACCOUNT`")


def _oauth_error(response: requests.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, Mapping):
        return "", ""
    error = body.get("error")
    if isinstance(error, Mapping):  # Graph: {"error": {"message", "type", "code"}}
        return f"code {error.get('code')}", redact(str(error.get("message") or ""))[:MESSAGE_LIMIT]
    description = body.get("error_description") or body.get("error_message") or ""
    return str(error or body.get("error_type") or ""), redact(str(description))[:MESSAGE_LIMIT]


def _first_of(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """Instagram's code exchange answers ``{"data": [{...}]}`` (older apps: the object itself)."""
    data = body.get("data")
    if isinstance(data, list) and data and isinstance(data[0], Mapping):
        return data[0]
    return body


def _text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str | int) or not str(value):
        raise RetryableError(f"the token endpoint's answer has no {key}")
    return str(value)


def _after(now: datetime, seconds: Any) -> datetime | None:
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds > 0:
        return now + timedelta(seconds=seconds)
    return None
