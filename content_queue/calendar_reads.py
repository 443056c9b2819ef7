"""Reads for the web calendar and queue: posts between two instants, read through indexes.

A post is placed at its ``sent_at`` once sent, else at its ``due_at`` (the approved slot); an
article still awaiting a decision with a requested time appears at that time. Each half of the
query reads one index range (``ix_deliveries_sent_at``, ``ix_deliveries_due_at``,
``ix_articles_publish_at``), so a month costs the same however long the history is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from content_queue.store import Store
from content_queue.tables import articles, deliveries

__all__ = ["CalendarEntry", "QueueEntry", "calendar_entries", "pending_queue"]


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


def calendar_entries(store: Store, lo: datetime, hi: datetime, *,
                     channels: list[str] | None = None, topic: str | None = None,
                     limit: int = 3000) -> tuple[list[CalendarEntry], bool]:
    """Posts in [lo, hi), oldest first, at most ``limit``; the flag says some were left out."""
    d, a = deliveries, articles
    cols = (d.c.article_id, a.c.title, a.c.topic, d.c.channel, d.c.state, d.c.url)
    sent = (sa.select(*cols, d.c.sent_at.label("at"))
            .join(a, a.c.id == d.c.article_id)
            .where(d.c.sent_at >= lo, d.c.sent_at < hi, d.c.state.in_(("sent", "retracted"))))
    due = (sa.select(*cols, d.c.due_at.label("at"))
           .join(a, a.c.id == d.c.article_id)
           .where(d.c.due_at >= lo, d.c.due_at < hi,
                  sa.or_(d.c.sent_at.is_(None), d.c.state.notin_(("sent", "retracted")))))
    if channels:
        sent = sent.where(d.c.channel.in_(channels))
        due = due.where(d.c.channel.in_(channels))
    waiting = (sa.select(a.c.id.label("article_id"), a.c.title, a.c.topic,
                         sa.null().label("channel"), a.c.state, sa.null().label("url"),
                         a.c.publish_at.label("at"))
               .where(a.c.publish_at >= lo, a.c.publish_at < hi, a.c.state == "pending"))
    if topic:
        sent, due, waiting = (q.where(a.c.topic == topic) for q in (sent, due, waiting))
    parts = [sent, due] if channels else [sent, due, waiting]
    union = sa.union_all(*parts).subquery()
    q = sa.select(union).order_by(union.c.at, union.c.article_id, union.c.channel).limit(limit + 1)
    with store.read() as conn:
        rows = conn.execute(q).all()
    entries = [CalendarEntry(r.article_id, r.title, r.topic, r.channel, r.state, r.at, r.url)
               for r in rows[:limit]]
    return entries, len(rows) > limit


def pending_queue(store: Store, limit: int = 500) -> list[QueueEntry]:
    """Articles awaiting a decision, oldest submission first (one query, no bodies)."""
    a = articles
    q = (sa.select(a.c.id, a.c.revision, a.c.title, a.c.topic, a.c.topic_suggested, a.c.channels,
                   a.c.publish_at, a.c.submitted_by, a.c.submitted_at, a.c.source_name)
         .where(a.c.state == "pending").order_by(a.c.submitted_at, a.c.id).limit(limit))
    with store.read() as conn:
        return [QueueEntry(r.id, r.revision, r.title, r.topic, bool(r.topic_suggested),
                           list(r.channels or []), r.publish_at, r.submitted_by, r.submitted_at,
                           r.source_name) for r in conn.execute(q)]
