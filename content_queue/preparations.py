"""What channels readied before the slot, the facts they keep per channel, and calls per delivery.

Three subjects of issue 16 ("ready before the slot") that share one migration:

* ``preparations``: one row per (article, channel): ready with the data the adapter's publish
  reuses (e.g. WordPress term ids), or failed with a reason an admin can read;
* ``channel_facts``: per-channel facts worth keeping across articles and restarts (WordPress
  term ids by taxonomy and name), so a restart does not look them up again;
* ``delivery_calls``: platform calls made for each delivery, by kind, summed over attempts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from content_queue.db import is_postgres
from content_queue.store_core import StoreCore
from content_queue.tables import (
    articles,
    channel_facts,
    deliveries,
    delivery_calls,
    preparations,
)
from content_queue.workflow import ArticleState

__all__ = ["Preparation", "Preparations", "ToPrepare", "add_calls"]

# Deliveries still to be posted: what is worth preparing.
_UNSENT = ("waiting", "retry")


@dataclass(frozen=True)
class Preparation:
    """One channel's preparation of one article revision."""

    article_id: int
    channel: str
    revision: int
    fingerprint: str
    state: str  # ready | failed
    data: dict[str, Any]
    error: str | None
    calls: dict[str, int]
    due_at: datetime | None
    prepared_at: datetime

    @property
    def ready(self) -> bool:
        return self.state == "ready"


@dataclass(frozen=True)
class ToPrepare:
    """An approved article's delivery that has not been posted yet."""

    article_id: int
    revision: int
    channel: str
    due_at: datetime | None


def _insert(conn: Connection, table: sa.Table) -> Any:
    return (postgresql.insert if is_postgres(conn) else sqlite.insert)(table)


def _preparation(r: Any) -> Preparation:
    return Preparation(
        r.article_id,
        r.channel,
        r.revision,
        r.fingerprint,
        r.state,
        dict(r.data or {}),
        r.error,
        dict(r.calls or {}),
        r.due_at,
        r.prepared_at,
    )


_ADD_CALLS: dict[bool, Any] = {}


def _add_calls(conn: Connection) -> Any:
    """The upsert that adds to a delivery's count of a kind, built once per dialect."""
    postgres = is_postgres(conn)
    if postgres not in _ADD_CALLS:
        stmt = _insert(conn, delivery_calls).values(
            delivery_id=sa.bindparam("p_delivery"),
            kind=sa.bindparam("p_kind"),
            count=sa.bindparam("p_count"),
        )
        _ADD_CALLS[postgres] = stmt.on_conflict_do_update(
            index_elements=["delivery_id", "kind"],
            set_={"count": delivery_calls.c.count + stmt.excluded.count},
        )
    return _ADD_CALLS[postgres]


def add_calls(conn: Connection, calls: Mapping[int, Mapping[str, int]]) -> None:
    """Add ``{delivery id: {kind: count}}`` to the deliveries' totals within ``conn``'s
    transaction (the dispatcher's record of an attempt carries its calls)."""
    rows = [
        {"p_delivery": d, "p_kind": kind, "p_count": n}
        for d, kinds in calls.items()
        for kind, n in kinds.items()
        if n
    ]
    if rows:
        conn.execute(_add_calls(conn), rows if len(rows) > 1 else rows[0])


class Preparations(StoreCore):
    """What each channel prepared before the slot, and the calls each delivery cost (``store.preparations``)."""

    def record_preparation(
        self,
        article_id: int,
        channel: str,
        *,
        revision: int,
        fingerprint: str,
        due_at: datetime | None,
        data: Mapping[str, Any] | None,
        error: str | None,
        calls: Mapping[str, int] | None = None,
    ) -> Preparation:
        """Store the outcome of a preparation (replacing the previous one of this article/channel)."""
        values: dict[str, Any] = dict(
            revision=revision,
            fingerprint=fingerprint,
            state="failed" if error else "ready",
            data=dict(data or {}),
            error=error,
            calls=dict(calls or {}),
            due_at=due_at,
            prepared_at=datetime.now(UTC),
        )
        with self.tx() as conn:
            stmt = _insert(conn, preparations).values(
                article_id=article_id, channel=channel, **values
            )
            conn.execute(
                stmt.on_conflict_do_update(index_elements=["article_id", "channel"], set_=values)
            )
        return Preparation(article_id, channel, **values)

    def preparations_of(self, article_id: int) -> dict[str, Preparation]:
        """The latest preparation of each channel of an article."""
        with self.read() as conn:
            rows = conn.execute(
                sa.select(preparations)
                .where(preparations.c.article_id == article_id)
                .order_by(preparations.c.channel)
            ).all()
        return {r.channel: _preparation(r) for r in rows}

    def to_prepare(self, article_ids: Iterable[int] | None = None) -> list[ToPrepare]:
        """Deliveries of approved articles not posted yet (of these articles, if given), by due time."""
        q = (
            sa.select(
                deliveries.c.article_id,
                articles.c.revision,
                deliveries.c.channel,
                deliveries.c.due_at,
            )
            .join(articles, articles.c.id == deliveries.c.article_id)
            .where(articles.c.state == ArticleState.APPROVED, deliveries.c.state.in_(_UNSENT))
            .order_by(deliveries.c.due_at, deliveries.c.id)
        )
        if article_ids is not None:
            q = q.where(deliveries.c.article_id.in_(list(article_ids)))
        with self.read() as conn:
            return [
                ToPrepare(r.article_id, r.revision, r.channel, r.due_at) for r in conn.execute(q)
            ]

    def facts_of(self, channel: str) -> dict[str, Any]:
        """Every fact kept for a channel, by key."""
        with self.read() as conn:
            rows = conn.execute(
                sa.select(channel_facts.c.key, channel_facts.c.value).where(
                    channel_facts.c.channel == channel
                )
            ).all()
        return {r.key: r.value for r in rows}

    def save_facts(self, channel: str, facts: Mapping[str, Any]) -> None:
        """Keep these facts of a channel (a key already kept is overwritten)."""
        if not facts:
            return
        now = datetime.now(UTC)
        with self.tx() as conn:
            for key, value in facts.items():
                stmt = _insert(conn, channel_facts).values(
                    channel=channel, key=key, value=value, updated_at=now
                )
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["channel", "key"], set_={"value": value, "updated_at": now}
                    )
                )

    def add_delivery_calls(self, calls: Mapping[int, Mapping[str, int]]) -> None:
        """Add attempts' calls to deliveries' totals ({delivery id: {kind: count}}), in one transaction."""
        if not any(n for kinds in calls.values() for n in kinds.values()):
            return
        with self.tx() as conn:
            add_calls(conn, calls)

    def calls_of_article(self, article_id: int) -> dict[int, dict[str, int]]:
        """Platform calls of each delivery of an article: {delivery id: {kind: count}}."""
        q = (
            sa.select(delivery_calls.c.delivery_id, delivery_calls.c.kind, delivery_calls.c.count)
            .join(deliveries, deliveries.c.id == delivery_calls.c.delivery_id)
            .where(deliveries.c.article_id == article_id)
            .order_by(delivery_calls.c.delivery_id, delivery_calls.c.kind)
        )
        out: dict[int, dict[str, int]] = {}
        with self.read() as conn:
            rows: list[Any] = list(conn.execute(q))
        for delivery_id, kind, count in rows:
            out.setdefault(int(delivery_id), {})[str(kind)] = int(count)
        return out
