"""The organisation's own posts, end to end: file connector → store → own-post checks → flags and digest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from structlog.testing import capture_logs

from monitor import config
from monitor.app import App
from monitor.cli import main
from monitor.logging import configure as configure_logging
from monitor.models import FlagEvent
from monitor.notify import Notifier
from monitor.notify.content import build_digest
from monitor.notify.notifier import presenter_for
from monitor.notify.records import load_flags
from monitor.pipeline import Pipeline, PollOutcome
from monitor.store import Store
from tests.smtp import MailServer

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
HEADER = "name,permission,given,ends,withdrawn,also_known_as,role\n"
MARGARET_NAMED = "Margaret Jones,named,2026-03-02,,,Maggie,service user\n"


@pytest.fixture(autouse=True)
def logging_to_this_test() -> None:
    """Logs go to this test's stderr (a command run by an earlier test may have closed the stream it used)."""
    configure_logging()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class World:
    """A config with one file account of own posts and a consent register, in a temporary directory."""

    def __init__(self, tmp_path: Path, register: str, smtp_port: int = 2525) -> None:
        self.dir = tmp_path
        self.posts = tmp_path / "posts"
        self.posts.mkdir()
        self.register = tmp_path / "consent.csv"
        self.register.write_text(register, encoding="utf-8")
        self.clock = Clock()
        raw = {
            "organisation": {"name": "Brightwater Care", "aliases": ["Brightwater"]},
            "database": {"url": "sqlite:///monitor.db"},
            "own_posts": {"consent_register": "consent.csv"},
            "notify": {
                "recipients": ["gm@brightwater.example"],
                "sender": "monitor@brightwater.example",
                "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none", "timeout": 5},
                "urgent_alerts": True,
            },
            "accounts": [{"name": "page", "platform": "file", "path": "posts", "platform_label": "facebook"}],
        }
        self.settings = config.from_mapping(raw, tmp_path / "config.toml")
        self.app = App(tmp_path / "config.toml", now=self.clock, settings=self.settings)
        self.pipeline = Pipeline(
            self.app.store, self.app.classifier, self.app.connector, self.clock, own_posts=self.app.own_posts
        )

    @property
    def store(self) -> Store:
        return self.app.store

    def publish(self, post_id: str, text: str, **fields: Any) -> None:
        record = {"kind": "post", "id": post_id, "text": text, "created_at": "2026-05-20T10:00:00Z", **fields}
        (self.posts / f"{post_id}.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")

    def poll(self) -> PollOutcome:
        self.clock.now += timedelta(minutes=5)
        outcome = self.pipeline.poll(self.settings.accounts[0])
        assert outcome.status == "ok", outcome.error
        return outcome

    def open_flags(self) -> list[Any]:
        return load_flags(self.store, status="open")

    def close(self) -> None:
        self.app.close()


@pytest.fixture
def make_world(tmp_path: Path) -> Any:
    worlds: list[World] = []

    def make(register: str = HEADER + MARGARET_NAMED, smtp_port: int = 2525) -> World:
        world = World(tmp_path, register, smtp_port)
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        world.close()


def reasons_of(record: Any) -> list[str]:
    return [reason["explanation"] for reason in record.reasons]


def test_a_post_naming_a_person_without_consent_is_flagged(make_world: Any) -> None:
    world = make_world(HEADER + "Priya Shah,named,2025-09-01,,,,staff\n")
    world.publish("p1", "Huge congratulations to Margaret Jones, who won the egg and spoon race!")

    outcome = world.poll()

    assert outcome.own_posts_checked == 1
    (flag,) = world.open_flags()
    assert flag.kind == "post"
    assert flag.severity == "urgent"
    assert flag.categories == ("own-post-consent",)
    assert reasons_of(flag) == ["The post names Margaret Jones, who is not in the consent register."]
    start = flag.text.index("Margaret Jones")
    assert flag.reasons[0]["spans"] == [[start, start + len("Margaret Jones")]]


def test_consent_of_the_right_kind_clears_the_post_and_the_wrong_kind_does_not(make_world: Any) -> None:
    world = make_world(HEADER + MARGARET_NAMED + "Arthur Bennett,pictured,2026-03-02,,,,service user\n")
    world.publish("p1", "Huge congratulations to Margaret Jones and to Maggie's team!")
    world.publish("p2", "Well done Arthur Bennett on finishing the sack race!")
    world.publish("p3", "A lovely afternoon in the garden.", media_text=["Margaret Jones planting sunflowers"])

    world.poll()

    flags = {flag.comment_external_id: flag for flag in world.open_flags()}
    assert sorted(flags) == ["post:p2", "post:p3"]
    assert reasons_of(flags["post:p2"]) == ["The post names Arthur Bennett, who agreed to be pictured, not named."]
    assert reasons_of(flags["post:p3"]) == ["The post pictures Margaret Jones, who agreed to be named, not pictured."]


