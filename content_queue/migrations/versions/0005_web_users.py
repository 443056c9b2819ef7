"""web page: users, sessions, each delivery's plan reach, indexes for the calendar and the plan

Revision ID: 0005
Revises: 0002

``delivery_reach`` holds, per delivery, the sample the plan's reach figures use: the latest
available sample of the first reach metric the delivery has (``bot.reports.kpis.REACH_METRICS``, in
order, copied below as it stands at this revision). A trigger on ``reach_samples`` keeps it
current, so the plan page reads one row per delivery instead of ranking a million samples.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from content_queue.tables import UTCDateTime

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

REACH_METRICS = ("post_total_media_view_unique", "reach", "views")  # = bot.reports.kpis, at 0005
_PRIORITY = (
    "CASE {col} " + " ".join(f"WHEN '{m}' THEN {i}" for i, m in enumerate(REACH_METRICS)) + " END"
)
_IS_REACH = (
    "NEW.available AND NEW.value IS NOT NULL AND NEW.metric IN ("
    + ", ".join(f"'{m}'" for m in REACH_METRICS)
    + ")"
)
# A preferred metric wins; within one metric, the newer sample wins.
_UPSERT = (
    "INSERT INTO delivery_reach (delivery_id, metric, priority, value, collected_at) "
    f"VALUES (NEW.delivery_id, NEW.metric, {_PRIORITY.format(col='NEW.metric')}, "
    "NEW.value, NEW.collected_at) "
    "ON CONFLICT (delivery_id) DO UPDATE SET metric = excluded.metric, "
    "priority = excluded.priority, value = excluded.value, "
    "collected_at = excluded.collected_at "
    "WHERE excluded.priority < delivery_reach.priority "
    "OR (excluded.priority = delivery_reach.priority "
    "AND excluded.collected_at >= delivery_reach.collected_at)"
)


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
        sa.ForeignKeyConstraint(
            ["user_id"], ["web_users.id"], name="fk_web_sessions_user_id_web_users"
        ),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_table(
        "delivery_reach",
        sa.Column("delivery_id", sa.Integer, nullable=False),
        sa.Column("metric", sa.String(100), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.Column("collected_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", name="pk_delivery_reach"),
        sqlite_with_rowid=False,  # one B-tree: a look-up by key reads the value too
    )
    op.create_index("ix_articles_scheduled_at", "articles", ["scheduled_at"])
    op.create_index("ix_articles_publish_at", "articles", ["publish_at"])
    # Covering the plan's yearly scan and the calendar's sent posts (no table row read).
    op.create_index(
        "ix_deliveries_state_sent", "deliveries", ["state", "sent_at", "channel", "article_id"]
    )
    op.create_index("ix_deliveries_due_at", "deliveries", ["due_at"])
    op.create_index("ix_deliveries_first_failure_at", "deliveries", ["first_failure_at"])
    # Existing samples: the winner of each delivery, as the trigger would have kept it.
    metrics = ", ".join(f"'{m}'" for m in REACH_METRICS)
    op.execute(
        "INSERT INTO delivery_reach (delivery_id, metric, priority, value, collected_at) "
        "SELECT delivery_id, metric, priority, value, collected_at FROM ("
        f" SELECT delivery_id, metric, {_PRIORITY.format(col='metric')} AS priority, value,"
        "  collected_at, ROW_NUMBER() OVER (PARTITION BY delivery_id"
        f"  ORDER BY {_PRIORITY.format(col='metric')}, collected_at DESC, id DESC) AS rn"
        f" FROM reach_samples WHERE available AND value IS NOT NULL AND metric IN ({metrics})"
        ") ranked WHERE rn = 1"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION loa_delivery_reach() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {_UPSERT}; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER tr_delivery_reach AFTER INSERT ON reach_samples "
            f"FOR EACH ROW WHEN ({_IS_REACH}) EXECUTE FUNCTION loa_delivery_reach()"
        )
    else:
        op.execute(
            "CREATE TRIGGER tr_delivery_reach AFTER INSERT ON reach_samples "
            f"WHEN {_IS_REACH} BEGIN {_UPSERT}; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER tr_delivery_reach ON reach_samples")
        op.execute("DROP FUNCTION loa_delivery_reach()")
    else:
        op.execute("DROP TRIGGER tr_delivery_reach")
    for name, table in (
        ("ix_deliveries_first_failure_at", "deliveries"),
        ("ix_deliveries_due_at", "deliveries"),
        ("ix_deliveries_state_sent", "deliveries"),
        ("ix_articles_publish_at", "articles"),
        ("ix_articles_scheduled_at", "articles"),
    ):
        op.drop_index(name, table_name=table)
    op.drop_table("delivery_reach")
    op.drop_index("ix_web_sessions_user_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("web_users")
