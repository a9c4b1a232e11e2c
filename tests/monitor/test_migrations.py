from __future__ import annotations

import argparse
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, make_url, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel, select

from connectors.base import Batch
from connectors.base import Comment as FetchedComment
from monitor import config, migrate
from monitor.app import App
from monitor.commands import db
from monitor.models import Comment, Flag, FlagEvent, JobStatus, NotificationLog, Post, Verdict
from monitor.store import Store
from tests.conftest import postgres_url

PG_SCHEMA = "monitor_migrations_test"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a freshly dropped schema of the PostgreSQL test server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'monitor.db'}"
        return
    server = postgres_url()
    engine = create_engine(server)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    url = make_url(server).update_query_dict({"options": f"-csearch_path={PG_SCHEMA}"})
    yield url.render_as_string(hide_password=False)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
    engine.dispose()


def schema_differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, SQLModel.metadata))
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrations_match_the_models(database_url: str) -> None:
    assert migrate.upgrade(database_url) == migrate.head_revision()
    assert schema_differences(database_url) == []


def test_an_empty_database_has_no_revision_until_upgraded(database_url: str) -> None:
    assert migrate.current_revision(database_url) is None
    head = migrate.upgrade(database_url)
    assert migrate.current_revision(database_url) == head
    assert migrate.upgrade(database_url) == head