def test_a_withdrawn_consent_reflags_the_old_post_on_the_next_poll(make_world: Any) -> None:
    world = make_world()
    world.publish("p1", "Huge congratulations to Margaret Jones, who won the egg and spoon race!")
    world.poll()
    assert world.open_flags() == []

    world.register.write_text(HEADER + "Margaret Jones,named,2026-03-02,,2026-05-31,Maggie,service user\n")
    with capture_logs() as logs:
        outcome = world.poll()

    assert outcome.new == 0  # the post itself did not change
    assert (outcome.own_posts_rechecked, outcome.own_posts_checked) == (1, 1)
    (flag,) = world.open_flags()
    assert flag.comment_external_id == "post:p1"
    assert reasons_of(flag) == ["The post names Margaret Jones, who withdrew their permission on 31 May 2026."]
    assert {"event": "consent register changed; own posts queued to be checked again", "posts": 1} in [
        {key: entry[key] for key in ("event", "posts") if key in entry} for entry in logs
    ]
    with world.store.session() as session:
        events = session.exec(select(FlagEvent).where(FlagEvent.flag_id == flag.flag_id))
        actions = [event.action for event in events]
    assert actions == ["opened"]

    quiet = world.poll()
    assert (quiet.own_posts_rechecked, quiet.own_posts_checked) == (0, 0)


def test_consent_that_lapses_reflags_the_post_without_any_change_to_the_file(make_world: Any) -> None:
    world = make_world(HEADER + "Margaret Jones,named,2026-03-02,2026-06-01,,,service user\n")
    world.publish("p1", "Huge congratulations to Margaret Jones!")
    world.poll()
    assert world.open_flags() == []

    world.clock.now = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)
    outcome = world.poll()

    assert outcome.own_posts_rechecked == 1
    (flag,) = world.open_flags()
    assert reasons_of(flag) == ["The post names Margaret Jones, who gave permission that ended on 1 June 2026."]


def test_a_negative_own_post_is_flagged(make_world: Any) -> None:
    world = make_world()
    world.publish("p1", "The day centre is closed again. It is a terrible, awful mess and we are fed up.")
    world.publish("p2", "Coffee morning this Friday from 10am. Everyone is welcome, cake guaranteed!")

    world.poll()

    (flag,) = world.open_flags()
    assert flag.comment_external_id == "post:p1"
    assert (flag.severity, flag.categories) == ("medium", ("own-post-tone",))
    (reason,) = reasons_of(flag)
    assert reason.startswith("Our posts should contain only positive material; this one reads as negative")


def test_a_post_with_an_nhs_number_is_urgent(make_world: Any) -> None:
    world = make_world()
    world.publish("p1", "Get well soon from all of us! Hospital ref 943 476 5919")

    world.poll()

    (flag,) = world.open_flags()
    assert (flag.severity, flag.categories) == ("urgent", ("own-post-identifying",))
    assert reasons_of(flag) == ["The post contains an NHS number, which identifies the person it belongs to."]
    assert flag.reasons[0]["matched"] == ["943 476 5919"]


def test_a_name_with_a_health_condition_and_a_personal_voice_are_flagged(make_world: Any) -> None:
    world = make_world()
    world.publish("p1", "Margaret Jones, who has dementia, loved the garden today.")
    world.publish("p2", "Honestly I could not believe Albert today, I have had enough of him this week.")

    world.poll()

    flags = {flag.comment_external_id: flag for flag in world.open_flags()}
    assert flags["post:p1"].categories == ("own-post-identifying",)
    assert reasons_of(flags["post:p1"]) == [
        "The post names Margaret Jones, who receives care, together with a health condition."
    ]
    assert "own-post-personal" in flags["post:p2"].categories
    assert (
        "The post speaks as one person (\u201cI\u201d) about Albert; the organisation's account should speak as the "
        "organisation." in reasons_of(flags["post:p2"])
    )


def test_a_cheerful_post_about_a_place_and_the_organisation_is_not_flagged(make_world: Any) -> None:
    world = make_world()
    world.publish("p1", "Sports Day at Rose Cottage was brilliant! Thank you Brightwater families for coming.")
    world.publish("p2", "We're recruiting! Call the office on 01632 960123 to hear about our care roles.")

    outcome = world.poll()

    assert outcome.own_posts_checked == 2
    assert world.open_flags() == []


def test_an_edited_post_is_checked_again(make_world: Any) -> None:
    world = make_world()
    world.publish("p1", "A lovely afternoon in the garden.")
    world.poll()
    assert world.open_flags() == []

    world.publish("p1", "A lovely afternoon in the garden with Joseph Mensah.", edited_at="2026-05-21T10:00:00Z")
    outcome = world.poll()

    assert outcome.own_posts_checked == 1
    (flag,) = world.open_flags()
    assert reasons_of(flag) == ["The post names Joseph Mensah, who is not in the consent register."]


