"""The review page as a real process: ``monitor serve`` alone and ``monitor run`` with polling, each on
loopback, refusing a made-up link, and stopping cleanly on SIGTERM."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import requests

from tests.process.conftest import Launcher, base_tables, file_account, wait_until, write_config
from tests.smtp import free_port

KEY = "a-review-key-of-at-least-thirty-two-characters"


@pytest.mark.parametrize("command", ["serve", "run"])
def test_the_review_page_is_served_on_loopback_and_refuses_a_made_up_link(
    tmp_path: Path, launcher: Launcher, command: str
) -> None:
    port = free_port()
    tables = base_tables(smtp_port=free_port(), database_url=f"sqlite:///{tmp_path / 'monitor.db'}")
    tables["review"] = {"base_url": "https://monitor.example.org", "port": port, "key": {"env": "REVIEW_KEY"}}
    (tmp_path / "page.jsonl").touch()
    config = write_config(tmp_path / "config.toml", tables, [file_account("page", tmp_path / "page.jsonl")])
    process = launcher.spawn(config, command, name=command, env={"REVIEW_KEY": KEY})

    def answer() -> requests.Response | None:
        try:
            return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
        except requests.ConnectionError:
            return None

    assert wait_until(answer, 30, "the review page").text == "ok\n"
    refused = requests.get(f"http://127.0.0.1:{port}/f/v1.1.abc.9999999999.made-up", timeout=5)
    assert refused.status_code == 403 and "not genuine" in refused.text
    assert "no-store" in refused.headers["Cache-Control"] and refused.headers["Content-Security-Policy"].startswith(
        "default-src 'none'"
    )
    listening = process.events("review page listening")
    assert listening and listening[0]["host"] == "127.0.0.1" and listening[0]["port"] == port
    process.send(signal.SIGTERM)
    assert process.wait_exit(20) == 0
    assert KEY not in process.log_text()
