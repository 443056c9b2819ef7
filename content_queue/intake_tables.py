"""Tables of the citizens' register: comments under the Page's posts, the actions taken on them,
cases (petitions and takedown requests), their timeline, and once-only marks.

Declared on the one :data:`content_queue.tables.metadata`; changed only through migrations.
"""

from __future__ import annotations

import sqlalchemy as sa

from content_queue.tables import UTCDateTime, metadata

__all__ = ["case_events", "cases", "comment_actions", "comments", "intake_marks"]

comments = sa.Table(
    "comments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("remote_id", sa.String(200), nullable=False),
    sa.Column("post_id", sa.String(200), nullable=False),
    sa.Column("parent_id", sa.String(200), nullable=True),
    sa.Column("article_id", sa.Integer, nullable=True),
    sa.Column("author_id", sa.String(200), nullable=True),
    sa.Column("author_name", sa.String(200), nullable=True),
    sa.Column("message", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("flags", sa.JSON, nullable=True),
    sa.Column("is_hidden", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("edited", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("replied_at", UTCDateTime, nullable=True),
    sa.Column("reply_remote_id", sa.String(200), nullable=True),
    sa.Column("private_replied_at", UTCDateTime, nullable=True),
    sa.Column("busy", sa.String(20), nullable=True),
    sa.Column("case_id", sa.Integer, nullable=True),
    sa.Column("card_chat_id", sa.BigInteger, nullable=True),
    sa.Column("card_message_id", sa.BigInteger, nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("channel", "remote_id"),
    sa.Index("ix_comments_state", "state"),
    sa.Index("ix_comments_received_at", "received_at"),
)

comment_actions = sa.Table(
    "comment_actions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("comment_id", sa.Integer, sa.ForeignKey("comments.id"), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("text", sa.Text, nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("via", sa.String(40), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("remote_id", sa.String(200), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("card_chat_id", sa.BigInteger, nullable=True),
    sa.Column("card_message_id", sa.BigInteger, nullable=True),
    sa.Index("ix_comment_actions_state", "state"),
    sa.Index("ix_comment_actions_comment_id", "comment_id"),
)

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("number", sa.String(40), nullable=False, unique=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("state", sa.String(30), nullable=False),
    sa.Column("channel", sa.String(100), nullable=True),
    sa.Column("citizen_ref", sa.String(200), nullable=True),
    sa.Column("citizen_name", sa.String(200), nullable=True),
    sa.Column("subject", sa.Text, nullable=False, server_default=""),
    sa.Column("source_kind", sa.String(20), nullable=False),
    sa.Column("source_ref", sa.String(500), nullable=True),
    sa.Column("comment_id", sa.Integer, nullable=True),
    sa.Column("owner", sa.String(200), nullable=True),
    sa.Column("requester", sa.String(300), nullable=True),
    sa.Column("requester_kind", sa.String(20), nullable=True),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("answered_at", UTCDateTime, nullable=True),
    sa.Column("answer", sa.Text, nullable=True),
    sa.Column("action_taken", sa.String(30), nullable=True),
    sa.Column("evidence", sa.JSON, nullable=True),
    sa.Column("evidence_at", UTCDateTime, nullable=True),
    sa.Column("reminded_half_at", UTCDateTime, nullable=True),
    sa.Column("reminded_last_at", UTCDateTime, nullable=True),
    sa.Column("overdue_alerted_at", UTCDateTime, nullable=True),
    sa.Column("citizen_told_at", UTCDateTime, nullable=True),
    sa.Column("card_chat_id", sa.BigInteger, nullable=True),
    sa.Column("card_message_id", sa.BigInteger, nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("kind", "year", "seq"),
    sa.Index("ix_cases_state", "state"),
    sa.Index("ix_cases_due_at", "due_at"),
)

case_events = sa.Table(
    "case_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.Integer, nullable=True),
    sa.Column("comment_id", sa.Integer, nullable=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("via", sa.String(40), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("detail", sa.JSON, nullable=True),
    sa.Index("ix_case_events_case_id", "case_id"),
    sa.Index("ix_case_events_comment_id", "comment_id"),
)

intake_marks = sa.Table(
    "intake_marks",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
)