def test_an_unreadable_register_stops_the_checks_and_keeps_the_flags(make_world: Any) -> None:
    world = make_world(HEADER)
    world.publish("p1", "Huge congratulations to Margaret Jones!")
    world.poll()
    assert len(world.open_flags()) == 1

    world.register.write_text(HEADER + "Margaret Jones,named,last Tuesday,,,,service user\n")
    world.publish("p1", "Huge congratulations to Margaret Jones, our champion!")
    with capture_logs() as logs:
        first = world.poll()
        second = world.poll()

    assert (first.own_posts_checked, second.own_posts_checked) == (0, 0)
    assert len(world.open_flags()) == 1
    errors = [entry for entry in logs if entry["log_level"] == "error"]
    assert len(errors) == 1
    assert "row 2, column 'given'" in errors[0]["error"]

    world.register.write_text(HEADER + "Margaret Jones,named,2026-03-02,,,,service user\n")
    with capture_logs() as logs:
        fixed = world.poll()
    assert fixed.own_posts_checked == 1
    assert world.open_flags() == []  # the consent flag closes once the register allows the name
    assert "consent register readable again" in [entry["event"] for entry in logs]


def test_the_digest_shows_own_posts_first_in_their_own_section(make_world: Any) -> None:
    world = make_world()
    world.publish("p1", "Huge congratulations to Joseph Mensah!", url="https://www.facebook.com/Brightwater/posts/1/")
    (world.posts / "comments.jsonl").write_text(
        json.dumps(
            {
                "id": "c1",
                "text": "I know where you all live and I will burn the place down",
                "created_at": "2026-05-20T11:00:00Z",
                "post_id": "p1",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    world.poll()

    records = load_flags(world.store, status="open")
    message = build_digest(
        records,
        [],
        [],
        presenter_for(world.settings),
        organisation="Brightwater Care",
        now=world.clock.now,
        items_per_post=5,
        max_items=50,
    )

    assert message.own_posts is not None
    assert message.own_posts.count == 1
    (group,) = message.own_posts.groups
    assert group.items[0].link == "https://www.facebook.com/Brightwater/posts/1/"
    assert [section.severity for section in message.sections] == ["urgent"]
    assert message.sections[0].count == 1  # the comment, not the post
    assert message.subject.startswith("Social media digest: 1 own post to check, 1 urgent")


def test_make_demo_writes_the_own_post_section_at_the_top(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--output", str(tmp_path)]) == 0

    out = capsys.readouterr().out
    assert "Checked 9 of the organisation's own posts" in out
    html = (tmp_path / "monitor-digest.html").read_text(encoding="utf-8")
    own = html.index("Our own posts: please check these first (6)")
    assert own < html.index("Urgent: please look today")
    assert "The post names Dorothy Evans, who withdrew their permission on 30 April 2026." in html
    assert "Open the post on Facebook" in html


def test_an_urgent_own_post_is_sent_at_once_as_an_alert_about_our_post(
    make_world: Any, smtp_server: MailServer
) -> None:
    world = make_world(smtp_port=smtp_server.port)
    world.publish("p1", "Get well soon! NHS 943 476 5919", url="https://www.facebook.com/Brightwater/posts/1/")
    world.poll()

    report = Notifier(world.settings, world.store, world.clock).send_urgent_alerts()

    assert report.sent == 1
    (message,) = smtp_server.received
    assert message["Subject"] == (
        "Urgent: our own post on Facebook needs you (details that identify someone receiving care)"
    )
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    body = html.get_content()
    assert "This post of ours on Facebook needs you now" in body
    assert "The post contains an NHS number, which identifies the person it belongs to." in body
    assert '<a href="https://www.facebook.com/Brightwater/posts/1/"' in body
    assert "Open the post on Facebook" in body


def test_without_a_register_own_posts_are_neither_stored_nor_checked_unless_switched_on(tmp_path: Path) -> None:
    (tmp_path / "posts").mkdir()
    record = {
        "kind": "post",
        "id": "p1",
        "text": "Get well soon! NHS 943 476 5919",
        "created_at": "2026-05-20T10:00:00Z",
    }
    (tmp_path / "posts" / "p1.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    account = {"name": "page", "platform": "file", "path": "posts"}
    clock = Clock()
    outcomes = {}
    for switch in ({}, {"enabled": True}):
        raw = {"database": {"url": f"sqlite:///{len(outcomes)}.db"}, "own_posts": switch, "accounts": [account]}
        settings = config.from_mapping(raw, tmp_path / "config.toml")
        app = App(tmp_path / "config.toml", now=clock, settings=settings)
        try:
            pipeline = Pipeline(app.store, app.classifier, app.connector, clock, own_posts=app.own_posts)
            outcomes[bool(switch)] = (app.own_posts is None, pipeline.poll(settings.accounts[0]), load_flags(app.store))
        finally:
            app.close()

    off, on = outcomes[False], outcomes[True]
    assert off[0] is True and off[1].own_posts_checked == 0 and off[2] == []
    assert on[0] is False and on[1].own_posts_checked == 1
    assert [flag.categories for flag in on[2]] == [("own-post-identifying",)]
