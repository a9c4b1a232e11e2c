"""``monitor db``: the database schema's revision, and bringing it up to date."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from monitor import migrate
from monitor.app import App
from monitor.commands import add_command


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = commands.add_parser("db", help="show or upgrade the database schema", description="the database schema")
    actions = group.add_subparsers(title="actions", metavar="ACTION", required=True)
    add_command(actions, "upgrade", upgrade, "apply pending schema migrations (the service also does on start)")
    add_command(actions, "current", show_current, "print the schema revision the database is at")
    backup = add_command(actions, "backup", back_up, "copy the SQLite database, safely while the service runs")
    backup.add_argument("destination", type=Path, help="the file to write (it must not exist yet)")
    revision = add_command(
        actions,
        "revision",
        new_revision,
        "write the next migration from what the models changed (for developers; the database must be at head)",
    )
    revision.add_argument("-m", "--message", required=True, help="what the migration changes")


def upgrade(args: argparse.Namespace, app: App) -> int:
    url = app.settings.database_url
    before = migrate.current_revision(url)
    after = migrate.upgrade(url)
    if before == after:
        print(f"database schema is up to date at {after}")
    else:
        print(f"database schema upgraded from {before or 'none'} to {after}")
    return 0


def show_current(args: argparse.Namespace, app: App) -> int:
    current = migrate.current_revision(app.settings.database_url)
    head = migrate.head_revision()
    if current == head:
        print(f"{current} (head)")
        return 0
    print(f"{current or 'none'} (head is {head}: run `monitor db upgrade`)")
    return 1


def back_up(args: argparse.Namespace, app: App) -> int:
    url = make_url(app.settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        print(
            "error: `monitor db backup` copies a SQLite database; for PostgreSQL use pg_dump, e.g. "
            "pg_dump --format=custom --file=monitor.dump \"$MONITOR_DATABASE_URL\" (without the +psycopg part)",
            file=sys.stderr,
        )
        return 2
    source_path = Path(url.database)
    if not source_path.is_file():
        print(f"error: there is no database at {source_path} yet", file=sys.stderr)
        return 2
    destination: Path = args.destination
    if destination.exists():
        print(f"error: {destination} exists; choose a new file name", file=sys.stderr)
        return 2
    pages = copy_sqlite(source_path, destination)
    print(f"copied {source_path} to {destination} ({pages} pages)")
    return 0


def copy_sqlite(source_path: Path, destination: Path) -> int:
    """SQLite's online backup: a consistent copy even while the service writes; readable by its owner only."""
    destination.touch(mode=0o600, exist_ok=False)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    target = sqlite3.connect(destination)
    try:
        with target:
            source.backup(target)
        return int(target.execute("PRAGMA page_count").fetchone()[0])
    finally:
        target.close()
        source.close()


def new_revision(args: argparse.Namespace, app: App) -> int:
    print(f"wrote {migrate.new_revision(app.settings.database_url, args.message)}")
    return 0
