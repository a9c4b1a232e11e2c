"""The organisation's own posts are stored beside the comments, and checked against the consent register.

A comment row of kind ``post`` is one of the organisation's own posts, with
the people the platform says are tagged in it and its pictures' captions and
alt text; ``consentstate`` remembers what the register allowed when the posts
were last checked, so a change re-checks them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comment") as batch:
        batch.add_column(sa.Column("kind", sa.String(), nullable=False, server_default="comment"))
        batch.add_column(sa.Column("tagged", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("media_text", sa.JSON(), nullable=True))
    op.create_table(
        "consentstate",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("consentstate")
    with op.batch_alter_table("comment") as batch:
        batch.drop_column("media_text")
        batch.drop_column("tagged")
        batch.drop_column("kind")
