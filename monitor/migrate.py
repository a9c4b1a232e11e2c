"""Bringing a database's schema up to date with the migrations in monitor/migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from monitor.store import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"
BASELINE_TABLES = frozenset(
    {"account", "bookmark", "post", "comment", "verdict", "flag", "notificationlog", "flagevent", "jobstatus"}
)
# Any constant shared by every process that migrates the same PostgreSQL database.
ADVISORY_LOCK_KEY = 0x6D6F6E69746F72


def upgrade(target: Engine | str, to: str = "head") -> str:
    """Apply every pending migration (up to ``to``) and return the revision the database is now at.

    A database whose tables were created before migrations existed is first marked as the baseline.
    """
    with _connection(target) as connection:
        _lock_out_other_migrations(connection)
        config = _config(connection)
        if _created_before_migrations(connection):
            command.stamp(config, BASELINE)
        command.upgrade(config, to)
        revision = _revision_of(connection)
    if revision is None:
        raise RuntimeError("the database has no revision after upgrading")
    return revision


def current_revision(target: Engine | str) -> str | None:
    """The revision the database is at; None when it has never been migrated."""
    with _connection(target) as connection:
        return _revision_of(connection)


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def new_revision(target: Engine | str, message: str) -> str:
    """Write the next numbered migration, generated from the difference between the database and the models.

    The database should be at head, so the new migration holds only what the models changed since.
    """
    with _connection(target) as connection:
        config = _config(connection)
        number = len(list(ScriptDirectory.from_config(config).walk_revisions())) + 1
        script = command.revision(config, message=message, autogenerate=True, rev_id=f"{number:04d}")
    if script is None or isinstance(script, list):
        raise RuntimeError("alembic did not write exactly one migration")
    return str(script.path)


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _connection(target: Engine | str) -> Iterator[Connection]:
    """One transaction; on SQLite with foreign keys unenforced, as rebuilding a referenced table requires."""
    engine = make_engine(target) if isinstance(target, str) else target
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as connection:
            if sqlite:
                _set_foreign_keys(connection, "OFF")
            try:
                with connection.begin():
                    yield connection
            finally:
                if sqlite:
                    _set_foreign_keys(connection, "ON")
    finally:
        if isinstance(target, str):
            engine.dispose()


def _lock_out_other_migrations(connection: Connection) -> None:
    """Hold the lock until the transaction ends, so instances starting together migrate one after another."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        # The driver leaves DDL outside transactions; an explicit one makes the whole upgrade atomic.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _set_foreign_keys(connection: Connection, state: str) -> None:
    connection.exec_driver_sql(f"PRAGMA foreign_keys={state}")
    connection.commit()


def _created_before_migrations(connection: Connection) -> bool:
    tables = set(inspect(connection).get_table_names())
    return "alembic_version" not in tables and bool(tables & BASELINE_TABLES)


def _revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
