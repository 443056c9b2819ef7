"""citizens in: webhook events, questions, replies

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import content_queue.tables

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    utc = content_queue.tables.UTCDateTime(timezone=True)
    op.create_table(
        "citizen_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("sender", sa.String(length=200), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", utc, nullable=False),
        sa.Column("state", sa.String(length=20), server_default="new", nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", utc, nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("processed_at", utc, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_events")),
        sa.UniqueConstraint(
            "channel", "external_id", name=op.f("uq_citizen_events_channel_external_id")
        ),
    )
    op.create_index("ix_citizen_events_state", "citizen_events", ["state"])
    op.create_table(
        "citizen_questions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("citizen_id", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("asked_at", utc, nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.Column("hits", sa.JSON(), nullable=True),
        sa.Column("best", sa.Float(), nullable=True),
        sa.Column("handover", sa.String(length=20), nullable=True),
        sa.Column("handover_by", sa.String(length=100), nullable=True),
        sa.Column("handover_at", utc, nullable=True),
        sa.Column("saved_qa_id", sa.Integer(), nullable=True),
        sa.Column("card_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("card_message_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["citizen_events.id"],
            name=op.f("fk_citizen_questions_event_id_citizen_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_questions")),
        sa.UniqueConstraint("event_id", name=op.f("uq_citizen_questions_event_id")),
    )
    op.create_index(
        "ix_citizen_questions_channel_citizen_id", "citizen_questions", ["channel", "citizen_id"]
    )
    op.create_index("ix_citizen_questions_asked_at", "citizen_questions", ["asked_at"])
    op.create_table(
        "citizen_replies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("citizen_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.Column("sent_at", utc, nullable=True),
        sa.Column("remote_id", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("card_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("card_message_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["citizen_questions.id"],
            name=op.f("fk_citizen_replies_question_id_citizen_questions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_replies")),
        sa.UniqueConstraint(
            "question_id", "kind", name=op.f("uq_citizen_replies_question_id_kind")
        ),
    )
    op.create_index("ix_citizen_replies_state", "citizen_replies", ["state"])


def downgrade() -> None:
    op.drop_table("citizen_replies")
    op.drop_table("citizen_questions")
    op.drop_table("citizen_events")
