"""Reads for the web plan page: a year's figures month by month, aggregated in SQL.

Months are local months: the caller passes the 13 UTC instants that bound them, and a ``CASE``
over those bounds turns a timestamp into its month inside the query, on SQLite and PostgreSQL
alike. Definitions follow ``bot.reports.kpis``: a website article counts once in the month its website
delivery was sent, and covers its topic in that month; reach of a delivery is its latest
available sample of the first reach metric it has (``delivery_reach``, kept by a trigger).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from content_queue.store_core import StoreCore
from content_queue.tables import articles, audit_log, deliveries, delivery_reach, reach_samples

__all__ = ["FailureMonth", "PlanReads", "YearFigures"]


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


class PlanReads(StoreCore):
    """The plan page's year figures and its change mark (part of ``store.reads``)."""

    def year_figures(
        self, bounds: Sequence[datetime], *, website_channels: Sequence[str]
    ) -> YearFigures:
        """The plan page's figures for the months bounded by ``bounds`` (13 UTC instants).

        Three reads, each over the covering index ``ix_deliveries_state_sent``: posts and reach per
        channel and month (one primary-key look-up in ``delivery_reach`` per post), website articles
        per month and topic (one look-up in ``articles`` per website post), and the failures.
        """
        d, a, r = deliveries, articles, delivery_reach
        lo, hi = bounds[0], bounds[-1]
        sent = (d.c.state == "sent", d.c.sent_at >= lo, d.c.sent_at < hi)
        month = _month_of(d.c.sent_at, bounds).label("m")
        posts_q = (
            sa.select(d.c.channel, month, sa.func.count(), sa.func.sum(r.c.value))
            .select_from(d.outerjoin(r, r.c.delivery_id == d.c.id))
            .where(*sent)
            .group_by(d.c.channel, month)
        )
        # An article posted to two website channels counts once.
        web_q = (
            sa.select(month, a.c.topic, sa.func.count(sa.distinct(d.c.article_id)))
            .select_from(d.join(a, a.c.id == d.c.article_id))
            .where(*sent, d.c.channel.in_(list(website_channels)))
            .group_by(month, a.c.topic)
        )
        fail_month = _month_of(d.c.first_failure_at, bounds).label("m")
        # Read through ix_deliveries_first_failure_at (few rows); states are sorted out below.
        fail_q = sa.select(fail_month, d.c.state, d.c.first_failure_at, d.c.sent_at).where(
            d.c.first_failure_at >= lo, d.c.first_failure_at < hi
        )
        with self.read() as conn:
            post_rows: list[Any] = list(conn.execute(posts_q))
            web_rows: list[Any] = list(conn.execute(web_q))
            fail_rows: list[Any] = list(conn.execute(fail_q))
        posts = {(c, int(m)): int(n) for c, m, n, _ in post_rows if m is not None}
        reach = {(c, int(m)): int(v) for c, m, _, v in post_rows if m is not None and v is not None}
        website: dict[int, int] = defaultdict(int)
        topics: dict[tuple[str, int], int] = {}
        for m, topic, n in web_rows:
            if m is None:
                continue
            website[int(m)] += int(n)
            topics[(topic, int(m))] = int(n)
        failures: dict[int, FailureMonth] = {}
        grouped: dict[int, tuple[int, list[float]]] = {}
        for m, state, first_at, sent_at in fail_rows:
            if state not in ("failed", "sent"):
                continue  # still being retried: neither given up nor fixed yet
            failed, hours = grouped.setdefault(int(m), (0, []))
            if state == "failed":
                grouped[int(m)] = (failed + 1, hours)
            elif state == "sent" and sent_at is not None:
                hours.append((sent_at - first_at).total_seconds() / 3600)
        for m, (failed, hours) in grouped.items():
            failures[m] = FailureMonth(
                m,
                failed,
                len(hours),
                round(sum(hours) / len(hours), 1) if hours else None,
                round(max(hours), 1) if hours else None,
            )
        return YearFigures(dict(website), topics, reach, posts, failures)

    def change_mark(self) -> tuple[int, int]:
        """A value that changes whenever anything the web page's figures read may have changed.

        Every state change of an article or a delivery writes the audit log in the same transaction,
        and reach only ever grows by inserted samples, so the newest ids of the two tables move
        with any change. Two primary-key look-ups: cheap enough to ask on every page view.
        """
        with self.read() as conn:
            return (
                int(conn.execute(sa.select(sa.func.max(audit_log.c.id))).scalar() or 0),
                int(conn.execute(sa.select(sa.func.max(reach_samples.c.id))).scalar() or 0),
            )
