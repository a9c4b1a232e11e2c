"""``monitor auth``: consent address, the redirect to 127.0.0.1, the code exchange, the stored token.

The token endpoints answer as their references show: Google "Using OAuth 2.0 for Web
Server Applications" (step 5, exchange the code: ``access_token``, ``expires_in``,
``refresh_token``, ``scope``, ``token_type``); Instagram "Business Login for Instagram"
(the code exchange answers ``{"data": [{access_token, user_id, permissions}]}``) and
"Access Token" (``ig_exchange_token`` answers ``{access_token, token_type, expires_in}``).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import socket
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import responses

from connectors.credentials import FileCredentialStore, new_key
from monitor.app import App
from monitor.commands.auth import auth
from monitor.secrets import Secret

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
KEY = new_key()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, account: str) -> App:
    monkeypatch.setenv("AUTH_TEST_KEY", KEY)
    monkeypatch.setenv("AUTH_TEST_SECRET", "app-client-secret-value")
    config = tmp_path / "config.toml"
    config.write_text(
        '[database]\nurl = "sqlite:///monitor.db"\n[credentials]\nkey = { env = "AUTH_TEST_KEY" }\n' + account
    )
    return App(config, now=lambda: NOW)


YOUTUBE = """
[[accounts]]
name = "willow-youtube"
platform = "youtube"
channel_id = "UCWillowHouseCareHome001"
client_id = "1234-app.apps.googleusercontent.com"
client_secret = { env = "AUTH_TEST_SECRET" }
"""

INSTAGRAM = """
[[accounts]]
name = "willow-instagram"
platform = "instagram"
login = "instagram"
ig_user_id = "17841400000000001"
client_id = "990011223344"
client_secret = { env = "AUTH_TEST_SECRET" }
"""


def args(**overrides: Any) -> argparse.Namespace:
    values = {"account": None, "port": free_port(), "redirect_uri": None, "no_browser": False, "new_key": False}
    return argparse.Namespace(**{**values, **overrides})


def browser_that_allows(code: str) -> tuple[list[str], Any]:
    """Stands in for the operator's browser: follows the consent and is sent back to the redirect."""
    opened: list[str] = []

    def open_page(url: str) -> None:
        opened.append(url)
        query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
        back = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state'], 'scope': query['scope']})}"

        def visit() -> None:
            for _ in range(100):
                try:
                    urllib.request.urlopen(back, timeout=2).read()
                    return
                except OSError:
                    time.sleep(0.05)

        threading.Thread(target=visit, daemon=True).start()

    return opened, open_page


def test_youtube_consent_comes_back_to_127_0_0_1_and_the_tokens_are_stored_encrypted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(tmp_path, monkeypatch, YOUTUBE)
    opened, browser = browser_that_allows("4/0AVG7fiQ-consent-code")
    with responses.RequestsMock() as rsps:
        rsps.post(
            "https://oauth2.googleapis.com/token",
            json={
                "access_token": "ya29.a0-first-access",
                "expires_in": 3599,
                "refresh_token": "1//03-first-refresh",
                "scope": "https://www.googleapis.com/auth/youtube.force-ssl",
                "token_type": "Bearer",
            },
        )
        assert auth(args(account="willow-youtube"), app, opener=browser) == 0
        form = {key: values[0] for key, values in parse_qs(rsps.calls[0].request.body).items()}

    consent = {key: values[0] for key, values in parse_qs(urlsplit(opened[0]).query).items()}
    assert opened[0].startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    assert consent["redirect_uri"].startswith("http://127.0.0.1:")
    assert (consent["access_type"], consent["response_type"], consent["code_challenge_method"]) == (
        "offline",
        "code",
        "S256",
    )
    assert consent["scope"] == "https://www.googleapis.com/auth/youtube.force-ssl"
    assert form["grant_type"] == "authorization_code" and form["code"] == "4/0AVG7fiQ-consent-code"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(form["code_verifier"].encode()).digest()).rstrip(b"=")
    assert challenge.decode() == consent["code_challenge"]
    stored = FileCredentialStore(tmp_path / "credentials.json", Secret(KEY, "t")).load("willow-youtube")
    assert stored is not None and stored.refresh_token is not None
    assert stored.refresh_token.reveal() == "1//03-first-refresh"
    assert b"1//03" not in (tmp_path / "credentials.json").read_bytes()
    out = capsys.readouterr().out
    assert "ya29" not in out and "1//03" not in out
    assert "willow-youtube: token stored in" in out
    assert f"access token expires {(NOW + timedelta(seconds=3599)).date()}; renewed automatically" in out
    app.close()


def test_instagram_code_pasted_back_becomes_a_60_day_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(tmp_path, monkeypatch, INSTAGRAM)
    opened: list[str] = []

    def pasted() -> str:
        state = parse_qs(urlsplit(opened[0]).query)["state"][0]
        return f"https://care.example.org/instagram/callback?code=AQBx-ig-code&state={state}#_"

    with responses.RequestsMock() as rsps:
        rsps.post(
            "https://api.instagram.com/oauth/access_token",
            json={
                "data": [
                    {
                        "access_token": "IGQshort-lived-token",
                        "user_id": "17841400000000001",
                        "permissions": "instagram_business_basic,instagram_business_manage_comments",
                    }
                ]
            },
        )
        rsps.get(
            "https://graph.instagram.com/access_token",
            json={"access_token": "IGAAlong-lived-token", "token_type": "bearer", "expires_in": 5183944},
        )
        code = auth(
            args(account="instagram", redirect_uri="https://care.example.org/instagram/callback"),
            app,
            opener=opened.append,
            answer=pasted,
        )
        exchange = parse_qs(urlsplit(rsps.calls[1].request.url).query)

    assert code == 0
    assert opened[0].startswith("https://www.instagram.com/oauth/authorize?")
    assert exchange["grant_type"] == ["ig_exchange_token"] and exchange["access_token"] == ["IGQshort-lived-token"]
    stored = FileCredentialStore(tmp_path / "credentials.json", Secret(KEY, "t")).load("willow-instagram")
    assert stored is not None and stored.access_token.reveal() == "IGAAlong-lived-token"
    assert stored.expires_at == NOW + timedelta(seconds=5183944)
    assert "IGAA" not in capsys.readouterr().out
    app.close()


def test_an_answer_for_another_consent_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(tmp_path, monkeypatch, INSTAGRAM)
    code = auth(
        args(account="willow-instagram", redirect_uri="https://care.example.org/cb", no_browser=True),
        app,
        answer=lambda: "https://care.example.org/cb?code=AQB-stolen&state=someone-elses",
    )
    assert code == 1
    assert "state differs" in capsys.readouterr().err
    assert not (tmp_path / "credentials.json").exists()
    app.close()


def test_a_credentials_key_that_is_not_a_fernet_key_is_a_config_error_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.config import from_mapping
    from monitor.errors import ConfigError

    monkeypatch.setenv("AUTH_TEST_KEY", "not-a-fernet-key")
    with pytest.raises(ConfigError, match=r"credentials\.key: .*not a Fernet key"):
        from_mapping({"credentials": {"key": {"env": "AUTH_TEST_KEY"}}}, tmp_path / "config.toml")
    monkeypatch.delenv("AUTH_TEST_KEY")
    settings = from_mapping({"credentials": {"key": {"env": "AUTH_TEST_KEY"}}}, tmp_path / "config.toml")
    with pytest.raises(ConfigError, match="AUTH_TEST_KEY"):
        settings.credentials.store(tmp_path)  # named when the store is first needed, not before
