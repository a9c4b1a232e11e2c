"""Honest closing, with real ``monitor poll`` processes against the fake Graph API over loopback HTTP:
the Page's holding reply does not close an allegation, and a comment hidden (or deleted) on the Page long
after it was read closes its flag at the next poll (the open flags are re-read by id)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from monitor.store import make_engine
from tests.fake_platform import PAGE_ID, PAGE_NAME, FakeGraph
from tests.process.conftest import HIGH_TEXTS, MEDIUM_TEXTS, Launcher, base_tables, write_config
from tests.smtp import start

TOKEN = "page-token-for-closing-test"
HOLDING_REPLY = "Hi Dan, we're so sorry to hear this, please DM us"


def flags_by_text(database: Path) -> dict[str, tuple[str, list[str]]]:
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT comment.text, flag.status, flag.id FROM flag JOIN comment ON comment.id = flag.comment_id"
                )
            ).all()
            found = {}
            for comment_text, status, flag_id in rows:
                actions = connection.execute(
                    text("SELECT action FROM flagevent WHERE flag_id = :id ORDER BY id"), {"id": flag_id}
                ).scalars()
                found[comment_text] = (status, list(actions))
            return found
    finally:
        engine.dispose()


def test_a_holding_reply_leaves_an_allegation_open_and_a_hidden_comment_closes_within_one_poll(
    tmp_path: Path, launcher: Launcher
) -> None:
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    controller, mail = start()
    with FakeGraph(comments=20, token=TOKEN, seed=11) as graph:
        allegation = graph.add_comment(0, HIGH_TEXTS[2], author="Dan Hollis", created_time=two_hours_ago)
        graph.add_comment(
            0,
            HOLDING_REPLY,
            author=PAGE_NAME,
            author_id=PAGE_ID,
            parent=allegation,
            created_time=two_hours_ago + timedelta(minutes=20),
        )
        insult = graph.add_comment(0, MEDIUM_TEXTS[0], author="A. Troll", created_time=two_hours_ago)
        rumour = graph.add_comment(0, HIGH_TEXTS[1], author="A. Gossip", created_time=two_hours_ago)
        database = tmp_path / "monitor.db"
        tables = base_tables(smtp_port=mail.port, database_url=f"sqlite:///{database}")
        account = {
            "name": "page",
            "platform": "facebook",
            "page_id": PAGE_ID,
            "access_token": {"env": "CLOSING_PAGE_TOKEN"},
            "base_url": graph.url,
        }
        config = write_config(tmp_path / "config.toml", tables, [account])
        env = {"CLOSING_PAGE_TOKEN": TOKEN}

        first = launcher.run(config, "poll", env=env)
        after_first = flags_by_text(database)
        graph.data.set_hidden(insult)
        graph.data.delete(rumour)
        ids_before = graph.requests["ids"]
        second = launcher.run(config, "poll", env=env)
        after_second = flags_by_text(database)
        ids_requests = graph.requests["ids"] - ids_before
    controller.stop()

    assert first.returncode == 0, first.stdout + first.stderr
    assert second.returncode == 0, second.stdout + second.stderr
    assert after_first[HIGH_TEXTS[2]] == ("open", ["opened", "page-replied"])
    assert after_first[MEDIUM_TEXTS[0]] == ("open", ["opened"])
    assert after_second[HIGH_TEXTS[2]] == ("open", ["opened", "page-replied"])
    assert after_second[MEDIUM_TEXTS[0]] == ("resolved", ["opened", "hidden"])
    assert after_second[HIGH_TEXTS[1]] == ("resolved", ["opened", "auto-resolved"])
    # One batch for every open flag's comment; Graph refuses it naming the deleted one, and the rest are asked again.
    assert ids_requests == 2
    assert "re-checked in 2 requests (2 hidden or deleted)" in second.stdout
