"""``monitor auth ACCOUNT``: the first token for an account, from the platform's consent page.

It prints the consent address (and opens it in a browser when there is one),
waits for the platform to send the browser back to a one-off listener on
127.0.0.1, checks the ``state``, exchanges the code for tokens and keeps them in
the credential store ([credentials]). Tokens are never printed. Where the
platform will not send a browser to 127.0.0.1 (Instagram wants an https
address), ``--redirect-uri`` names the registered address and the operator
pastes the address the browser ended on.

``monitor auth --new-key`` prints a new key for ``[credentials] key``.
"""

from __future__ import annotations

import argparse
import sys
import webbrowser
from collections.abc import Callable
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import requests

from connectors.credentials import fingerprint, new_key
from connectors.errors import ConnectorError
from connectors.oauth import PROVIDERS, Client, consent, exchange_code
from monitor.app import App
from monitor.commands import add_command
from monitor.errors import ConfigError

DEFAULT_PORT = 8765
WAIT_SECONDS = 300

Opener = Callable[[str], Any]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        commands,
        "auth",
        auth,
        "get an account's first token from the platform's consent page (YouTube, Instagram, LinkedIn)",
        description=__doc__,
    )
    parser.add_argument("account", nargs="?", help="the account's name in the config (or its platform, if only one)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="the local port the browser is sent back to")
    parser.add_argument("--redirect-uri", help="the redirect address registered with the platform, if not local")
    parser.add_argument("--no-browser", action="store_true", help="print the consent address only")
    parser.add_argument("--new-key", action="store_true", help="print a new key for [credentials] key and stop")


def auth(args: argparse.Namespace, app: App, opener: Opener | None = None, answer: Callable[[], str] = input) -> int:
    if args.new_key:
        print(new_key())
        return 0
    account = _account(app, args.account)
    provider = PROVIDERS.get(account.platform)
    settings: Any = account.connector
    if provider is None:
        raise ConfigError(f"{account.name}: {account.platform} tokens are made on the platform, not by consent here")
    if getattr(settings, "client_id", None) is None or getattr(settings, "client_secret", None) is None:
        raise ConfigError(f"{app.settings.config_path}: {account.name}: set client_id and client_secret first")
    local = args.redirect_uri is None
    redirect_uri = args.redirect_uri or f"http://127.0.0.1:{args.port}/callback"
    request = consent(provider, settings.client_id, redirect_uri)
    print(f"Open this address, sign in as the account's owner and allow access:\n\n  {request.url}\n")
    if not args.no_browser:
        (opener or webbrowser.open)(request.url)
    returned = _wait_for_redirect(args.port) if local else answer().strip()
    query = {key: values[0] for key, values in parse_qs(urlsplit(returned).query).items()}
    if query.get("state") != request.state:
        print("error: the answer does not belong to this consent (state differs); nothing was stored", file=sys.stderr)
        return 1
    if "code" not in query:
        print(f"error: the platform refused: {query.get('error_description') or query.get('error')}", file=sys.stderr)
        return 1
    client = Client(settings.client_id, settings.client_secret)
    try:
        state = exchange_code(
            requests.Session(),
            provider,
            client,
            query["code"],
            redirect_uri=redirect_uri,
            verifier=request.verifier,
            now=app.now(),
        )
    except ConnectorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    configured = getattr(settings, "refresh_token", None) or getattr(settings, "access_token", None)
    app.credentials.save(account.name, replace(state, configured=fingerprint(configured)))
    print(f"{account.name}: token stored in {app.credentials.path}")
    expiry = app.connector(account).credential_expiry()
    if expiry is not None:
        print(f"  {expiry.describe(app.now())}")
    if configured is not None:
        print("  note: the config also names a token for this account; remove it so the stored one is used")
    return 0


def _account(app: App, wanted: str | None) -> Any:
    accounts = app.settings.accounts
    named = [account for account in accounts if account.name == wanted]
    if named:
        return named[0]
    on_platform = [account for account in accounts if account.platform == wanted]
    if len(on_platform) == 1:
        return on_platform[0]
    oauth = ", ".join(account.name for account in accounts if account.platform in PROVIDERS) or "none"
    raise ConfigError(f"{app.settings.config_path}: say which account to authorise (accounts using consent: {oauth})")


class _Redirect(BaseHTTPRequestHandler):
    received: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Redirect.received.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.end_headers()
        self.wfile.write(b"Done: you can close this page and go back to the terminal.\n")

    def log_message(self, format: str, *args: Any) -> None:  # the query holds the code: never logged
        return


def _wait_for_redirect(port: int) -> str:
    """The path (with its query) of the first request to the listener on 127.0.0.1."""
    _Redirect.received = []
    with HTTPServer(("127.0.0.1", port), _Redirect) as server:
        server.timeout = WAIT_SECONDS
        while not _Redirect.received:
            server.handle_request()
            if not _Redirect.received:
                raise ConfigError(f"no answer from the consent page within {WAIT_SECONDS // 60} minutes")
    return _Redirect.received[0]
