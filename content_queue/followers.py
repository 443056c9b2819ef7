"""Follower counts of each channel (Page followers, OA followers), sampled daily, and their growth.

Stored like reach samples: one row per (channel, metric, instant); a count the platform did not
give is a row with ``available = false`` (unknown, never zero).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from content_queue.store_core import StoreCore
from content_queue.tables import follower_samples

__all__ = ["FollowerGrowth", "Followers"]

_S = follower_samples


@dataclass(frozen=True)
class FollowerGrowth:
    """One channel's count at the start and the end of a period (None = no sample there)."""

    channel: str
    metric: str
    start: int | None
    end: int | None
    start_at: datetime | None
    end_at: datetime | None
    samples: int
    points: tuple[tuple[datetime, int], ...] = ()  # every available count in the period

    @property
    def growth(self) -> int | None:
        return self.end - self.start if self.start is not None and self.end is not None else None

    @property
    def growth_percent(self) -> float | None:
        if self.growth is None or not self.start:
            return None
        return round(100.0 * self.growth / self.start, 1)


class Followers(StoreCore):
    """Follower samples and their growth (``store.followers``)."""

    def record_follower_counts(
        self, channel: str, counts: Mapping[str, int | None], at: datetime
    ) -> int:
        """Store one sample per metric of ``channel`` taken at ``at``; returns the rows written."""
        rows = [
            {
                "channel": channel,
                "collected_at": at,
                "metric": metric,
                "value": value,
                "available": value is not None,
            }
            for metric, value in counts.items()
        ]
        if rows:
            with self.tx() as conn:
                conn.execute(_S.insert(), rows)
        return len(rows)

    def last_follower_sample_at(self, channel: str) -> datetime | None:
        """When ``channel`` was last sampled (None if never)."""
        with self.read() as conn:
            return conn.execute(
                sa.select(sa.func.max(_S.c.collected_at)).where(_S.c.channel == channel)
            ).scalar_one_or_none()

    def follower_growth(self, lo: datetime, hi: datetime) -> list[FollowerGrowth]:
        """Per (channel, metric): the first and the last available count in [lo, hi).

        The start falls back to the latest count before ``lo`` when the period has none before its
        own first sample (a count taken on the last day of the previous period is its start).
        """
        avail = sa.and_(_S.c.available, _S.c.value.is_not(None))
        with self.read() as conn:
            inside = conn.execute(
                sa.select(_S.c.channel, _S.c.metric, _S.c.collected_at, _S.c.value)
                .where(avail, _S.c.collected_at >= lo, _S.c.collected_at < hi)
                .order_by(_S.c.channel, _S.c.metric, _S.c.collected_at, _S.c.id)
            ).all()
            ranked = (
                sa.select(
                    _S.c.channel,
                    _S.c.metric,
                    _S.c.collected_at,
                    _S.c.value,
                    sa.func.row_number()
                    .over(
                        partition_by=(_S.c.channel, _S.c.metric),
                        order_by=(_S.c.collected_at.desc(), _S.c.id.desc()),
                    )
                    .label("rn"),
                )
                .where(avail, _S.c.collected_at < lo)
                .subquery()
            )
            before = {
                (r.channel, r.metric): (r.collected_at, r.value)
                for r in conn.execute(sa.select(ranked).where(ranked.c.rn == 1))
            }
        series: dict[tuple[str, str], list[tuple[datetime, int]]] = {}
        for r in inside:
            series.setdefault((r.channel, r.metric), []).append((r.collected_at, int(r.value)))
        out = []
        for key in sorted(set(series) | set(before)):
            points = series.get(key, [])
            start = before.get(key) or (points[0] if points else None)
            end = points[-1] if points else None
            out.append(
                FollowerGrowth(
                    key[0],
                    key[1],
                    int(start[1]) if start else None,
                    end[1] if end else None,
                    start[0] if start else None,
                    end[0] if end else None,
                    len(points),
                    tuple(points),
                )
            )
        return out
