from __future__ import annotations

import io
import json

from monitor.logging import configure, get_logger
from monitor.secrets import Secret


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_json_lines_off_a_terminal_with_secrets_redacted_everywhere() -> None:
    token = Secret("EAAB-logging-sentinel-31337", "test")
    stream = io.StringIO()
    configure("info", "auto", stream)
    log = get_logger(account="page", platform="facebook")
    log.info("poll failed", error=f"GET https://graph.example.test/v23.0/1?access_token={token.reveal()}")
    log.warning("boom", exc=RuntimeError(f"token {token.reveal()} refused"))
    log.debug("not shown")

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["poll failed", "boom"]
    assert lines[0]["account"] == "page" and lines[0]["level"] == "info" and "timestamp" in lines[0]
    assert "EAAB-logging-sentinel-31337" not in stream.getvalue()
    assert "access_token=[REDACTED]" in lines[0]["error"]
    assert lines[1]["exc"] == "RuntimeError: token [REDACTED] refused"


def test_readable_lines_on_a_terminal() -> None:
    stream = Terminal()
    configure("debug", "auto", stream)
    get_logger(account="page").debug("poll finished", new=3)
    text = stream.getvalue()
    assert "poll finished" in text and "new" in text and not text.lstrip().startswith("{")
