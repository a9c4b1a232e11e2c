"""Serving the review page with Waitress, a pure-Python production WSGI server, in a thread of its own."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from waitress.server import create_server

from monitor.notify.notifier import presenter_for
from monitor.web.links import signer_for
from monitor.web.pages import Review, create_app

if TYPE_CHECKING:
    from connectors import Connector
    from monitor.app import App
    from monitor.config import Settings
    from monitor.web.settings import ReviewSettings

THREADS = 4


def review_for(app: App) -> Review:
    settings = app.settings
    config = _review_settings(settings)
    signer = signer_for(settings)
    assert signer is not None
    configured = {account.name: account for account in settings.accounts}

    def connector_for(name: str) -> Connector | None:
        account = configured.get(name)
        return app.connector(account) if account is not None else None

    return Review(
        store=app.store,
        signer=signer,
        presenter=presenter_for(settings),
        connector_for=connector_for,
        now=app.now,
        base_url=config.base_url,
    )


class ReviewServer:
    """The review page on ``host:port`` until ``stop``."""

    def __init__(self, review: Review, host: str, port: int) -> None:
        self._server = create_server(create_app(review), host=host, port=port, threads=THREADS, ident="monitor")
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.effective_port)  # type: ignore[union-attr]

    @property
    def host(self) -> str:
        return str(self._server.effective_host)  # type: ignore[union-attr]

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.run, name="review-page", daemon=True)
        self._thread.start()

    def serve_forever(self) -> None:
        self._server.run()

    def stop(self) -> None:
        self._server.close()
        self._server.task_dispatcher.shutdown()  # type: ignore[union-attr]
        if self._thread is not None:
            self._thread.join(timeout=10)


def server_for(app: App) -> ReviewServer:
    config = _review_settings(app.settings)
    return ReviewServer(review_for(app), config.host, config.port)


def _review_settings(settings: Settings) -> ReviewSettings:
    if settings.review is None:
        from monitor.errors import ConfigError

        raise ConfigError(f"{settings.config_path}: review: no [review] table; see config.example.toml")
    return settings.review
