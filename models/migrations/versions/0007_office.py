"""officers of the programme office: who may sign in to the office pages, their links,
sessions, and the audit of what they changed

Revision ID: 0007_office
Revises: 0006_handled_updates
Create Date: 2026-12-02 04:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007_office"
down_revision: str | None = "0006_handled_updates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "officer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("added_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_signin_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    for name in ("officerlink", "officersession"):
        columns = [
            sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("officer_id", sa.Integer(), nullable=False),
            sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        ]
        if name == "officerlink":
            columns.append(sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        else:
            columns.append(
                sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False)
            )
        op.create_table(
            name,
            *columns,
            sa.ForeignKeyConstraint(["officer_id"], ["officer.id"]),
            sa.PrimaryKeyConstraint("token_hash"),
        )
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{name}_officer_id"), ["officer_id"])
    op.create_table(
        "officeaudit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("officer_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("officeaudit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_officeaudit_at"), ["at"])


def downgrade() -> None:
    with op.batch_alter_table("officeaudit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_officeaudit_at"))
    op.drop_table("officeaudit")
    for name in ("officersession", "officerlink"):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{name}_officer_id"))
        op.drop_table(name)
    op.drop_table("officer")
