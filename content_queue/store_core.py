"""What every subject of the store shares: the engine, a write transaction and a read snapshot,
the audit log, reading an article with its deliveries, and settling an article's state."""

from __future__ import annotations

import builtins
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from content_queue.db import is_postgres, one_statement_reader, reader
from content_queue.models import Actor, Article, Delivery
from content_queue.tables import (
    articles,
    audit_log,
    deliveries,
)
from content_queue.workflow import (
    ArticleState,
    DeliveryState,
    NotFound,
)

__all__ = [
    "TERMINAL_DELIVERY",
    "AuditLog",
    "StoreCore",
    "Transactions",
    "delivery_of",
    "utcnow",
]

TERMINAL_DELIVERY = frozenset(
    {DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.CANCELLED, DeliveryState.RETRACTED}
)

# Statements built once: building a statement costs more CPU than SQLite takes to run it. Bound
# names carry a prefix so they never clash with SET columns.
_P = sa.bindparam

_ARTICLE = sa.select(articles).where(articles.c.id == _P("p_article"))

_DELIVERIES_OF = (
    sa.select(deliveries)
    .where(deliveries.c.article_id == _P("p_article"))
    .order_by(deliveries.c.id)
)

_DELIVERY_STATES_OF = sa.select(
    deliveries.c.state, deliveries.c.after_channel, deliveries.c.next_attempt_at
).where(deliveries.c.article_id == _P("p_article"))

# The article and its deliveries in one statement (one row per delivery, the article repeated):
# what a draft is made of, read once per delivery on the dispatcher's path.
_DELIVERY_PREFIX = "d_"
_ARTICLE_WITH_DELIVERIES = (
    sa.select(articles, *(c.label(_DELIVERY_PREFIX + c.name) for c in deliveries.c))
    .select_from(articles.outerjoin(deliveries, deliveries.c.article_id == articles.c.id))
    .where(articles.c.id == _P("p_article"))
    .order_by(deliveries.c.id)
)
_ARTICLE_COLUMNS = tuple(c.name for c in articles.c if c.name != "updated_at")
_DELIVERY_COLUMNS = tuple((_DELIVERY_PREFIX + c.name, c.name) for c in deliveries.c)

_SETTLE_ARTICLE = articles.update().where(
    articles.c.id == _P("p_article"), articles.c.state == ArticleState.APPROVED
)

_AUDIT = audit_log.insert()


def utcnow() -> datetime:
    return datetime.now(UTC)


def delivery_of(row: Any) -> Delivery:
    m = row._mapping
    return Delivery(**{f: m[f] for f in Delivery.__dataclass_fields__})


class Transactions:
    """The engine, its one write queue and its read snapshots: built once per store and shared by
    every sub-store, so they all queue for the same writer."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._reader = reader(engine)
        self._one_reader = one_statement_reader(engine)
        # SQLite has one writer at a time. Threads of this process queue for it here, waking the
        # moment it is free, instead of polling SQLite's lock with sleeps (other processes still
        # wait through SQLite's busy timeout). PostgreSQL needs no such queue.
        self._writer: AbstractContextManager[Any] = (
            nullcontext() if is_postgres(engine) else threading.RLock()
        )

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        """One write transaction (on SQLite it holds the write lock from its start)."""
        with self._writer, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection (on SQLite a snapshot that never waits for the writer)."""
        with self._reader.connect() as conn:
            yield conn

    @contextmanager
    def read_one(self) -> Iterator[Connection]:
        """A connection for ONE read statement (on SQLite no BEGIN: the statement is its own
        snapshot). A second statement on it would not see the same snapshot."""
        with self._one_reader.connect() as conn:
            yield conn


