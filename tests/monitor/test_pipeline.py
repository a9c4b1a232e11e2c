from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from connectors import AuthError, Batch, Comment, Connector, FatalError, RetryableError
from connectors.credentials import CredentialExpiry
from monitor import config
from monitor.filter import Classifier, FilterSettings
from monitor.pipeline import Pipeline
from monitor.secrets import Secret
from monitor.store import Store

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class ScriptedConnector(Connector):
    """Plays back, poll after poll, what each fetch should do."""

    platform = "file"

    def __init__(self, script: list[Any], cooldown: float | None = None) -> None:
        self.script = script
        self.fetches: list[Mapping[str, Any] | None] = []
        self.cooldown = cooldown
        self.expiry: CredentialExpiry | None = None

    def credential_expiry(self) -> CredentialExpiry | None:
        return self.expiry

    @property
    def http(self) -> Any:  # type: ignore[override]
        return type("Http", (), {"cooldown": self.cooldown})()

    def fetch(self, bookmark: Mapping[str, Any] | None) -> Iterator[Batch]:
        self.fetches.append(bookmark)
        for step in self.script.pop(0):
            if isinstance(step, Exception):
                raise step
            yield step

    def check(self) -> str:
        return "scripted"


def comment(external_id: str, text: str) -> Comment:
    return Comment(external_id=external_id, text=text, created_at=START - timedelta(minutes=5), post_id="p1")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    store.create_schema()
    return store


@pytest.fixture
def account() -> config.AccountConfig:
    settings = config.from_mapping({"accounts": [{"name": "page", "platform": "file", "path": "x.jsonl"}]})
    return settings.accounts[0]


def pipeline(store: Store, connector: Connector, clock: Clock) -> Pipeline:
    classifier = Classifier.from_settings(FilterSettings(), ["Brightwater Care"])
    return Pipeline(store, classifier, lambda account: connector, clock)


def test_a_poll_stores_batches_moves_the_bookmark_and_classifies(store: Store, account: config.AccountConfig) -> None:
    connector = ScriptedConnector(
        [
            [
                Batch([comment("1", "Lovely photos from sports day!")]),
                Batch([comment("2", "I know where you all live and I will burn the place down")], {"since": "2"}),
            ],
            [Batch([comment("2", "I know where you all live and I will burn the place down")], {"since": "2"})],
        ]
    )
    run = pipeline(store, connector, Clock())
    outcome = run.poll(account)
    assert (outcome.status, outcome.fetched, outcome.new, outcome.classified) == ("ok", 2, 2, 2)
    assert outcome.flagged["threat"] == 1
    (flag,) = store.flags()
    assert flag.severity == "urgent"
    second = run.poll(account)
    assert connector.fetches == [None, {"since": "2"}]
    assert (second.status, second.new, second.classified, len(store.flags())) == ("ok", 0, 0, 1)


def test_a_failure_after_a_batch_keeps_that_batch_and_is_logged_once(
    store: Store, account: config.AccountConfig
) -> None:
    clock = Clock()
    failing = RetryableError("GET https://graph.example.test/1/posts failed (503)")
    connector = ScriptedConnector(
        [
            [Batch([comment("1", "hello")], {"since": "1"}), failing],
            [failing],
            [Batch([], {"since": "1"})],
        ]
    )
    run = pipeline(store, connector, clock)
    with capture_logs() as logs:
        first = run.poll(account)
        clock.now += timedelta(minutes=5)
        run.poll(account)
        clock.now += timedelta(minutes=5)
        recovered = run.poll(account)
    assert first.status == "retry" and first.new == 1
    assert store.bookmark(store.account("page").id) == {"since": "1"}  # type: ignore[union-attr, arg-type]
    events = [entry["event"] for entry in logs if entry["log_level"] in ("warning", "info", "error")]
    assert events == ["account failing", "account recovered"]
    assert recovered.status == "ok"
    row = store.account("page")
    assert row is not None and row.status == "ok" and row.failing_since is None


def test_retry_after_postpones_only_this_accounts_next_poll(store: Store, account: config.AccountConfig) -> None:
    clock = Clock()
    connector = ScriptedConnector([[RetryableError("throttled", retry_after=600)], [Batch([])]])
    run = pipeline(store, connector, clock)
    outcome = run.poll(account)
    assert outcome.not_before == START + timedelta(seconds=600)
    clock.now += timedelta(minutes=5)
    assert run.poll(account).status == "skipped"
    assert len(connector.fetches) == 1
    clock.now += timedelta(minutes=6)
    assert run.poll(account).status == "ok"


def test_platform_cooldown_after_success_sets_not_before(store: Store, account: config.AccountConfig) -> None:
    connector = ScriptedConnector([[Batch([])]], cooldown=120)
    outcome = pipeline(store, connector, Clock()).poll(account)
    assert outcome.status == "ok" and outcome.not_before == START + timedelta(seconds=120)


def test_auth_failure_stops_polling_and_tells_the_operator_once(store: Store, account: config.AccountConfig) -> None:
    connector = ScriptedConnector([[AuthError("token expired (190)")]])
    run = pipeline(store, connector, Clock())
    with capture_logs() as logs:
        assert run.poll(account).status == "auth_failed"
        assert run.poll(account).status == "skipped"
    assert len(connector.fetches) == 1
    assert [entry["event"] for entry in logs if entry["log_level"] == "error"] == [
        "authentication failed; polling stopped for this account until fixed"
    ]


def test_an_unexpected_exception_fails_this_account_only(store: Store, account: config.AccountConfig) -> None:
    connector = ScriptedConnector([[KeyError("data")]])
    outcome = pipeline(store, connector, Clock()).poll(account)
    assert outcome.status == "failed" and "KeyError" in (outcome.error or "")


