"""Facebook Page comments to the General Manager's inbox, through the CLI as an operator runs it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses

from monitor.cli import main
from monitor.models import Comment, Flag
from monitor.store import Store
from tests.smtp import MailServer

GRAPH = "https://graph.example.test"
PAGE = "1001"
TOKEN = "EAAB-end-to-end-token-5150"

THREAT = "I know where you all work. I'll burn that place down."
ALLEGATION = "My dad was left without his medication for two days and nobody answered my complaint."
HARMLESS = "Bloody brilliant team, thank you for everything!"


def graph_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def posts_payload(now: datetime) -> dict[str, Any]:
    def comment(number: int, author: str, text: str, minutes_ago: int) -> dict[str, Any]:
        return {
            "id": f"2001_{number}",
            "from": {"id": f"user-{number}", "name": author},
            "message": text,
            "created_time": graph_time(now - timedelta(minutes=minutes_ago)),
            "permalink_url": f"https://www.facebook.com/{PAGE}/posts/2001?comment_id={number}",
        }

    return {
        "data": [
            {
                "id": f"{PAGE}_2001",
                "message": "What a sports day! Thank you to everyone who came.",
                "permalink_url": f"https://www.facebook.com/{PAGE}/posts/2001",
                "created_time": graph_time(now - timedelta(days=1)),
                "comments": {
                    "data": [
                        comment(3003, "Sam Cheerful", HARMLESS, 10),
                        comment(3002, "Jane Worried", ALLEGATION, 20),
                        comment(3001, "Gary Angry", THREAT, 30),
                    ],
                    "paging": {"cursors": {"before": "QVFIUa", "after": "QVFIUb"}},
                },
            }
        ],
        "paging": {"cursors": {"before": "QVFIUc", "after": "QVFIUd"}},
    }


@pytest.fixture
def config_file(tmp_path: Path, smtp_server: MailServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("E2E_FB_TOKEN", TOKEN)
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[organisation]
name = "Brightwater Care"

[database]
url = "sqlite:///monitor.db"

[notify]
recipients = ["gm@brightwater.example"]
sender = "monitor@brightwater.example"

[notify.smtp]
host = "{smtp_server.host}"
port = {smtp_server.port}
security = "none"

[[accounts]]
name = "facebook-page"
platform = "facebook"
page_id = "{PAGE}"
access_token = {{ env = "E2E_FB_TOKEN" }}
base_url = "{GRAPH}"
"""
    )
    return path


def plain_text(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content())


@responses.activate
def test_poll_then_digest_then_nothing_new(config_file: Path, smtp_server: MailServer) -> None:
    now = datetime.now(UTC)
    responses.get(f"{GRAPH}/v23.0/{PAGE}/feed", json=posts_payload(now))
    store = Store(f"sqlite:///{config_file.parent / 'monitor.db'}")

    assert main(["poll", "--config", str(config_file)]) == 0
    assert store.count(Comment) == 3
    flags = {flag.severity: flag for flag in store.flags()}
    assert set(flags) == {"urgent", "high"}
    assert flags["urgent"].categories[0] == "threat"  # type: ignore[index]
    assert flags["high"].categories[0] == "allegation"  # type: ignore[index]

    (alert,) = smtp_server.received
    assert alert["To"] == "gm@brightwater.example"
    assert "urgent" in alert["Subject"].lower()
    plain = plain_text(alert)
    assert "I [know where you all work]. I'll [burn that place down]." in plain
    assert "Why it was flagged: A threat." in plain
    assert "https://www.facebook.com/1001/posts/2001?comment_id=3001" in plain

    assert main(["digest", "--config", str(config_file)]) == 0
    assert len(smtp_server.received) == 2
    digest = smtp_server.received[1]
    text = plain_text(digest)
    assert "medication" in text
    assert "Jane Worried" in text
    assert "https://www.facebook.com/1001/posts/2001?comment_id=3002" in text
    assert HARMLESS not in text
    assert "1 high" in digest["Subject"]

    assert main(["poll", "--config", str(config_file)]) == 0
    assert store.count(Comment) == 3
    assert store.count(Flag) == 2
    assert main(["digest", "--config", str(config_file)]) == 0
    assert len(smtp_server.received) == 2
    for message in smtp_server.received:
        assert TOKEN not in message.as_string()
        assert TOKEN not in plain_text(message)
    store.close()
