"""Fixtures every test package can use."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import postgres, smtp
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
    """$MONITOR_TEST_POSTGRES_URL, else a throwaway server started from the installed PostgreSQL binaries."""
    url = os.environ.get("MONITOR_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        return postgres.start_throwaway()
    except RuntimeError as exc:
        pytest.skip(f"no PostgreSQL server: {exc}")
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.fail(f"PostgreSQL's binaries are installed but a throwaway server would not start: {exc}")


@pytest.fixture
def smtp_server() -> Iterator[MailServer]:
    """A real SMTP server on 127.0.0.1; ``.received`` are the parsed messages it accepted."""
    controller, server = smtp.start()
    try:
        yield server
    finally:
        controller.stop()
