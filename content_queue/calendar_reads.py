"""Reads for the web calendar and queue: posts between two instants, read through indexes.

A post is placed at its ``sent_at`` once sent, else at its ``due_at`` (the approved slot); an
article still awaiting a decision with a requested time appears at that time. Each half of the
query reads one index range (``ix_deliveries_state_sent``, ``ix_deliveries_due_at``,
``ix_articles_publish_at``), so a month costs the same however long the history is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from content_queue.store_core import StoreCore
from content_queue.tables import articles, deliveries
from content_queue.workflow import ArticleState

__all__ = ["CalendarEntry", "CalendarReads", "QueueEntry"]


@dataclass(frozen=True)
class CalendarEntry:
    """One chip: a channel's post of an article (``channel`` None: awaiting a decision)."""

    article_id: int
    title: str
    topic: str
    channel: str | None
    state: str
    at: datetime
    url: str | None


@dataclass(frozen=True)
class QueueEntry:
    article_id: int
    revision: int
    title: str
    topic: str
    topic_suggested: bool
    channels: list[str]
    publish_at: datetime | None
    submitted_by: str | None
    submitted_at: datetime
    source_name: str | None


def _posts(
    lo: datetime, hi: datetime, channels: list[str] | None, topic: str | None
) -> sa.Subquery:
    """Every chip in [lo, hi) as one union: sent posts, due posts, requested times."""
    d, a = deliveries, articles
    cols = (d.c.article_id, a.c.title, a.c.topic, d.c.channel, d.c.state, d.c.url)
    sent = (
        sa.select(*cols, d.c.sent_at.label("at"))
        .join(a, a.c.id == d.c.article_id)
        .where(d.c.state.in_(("sent", "retracted")), d.c.sent_at >= lo, d.c.sent_at < hi)
    )
    due = (
        sa.select(*cols, d.c.due_at.label("at"))
        .join(a, a.c.id == d.c.article_id)
        .where(
            d.c.due_at >= lo,
            d.c.due_at < hi,
            sa.or_(d.c.sent_at.is_(None), d.c.state.notin_(("sent", "retracted"))),
        )
    )
    if channels:
        sent = sent.where(d.c.channel.in_(channels))
        due = due.where(d.c.channel.in_(channels))
    waiting = sa.select(
        a.c.id.label("article_id"),
        a.c.title,
        a.c.topic,
        sa.null().label("channel"),
        a.c.state,
        sa.null().label("url"),
        a.c.publish_at.label("at"),
    ).where(a.c.publish_at >= lo, a.c.publish_at < hi, a.c.state == ArticleState.PENDING)
    if topic:
        sent, due, waiting = (q.where(a.c.topic == topic) for q in (sent, due, waiting))
    parts = [sent, due] if channels else [sent, due, waiting]
    return sa.union_all(*parts).subquery()


def _entry(r: sa.Row) -> CalendarEntry:
    return CalendarEntry(r.article_id, r.title, r.topic, r.channel, r.state, r.at, r.url)


class CalendarReads(StoreCore):
    """The calendar and the pending queue (part of ``store.reads``)."""

    def calendar_entries(
        self,
        lo: datetime,
        hi: datetime,
        *,
        channels: list[str] | None = None,
        topic: str | None = None,
        limit: int = 3000,
    ) -> tuple[list[CalendarEntry], bool]:
        """Posts in [lo, hi), oldest first, at most ``limit``; the flag says some were left out."""
        union = _posts(lo, hi, channels, topic)
        q = (
            sa.select(union)
            .order_by(union.c.at, union.c.article_id, union.c.channel)
            .limit(limit + 1)
        )
        with self.read() as conn:
            rows = conn.execute(q).all()
        return [_entry(r) for r in rows[:limit]], len(rows) > limit

    def calendar_days(
        self,
        bounds: Sequence[datetime],
        *,
        per_day: int,
        channels: list[str] | None = None,
        topic: str | None = None,
    ) -> list[tuple[list[CalendarEntry], int]]:
        """For each day between consecutive ``bounds`` (UTC instants of local midnights): its first
        ``per_day`` posts by time and how many it has in all. The cut is made in SQL, so a crowded
        month costs one indexed read and a small answer."""
        union = _posts(bounds[0], bounds[-1], channels, topic)
        day = sa.case(
            *((union.c.at < bounds[i], i - 1) for i in range(1, len(bounds))), else_=None
        ).label("day")
        order = (union.c.at, union.c.article_id, union.c.channel)
        ranked = sa.select(
            union,
            day,
            sa.func.row_number().over(partition_by=day, order_by=order).label("rn"),
            sa.func.count().over(partition_by=day).label("n"),
        ).subquery()
        q = (
            sa.select(ranked)
            .where(ranked.c.rn <= per_day)
            .order_by(ranked.c.at, ranked.c.article_id, ranked.c.channel)
        )
        days: list[tuple[list[CalendarEntry], int]] = [([], 0) for _ in range(len(bounds) - 1)]
        with self.read() as conn:
            for r in conn.execute(q):
                if r.day is None:
                    continue
                entries, _ = days[r.day]
                entries.append(_entry(r))
                days[r.day] = (entries, int(r.n))
        return days

    def pending_queue(self, limit: int = 500) -> list[QueueEntry]:
        """Articles awaiting a decision, oldest submission first (one query, no bodies)."""
        a = articles
        q = (
            sa.select(
                a.c.id,
                a.c.revision,
                a.c.title,
                a.c.topic,
                a.c.topic_suggested,
                a.c.channels,
                a.c.publish_at,
                a.c.submitted_by,
                a.c.submitted_at,
                a.c.source_name,
            )
            .where(a.c.state == ArticleState.PENDING)
            .order_by(a.c.submitted_at, a.c.id)
            .limit(limit)
        )
        with self.read() as conn:
            return [
                QueueEntry(
                    r.id,
                    r.revision,
                    r.title,
                    r.topic,
                    bool(r.topic_suggested),
                    list(r.channels or []),
                    r.publish_at,
                    r.submitted_by,
                    r.submitted_at,
                    r.source_name,
                )
                for r in conn.execute(q)
            ]
