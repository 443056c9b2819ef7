"""The reads behind the plan's figures (bot.reports.kpis computes them): sent posts, latest reach
samples, failures, and the month's website articles; each set read in one snapshot."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from content_queue.store_core import StoreCore
from content_queue.tables import articles, deliveries, reach_samples
from content_queue.workflow import ArticleState

__all__ = ["FailedRow", "FixedRow", "KpiReads", "PeriodRows", "SentRow"]


@dataclass(frozen=True)
class SentRow:
    """A delivery sent in the period, with its article's title and topic."""

    id: int
    article_id: int
    channel: str
    sent_at: datetime
    title: str
    topic: str


@dataclass(frozen=True)
class FailedRow:
    id: int
    article_id: int
    channel: str
    title: str
    last_error: str | None
    failed_at: datetime | None = None


@dataclass(frozen=True)
class FixedRow:
    id: int
    article_id: int
    channel: str
    first_failure_at: datetime
    sent_at: datetime


@dataclass(frozen=True)
class PeriodRows:
    sent: list[SentRow]
    samples: dict[int, dict[str, int | None]]  # delivery → metric → latest available (or None)
    failed: list[FailedRow]
    fixed: list[FixedRow]


def _sent(conn: sa.Connection, lo: datetime, hi: datetime) -> list[SentRow]:
    q = (
        sa.select(
            deliveries.c.id,
            deliveries.c.article_id,
            deliveries.c.channel,
            deliveries.c.sent_at,
            articles.c.title,
            articles.c.topic,
        )
        .join(articles, articles.c.id == deliveries.c.article_id)
        .where(deliveries.c.state == "sent", deliveries.c.sent_at >= lo, deliveries.c.sent_at < hi)
        .order_by(deliveries.c.sent_at, deliveries.c.id)
    )
    return [SentRow(**r._mapping) for r in conn.execute(q)]


def _latest_samples(
    conn: sa.Connection, lo: datetime, hi: datetime
) -> dict[int, dict[str, int | None]]:
    """Per delivery sent in [lo, hi): metric -> latest available value (None if none available).

    One query: rows ranked per (delivery, metric) with available ones first, newest first.
    """
    ranked = (
        sa.select(
            reach_samples.c.delivery_id,
            reach_samples.c.metric,
            reach_samples.c.value,
            reach_samples.c.available,
            sa.func.row_number()
            .over(
                partition_by=(reach_samples.c.delivery_id, reach_samples.c.metric),
                order_by=(
                    reach_samples.c.available.desc(),
                    reach_samples.c.collected_at.desc(),
                    reach_samples.c.id.desc(),
                ),
            )
            .label("rn"),
        )
        .join(deliveries, deliveries.c.id == reach_samples.c.delivery_id)
        .where(deliveries.c.state == "sent", deliveries.c.sent_at >= lo, deliveries.c.sent_at < hi)
        .subquery()
    )
    q = sa.select(ranked.c.delivery_id, ranked.c.metric, ranked.c.value, ranked.c.available).where(
        ranked.c.rn == 1
    )
    out: dict[int, dict[str, int | None]] = defaultdict(dict)
    rows: list[Any] = list(conn.execute(q))
    for did, metric, value, available in rows:
        out[did][metric] = int(value) if available and value is not None else None
    return out


def _failures(
    conn: sa.Connection, lo: datetime, hi: datetime
) -> tuple[list[FailedRow], list[FixedRow]]:
    d = deliveries
    when = sa.func.coalesce(d.c.first_failure_at, d.c.updated_at)
    failed = [
        FailedRow(**r._mapping)
        for r in conn.execute(
            sa.select(
                d.c.id,
                d.c.article_id,
                d.c.channel,
                articles.c.title,
                d.c.last_error,
                when.label("failed_at"),
            )
            .join(articles, articles.c.id == d.c.article_id)
            .where(d.c.state == "failed", when >= lo, when < hi)
            .order_by(d.c.id)
        )
    ]
    fixed = [
        FixedRow(**r._mapping)
        for r in conn.execute(
            sa.select(d.c.id, d.c.article_id, d.c.channel, d.c.first_failure_at, d.c.sent_at)
            .where(
                d.c.state == "sent",
                d.c.first_failure_at.is_not(None),
                d.c.first_failure_at >= lo,
                d.c.first_failure_at < hi,
            )
            .order_by(d.c.id)
        )
    ]
    return failed, fixed


class KpiReads(StoreCore):
    """The reads behind the plan's figures (part of ``store.reads``)."""

    def period_rows(self, lo: datetime, hi: datetime) -> PeriodRows:
        """Everything the figures of [lo, hi) need, read in one snapshot (three queries)."""
        with self.read() as conn:
            return PeriodRows(
                _sent(conn, lo, hi), _latest_samples(conn, lo, hi), *_failures(conn, lo, hi)
            )

    def month_article_ids(
        self, lo: datetime, hi: datetime, website_channels: Collection[str]
    ) -> tuple[list[int], list[int]]:
        """Website articles published in [lo, hi), and approved ones still due in it."""
        d = deliveries
        chans = list(website_channels)
        with self.read() as conn:
            done: list[int] = sorted(
                set(
                    conn.execute(
                        sa.select(d.c.article_id).where(
                            d.c.state == "sent",
                            d.c.channel.in_(chans),
                            d.c.sent_at >= lo,
                            d.c.sent_at < hi,
                        )
                    ).scalars()
                )
            )
            due = sa.func.coalesce(d.c.next_attempt_at, d.c.due_at)
            planned: list[int] = sorted(
                set(
                    conn.execute(
                        sa.select(d.c.article_id)
                        .join(articles, articles.c.id == d.c.article_id)
                        .where(
                            articles.c.state == ArticleState.APPROVED,
                            d.c.channel.in_(chans),
                            d.c.state.in_(("waiting", "retry")),
                            due >= lo,
                            due < hi,
                        )
                    ).scalars()
                )
                - set(done)
            )
        return done, planned