def test_secrets_in_an_error_are_redacted_before_they_are_stored(
    store: Store, account: config.AccountConfig
) -> None:
    token = Secret("EAAB-sentinel-token-998877", "test")
    connector = ScriptedConnector([[FatalError(f"bad request for {token.reveal()}")]])
    outcome = pipeline(store, connector, Clock()).poll(account)
    row = store.account("page")
    assert row is not None and "EAAB-sentinel-token-998877" not in (row.last_error or "")
    assert "[REDACTED]" in (outcome.error or "")


def test_skipped_records_are_logged_with_their_reason(store: Store, account: config.AccountConfig) -> None:
    connector = ScriptedConnector([[Batch([comment("1", "ok")], skipped=["record 2: no created_time"])]])
    with capture_logs() as logs:
        outcome = pipeline(store, connector, Clock()).poll(account)
    assert outcome.unreadable == 1 and outcome.new == 1
    assert {"event": "record skipped", "reason": "record 2: no created_time"}.items() <= logs[0].items()


def test_credentials_expiry_is_logged_on_change_and_the_warning_once(
    store: Store, account: config.AccountConfig
) -> None:
    clock = Clock()
    connector = ScriptedConnector([[Batch([], {"since": "1"})] for _ in range(6)])
    run = pipeline(store, connector, clock)
    renewed_every_hour = CredentialExpiry(START + timedelta(hours=1), "access token", True)
    first = CredentialExpiry(START + timedelta(days=20), "access token", False)
    with capture_logs() as logs:
        connector.expiry = renewed_every_hour
        run.poll(account)
        connector.expiry = first
        run.poll(account)  # a later expiry: logged as a renewal
        run.poll(account)  # same again: nothing
        clock.now = START + timedelta(days=7)
        run.poll(account)  # 13 days left: warned
        clock.now = START + timedelta(days=8)
        run.poll(account)  # still due: not repeated
        connector.expiry = CredentialExpiry(START + timedelta(days=80), "access token", False)
        run.poll(account)  # the operator renewed it

    events = [(entry["log_level"], entry["event"], entry.get("expires_at")) for entry in logs if "expires_at" in entry]
    assert events == [
        ("info", "credentials expiry", (START + timedelta(hours=1)).isoformat()),
        ("info", "credentials renewed", (START + timedelta(days=20)).isoformat()),
        ("warning", "credentials expire soon and cannot be renewed here; renew them", first.expires_at.isoformat()),
        ("info", "credentials renewed", (START + timedelta(days=80)).isoformat()),
    ]
def test_an_unexpected_error_logs_its_traceback_once(store: Store, account: config.AccountConfig) -> None:
    clock = Clock()
    bug = KeyError("created_time")
    connector = ScriptedConnector([[bug], [bug], [Batch([])]])
    run = pipeline(store, connector, clock)
    with capture_logs() as logs:
        first = run.poll(account)
        clock.now += timedelta(minutes=5)
        run.poll(account)
    assert first.status == "failed" and first.error == "KeyError: 'created_time'"
    failing = [entry for entry in logs if entry["event"] == "account failing"]
    assert len(failing) == 1
    assert failing[0]["exc_info"] is bug and failing[0]["error"] == "KeyError: 'created_time'"


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_h6_a_nul_byte_does_not_block_the_account(
    database: str, tmp_path: Path, account: config.AccountConfig
) -> None:
    if database == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'nul.db'}")
    else:
        from sqlmodel import SQLModel

        from tests.conftest import postgres_url

        store = Store(postgres_url())
        SQLModel.metadata.drop_all(store.engine)
        with store.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    store.create_schema()
    hostile = Comment(
        external_id="n\x00ul",
        text="I will hurt\x00 you \ud800all",
        author_name="Ga\x00ry",
        created_at=START - timedelta(minutes=5),
        post_id="p\x001",
        post_title="Open\x00 day",
        permalink="https://www.facebook.com/1/posts/1?comment_id=\x00",
    )
    connector = ScriptedConnector([[Batch([hostile, comment("2", "Lovely photos")], {"since": "b"})]])
    try:
        outcome = pipeline(store, connector, Clock()).poll(account)
        assert (outcome.status, outcome.new, outcome.error) == ("ok", 2, None)
        nul = "\x00" if database == "sqlite" else "\ufffd"  # SQLite keeps it; PostgreSQL refuses it
        stored = {row.external_id: row for row in store.iter_comments()}
        assert set(stored) == {f"n{nul}ul", "2"}
        row = stored[f"n{nul}ul"]
        assert (row.text, row.author_name) == (f"I will hurt{nul} you \ufffdall", f"Ga{nul}ry")
        assert store.bookmark(store.account("page").id or 0) == {"since": "b"}  # type: ignore[union-attr]
    finally:
        store.close()


def test_h6_a_database_error_never_carries_comment_text(store: Store, account: config.AccountConfig) -> None:
    with store.engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TRIGGER refuse BEFORE INSERT ON comment BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )
    secret_words = "my private complaint about Mrs Patel in room 4"
    connector = ScriptedConnector([[Batch([comment("1", secret_words)])]])
    with capture_logs() as logs:
        outcome = pipeline(store, connector, Clock()).poll(account)
    assert outcome.status == "failed"
    row = store.account("page")
    assert row is not None and row.last_error is not None
    assert row.last_error == "database error: IntegrityError: refused by the test"
    for text in (row.last_error, outcome.error or "", repr(logs)):
        assert "Mrs Patel" not in text and "p1" not in text
