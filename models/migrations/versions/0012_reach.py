"""every applicant reachable on their channel: a broadcast's recipients by route
(Telegram, the web inbox, e-mail), the web inbox kept until dismissed, and the e-mail
address a user may give for notices

A web visitor's notice was a WebNotice row, shown once and deleted. It is now their
recipient row of the broadcast (channel "web", state "inbox" until a page shows it), so
the job counts it and the office sees who was told. Waiting notices move over.

Revision ID: 0012_reach
Revises: 0011_one_outbox
Create Date: 2026-12-08 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0012_reach"
down_revision: str | None = "0011_one_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOVE_NOTICES = """
INSERT INTO broadcastrecipient (broadcast_id, user_id, chat_id, channel, state, attempts)
SELECT b.id, w.user_id, w.user_id, 'web', 'inbox', 0
FROM webnotice w
JOIN broadcast b ON b.id = (
    SELECT max(b2.id) FROM broadcast b2 WHERE b2.text = w.text AND b2.created_at <= w.created_at
)
"""
COUNT_TOTALS = """
UPDATE broadcast SET total = (
    SELECT count(*) FROM broadcastrecipient r WHERE r.broadcast_id = broadcast.id
)
"""


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(
            sa.Column("email_asked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("email_failed", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
    with op.batch_alter_table("broadcastrecipient", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(16), nullable=False, server_default="telegram")
        )
        batch_op.add_column(sa.Column("address", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(
            sa.Column("dismissed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.drop_constraint("uq_broadcast_recipient", type_="unique")
        batch_op.create_unique_constraint(
            "uq_broadcast_recipient", ["broadcast_id", "user_id", "channel"]
        )
    op.execute(MOVE_NOTICES)
    op.execute(COUNT_TOTALS)
    with op.batch_alter_table("webnotice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webnotice_user_id"))
    op.drop_table("webnotice")


def downgrade() -> None:
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
    op.execute(
        "INSERT INTO webnotice (user_id, text, created_at) SELECT r.user_id, b.text, b.created_at"
        " FROM broadcastrecipient r JOIN broadcast b ON b.id = r.broadcast_id"
        " WHERE r.channel = 'web' AND r.state = 'inbox'"
    )
    op.execute("DELETE FROM broadcastrecipient WHERE channel <> 'telegram'")
    with op.batch_alter_table("broadcastrecipient", schema=None) as batch_op:
        batch_op.drop_constraint("uq_broadcast_recipient", type_="unique")
        batch_op.create_unique_constraint("uq_broadcast_recipient", ["broadcast_id", "user_id"])
        batch_op.drop_column("dismissed_at")
        batch_op.drop_column("address")
        batch_op.drop_column("channel")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("email_failed")
        batch_op.drop_column("email_asked_at")
        batch_op.drop_column("email")
