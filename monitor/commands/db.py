"""``monitor db``: the database schema's revision, and bringing it up to date."""

from __future__ import annotations

import argparse

from monitor import migrate
from monitor.app import App
from monitor.commands import add_command


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = commands.add_parser("db", help="show or upgrade the database schema", description="the database schema")
    actions = group.add_subparsers(title="actions", metavar="ACTION", required=True)
    add_command(actions, "upgrade", upgrade, "apply pending schema migrations (the service also does on start)")
    add_command(actions, "current", show_current, "print the schema revision the database is at")
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


def new_revision(args: argparse.Namespace, app: App) -> int:
    print(f"wrote {migrate.new_revision(app.settings.database_url, args.message)}")
    return 0
