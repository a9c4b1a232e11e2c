"""[review.auto_hide]: chosen categories hidden at once, the flag left open for a person, who can unhide it."""

from __future__ import annotations

from pathlib import Path

import pytest
import responses
from sqlmodel import select

from monitor.app import App
from monitor.models import Comment, Flag, FlagEvent
from monitor.notify.resolution import auto_resolve
from monitor.web.autohide import auto_hide
from monitor.web.pages import create_app
from monitor.web.server import review_for
from tests.notify.factory import ACCOUNT, Clock, Factory, open_store
from tests.web.conftest import GM, GRAPH, review_settings
from tests.web.test_pages import form_token


@responses.activate
def test_a_chosen_category_is_hidden_at_once_left_open_and_can_be_unhidden_for_good(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = review_settings(tmp_path, monkeypatch, auto_hide={"categories": ["confidentiality"]})
    store, clock = open_store(tmp_path / "monitor.db"), Clock()
    app = App(tmp_path / "config.toml", now=clock, settings=settings)
    app.__dict__["store"] = store
    factory = Factory(store)
    private = factory.flag("Sue at Elm Lodge has dementia, ring 07700 900123", categories=("confidentiality",))
    threat = factory.flag("I know where you all work")
    external_id = factory.external_id(private)
    hide = responses.post(f"{GRAPH}/{external_id}", json={"success": True})

    assert auto_hide(store, settings, app.connector, clock()) == 1
    assert auto_hide(store, settings, app.connector, clock()) == 0
    auto_resolve(store, clock())

    assert [call.request.url.count("is_hidden=true") for call in hide.calls] == [1]
    with store.session() as session:
        assert session.exec(select(Comment.hidden).where(Comment.external_id == external_id)).one() is True
        assert {flag.id: flag.status for flag in session.exec(select(Flag))} == {private: "open", threat: "open"}

    browser = create_app(review_for(app)).test_client()
    path = f"/f/{review_for(app).signer.flag_token(private, GM, clock())}"
    page = browser.get(path).text
    assert "This comment is hidden on Facebook" in page and "Unhide on Facebook" in page
    done = browser.post(f"{path}/unhide", data={"csrf": form_token(page)})
    assert done.status_code == 200 and "Shown again" in done.text
    assert "is_hidden=false" in hide.calls[-1].request.url

    assert auto_hide(store, settings, app.connector, clock()) == 0  # a person chose to show it
    with store.session() as session:
        trail = [(e.actor, e.action) for e in session.exec(select(FlagEvent).where(FlagEvent.flag_id == private))]
        assert session.exec(select(Comment.hidden).where(Comment.external_id == external_id)).one() is False
    assert trail == [("monitor", "auto-hidden"), (GM, "unhidden")]
    assert len(hide.calls) == 2
    store.close()


@responses.activate
def test_auto_hide_is_off_unless_categories_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = review_settings(tmp_path, monkeypatch, auto_hide={"accounts": [ACCOUNT]})
    store, clock = open_store(tmp_path / "monitor.db"), Clock()
    Factory(store).flag("ring 07700 900123", categories=("confidentiality",))
    app = App(tmp_path / "config.toml", now=clock, settings=settings)

    assert auto_hide(store, settings, app.connector, clock()) == 0
    assert len(responses.calls) == 0
    with store.session() as session:
        assert session.exec(select(FlagEvent)).all() == []
    store.close()
