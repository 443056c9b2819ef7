"""two facts, two columns: why the last attempt failed, and whether an earlier one may have posted

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(
            sa.Column("may_have_posted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Until now the doubt was folded into last_error_kind.
    op.execute(
        "UPDATE deliveries SET may_have_posted = TRUE "
        "WHERE last_error_kind IN ('may_have_posted', 'lease_expired')"
    )
    op.execute(
        "UPDATE deliveries SET last_error_kind = 'transient' "
        "WHERE last_error_kind = 'may_have_posted'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE deliveries SET last_error_kind = 'may_have_posted' "
        "WHERE may_have_posted AND last_error_kind <> 'lease_expired'"
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("may_have_posted")