def test_upgrade_accepts_the_stores_engine(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    try:
        assert migrate.upgrade(store.engine) == migrate.head_revision()
        assert migrate.current_revision(store.engine) == migrate.head_revision()
        with store.engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        store.close()


def insert_as_the_first_release(connection: Connection) -> None:
    """Rows written by the first release (schema 0001), with the SQL its store would have sent."""
    statements = [
        "INSERT INTO account (name, platform, status, last_error, last_success_at, lease_owner, lease_expires_at)"
        " VALUES ('page', 'facebook', 'ok', NULL, '2026-11-19 08:00:00', 'old-host', '2026-11-19 08:01:00')",
        "INSERT INTO bookmark (account_id, value, updated_at)"
        " VALUES ((SELECT id FROM account), '{\"since\": \"2026-11-19T08:00:00+00:00\"}', '2026-11-19 08:00:00')",
        "INSERT INTO post (account_id, external_id, url, title)"
        " VALUES ((SELECT id FROM account), 'post-1', 'https://www.facebook.com/1/posts/1', 'Open day')",
        "INSERT INTO comment (account_id, platform, external_id, post_id, author_id, author_name, text, permalink,"
        " by_owner, hidden, created_at, first_seen_at, updated_at, classified_at)"
        " VALUES ((SELECT id FROM account), 'facebook', 'c-1', (SELECT id FROM post), 'u-1', 'Sam Jones',"
        " 'Nobody answered my complaint about the missed medication', 'https://www.facebook.com/1/posts/1?comment_id=1',"
        " FALSE, FALSE, '2026-11-18 20:15:00', '2026-11-19 08:00:00', '2026-11-19 08:00:00', '2026-11-19 08:00:01')",
        "INSERT INTO verdict (comment_id, flagged, severity, categories, reasons, sentiment, classified_at)"
        " VALUES ((SELECT id FROM comment), TRUE, 'high', '[\"allegation\"]',"
        ' \'[{"rule": "missed-medication", "category": "allegation", "severity": "high",'
        ' "explanation": "An allegation: “missed medication”.", "matched": ["missed medication"],'
        " \"spans\": [[38, 55]]}]', '{\"compound\": -0.6}', '2026-11-19 08:00:01')",
        "INSERT INTO flag (comment_id, severity, categories, status, created_at, updated_at)"
        " VALUES ((SELECT id FROM comment), 'high', '[\"allegation\"]', 'open',"
        " '2026-11-19 08:00:01', '2026-11-19 08:00:01')",
        "INSERT INTO notificationlog (flag_id, channel, recipient, kind, message_id, sent_at, send_count)"
        " VALUES ((SELECT id FROM flag), 'email', 'gm@example.org', 'digest', '<d-1@example.org>',"
        " '2026-11-19 09:00:00', 1)",
        "INSERT INTO flagevent (flag_id, at, actor, action, note)"
        " VALUES ((SELECT id FROM flag), '2026-11-19 08:00:01', 'monitor', 'opened', NULL)",
        "INSERT INTO jobstatus (name, last_run_at, last_ok_at, last_error)"
        " VALUES ('digest', '2026-11-19 09:00:00', '2026-11-19 09:00:00', NULL)",
    ]
    for statement in statements:
        connection.execute(text(statement))


def first_release_database(url: str) -> None:
    assert migrate.upgrade(url, to=migrate.BASELINE) == migrate.BASELINE
    engine = create_engine(url)
    with engine.begin() as connection:
        insert_as_the_first_release(connection)
    engine.dispose()


def assert_first_release_data_survived(url: str) -> None:
    store = Store(url)
    try:
        account = store.account("page")
        assert account is not None and account.id is not None
        assert (account.platform, account.status) == ("facebook", "ok")
        assert account.last_success_at == datetime(2026, 11, 19, 8, 0, tzinfo=UTC)
        assert store.bookmark(account.id) == {"since": "2026-11-19T08:00:00+00:00"}
        [comment] = list(store.iter_comments())
        assert comment.text == "Nobody answered my complaint about the missed medication"
        assert comment.created_at == datetime(2026, 11, 18, 20, 15, tzinfo=UTC)
        assert (comment.author_name, comment.by_owner, comment.hidden) == ("Sam Jones", False, False)
        verdict = store.verdict(comment.id or 0)
        assert verdict is not None and verdict.reasons is not None
        assert verdict.reasons[0]["matched"] == ["missed medication"]
        assert verdict.sentiment == {"compound": -0.6}
        [flag] = store.flags(status="open")
        assert (flag.comment_id, flag.severity, flag.categories) == (comment.id, "high", ["allegation"])
        for model in (Post, Verdict, NotificationLog, FlagEvent, JobStatus):
            assert store.count(model) == 1
        assert_store_still_writes(store, account.id)
    finally:
        store.close()


def assert_store_still_writes(store: Store, account_id: int) -> None:
    reply = FetchedComment(
        external_id="c-2",
        text="We are sorry, please message us",
        created_at=NOW - timedelta(hours=1),
        post_id="post-1",
        parent_id="c-1",
        by_owner=True,
    )
    saved = store.save_batch(account_id, "facebook", Batch([reply], {"since": "2026-11-20T08:00:00+00:00"}), NOW)
    assert saved.new == 1
    assert store.count(Comment) == 2 and store.count(Post) == 1
    assert store.acquire_lease("account:page", "new-host", timedelta(minutes=1), NOW)
    assert store.count(Flag) == 1


def test_upgrade_from_the_first_release_keeps_its_data(database_url: str) -> None:
    first_release_database(database_url)
    assert migrate.upgrade(database_url) == migrate.head_revision()
    assert schema_differences(database_url) == []
    assert_first_release_data_survived(database_url)


def test_a_database_made_before_migrations_is_adopted_at_the_baseline(database_url: str) -> None:
    first_release_database(database_url)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    engine.dispose()
    assert migrate.current_revision(database_url) is None

    assert migrate.upgrade(database_url) == migrate.head_revision()
    assert "alembic_version" in tables(database_url)
    assert schema_differences(database_url) == []
    assert_first_release_data_survived(database_url)


def run_db(tmp_path: Path, *argv: str) -> int:
    path = tmp_path / "config.toml"
    app = App(path, settings=config.from_mapping({"database": {"url": "sqlite:///monitor.db"}}, path))
    parser = argparse.ArgumentParser()
    db.register(parser.add_subparsers())
    args = parser.parse_args(["db", *argv])
    try:
        return int(args.handler(args, app))
    finally:
        app.close()


def test_db_commands_show_and_apply_pending_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    head = migrate.head_revision()

    assert run_db(tmp_path, "current") == 1
    assert capsys.readouterr().out.strip() == f"none (head is {head}: run `monitor db upgrade`)"
    assert run_db(tmp_path, "upgrade") == 0
    assert capsys.readouterr().out.strip() == f"database schema upgraded from none to {head}"
    assert run_db(tmp_path, "upgrade") == 0
    assert capsys.readouterr().out.strip() == f"database schema is up to date at {head}"
    assert run_db(tmp_path, "current") == 0
    assert capsys.readouterr().out.strip() == f"{head} (head)"
    assert migrate.current_revision(f"sqlite:///{tmp_path / 'monitor.db'}") == head


def test_a_new_revision_is_generated_from_the_models_and_needs_no_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    for later in migrations.glob("versions/[0-9]*.py"):
        if not later.name.startswith(migrate.BASELINE):
            later.unlink()
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", migrations)
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    assert migrate.upgrade(url) == migrate.BASELINE

    written = Path(migrate.new_revision(url, "everything since the first release"))

    assert written.parent == migrations / "versions"
    assert written.name == "0002_everything_since_the_first_release.py"
    source = written.read_text(encoding="utf-8")
    assert "sqlmodel" not in source and "monitor." not in source
    assert migrate.upgrade(url) == "0002"
    assert schema_differences(url) == []


def test_h5_upgrade_from_0003_keys_comments_by_account_and_completes_the_audit_trail(database_url: str) -> None:
    first_release_database(database_url)
    assert migrate.upgrade(database_url, to="0003") == "0003"
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO account (name, platform, status) VALUES ('blog-two', 'wordpress', 'ok')"))
        connection.execute(text("UPDATE account SET platform = 'wordpress' WHERE name = 'page'"))
        connection.execute(text("UPDATE comment SET platform = 'wordpress', external_id = '7'"))
        connection.execute(text("DELETE FROM flagevent"))
        connection.execute(
            text(
                "INSERT INTO flagevent (flag_id, at, actor, action, note) VALUES ((SELECT id FROM flag),"
                " '2026-11-19 09:30:00', 'monitor', 'auto-resolved', 'Hidden on the platform')"
            )
        )
    engine.dispose()

    assert migrate.upgrade(database_url) == migrate.head_revision()

    assert schema_differences(database_url) == []
    store = Store(database_url)
    try:
        with store.session() as session:
            trail = [(e.action, e.at, e.note) for e in session.exec(select(FlagEvent).order_by(FlagEvent.id))]
        assert trail == [
            ("hidden", datetime(2026, 11, 19, 9, 30, tzinfo=UTC), "Hidden on the platform"),
            ("opened", datetime(2026, 11, 19, 8, 0, 1, tzinfo=UTC), "high"),
        ]
        (flag,) = store.flags()
        assert flag.reopened_at is None
        second = store.account("blog-two")
        assert second is not None and second.id is not None
        same_id = FetchedComment(external_id="7", text="Another blog's comment 7", created_at=NOW, post_id="p")
        assert store.save_batch(second.id, "wordpress", Batch([same_id]), NOW).new == 1
        texts = sorted(comment.text or "" for comment in store.iter_comments())
        assert texts == ["Another blog's comment 7", "Nobody answered my complaint about the missed medication"]
    finally:
        store.close()
