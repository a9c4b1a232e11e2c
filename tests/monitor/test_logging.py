from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from apscheduler.events import EVENT_JOB_ERROR
from apscheduler.schedulers.background import BackgroundScheduler

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


def test_a_standard_library_record_goes_through_the_same_chain() -> None:
    token = Secret("stdlib-sentinel-value-4242", "test")
    stream = io.StringIO()
    configure("info", "json", stream)
    logging.getLogger("urllib3.connectionpool").info("Starting new HTTPS connection to %s", f"x?t={token.reveal()}")

    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["event"] == "Starting new HTTPS connection to x?t=[REDACTED]"
    assert line["level"] == "info" and line["logger"] == "urllib3.connectionpool" and "timestamp" in line


def test_a_scheduler_job_error_is_one_redacted_json_line_with_its_traceback() -> None:
    token = Secret("job-sentinel-token-8080", "test")
    stream = io.StringIO()
    configure("info", "json", stream)
    finished = threading.Event()

    def job() -> None:
        raise KeyError(f"token {token.reveal()}")

    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_listener(lambda _event: finished.set(), EVENT_JOB_ERROR)
    scheduler.add_job(job, "date", run_date=datetime.now(UTC), id="poll-page")
    scheduler.start()
    try:
        assert finished.wait(10), "the job never ran"
    finally:
        scheduler.shutdown(wait=True)

    lines = [json.loads(text) for text in stream.getvalue().splitlines()]
    errors = [line for line in lines if line["level"] == "error"]
    assert len(errors) == 1, lines
    [error] = errors
    assert error["logger"].startswith("apscheduler")
    assert "raised an exception" in error["event"]
    [exception] = error["exception"]
    assert exception["exc_type"] == "KeyError"
    assert exception["exc_value"] == "'token [REDACTED]'"
    assert any(frame["name"] == "job" for frame in exception["frames"])
    assert "job-sentinel-token-8080" not in stream.getvalue()


def test_a_traceback_on_a_terminal_is_redacted_too() -> None:
    token = Secret("console-sentinel-token-77", "test")
    stream = Terminal()
    configure("info", "console", stream)
    try:
        raise RuntimeError(f"refused {token.reveal()}")
    except RuntimeError:
        get_logger(account="page").exception("poll crashed")
    text = stream.getvalue()
    assert "poll crashed" in text and "Traceback" in text and "RuntimeError: refused [REDACTED]" in text
    assert "console-sentinel-token-77" not in text


@pytest.fixture(autouse=True)
def back_to_standard_error() -> Iterator[None]:
    """Each test here logs into a stream of its own; later tests log to standard error again."""
    yield
    configure()
