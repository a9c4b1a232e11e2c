"""Comment ids are unique per account, flags remember when they reopened, and the audit trail is made whole.

Two WordPress blogs or two Mastodon servers hand out the same comment ids, so
(platform, external id) let one site's comments overwrite another's; the key
is now (account, external id). Existing rows already satisfy the new key.

Flags opened before every change wrote an event get their ``opened`` event
(at the flag's creation), and a flag resolved because its comment was hidden
on the platform is recorded as ``hidden`` rather than ``auto-resolved``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD_KEY_POSTGRES = "comment_platform_external_id_key"
OLD_KEY_SQLITE = "uq_comment_platform"  # the name the naming convention below gives the unnamed constraint
NEW_KEY = "uq_comment_account_external_id"
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("comment", naming_convention=NAMING) as batch:
        batch.drop_constraint(OLD_KEY_SQLITE if sqlite else OLD_KEY_POSTGRES, type_="unique")
        batch.create_unique_constraint(NEW_KEY, ["account_id", "external_id"])
    with op.batch_alter_table("flag") as batch:
        batch.add_column(sa.Column("reopened_at", sa.DateTime(), nullable=True))
    op.execute(
        "INSERT INTO flagevent (flag_id, at, actor, action, note)"
        " SELECT flag.id, COALESCE(flag.created_at, flag.updated_at, CURRENT_TIMESTAMP), 'monitor', 'opened',"
        " flag.severity FROM flag"
        " WHERE NOT EXISTS (SELECT 1 FROM flagevent WHERE flagevent.flag_id = flag.id AND flagevent.action = 'opened')"
    )
    op.execute(
        "UPDATE flagevent SET action = 'hidden'"
        " WHERE action = 'auto-resolved' AND actor = 'monitor' AND note = 'Hidden on the platform'"
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute("UPDATE flagevent SET action = 'auto-resolved' WHERE action = 'hidden'")
    with op.batch_alter_table("flag") as batch:
        batch.drop_column("reopened_at")
    with op.batch_alter_table("comment") as batch:
        batch.drop_constraint(NEW_KEY, type_="unique")
        batch.create_unique_constraint(OLD_KEY_SQLITE if sqlite else OLD_KEY_POSTGRES, ["platform", "external_id"])
