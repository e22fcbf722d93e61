"""a handled update keeps its replies until they are sent (an outbox)

Revision ID: 0008_stored_replies
Revises: 0007_office
Create Date: 2026-12-02 04:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_stored_replies"
down_revision: str | None = "0007_office"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("handledupdate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replies", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handledupdate", schema=None) as batch_op:
        batch_op.drop_column("replies")
