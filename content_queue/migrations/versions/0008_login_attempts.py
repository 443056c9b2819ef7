"""login attempts reserved before the password check (per address, per account and address)

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import content_queue.tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    utc = content_queue.tables.UTCDateTime(timezone=True)
    op.create_table(
        "login_attempts",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("window_start", utc, nullable=False),
        sa.Column("next_at", utc, nullable=False),
        sa.Column("expires_at", utc, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_attempts")),
    )
    op.create_index("ix_login_attempts_expires_at", "login_attempts", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_login_attempts_expires_at", table_name="login_attempts")
    op.drop_table("login_attempts")
