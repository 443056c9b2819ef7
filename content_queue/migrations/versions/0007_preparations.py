"""preparations before the slot, per-channel facts, platform calls per delivery

Revision ID: 0007
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import content_queue.tables

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    utc = content_queue.tables.UTCDateTime(timezone=True)
    op.create_table(
        "preparations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=100), server_default="", nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("calls", sa.JSON(), nullable=True),
        sa.Column("due_at", utc, nullable=True),
        sa.Column("prepared_at", utc, nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_preparations_article_id_articles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preparations")),
        sa.UniqueConstraint(
            "article_id", "channel", name=op.f("uq_preparations_article_id_channel")
        ),
    )
    op.create_table(
        "channel_facts",
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_at", utc, nullable=False),
        sa.PrimaryKeyConstraint("channel", "key", name=op.f("pk_channel_facts")),
    )
    op.create_table(
        "delivery_calls",
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_delivery_calls_delivery_id_deliveries"),
        ),
        sa.PrimaryKeyConstraint("delivery_id", "kind", name=op.f("pk_delivery_calls")),
    )


def downgrade() -> None:
    op.drop_table("delivery_calls")
    op.drop_table("channel_facts")
    op.drop_table("preparations")
