"""The notification log remembers the severity each flag was sent at.

A flag whose comment is edited into something more serious after it was sent
is then told again, at once when its new severity calls for an alert.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notificationlog") as batch:
        batch.add_column(sa.Column("severity", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notificationlog") as batch:
        batch.drop_column("severity")
