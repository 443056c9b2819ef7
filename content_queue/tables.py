"""The database schema (SQLAlchemy Core). Changed only through migrations in ``migrations/``."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns timezone-aware UTC datetimes (also on SQLite)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use timezone-aware values")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


articles = sa.Table(
    "articles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("external_id", sa.String(200), nullable=True),
    sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False, server_default=""),
    sa.Column("body_html", sa.Text, nullable=False, server_default=""),
    sa.Column("body_text", sa.Text, nullable=False, server_default=""),
    sa.Column("topic", sa.String(4), nullable=False),
    sa.Column("topic_suggested", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("topic_reason", sa.Text, nullable=True),
    sa.Column("cover", sa.JSON, nullable=True),
    sa.Column("images", sa.JSON, nullable=False, default=list),
    sa.Column("channels", sa.JSON, nullable=False, default=list),
    sa.Column("publish_at", UTCDateTime, nullable=True),
    sa.Column("scheduled_at", UTCDateTime, nullable=True),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("submitted_by", sa.String(200), nullable=True),
    sa.Column("submitted_at", UTCDateTime, nullable=False),
    sa.Column("approved_by", sa.String(200), nullable=True),
    sa.Column("approved_at", UTCDateTime, nullable=True),
    sa.Column("rejected_by", sa.String(200), nullable=True),
    sa.Column("rejected_at", UTCDateTime, nullable=True),
    sa.Column("reject_reason", sa.Text, nullable=True),
    sa.Column("source_name", sa.String(500), nullable=True),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_articles_state", "state"),
    sa.Index("ix_articles_content_hash", "content_hash"),
    sa.Index("ix_articles_external_id", "external_id"),
    sa.Index("ix_articles_scheduled_at", "scheduled_at"),
    sa.Index("ix_articles_publish_at", "publish_at"),
)

DUE_STATES = ("waiting", "retry")
"""States of deliveries the dispatcher may claim (when their ``next_attempt_at`` has come)."""
DUE_CONDITION = "state IN ({})".format(", ".join(f"'{s}'" for s in DUE_STATES))

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id"), nullable=False),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("after_channel", sa.String(100), nullable=True),
    sa.Column("due_at", UTCDateTime, nullable=True),
    # When the dispatcher should next look at this delivery; NULL while it waits for another
    # channel's URL or a person. The due query reads (state, next_attempt_at) through its index.
    sa.Column("next_attempt_at", UTCDateTime, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("lease_owner", sa.String(200), nullable=True),
    sa.Column("lease_expires_at", UTCDateTime, nullable=True),
    sa.Column("idempotency_key", sa.String(100), nullable=False, unique=True),
    sa.Column("remote_id", sa.String(300), nullable=True),
    sa.Column("url", sa.Text, nullable=True),
    sa.Column("receipt", sa.JSON, nullable=True),  # the adapter's Receipt.extra (media URLs…)
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("last_error_kind", sa.String(40), nullable=True),  # workflow.ErrorKind
    # An earlier attempt may have posted and no look has settled it: look before any resend.
    sa.Column("may_have_posted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("first_attempt_at", UTCDateTime, nullable=True),
    sa.Column("first_failure_at", UTCDateTime, nullable=True),
    sa.Column("sent_at", UTCDateTime, nullable=True),
    sa.Column("reach_next_at", UTCDateTime, nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("article_id", "channel"),
    sa.Index("ix_deliveries_state_next", "state", "next_attempt_at"),
    # PostgreSQL's claim reads due deliveries oldest first straight from this index, with no sort
    # however many are due (queries spell the condition exactly as DUE_CONDITION to use it).
    # SQLite's planner would not pick it; its claim reads ix_deliveries_state_next instead.
    sa.Index(
        "ix_deliveries_due", "next_attempt_at", "id", postgresql_where=sa.text(DUE_CONDITION)
    ).ddl_if(dialect="postgresql"),
    sa.Index("ix_deliveries_reach_next", "reach_next_at"),
    # The web calendar and plan read deliveries by day (sent, due, first failure).
    sa.Index("ix_deliveries_state_sent", "state", "sent_at", "channel", "article_id"),
    sa.Index("ix_deliveries_due_at", "due_at"),
    sa.Index("ix_deliveries_first_failure_at", "first_failure_at"),
)

reach_samples = sa.Table(
    "reach_samples",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.Integer, sa.ForeignKey("deliveries.id"), nullable=False),
    sa.Column("collected_at", UTCDateTime, nullable=False),
    sa.Column("metric", sa.String(100), nullable=False),
    # NULL value with available = false: the platform refused or does not serve this metric.
    sa.Column("value", sa.BigInteger, nullable=True),
    sa.Column("available", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Index("ix_reach_samples_delivery_metric", "delivery_id", "metric", "collected_at"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("via", sa.String(40), nullable=False),
    sa.Column("action", sa.String(60), nullable=False),
    sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id"), nullable=True),
    sa.Column("delivery_id", sa.Integer, sa.ForeignKey("deliveries.id"), nullable=True),
    sa.Column("detail", sa.JSON, nullable=True),
    sa.Index("ix_audit_log_article_id", "article_id"),
)

channel_state = sa.Table(
    "channel_state",
    metadata,
    sa.Column("channel", sa.String(100), primary_key=True),
    sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("paused_reason", sa.Text, nullable=True),
    sa.Column("paused_at", UTCDateTime, nullable=True),
    sa.Column("needs_reauth", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("backoff_until", UTCDateTime, nullable=True),
    # Credentials obtained by `loa channels connect` or rotated by the platform (Zalo).
    sa.Column("credentials", sa.JSON, nullable=True),
    sa.Column("token_expires_at", UTCDateTime, nullable=True),
    sa.Column("last_check_at", UTCDateTime, nullable=True),
    sa.Column("last_check_ok", sa.Boolean, nullable=True),
    sa.Column("last_check_detail", sa.Text, nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # One row per incident: repeats of the same key while open are merged into it.
    sa.Column("key", sa.String(300), nullable=False),
    sa.Column("severity", sa.String(20), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("first_at", UTCDateTime, nullable=False),
    sa.Column("last_at", UTCDateTime, nullable=False),
    sa.Column("count", sa.Integer, nullable=False, server_default="1"),
    sa.Column("notified_at", UTCDateTime, nullable=True),
    sa.Column("resolved_at", UTCDateTime, nullable=True),
    sa.Index("ix_alerts_key_open", "key", "resolved_at"),
)

bot_cards = sa.Table(
    "bot_cards",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id"), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("chat_id", sa.BigInteger, nullable=False),
    sa.Column("message_id", sa.BigInteger, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("closed_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("article_id", "revision", "chat_id"),
)

follower_samples = sa.Table(
    "follower_samples",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("collected_at", UTCDateTime, nullable=False),
    sa.Column("metric", sa.String(100), nullable=False),  # e.g. followers_count, fan_count
    # NULL value with available = false: the platform did not give this count.
    sa.Column("value", sa.BigInteger, nullable=True),
    sa.Column("available", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Index("ix_follower_samples_channel_metric", "channel", "metric", "collected_at"),
)

broadcasts = sa.Table(
    "broadcasts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # each | digest
    # proposed → approved → sending → sent | in_doubt | failed; proposed → rejected;
    # in_doubt → sent | not_sent (an admin says).
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("month", sa.String(7), nullable=False),  # local month whose quota it uses
    sa.Column("recipients", sa.BigInteger, nullable=True),  # followers when proposed
    sa.Column("proposed_at", UTCDateTime, nullable=False),
    sa.Column("decided_by", sa.String(200), nullable=True),
    sa.Column("decided_at", UTCDateTime, nullable=True),
    sa.Column("sent_at", UTCDateTime, nullable=True),
    sa.Column("message_id", sa.String(200), nullable=True),
    sa.Column("moderation_state", sa.String(60), nullable=True),  # as the platform reported it
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("card_chat_id", sa.BigInteger, nullable=True),
    sa.Column("card_message_id", sa.BigInteger, nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_broadcasts_channel_month", "channel", "month"),
    sa.Index("ix_broadcasts_state", "state"),
)

broadcast_articles = sa.Table(
    "broadcast_articles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("broadcast_id", sa.Integer, sa.ForeignKey("broadcasts.id"), nullable=False),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id"), nullable=False),
    sa.Column("remote_id", sa.String(200), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    # An article is broadcast at most once per channel: a second proposal cannot even be stored.
    sa.UniqueConstraint("channel", "article_id"),
    sa.Index("ix_broadcast_articles_broadcast_id", "broadcast_id"),
)

# Each delivery's reach for the plan: its latest available sample of the first reach metric it
# has (bot.reports.kpis.REACH_METRICS, lower priority first). Kept by a trigger on reach_samples
# (migration 0005); never written by code.
delivery_reach = sa.Table(
    "delivery_reach",
    metadata,
    sa.Column("delivery_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("metric", sa.String(100), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("value", sa.BigInteger, nullable=False),
    sa.Column("collected_at", UTCDateTime, nullable=False),
    sqlite_with_rowid=False,
)

web_users = sa.Table(
    "web_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("full_name", sa.String(200), nullable=False, server_default=""),
    sa.Column("role", sa.String(20), nullable=False),  # viewer | editor | admin
    sa.Column("password_hash", sa.String(300), nullable=False),  # Argon2id
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", UTCDateTime, nullable=True),
    sa.Column("last_login_at", UTCDateTime, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    # Only the SHA-256 of the cookie's token is stored: a database read does not log anyone in.
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("web_users.id"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("client", sa.String(100), nullable=True),
    sa.Index("ix_web_sessions_user_id", "user_id"),
)

# What each channel readied for an article before its slot (terms resolved, token fresh, media
# uploaded when the channel prepares media ahead), or why it could not.
preparations = sa.Table(
    "preparations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id"), nullable=False),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("fingerprint", sa.String(100), nullable=False, server_default=""),
    sa.Column("state", sa.String(20), nullable=False),  # ready | failed
    sa.Column("data", sa.JSON, nullable=True),  # what the adapter's publish reuses
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("calls", sa.JSON, nullable=True),  # platform calls the preparation made, by kind
    sa.Column("due_at", UTCDateTime, nullable=True),
    sa.Column("prepared_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("article_id", "channel"),
)

# Facts a channel keeps across articles and restarts (e.g. WordPress term ids by name).
channel_facts = sa.Table(
    "channel_facts",
    metadata,
    sa.Column("channel", sa.String(100), primary_key=True),
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("value", sa.JSON, nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Platform calls made for each delivery, by kind ("POST /wp-json/wp/v2/posts"), all attempts.
delivery_calls = sa.Table(
    "delivery_calls",
    metadata,
    sa.Column("delivery_id", sa.Integer, sa.ForeignKey("deliveries.id"), primary_key=True),
    sa.Column("kind", sa.String(200), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)

# Login attempts, reserved before any password is checked (content_queue.login_attempts): one row
# per address ("a:<address>", a count in a window) and per account name typed from an address
# ("u:<address> <name>", failures and the time the next try is allowed). Rows expire on their own.
login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("tries", sa.Integer, nullable=False),
    sa.Column("window_start", UTCDateTime, nullable=False),
    sa.Column("next_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Index("ix_login_attempts_expires_at", "expires_at"),
)

# Citizens in (issue 23): every event a platform pushed to a webhook, stored before the 200
# answer; deduplicated on the platform's own id (msg_id / mid / comment id).
citizen_events = sa.Table(
    "citizen_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(100), nullable=False),  # the channel's name in config.toml
    sa.Column("platform", sa.String(20), nullable=False),  # zalo | facebook
    sa.Column("kind", sa.String(30), nullable=False),  # message | feed | other
    sa.Column("external_id", sa.String(200), nullable=False),
    sa.Column("sender", sa.String(200), nullable=True),  # the citizen's id (personal data)
    sa.Column("text", sa.Text, nullable=True),  # what they wrote, as the adapter read it
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("state", sa.String(20), nullable=False, server_default="new"),
    sa.Column("lease_owner", sa.String(100), nullable=True),
    sa.Column("lease_until", UTCDateTime, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("processed_at", UTCDateTime, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.UniqueConstraint("channel", "external_id"),
    sa.Index("ix_citizen_events_state", "state"),
)

# A citizen's question (one per message event) and what became of it: answered automatically, or
# handed over to the admins (``handover``: open → answered | skipped).
citizen_questions = sa.Table(
    "citizen_questions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.Integer, sa.ForeignKey("citizen_events.id"), nullable=False),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("citizen_id", sa.String(200), nullable=False),
    sa.Column("message_id", sa.String(200), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("asked_at", UTCDateTime, nullable=False),
    sa.Column("state", sa.String(20), nullable=False),  # new | answered | handed_over | greeted
    sa.Column("answer_text", sa.Text, nullable=True),
    sa.Column("hits", sa.JSON, nullable=True),  # best guesses: title, url, passage, score
    sa.Column("best", sa.Float, nullable=True),
    sa.Column("handover", sa.String(20), nullable=True),  # open | answered | skipped
    sa.Column("handover_by", sa.String(100), nullable=True),
    sa.Column("handover_at", UTCDateTime, nullable=True),
    sa.Column("saved_qa_id", sa.Integer, nullable=True),
    sa.Column("card_chat_id", sa.BigInteger, nullable=True),
    sa.Column("card_message_id", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("event_id"),
    sa.Index("ix_citizen_questions_channel_citizen_id", "channel", "citizen_id"),
    sa.Index("ix_citizen_questions_asked_at", "asked_at"),
)

# One reply per (question, kind): ``auto`` (the assistant's answer), ``notice`` ("a person will
# answer"), ``human`` (an admin's answer or a suggested passage). Never twice: pending → sending
# (one winner) → sent | failed | in_doubt → sent | not_sent (a person says).
citizen_replies = sa.Table(
    "citizen_replies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("question_id", sa.Integer, sa.ForeignKey("citizen_questions.id"), nullable=False),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("citizen_id", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("author", sa.String(100), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime, nullable=True),
    sa.Column("remote_id", sa.String(200), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("decided_by", sa.String(100), nullable=True),
    sa.Column("card_chat_id", sa.BigInteger, nullable=True),
    sa.Column("card_message_id", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("question_id", "kind"),
    sa.Index("ix_citizen_replies_state", "state"),
)

# The procedure catalogue ("thủ tục hành chính", ../shared/contracts/procedures.md): one row per
# procedure code, replaced by `loa knowledge import`; keys not listed here are kept in ``extra``.
procedures = sa.Table(
    "procedures",
    metadata,
    sa.Column("ma", sa.String(100), primary_key=True),
    sa.Column("ten", sa.Text, nullable=False),
    sa.Column("linh_vuc", sa.Text, nullable=False, server_default=""),
    sa.Column("co_quan", sa.Text, nullable=False, server_default=""),
    sa.Column("doi_tuong", sa.Text, nullable=False, server_default=""),
    sa.Column("cach_thuc", sa.Text, nullable=False, server_default=""),
    sa.Column("trinh_tu", sa.Text, nullable=False, server_default=""),
    sa.Column("ho_so", sa.Text, nullable=False, server_default=""),
    sa.Column("thoi_han", sa.Text, nullable=False, server_default=""),
    sa.Column("phi", sa.Text, nullable=False, server_default=""),
    sa.Column("can_cu", sa.Text, nullable=False, server_default=""),
    sa.Column("url", sa.Text, nullable=False, server_default=""),
    sa.Column("cap_nhat", sa.Date, nullable=True),
    sa.Column("extra", sa.JSON, nullable=True),
    sa.Column("imported_by", sa.String(200), nullable=False),
    sa.Column("imported_at", UTCDateTime, nullable=False),
)

# Question–answer pairs admins saved from answered hand-overs ("Lưu làm hỏi đáp").
saved_answers = sa.Table(
    "saved_answers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("source_url", sa.Text, nullable=True),
    sa.Column("saved_by", sa.String(200), nullable=False),
    sa.Column("saved_at", UTCDateTime, nullable=False),
)
