"""Reads for the web plan page: a year's figures month by month, aggregated in SQL.

Months are local months: the caller passes the 13 UTC instants that bound them, and a ``CASE``
over those bounds turns a timestamp into its month inside the query, on SQLite and PostgreSQL
alike. Definitions follow ``bot.kpis``: a website article counts once in the month its website
delivery was sent, and covers its topic in that month; reach of a delivery is its plan sample
(``reach_latest``) of the first reach metric it has.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from content_queue.store import Store
from content_queue.tables import articles, audit_log, deliveries, reach_latest, reach_samples

__all__ = ["FailureMonth", "YearFigures", "change_mark", "year_figures"]


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
    """The plan page's figures for the months bounded by ``bounds`` (13 UTC instants).

    One pass over the year's sent deliveries, grouped by channel, month and topic, gives the
    posts, the website articles, the topics and the reach (each delivery's plan sample read
    by primary key from ``reach_latest``); a second, small query reads the failures.
    """
    d, a = deliveries, articles
    lo, hi = bounds[0], bounds[-1]
    month = _month_of(d.c.sent_at, bounds).label("m")
    value, aliases = _reach_value(reach_metrics)
    joined: sa.FromClause = d.join(a, a.c.id == d.c.article_id)
    for r, metric in zip(aliases, reach_metrics, strict=True):
        joined = joined.outerjoin(r, sa.and_(r.c.delivery_id == d.c.id, r.c.metric == metric,
                                             r.c.available))
    main_q = (sa.select(d.c.channel, month, a.c.topic, sa.func.count(), sa.func.sum(value))
              .select_from(joined)
              .where(d.c.state == "sent", d.c.sent_at >= lo, d.c.sent_at < hi)
              .group_by(d.c.channel, month, a.c.topic))
    fail_month = _month_of(d.c.first_failure_at, bounds).label("m")
    fail_q = (sa.select(fail_month, d.c.state, d.c.first_failure_at, d.c.sent_at)
              .where(d.c.first_failure_at >= lo, d.c.first_failure_at < hi,
                     d.c.state.in_(("failed", "sent"))))
    web = list(website_channels)
    with store.read() as conn:
        rows = conn.execute(main_q).all()
        fail_rows = conn.execute(fail_q).all()
        if len(web) > 1:  # an article posted to two website channels counts once
            by_article = (sa.select(month, a.c.topic, sa.func.count(sa.distinct(d.c.article_id)))
                          .select_from(d.join(a, a.c.id == d.c.article_id))
                          .where(d.c.state == "sent", d.c.sent_at >= lo, d.c.sent_at < hi,
                                 d.c.channel.in_(web)).group_by(month, a.c.topic))
            web_rows = [(m, t, n) for m, t, n in conn.execute(by_article)]
        else:
            web_rows = [(m, t, n) for c, m, t, n, _ in rows if c in web]
    posts: dict[tuple[str, int], int] = defaultdict(int)
    reach: dict[tuple[str, int], int] = defaultdict(int)
    for channel, m, _topic, n, v in rows:
        if m is None:
            continue
        posts[(channel, int(m))] += int(n)
        if v is not None:
            reach[(channel, int(m))] += int(v)
    website: dict[int, int] = defaultdict(int)
    topics: dict[tuple[str, int], int] = defaultdict(int)
    for m, topic, n in web_rows:
        if m is None:
            continue
        website[int(m)] += int(n)
        topics[(topic, int(m))] += int(n)
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
    return YearFigures(dict(website), dict(topics), dict(reach), dict(posts), failures)


def change_mark(store: Store) -> tuple[int, int]:
    """A value that changes whenever anything the web page's figures read may have changed.

    Every state change of an article or a delivery writes the audit log in the same transaction,
    and reach only ever grows by inserted samples, so the newest ids of the two tables move
    with any change. Two primary-key look-ups: cheap enough to ask on every page view.
    """
    with store.read() as conn:
        return (int(conn.execute(sa.select(sa.func.max(audit_log.c.id))).scalar() or 0),
                int(conn.execute(sa.select(sa.func.max(reach_samples.c.id))).scalar() or 0))
