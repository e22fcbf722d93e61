"""each user says their channel (telegram, web, console), set at first contact

Until now the channel was read from the shape of the id: web visitors at or below
-2**53, the console's person 0, Telegram users the rest. That reading is done once here,
for the rows that exist; from now on the column says it.

Revision ID: 0010_user_channel
Revises: 0009_web_notices
Create Date: 2026-12-08 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_user_channel"
down_revision: str | None = "0009_web_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WEB_ID_BASE = 2**53  # where bot/web_identity.py made web visitors' ids until now


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(16), nullable=False, server_default="telegram")
        )
    user = sa.table("user", sa.column("id", sa.BigInteger), sa.column("channel", sa.String))
    op.execute(user.update().where(user.c.id <= -WEB_ID_BASE).values(channel="web"))
    op.execute(user.update().where(user.c.id == 0).values(channel="console"))


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("channel")
