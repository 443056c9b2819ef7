"""Reads for the web plan page: a year's figures month by month, aggregated in SQL.

Months are local months: the caller passes the 13 UTC instants that bound them, and a ``CASE``
over those bounds turns a timestamp into its month inside the query, on SQLite and PostgreSQL
alike. Definitions follow ``bot.kpis``: a website article counts once in the month its website
delivery was sent; an article covers its topic in the month of its first sent delivery; reach of
a delivery is its plan sample (``reach_latest``) of the first reach metric it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from content_queue.store import Store
from content_queue.tables import articles, deliveries, reach_latest

__all__ = ["FailureMonth", "YearFigures", "year_figures"]


@dataclass(frozen=True)
class FailureMonth:
    month: int
    failed: int  # still failed (gave up)
    fixed: int  # failed once, then sent
    hours_to_fix_avg: float | None
    hours_to_fix_max: float | None


@dataclass(frozen=True)
class YearFigures:
    website_articles: dict[int, int]  # month -> distinct articles sent to a website channel
    topics: dict[tuple[str, int], int]  # (topic, month) -> articles first published that month
    reach: dict[tuple[str, int], int]  # (channel, month) -> summed reach of its posts
    posts: dict[tuple[str, int], int]  # (channel, month) -> posts sent
    failures: dict[int, FailureMonth]


def _month_of(col: sa.ColumnElement[datetime], bounds: Sequence[datetime]) -> sa.Case[int]:
    return sa.case(*((col < bounds[i], i) for i in range(1, len(bounds))), else_=None)


def _reach_value(metrics: Sequence[str]) -> tuple[sa.ColumnElement[int], list[sa.Alias]]:
    aliases = [reach_latest.alias(f"r{i}") for i in range(len(metrics))]
    return sa.func.coalesce(*(r.c.value for r in aliases)), aliases


def year_figures(store: Store, bounds: Sequence[datetime], *, website_channels: Sequence[str],
                 reach_metrics: Sequence[str]) -> YearFigures:
    """The plan page's figures for the months bounded by ``bounds`` (13 UTC instants)."""
    d, a = deliveries, articles
    lo, hi = bounds[0], bounds[-1]
    in_year = sa.and_(d.c.state == "sent", d.c.sent_at >= lo, d.c.sent_at < hi)
    month = _month_of(d.c.sent_at, bounds).label("m")
    web_q = (sa.select(month, sa.func.count(sa.distinct(d.c.article_id)))
             .where(in_year, d.c.channel.in_(list(website_channels))).group_by(month))
    per_channel = (sa.select(d.c.channel, month, sa.func.count())
                   .where(in_year).group_by(d.c.channel, month))

    first_sent = (sa.select(d.c.article_id, sa.func.min(d.c.sent_at).label("first_at"))
                  .where(d.c.state == "sent", d.c.sent_at < hi)
                  .group_by(d.c.article_id).subquery())
    topic_month = _month_of(first_sent.c.first_at, bounds).label("m")
    topic_q = (sa.select(a.c.topic, topic_month, sa.func.count())
               .join(first_sent, first_sent.c.article_id == a.c.id)
               .where(first_sent.c.first_at >= lo)
               .group_by(a.c.topic, topic_month))

    value, aliases = _reach_value(reach_metrics)
    joined: sa.FromClause = d
    for r, metric in zip(aliases, reach_metrics, strict=True):
        joined = joined.outerjoin(r, sa.and_(r.c.delivery_id == d.c.id, r.c.metric == metric,
                                             r.c.available))
    reach_q = (sa.select(d.c.channel, month, sa.func.sum(value)).select_from(joined)
               .where(in_year).group_by(d.c.channel, month))

    fail_month = _month_of(d.c.first_failure_at, bounds).label("m")
    fail_q = (sa.select(fail_month, d.c.state, d.c.first_failure_at, d.c.sent_at)
              .where(d.c.first_failure_at >= lo, d.c.first_failure_at < hi,
                     d.c.state.in_(("failed", "sent"))))

    with store.read() as conn:
        web = {int(m): int(n) for m, n in conn.execute(web_q) if m is not None}
        posts = {(c, int(m)): int(n) for c, m, n in conn.execute(per_channel) if m is not None}
        topics = {(t, int(m)): int(n) for t, m, n in conn.execute(topic_q) if m is not None}
        reach = {(c, int(m)): int(v) for c, m, v in conn.execute(reach_q)
                 if m is not None and v is not None}
        fail_rows = conn.execute(fail_q).all()
    failures: dict[int, FailureMonth] = {}
    grouped: dict[int, tuple[int, list[float]]] = {}
    for m, state, first_at, sent_at in fail_rows:
        failed, hours = grouped.setdefault(int(m), (0, []))
        if state == "failed":
            grouped[int(m)] = (failed + 1, hours)
        elif sent_at is not None:
            hours.append((sent_at - first_at).total_seconds() / 3600)
    for m, (failed, hours) in grouped.items():
        failures[m] = FailureMonth(m, failed, len(hours),
                                   round(sum(hours) / len(hours), 1) if hours else None,
                                   round(max(hours), 1) if hours else None)
    return YearFigures(web, topics, reach, posts, failures)
