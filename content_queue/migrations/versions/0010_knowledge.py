"""the assistant's knowledge: procedure catalogue and saved question–answer pairs

Revision ID: 0010
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import content_queue.tables

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    utc = content_queue.tables.UTCDateTime(timezone=True)
    text_columns = (
        "linh_vuc",
        "co_quan",
        "doi_tuong",
        "cach_thuc",
        "trinh_tu",
        "ho_so",
        "thoi_han",
        "phi",
        "can_cu",
        "url",
    )
    op.create_table(
        "procedures",
        sa.Column("ma", sa.String(length=100), nullable=False),
        sa.Column("ten", sa.Text(), nullable=False),
        *(sa.Column(c, sa.Text(), server_default="", nullable=False) for c in text_columns),
        sa.Column("cap_nhat", sa.Date(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("imported_at", utc, nullable=False),
        sa.PrimaryKeyConstraint("ma", name=op.f("pk_procedures")),
    )
    op.create_table(
        "saved_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("saved_by", sa.String(length=200), nullable=False),
        sa.Column("saved_at", utc, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_answers")),
    )


def downgrade() -> None:
    op.drop_table("saved_answers")
    op.drop_table("procedures")
