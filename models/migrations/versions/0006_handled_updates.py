"""updates remembered by id for a day (ids do not always grow), groups told once

Revision ID: 0006_handled_updates
Revises: 0005_web
Create Date: 2026-12-02 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006_handled_updates"
down_revision: str | None = "0005_web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handledupdate",
        sa.Column("bot_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("handled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("bot_id", "update_id"),
    )
    with op.batch_alter_table("handledupdate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handledupdate_handled_at"), ["handled_at"])
    op.create_table(
        "groupnotice",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("told_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id"),
    )
    # The conversation's last update id compared ids by order; the table above replaces it.
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_column("last_update_id")


def downgrade() -> None:
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_update_id", sa.BigInteger(), nullable=True))
    op.drop_table("groupnotice")
    with op.batch_alter_table("handledupdate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handledupdate_handled_at"))
    op.drop_table("handledupdate")
