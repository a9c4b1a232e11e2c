"""Alembic's entry point: runs the migrations on the connection monitor.migrate hands over."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import TypeDecorator
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import monitor.models  # noqa: F401  (registers every table on SQLModel.metadata)


def render_item(kind: str, item: Any, _context: AutogenContext) -> str | Literal[False]:
    """Write the project's column types as the plain SQLAlchemy types they store, so migrations import nothing."""
    if kind == "type" and isinstance(item, TypeDecorator):
        return f"sa.{type(item.impl).__name__}()"
    return False


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through monitor.migrate, which supplies the database connection")
run_migrations(connection)
