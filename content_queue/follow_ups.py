"""Posts recorded with reads still to do (a receipt's follow-up list), and their completion.

A channel may record a post before reading what does not gate anything (Facebook's permalink,
Zalo's public link); the receipt lists those reads under a key the host names. These functions
find such deliveries and store the completed receipt and URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from content_queue.models import Actor
from content_queue.store_core import StoreCore
from content_queue.tables import deliveries

__all__ = ["FollowUp", "FollowUps"]


@dataclass(frozen=True)
class FollowUp:
    delivery_id: int
    article_id: int
    channel: str
    remote_id: str
    url: str | None
    receipt: dict[str, Any]


class FollowUps(StoreCore):
    """Deliveries that wait for a follow-up (``store.follow_ups``)."""

    def pending_follow_ups(self, key: str, since: datetime) -> list[FollowUp]:
        """Deliveries sent since ``since`` whose receipt still lists reads under ``key``."""
        q = (
            sa.select(
                deliveries.c.id,
                deliveries.c.article_id,
                deliveries.c.channel,
                deliveries.c.remote_id,
                deliveries.c.url,
                deliveries.c.receipt,
            )
            .where(deliveries.c.state == "sent", deliveries.c.sent_at >= since)
            .order_by(deliveries.c.id)
        )
        with self.read() as conn:
            rows = conn.execute(q).all()
        return [
            FollowUp(r.id, r.article_id, r.channel, r.remote_id or "", r.url, dict(r.receipt))
            for r in rows
            if isinstance(r.receipt, dict) and r.receipt.get(key)
        ]

    def save_receipt(self, delivery_id: int, receipt: Mapping[str, Any]) -> None:
        """Keep a sent delivery's receipt (e.g. a follow-up's attempt count)."""
        with self.tx() as conn:
            conn.execute(
                deliveries.update()
                .where(deliveries.c.id == delivery_id, deliveries.c.state == "sent")
                .values(receipt=dict(receipt), updated_at=datetime.now(UTC))
            )

    def complete_follow_up(
        self, delivery_id: int, url: str | None, receipt: Mapping[str, Any]
    ) -> bool:
        """Store the completed receipt and URL of a sent delivery; False if it is no longer sent."""
        with self.tx() as conn:
            found = conn.execute(
                deliveries.update()
                .where(deliveries.c.id == delivery_id, deliveries.c.state == "sent")
                .values(url=url, receipt=dict(receipt), updated_at=datetime.now(UTC))
                .returning(deliveries.c.article_id, deliveries.c.channel)
            ).first()
            if found is None:
                return False
            self.audit(
                conn,
                Actor.service(),
                "followed_up",
                found.article_id,
                delivery_id,
                channel=found.channel,
                url=url,
            )
        return True
