"""broadcasts (a job and one row per recipient), admins added in the chat, unreachable users

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 14:21:56.235351
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("added_by", sa.BigInteger(), nullable=False),
        sa.Column("added_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_admin"),
    )
    op.create_table(
        "broadcast",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("audience", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("media_kind", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("media_file_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("media_filename", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("media_content", sa.LargeBinary(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("status_message_id", sa.BigInteger(), nullable=True),
        sa.Column("shown_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("runner", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_broadcast"),
    )
    op.create_table(
        "broadcastrecipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["broadcast_id"], ["broadcast.id"], name="fk_broadcast_recipient_broadcast_id"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_broadcastrecipient"),
        sa.UniqueConstraint("broadcast_id", "user_id", name="uq_broadcast_recipient"),
    )
    with op.batch_alter_table("broadcastrecipient", schema=None) as batch_op:
        batch_op.create_index(
            "ix_broadcast_recipient_queue", ["broadcast_id", "state", "id"], unique=False
        )
        batch_op.create_index("ix_broadcast_recipient_user_id", ["user_id"], unique=False)

    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unreachable_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("unreachable_at")

    with op.batch_alter_table("broadcastrecipient", schema=None) as batch_op:
        batch_op.drop_index("ix_broadcast_recipient_user_id")
        batch_op.drop_index("ix_broadcast_recipient_queue")

    op.drop_table("broadcastrecipient")
    op.drop_table("broadcast")
    op.drop_table("admin")
