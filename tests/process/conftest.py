"""Real ``monitor`` processes: a config on disk, the service started and stopped by signal, a loopback SMTP
server that notes when each message arrived, comment files the tests append to, and the database read back."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from monitor.store import make_engine
from tests.conftest import postgres_url
from tests.smtp import MailServer, start

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ORGANISATION = "Brightwater Care"
RECIPIENT = "gm@example.org"
SENDER = "monitor@example.org"
STARTUP_TIMEOUT = 30.0

URGENT_TEXTS = (
    "I know where you all work. I'll burn that place down.",
    "I'll burn Elm Lodge down tonight, watch me",
    "Does anyone know where Joan Reid lives now? She was moved from Elm Lodge",
)
HIGH_TEXTS = (
    "Staff at Elm Lodge were shouting at residents, this is abuse and neglect",
    "Heard Brightwater is closing down and under police investigation",
    "My dad was left without his medication for two days and nobody answered my complaint",
)
MEDIUM_TEXTS = ("Useless idiots the lot of you, Elm Lodge is a disgrace",)
HARMLESS_TEXTS = (
    "Lovely to see everyone at Elm Lodge looking so happy",
    "Thank you to all the staff, you're a credit",
    "Bloody brilliant team! Mum hasn't stopped talking about it",
    "Is the coffee morning still on for Wednesday?",
)

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll ``condition`` until it returns something truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


# Configuration


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value))
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{key} = {toml_value(item)}" for key, item in value.items()) + " }"
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def write_config(path: Path, tables: Mapping[str, Mapping[str, Any]], accounts: Sequence[Mapping[str, Any]]) -> Path:
    """``tables`` become ``[name]`` tables (nested mappings are written inline), ``accounts`` ``[[accounts]]``."""
    lines: list[str] = []
    for name, table in tables.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in table.items())
        lines.append("")
    for account in accounts:
        lines.append("[[accounts]]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in account.items())
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def far_cron(now: datetime | None = None) -> str:
    """A digest schedule six months away, so no digest fires while a test runs."""
    month = ((now or datetime.now(UTC)).month + 5) % 12 + 1
    return f"0 3 1 {month} *"


def base_tables(
    *,
    smtp_port: int,
    database_url: str | None = None,
    digest_schedule: str | None = None,
    poll_interval: str = "10s",
    level: str = "debug",
) -> dict[str, dict[str, Any]]:
    """A config for tests: JSON logs, polls without jitter, urgent alerts to a loopback SMTP server."""
    tables: dict[str, dict[str, Any]] = {
        "organisation": {"name": ORGANISATION, "timezone": "UTC"},
        "logging": {"level": level, "format": "json"},
        "polling": {"poll_interval": poll_interval, "jitter": "0s"},
        "notify": {
            "recipients": [RECIPIENT],
            "sender": SENDER,
            "digest_schedule": digest_schedule or far_cron(),
            "alert_cap_per_hour": 1000,
            "retry_attempts": 2,
            "retry_backoff": "1s",
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none", "timeout": 10},
        },
    }
    if database_url is not None:
        tables["database"] = {"url": database_url}
    return tables


def file_account(name: str, path: Path) -> dict[str, Any]:
    return {"name": name, "platform": "file", "path": str(path)}


# Comment sources


@dataclass
class CommentFile:
    """A JSONL export the file connector re-reads when it changes. Each comment gets a unique id."""

    path: Path
    prefix: str
    ids: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    ends: dict[str, int] = field(default_factory=dict)  # where each comment's line ends in the file

    def __post_init__(self) -> None:
        self.path.touch()

    def append(self, text: str) -> str:
        comment_id = f"{self.prefix}-{len(self.ids) + 1}"
        record = {
            "id": comment_id,
            "text": text,
            "created_at": datetime.now(UTC).isoformat(),
            "author": "A. Visitor",
            "post_id": f"{self.prefix}-post",
            "post_title": "Summer fair",
        }
        line = (json.dumps(record) + "\n").encode()
        # One write of a whole line, so the monitor never reads half of one.
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(descriptor, line)
        finally:
            os.close(descriptor)
        self.ids.append(comment_id)
        self.texts[comment_id] = text
        self.ends[comment_id] = self.path.stat().st_size
        return comment_id

    def within(self, size: int) -> set[str]:
        """The comments wholly inside the first ``size`` bytes."""
        return {comment_id for comment_id, end in self.ends.items() if end <= size}


# Processes


def monitor_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MONITOR_")}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env.update(extra or {})
    return env


def read_events(path: Path) -> list[dict[str, Any]]:
    """The JSON log lines of a log file (anything else, such as a traceback, is left out)."""
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def event_time(event: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(event["timestamp"]))


@dataclass
class MonitorProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    out_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        events = read_events(self.log_path)
        return events if name is None else [event for event in events if event.get("event") == name]

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def wait_started(self, timeout: float = STARTUP_TIMEOUT) -> dict[str, Any]:
        def started() -> dict[str, Any] | None:
            if self.popen.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.popen.returncode}:\n{self.log_text()}")
            found = self.events("service started")
            return found[0] if found else None

        return wait_until(started, timeout, f"{self.name} to start")

    @property
    def instance(self) -> str:
        """The owner name the service holds its leases under (it must have started)."""
        started = self.events("service started")
        assert started, f"{self.name} never started:\n{self.log_text()}"
        return str(started[0]["instance"])

    def send(self, signum: signal.Signals) -> None:
        self.popen.send_signal(signum)

    def wait_exit(self, timeout: float) -> int | None:
        """The exit code, or None if it is still running after ``timeout`` seconds."""
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(10)


class Launcher:
    """Starts ``monitor`` processes in a working directory, and kills any still running at the end."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes: list[MonitorProcess] = []
        self.counter = 0

    def start(self, config: Path, *, name: str | None = None, env: Mapping[str, str] | None = None) -> MonitorProcess:
        self.counter += 1
        return self.spawn(config, "run", name=name or f"run-{self.counter}", env=env)

    def spawn(self, config: Path, *args: str, name: str, env: Mapping[str, str] | None = None) -> MonitorProcess:
        """Any command, left running (``start`` is ``spawn(config, "run", ...)``)."""
        log_path = self.workdir / "logs" / f"{name}.log"
        out_path = self.workdir / "logs" / f"{name}.out"
        log_path.parent.mkdir(exist_ok=True)
        with log_path.open("wb") as log, out_path.open("wb") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", "monitor.cli", *args, "--config", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=log,
                cwd=self.workdir,
                env=monitor_env(env),
            )
        process = MonitorProcess(name, popen, log_path, out_path)
        self.processes.append(process)
        return process

    def run(
        self, config: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """One command to completion (``monitor check``, ``monitor digest``, ...)."""
        return subprocess.run(
            [sys.executable, "-m", "monitor.cli", *args, "--config", str(config)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            cwd=self.workdir,
            env=monitor_env(env),
            timeout=timeout,
            check=False,
        )

    def close(self) -> None:
        for process in self.processes:
            process.kill()


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    launcher = Launcher(tmp_path)
    yield launcher
    launcher.close()


# Mail


FLAG_MARK = re.compile(r"\(flag (\d+)\)")


@dataclass(frozen=True)
class Delivery:
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def kind(self) -> str:
        """alert | digest | all-clear, from the Message-ID the notifier builds."""
        return self.message_id.removeprefix("<").split(".", 1)[0]

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        assert body is not None, self.message_id
        return str(body.get_content())  # type: ignore[attr-defined]

    @property
    def flag_ids(self) -> set[int]:
        """The flags the message tells of: "(flag N)" in the text, and the rows of flags.csv when attached."""
        found = {int(mark) for mark in FLAG_MARK.findall(self.text)}
        for part in self.message.iter_attachments():
            if part.get_filename() == "flags.csv":
                rows = csv.DictReader(io.StringIO(str(part.get_content())))  # type: ignore[attr-defined]
                found.update(int(row["flag"]) for row in rows)
        return found


def deliveries(server: MailServer, kind: str | None = None) -> list[Delivery]:
    """What the server accepted, of one kind (alert | digest | all-clear) when given."""
    return [d for d in map(Delivery, server.snapshot()) if kind is None or d.kind == kind]


@pytest.fixture
def mail() -> Iterator[MailServer]:
    controller, server = start()
    yield server
    controller.stop()


# The database, read from outside


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def column(self, sql: str, **params: Any) -> list[Any]:
        return [row[0] for row in self.rows(sql, **params)]

    def execute(self, sql: str, **params: Any) -> None:
        with self.engine.begin() as connection:
            connection.execute(text(sql), params)

    def close(self) -> None:
        self.engine.dispose()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test (dropped afterwards), as a SQLAlchemy URL."""
    server = make_url(postgres_url())
    name = f"monitor_proc_{secrets.token_hex(4)}"
    admin = make_engine(server.render_as_string(hide_password=False)).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
