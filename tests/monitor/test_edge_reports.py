"""What the operator sees of the connector edge's defences (issue 19): check output, capped waits, odd records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import responses
import structlog
from structlog.testing import capture_logs

from connectors import Batch, Comment, RetryableError
from connectors.http import StoppingError
from monitor import config
from monitor.cli import main
from monitor.store import Store
from tests.monitor.test_pipeline import START, Clock, ScriptedConnector, pipeline

MASTODON = "https://social.example.org"
TOKEN = "masto-check-LeakyToken-0123456789abcdef"


@pytest.fixture(autouse=True)
def default_logging() -> Iterator[None]:
    """``main`` points logging at the captured stderr, which is closed after the test."""
    yield
    structlog.reset_defaults()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    store.create_schema()
    return store


@pytest.fixture
def account() -> config.AccountConfig:
    settings = config.from_mapping({"accounts": [{"name": "page", "platform": "file", "path": "x.jsonl"}]})
    return settings.accounts[0]


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""[database]
url = "sqlite:///{tmp_path / 'monitor.db'}"

[[accounts]]
name = "masto"
platform = "mastodon"
base_url = "{MASTODON}"
access_token = {{ env = "EDGE_MASTODON_TOKEN" }}
"""
    )
    return path


@responses.activate
@pytest.mark.parametrize("padding", [0, 170])
def test_m3_check_never_prints_a_token_the_platform_echoed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], padding: int
) -> None:
    monkeypatch.setenv("EDGE_MASTODON_TOKEN", TOKEN)
    echoed = {"error": "x" * padding + f" The access token {TOKEN} is invalid"}
    responses.get(f"{MASTODON}/api/v1/accounts/verify_credentials", status=401, json=echoed)

    code = main(["check", "--config", str(write_config(tmp_path))])

    out = capsys.readouterr().out
    assert code == 1
    assert "masto (mastodon): auth failed:" in out
    assert TOKEN[:10] not in out


@pytest.mark.parametrize("asked", [999_999_999.0, 1e20, float("inf")])
def test_m4_a_huge_retry_after_postpones_the_account_one_day_and_says_so(
    store: Store, account: config.AccountConfig, asked: float
) -> None:
    clock = Clock()
    throttled = RetryableError("GET api.example.test/items was rate limited (429)", retry_after=asked)
    connector = ScriptedConnector([[throttled]])

    with capture_logs() as logs:
        outcome = pipeline(store, connector, clock).poll(account)

    assert outcome.status == "retry"
    assert outcome.not_before == START + timedelta(days=1)
    row = store.account("page")
    assert row is not None and row.not_before is not None
    assert row.not_before.replace(tzinfo=UTC) == START + timedelta(days=1)
    failing = [entry for entry in logs if entry["event"] == "account failing"]
    assert failing and "waiting 1 day" in failing[0]["error"]


def test_m4_health_names_an_account_postponed_longer_than_it_may_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EDGE_MASTODON_TOKEN", TOKEN)
    path = write_config(tmp_path)
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    store.create_schema()
    row = store.ensure_account("masto", "mastodon")
    now = datetime.now(UTC)
    error = "GET social.example.org/api/v1/notifications was rate limited (429) (the platform asked us to wait ...)"
    store.update_account(
        row.id,  # type: ignore[arg-type]
        status="failing",
        failing_since=now,
        last_error=error,
        not_before=now + timedelta(days=1),
    )

    assert main(["health", "--config", str(path), "--max-failing", "1h"]) == 1
    out = capsys.readouterr().out
    assert "unhealthy: masto: not polled until" in out and "rate limited (429)" in out

    store.update_account(row.id, not_before=now + timedelta(minutes=30))  # type: ignore[arg-type]
    assert main(["health", "--config", str(path), "--max-failing", "1h"]) == 0


def test_h1_a_future_comment_is_stored_and_reported_in_the_log(store: Store, account: config.AccountConfig) -> None:
    future = Comment(external_id="f1", text="I know where you all work", created_at=datetime(2099, 1, 1, tzinfo=UTC))
    batch = Batch([future])
    batch.notes.append("comment f1 is dated 2099-01-01T00:00:00+00:00, after this poll began")
    connector = ScriptedConnector([[batch]])

    with capture_logs() as logs:
        outcome = pipeline(store, connector, Clock()).poll(account)

    assert outcome.status == "ok" and outcome.new == 1
    noted = [entry for entry in logs if entry["event"] == "odd record stored"]
    assert noted and "2099" in noted[0]["note"]


def test_h7_a_poll_abandoned_because_the_service_stops_is_not_a_failure(
    store: Store, account: config.AccountConfig
) -> None:
    connector = ScriptedConnector([[StoppingError("GET graph.facebook.com/v23.0/1/posts abandoned")]])

    outcome = pipeline(store, connector, Clock()).poll(account)

    assert outcome.status == "skipped"
    row = store.account("page")
    assert row is not None and row.status == "ok" and row.failing_since is None and row.last_error is None


def test_h1_the_same_odd_record_is_logged_once_not_on_every_poll(store: Store, account: config.AccountConfig) -> None:
    future = Comment(external_id="f1", text="Hello from the future", created_at=datetime(2099, 1, 1, tzinfo=UTC))
    note = "comment f1 is dated 2099-01-01T00:00:00+00:00, after this poll began"
    connector = ScriptedConnector([[Batch([future], notes=[note])], [Batch([future], notes=[note])]])
    run = pipeline(store, connector, Clock())

    with capture_logs() as logs:
        run.poll(account)
        run.poll(account)

    assert [entry["note"] for entry in logs if entry["event"] == "odd record stored"] == [note]
