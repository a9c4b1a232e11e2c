"""Fixtures every test package can use."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import smtp
from tests.smtp import MailServer

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = PROJECT_ROOT.parent / "shared"


@pytest.fixture
def shared_dir() -> Path:
    """``../shared`` beside the project; tests that read it skip with a reason when it is absent."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"{SHARED_DIR} is absent: the shared fixtures and eval data are not on this machine")
    return SHARED_DIR


@pytest.fixture
def no_sleep() -> list[float]:
    """A stand-in for time.sleep that records the waits instead of waiting."""
    return []


def postgres_url() -> str:
    """The PostgreSQL server for store tests; .ci/run starts one and sets MONITOR_TEST_POSTGRES_URL."""
    url = os.environ.get("MONITOR_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("no PostgreSQL server configured: set MONITOR_TEST_POSTGRES_URL (.ci/run starts one)")
    return url


@pytest.fixture
def smtp_server() -> Iterator[MailServer]:
    """A real SMTP server on 127.0.0.1; ``.received`` are the parsed messages it accepted."""
    controller, server = smtp.start()
    try:
        yield server
    finally:
        controller.stop()
