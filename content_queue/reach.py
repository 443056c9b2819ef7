"""Reach samples: which posts are due for a reading, and the readings as a time series."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from content_queue.store_core import StoreCore
from content_queue.tables import deliveries, reach_samples

__all__ = ["DueForReach", "ReachQueries"]


@dataclass(frozen=True)
class DueForReach:
    """A sent delivery whose reach should be read now."""

    id: int
    channel: str
    remote_id: str
    url: str | None
    sent_at: datetime


class ReachQueries(StoreCore):
    """The ``reach_samples`` table."""

    def due_for_reach(self, now: datetime) -> list[DueForReach]:
        """Sent deliveries whose next reach reading is due."""
        with self.read() as conn:
            rows = conn.execute(
                sa.select(
                    deliveries.c.id,
                    deliveries.c.channel,
                    deliveries.c.remote_id,
                    deliveries.c.url,
                    deliveries.c.sent_at,
                ).where(deliveries.c.state == "sent", deliveries.c.reach_next_at <= now)
            ).all()
        return [DueForReach(r.id, r.channel, r.remote_id, r.url, r.sent_at) for r in rows]

    def record_reach(
        self,
        items: list[DueForReach],
        readings: Mapping[str, Mapping[str, int | None]],
        now: datetime,
        next_at: Callable[[DueForReach], datetime | None],
    ) -> int:
        """Store one reading per (post, metric) — None: the metric is unavailable, never zero —
        and when each post is read next; returns the samples stored."""
        stored = 0
        with self.tx() as conn:
            for item in items:
                for metric, value in readings.get(item.remote_id, {}).items():
                    conn.execute(
                        reach_samples.insert().values(
                            delivery_id=item.id,
                            collected_at=now,
                            metric=metric,
                            value=value,
                            available=value is not None,
                        )
                    )
                    stored += 1
                conn.execute(
                    deliveries.update()
                    .where(deliveries.c.id == item.id)
                    .values(reach_next_at=next_at(item))
                )
        return stored

    def count_reach_samples(self) -> int:
        """How many reach samples are stored (all posts, all metrics)."""
        with self.read() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(reach_samples)).scalar_one()
            )
