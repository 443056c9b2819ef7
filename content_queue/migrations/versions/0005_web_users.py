"""web page: users, sessions, latest reach per delivery, indexes for the calendar and the plan

Revision ID: 0005
Revises: 0002

``reach_latest`` holds, per (delivery, metric), the sample the plan's figures use: the newest
available one, else the newest unavailable one (the ranking of ``bot.kpis``). A trigger on
``reach_samples`` keeps it current, so the plan page reads one row per delivery and metric
instead of ranking a million samples on every view.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from content_queue.tables import UTCDateTime

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None

# The newer sample wins unless it would replace an available value by an unavailable one.
_WINS = ("(excluded.available AND (NOT reach_latest.available "
         "OR excluded.collected_at >= reach_latest.collected_at)) "
         "OR (NOT excluded.available AND NOT reach_latest.available "
         "AND excluded.collected_at >= reach_latest.collected_at)")
_UPSERT = ("INSERT INTO reach_latest (delivery_id, metric, value, available, collected_at) "
           "VALUES (NEW.delivery_id, NEW.metric, NEW.value, NEW.available, NEW.collected_at) "
           "ON CONFLICT (delivery_id, metric) DO UPDATE SET value = excluded.value, "
           "available = excluded.available, collected_at = excluded.collected_at "
           f"WHERE {_WINS}")


def upgrade() -> None:
    op.create_table(
        "web_users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", UTCDateTime, nullable=True),
        sa.Column("last_login_at", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_web_users"),
        sa.UniqueConstraint("name", name="uq_web_users_name"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("client", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_web_sessions"),
        sa.ForeignKeyConstraint(["user_id"], ["web_users.id"],
                                name="fk_web_sessions_user_id_web_users"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_table(
        "reach_latest",
        sa.Column("delivery_id", sa.Integer, nullable=False),
        sa.Column("metric", sa.String(100), nullable=False),
        sa.Column("value", sa.BigInteger, nullable=True),
        sa.Column("available", sa.Boolean, nullable=False),
        sa.Column("collected_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", "metric", name="pk_reach_latest"),
        sqlite_with_rowid=False,  # one B-tree: a look-up by key reads the value too
    )
    op.create_index("ix_articles_scheduled_at", "articles", ["scheduled_at"])
    op.create_index("ix_articles_publish_at", "articles", ["publish_at"])
    # Covering the plan's yearly scan and the calendar's sent posts (no table row read).
    op.create_index("ix_deliveries_state_sent", "deliveries",
                    ["state", "sent_at", "channel", "article_id"])
    op.create_index("ix_deliveries_due_at", "deliveries", ["due_at"])
    op.create_index("ix_deliveries_first_failure_at", "deliveries", ["first_failure_at"])
    # Existing samples: the winner of each (delivery, metric), as the trigger would have kept it.
    op.execute(
        "INSERT INTO reach_latest (delivery_id, metric, value, available, collected_at) "
        "SELECT delivery_id, metric, value, available, collected_at FROM ("
        " SELECT delivery_id, metric, value, available, collected_at, ROW_NUMBER() OVER ("
        "  PARTITION BY delivery_id, metric"
        "  ORDER BY available DESC, collected_at DESC, id DESC) AS rn FROM reach_samples) ranked "
        "WHERE rn = 1")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION loa_reach_latest() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {_UPSERT}; RETURN NEW; END $$")
        op.execute("CREATE TRIGGER tr_reach_latest AFTER INSERT ON reach_samples "
                   "FOR EACH ROW EXECUTE FUNCTION loa_reach_latest()")
    else:
        op.execute("CREATE TRIGGER tr_reach_latest AFTER INSERT ON reach_samples "
                   f"BEGIN {_UPSERT}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER tr_reach_latest ON reach_samples")
        op.execute("DROP FUNCTION loa_reach_latest()")
    else:
        op.execute("DROP TRIGGER tr_reach_latest")
    for name, table in (("ix_deliveries_first_failure_at", "deliveries"),
                        ("ix_deliveries_due_at", "deliveries"),
                        ("ix_deliveries_state_sent", "deliveries"),
                        ("ix_articles_publish_at", "articles"),
                        ("ix_articles_scheduled_at", "articles")):
        op.drop_index(name, table_name=table)
    op.drop_table("reach_latest")
    op.drop_index("ix_web_sessions_user_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("web_users")
