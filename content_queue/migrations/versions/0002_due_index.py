"""partial index for the claim of due deliveries (PostgreSQL)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_DUE = "state IN ('waiting', 'retry')"  # = content_queue.tables.DUE_CONDITION at this revision


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # SQLite's planner would not use it
        op.create_index(
            "ix_deliveries_due",
            "deliveries",
            ["next_attempt_at", "id"],
            postgresql_where=sa.text(_DUE),
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_deliveries_due", table_name="deliveries")
