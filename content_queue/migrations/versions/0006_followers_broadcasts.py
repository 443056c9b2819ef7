"""follower samples and Zalo broadcasts

Revision ID: 0006
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import content_queue.tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_UTC = content_queue.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "follower_samples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("collected_at", _UTC, nullable=False),
        sa.Column("metric", sa.String(length=100), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=True),
        sa.Column("available", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follower_samples")),
    )
    op.create_index(
        "ix_follower_samples_channel_metric",
        "follower_samples",
        ["channel", "metric", "collected_at"],
    )
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("recipients", sa.BigInteger(), nullable=True),
        sa.Column("proposed_at", _UTC, nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", _UTC, nullable=True),
        sa.Column("sent_at", _UTC, nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("moderation_state", sa.String(length=60), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("card_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("card_message_id", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_index("ix_broadcasts_channel_month", "broadcasts", ["channel", "month"])
    op.create_index("ix_broadcasts_state", "broadcasts", ["state"])
    op.create_table(
        "broadcast_articles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_broadcast_articles_broadcast_id_broadcasts"),
        ),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_broadcast_articles_article_id_articles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcast_articles")),
        sa.UniqueConstraint(
            "channel", "article_id", name=op.f("uq_broadcast_articles_channel_article_id")
        ),
    )
    op.create_index("ix_broadcast_articles_broadcast_id", "broadcast_articles", ["broadcast_id"])


def downgrade() -> None:
    op.drop_index("ix_broadcast_articles_broadcast_id", table_name="broadcast_articles")
    op.drop_table("broadcast_articles")
    op.drop_index("ix_broadcasts_state", table_name="broadcasts")
    op.drop_index("ix_broadcasts_channel_month", table_name="broadcasts")
    op.drop_table("broadcasts")
    op.drop_index("ix_follower_samples_channel_metric", table_name="follower_samples")
    op.drop_table("follower_samples")
