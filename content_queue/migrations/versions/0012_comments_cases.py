"""comments under the Page's posts, actions on them, cases (petitions, takedowns), timeline

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import content_queue.tables

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    utc = content_queue.tables.UTCDateTime(timezone=True)
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("remote_id", sa.String(length=200), nullable=False),
        sa.Column("post_id", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.String(length=200), nullable=True),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.String(length=200), nullable=True),
        sa.Column("author_name", sa.String(length=200), nullable=True),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("received_at", utc, nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=True),
        sa.Column("is_hidden", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("edited", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("replied_at", utc, nullable=True),
        sa.Column("reply_remote_id", sa.String(length=200), nullable=True),
        sa.Column("private_replied_at", utc, nullable=True),
        sa.Column("busy", sa.String(length=20), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("card_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("card_message_id", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", utc, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
        sa.UniqueConstraint("channel", "remote_id", name=op.f("uq_comments_channel_remote_id")),
    )
    op.create_index("ix_comments_state", "comments", ["state"])
    op.create_index("ix_comments_received_at", "comments", ["received_at"])
    op.create_table(
        "comment_actions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("via", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("remote_id", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("updated_at", utc, nullable=False),
        sa.Column("card_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("card_message_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_comment_actions_comment_id_comments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_actions")),
    )
    op.create_index("ix_comment_actions_state", "comment_actions", ["state"])
    op.create_index("ix_comment_actions_comment_id", "comment_actions", ["comment_id"])
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=True),
        sa.Column("citizen_ref", sa.String(length=200), nullable=True),
        sa.Column("citizen_name", sa.String(length=200), nullable=True),
        sa.Column("subject", sa.Text(), server_default="", nullable=False),
        sa.Column("source_kind", sa.String(length=20), nullable=False),
        sa.Column("source_ref", sa.String(length=500), nullable=True),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("requester", sa.String(length=300), nullable=True),
        sa.Column("requester_kind", sa.String(length=20), nullable=True),
        sa.Column("received_at", utc, nullable=False),
        sa.Column("due_at", utc, nullable=False),
        sa.Column("answered_at", utc, nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("action_taken", sa.String(length=30), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=True),
        sa.Column("evidence_at", utc, nullable=True),
        sa.Column("reminded_half_at", utc, nullable=True),
        sa.Column("reminded_last_at", utc, nullable=True),
        sa.Column("overdue_alerted_at", utc, nullable=True),
        sa.Column("citizen_told_at", utc, nullable=True),
        sa.Column("card_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("card_message_id", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", utc, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("number", name=op.f("uq_cases_number")),
        sa.UniqueConstraint("kind", "year", "seq", name=op.f("uq_cases_kind_year_seq")),
    )
    op.create_index("ix_cases_state", "cases", ["state"])
    op.create_index("ix_cases_due_at", "cases", ["due_at"])
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("at", utc, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("via", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])
    op.create_index("ix_case_events_comment_id", "case_events", ["comment_id"])
    op.create_table(
        "intake_marks",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("at", utc, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_intake_marks")),
    )


def downgrade() -> None:
    for table in ("intake_marks", "case_events", "cases", "comment_actions", "comments"):
        op.drop_table(table)
