"""broadcasts wait for web visitors, whom Telegram cannot reach, as notices

Revision ID: 0009_web_notices
Revises: 0008_stored_replies
Create Date: 2026-12-02 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009_web_notices"
down_revision: str | None = "0008_stored_replies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webnotice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webnotice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webnotice_user_id"), ["user_id"])


def downgrade() -> None:
    with op.batch_alter_table("webnotice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webnotice_user_id"))
    op.drop_table("webnotice")