class StoreCore:
    """What every sub-store needs: the shared transactions and the audit log in every change."""

    def __init__(self, transactions: Transactions | Engine):
        # Store passes its shared Transactions; an engine alone (a sub-store built on its own,
        # e.g. ``Knowledge(engine)``) gets transactions of its own.
        if isinstance(transactions, Engine):
            transactions = Transactions(transactions)
        self._transactions = transactions
        self.engine = transactions.engine

    def tx(self) -> AbstractContextManager[Connection]:
        """One write transaction (on SQLite it holds the write lock from its start)."""
        return self._transactions.tx()

    def read(self) -> AbstractContextManager[Connection]:
        """A read-only connection (on SQLite a snapshot that never waits for the writer)."""
        return self._transactions.read()

    def read_one(self) -> AbstractContextManager[Connection]:
        """A connection for one read statement (see :meth:`Transactions.read_one`)."""
        return self._transactions.read_one()

    # ----- audit -----------------------------------------------------------------------------
    @staticmethod
    def audit(
        conn: Connection,
        actor: Actor,
        action: str,
        article_id: int | None = None,
        delivery_id: int | None = None,
        **detail: Any,
    ) -> None:
        conn.execute(
            _AUDIT,
            dict(
                at=utcnow(),
                actor=actor.name,
                via=actor.via,
                action=action,
                article_id=article_id,
                delivery_id=delivery_id,
                detail=detail or None,
            ),
        )

    # ----- reading ---------------------------------------------------------------------------
    def _article(self, conn: Connection, article_id: int, *, lock: bool = False) -> Article:
        return self._article_and_rows(conn, article_id, lock=lock)[0]

    def _article_and_rows(
        self, conn: Connection, article_id: int, *, lock: bool = False
    ) -> tuple[Article, Sequence[Any]]:
        """The article and its deliveries' raw rows (which also hold receipts)."""
        q = _ARTICLE.with_for_update() if lock and is_postgres(conn) else _ARTICLE
        row = conn.execute(q, {"p_article": article_id}).first()
        if row is None:
            raise NotFound(f"Không có bài #{article_id}.")
        ds = conn.execute(_DELIVERIES_OF, {"p_article": article_id}).all()
        m = dict(row._mapping)
        m.pop("updated_at")
        return Article(**m, deliveries=[delivery_of(d) for d in ds]), ds

    def _article_with_rows(self, article_id: int) -> tuple[Article, builtins.list[dict[str, Any]]]:
        """The article and its deliveries' raw rows as mappings, read with one statement."""
        with self.read_one() as conn:
            rows = conn.execute(_ARTICLE_WITH_DELIVERIES, {"p_article": article_id}).all()
        if not rows:
            raise NotFound(f"Không có bài #{article_id}.")
        first = rows[0]._mapping
        ds = [
            {name: m[label] for label, name in _DELIVERY_COLUMNS}
            for m in (r._mapping for r in rows)
            if m[_DELIVERY_PREFIX + "id"] is not None
        ]
        fields = Delivery.__dataclass_fields__
        return (
            Article(
                **{c: first[c] for c in _ARTICLE_COLUMNS},
                deliveries=[Delivery(**{f: d[f] for f in fields}) for d in ds],
            ),
            ds,
        )

    def _settle_article(
        self,
        conn: Connection,
        article_id: int,
        now: datetime,
        states: builtins.list[str] | None = None,
    ) -> None:
        """``published`` or ``partial`` once every delivery is finished (``states``: read here
        unless the caller has just read them in this transaction)."""
        if states is None:
            states = [r.state for r in conn.execute(_DELIVERY_STATES_OF, {"p_article": article_id})]
        if not states or any(s not in TERMINAL_DELIVERY for s in states):
            return
        new = ArticleState.PUBLISHED if all(s == "sent" for s in states) else ArticleState.PARTIAL
        if (
            "sent" not in states
            and new == ArticleState.PARTIAL
            and all(s == "cancelled" for s in states)
        ):
            return
        conn.execute(_SETTLE_ARTICLE, {"p_article": article_id, "state": new, "updated_at": now})


class AuditLog(StoreCore):
    """The audit log read and written on its own (an event that changes no state)."""

    def record_event(
        self, actor: Actor, action: str, article_id: int | None = None, **detail: Any
    ) -> None:
        """Write one audit row on its own (an event that changes no state, e.g. a refusal)."""
        with self.tx() as conn:
            self.audit(conn, actor, action, article_id, **detail)

    def audit_entries(self, article_id: int | None = None) -> builtins.list[dict[str, Any]]:
        q = sa.select(audit_log).order_by(audit_log.c.id)
        if article_id is not None:
            q = q.where(audit_log.c.article_id == article_id)
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]
