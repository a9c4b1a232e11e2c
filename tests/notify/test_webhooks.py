"""Slack and Teams incoming webhooks: the same items, the same log, the URL kept secret."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses
from sqlmodel import select

from monitor.models import NotificationLog
from monitor.notify import Notifier
from monitor.store import Store
from tests.notify.factory import Clock, Factory, make_settings, store_dir

SLACK_URL = "https://hooks.slack.com/services/T000/B000/secret-slack-key"
TEAMS_URL = "https://brightwater.webhook.office.com/webhookb2/secret-teams-key"


@pytest.fixture
def webhook_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SLACK_URL", SLACK_URL)
    monkeypatch.setenv("TEST_TEAMS_URL", TEAMS_URL)


def webhook_notifier(store: Store, clock: Clock, waits: list[float], **notify: Any) -> Notifier:
    settings = make_settings(
        store_dir(store),
        recipients=[],
        slack={"url": {"env": "TEST_SLACK_URL"}, "name": "gm-channel"},
        teams={"url": {"env": "TEST_TEAMS_URL"}},
        **notify,
    )
    return Notifier(settings, store, clock, sleep=waits.append)


def logged(store: Store) -> set[tuple[int, str, str, str]]:
    with store.session() as session:
        return {(r.flag_id, r.channel, r.recipient, r.kind) for r in session.exec(select(NotificationLog))}


@responses.activate
@pytest.mark.usefixtures("webhook_env")
def test_a_digest_goes_to_slack_and_teams_as_a_compact_message(store: Store, factory: Factory, clock: Clock) -> None:
    flag_id = factory.flag("Hello <script>alert(1)</script> & <@channel>", match="<script>", author="Mallory <b>")
    responses.post(SLACK_URL, body="ok")
    responses.post(TEAMS_URL, body="1")

    report = webhook_notifier(store, clock, [], urgent_alerts=False).send_digest()

    assert (report.sent, report.failures) == (2, [])
    slack = json.loads(responses.calls[0].request.body)
    assert slack["text"] == "Social media digest: 1 urgent"
    item = slack["blocks"][1]["text"]["text"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;@channel&gt;" in item
    assert "Mallory &lt;b&gt;" in item
    assert "<https://www.facebook.com/brightwater/posts/post-1?comment_id=" in item and "|Open the comment>" in item
    teams = json.loads(responses.calls[1].request.body)
    card = teams["attachments"][0]["content"]
    assert teams["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    runs = card["body"][1]["inlines"]
    assert runs[2]["text"] == "Hello <script>alert(1)</script> & <@channel>"
    assert runs[3]["selectAction"]["url"].startswith("https://www.facebook.com/")
    assert logged(store) == {(flag_id, "slack", "gm-channel", "digest"), (flag_id, "teams", "webhook", "digest")}


@responses.activate
@pytest.mark.usefixtures("webhook_env")
def test_a_server_error_is_retried_and_logged_once(store: Store, factory: Factory, clock: Clock) -> None:
    flag_id = factory.flag()
    responses.post(SLACK_URL, status=503, body="service unavailable")
    responses.post(SLACK_URL, status=429, body="rate_limited")
    responses.post(SLACK_URL, body="ok")
    responses.post(TEAMS_URL, body="1")
    waits: list[float] = []

    report = webhook_notifier(store, clock, waits).send_urgent_alerts()

    assert (report.sent, report.failures) == (2, [])
    assert waits == [2.0, 4.0]
    assert len(responses.calls) == 4
    assert (flag_id, "slack", "gm-channel", "alert") in logged(store)


@responses.activate
@pytest.mark.usefixtures("webhook_env")
def test_a_gone_webhook_is_permanent_and_its_url_never_shown(store: Store, factory: Factory, clock: Clock) -> None:
    factory.flag()
    responses.post(SLACK_URL, status=404, body="no_service")
    responses.post(TEAMS_URL, status=400, body=f"bad payload for {TEAMS_URL}")
    waits: list[float] = []

    report = webhook_notifier(store, clock, waits).send_urgent_alerts()

    assert report.sent == 0 and waits == []
    assert report.failures[0] == "slack webhook 'gm-channel': HTTP 404 no_service"
    assert report.failures[1].startswith("teams webhook 'webhook': HTTP 400 bad payload for [REDACTED]")
    assert all("secret" not in failure for failure in report.failures)
    assert logged(store) == set()


@responses.activate
@pytest.mark.usefixtures("webhook_env")
def test_a_long_digest_is_cut_for_chat_and_points_to_the_email(store: Store, factory: Factory, clock: Clock) -> None:
    for n in range(30):
        factory.flag(f"Disgraceful {n}", severity="high", categories=("allegation",), post=f"post-{n}")
    responses.post(SLACK_URL, body="ok")
    responses.post(TEAMS_URL, body="1")

    webhook_notifier(store, clock, []).send_digest()

    slack = json.loads(responses.calls[0].request.body)
    assert len(slack["blocks"]) == 1 + 20 + 1
    assert slack["blocks"][-1]["text"]["text"] == "10 more in the email digest."
