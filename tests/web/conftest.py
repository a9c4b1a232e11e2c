"""A review page over a real SQLite store, with a Facebook Page account whose Graph calls `responses` answers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from monitor.app import App
from monitor.config import Settings, from_mapping
from monitor.store import Store
from monitor.web.links import LinkSigner
from monitor.web.pages import Review
from monitor.web.server import review_for
from tests.notify.factory import ACCOUNT, Clock, Factory, open_store

GM = "gm@brightwater.example"
DEPUTY = "deputy@brightwater.example"
KEY = "k" * 16 + "0123456789abcdef0123"
BASE_URL = "https://monitor.brightwater.example"
GRAPH = "https://graph.facebook.com/v23.0"


def review_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_port: int = 2525, **review: Any) -> Settings:
    monkeypatch.setenv("TEST_REVIEW_KEY", KEY)
    monkeypatch.setenv("TEST_PAGE_TOKEN", "page-token-1234")
    raw = {
        "organisation": {"name": "Brightwater Care", "timezone": "Europe/London"},
        "notify": {
            "recipients": [GM, DEPUTY],
            "sender": "monitor@brightwater.example",
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none", "timeout": 5},
            "retry_attempts": 1,
        },
        "review": {"base_url": BASE_URL, "key": {"env": "TEST_REVIEW_KEY"}, **review},
        "accounts": [
            {
                "name": ACCOUNT,
                "platform": "facebook",
                "page_id": "104512345678901",
                "access_token": {"env": "TEST_PAGE_TOKEN"},
            }
        ],
    }
    return from_mapping(raw, tmp_path / "config.toml")


@dataclass
class Rig:
    settings: Settings
    store: Store
    clock: Clock
    factory: Factory
    app: App
    review: Review

    @property
    def signer(self) -> LinkSigner:
        return self.review.signer

    def flag_path(self, flag_id: int, recipient: str = GM) -> str:
        return f"/f/{self.signer.flag_token(flag_id, recipient, self.clock())}"


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    settings = review_settings(tmp_path, monkeypatch)
    store = open_store(tmp_path / "monitor.db")
    clock = Clock()
    app = App(tmp_path / "config.toml", now=clock, settings=settings)
    app.__dict__["store"] = store
    yield Rig(settings, store, clock, Factory(store), app, review_for(app))
    store.close()
