"""one outbox for every channel: Telegram's handled updates and the web's screens and
files become rows of one table, keyed by what each transport recognises a redelivery by

Revision ID: 0011_one_outbox
Revises: 0010_user_channel
Create Date: 2026-12-08 03:00:00
"""

import base64
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011_one_outbox"
down_revision: str | None = "0010_user_channel"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _reply(old: dict[str, Any]) -> dict[str, Any]:
    """A reply as handlers/kernel/stored_replies.py wrote it before (buttons as pairs, files as
    standard base64) in today's form (pydantic's: buttons as objects, URL-safe base64)."""

    def file(stored: dict[str, Any] | None) -> dict[str, Any] | None:
        if stored is None:
            return None
        content = base64.urlsafe_b64encode(base64.b64decode(stored["content"])).decode()
        return {**stored, "content": content}

    return {
        **old,
        "buttons": [[{"text": t, "data": d} for t, d in row] for row in old["buttons"]],
        "document": file(old["document"]),
        "photo": file(old["photo"]),
    }


def upgrade() -> None:
    outbox = op.create_table(
        "outbox",
        sa.Column("stream", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("in_turn", sa.Boolean(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("handled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("replies", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("stream", "number"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_handled_at"), ["handled_at"])
        batch_op.create_index(batch_op.f("ix_outbox_user_id"), ["user_id"])
    # The updates handled within the last day stay recognised, their unsent replies kept.
    old = sa.table(
        "handledupdate",
        sa.column("bot_id", sa.BigInteger()),
        sa.column("update_id", sa.BigInteger()),
        sa.column("handled_at", sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column("replies", sa.JSON()),
    )
    rows = op.get_bind().execute(sa.select(old)).mappings().all()
    if rows:
        op.bulk_insert(
            outbox,
            [
                {
                    "stream": f"telegram:{row['bot_id']}",
                    "number": row["update_id"],
                    "in_turn": False,
                    "user_id": None,
                    "handled_at": row["handled_at"],
                    "replies": None if not row["replies"] else [_reply(r) for r in row["replies"]],
                }
                for row in rows
            ],
        )
    with op.batch_alter_table("handledupdate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handledupdate_handled_at"))
    op.drop_table("handledupdate")
    # A web visitor's screen is not carried over: their next page starts again where
    # their conversation is (/start resumes it).
    op.drop_index("ix_webfile_user_id", table_name="webfile")
    op.drop_table("webfile")
    op.drop_table("webscreen")


def downgrade() -> None:
    op.create_table(
        "webscreen",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("replies", sa.JSON(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_webscreen"),
    )
    op.create_table(
        "webfile",
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("token", name="pk_webfile"),
    )
    op.create_index("ix_webfile_user_id", "webfile", ["user_id"])
    op.create_table(
        "handledupdate",
        sa.Column("bot_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("handled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("replies", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("bot_id", "update_id"),
    )
    with op.batch_alter_table("handledupdate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handledupdate_handled_at"), ["handled_at"])
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_user_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_handled_at"))
    op.drop_table("outbox")
