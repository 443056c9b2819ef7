"""Alerts for admins: one row per incident, repeats merged while it is open."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from content_queue.store_core import StoreCore
from content_queue.tables import alerts

__all__ = ["AlertQueries"]


class AlertQueries(StoreCore):
    """The ``alerts`` table."""

    def raise_alert(self, key: str, message: str, severity: str) -> bool:
        """Open an alert for ``key``; False (counted, not reopened) if one is already open."""
        now = datetime.now(UTC)
        with self.tx() as conn:
            row = conn.execute(
                sa.select(alerts.c.id).where(alerts.c.key == key, alerts.c.resolved_at.is_(None))
            ).first()
            if row is not None:
                conn.execute(
                    alerts.update()
                    .where(alerts.c.id == row.id)
                    .values(last_at=now, count=alerts.c.count + 1)
                )
                return False
            conn.execute(
                alerts.insert().values(
                    key=key,
                    severity=severity,
                    message=message,
                    first_at=now,
                    last_at=now,
                    notified_at=now,
                )
            )
            return True

    def resolve_alerts(self, keys: tuple[str, ...]) -> None:
        """Close the open alerts with these keys (the incident is over)."""
        with self.tx() as conn:
            conn.execute(
                alerts.update()
                .where(alerts.c.key.in_(keys), alerts.c.resolved_at.is_(None))
                .values(resolved_at=datetime.now(UTC))
            )

    def open_alerts(self) -> list[dict[str, Any]]:
        """Every alert still open, oldest first."""
        with self.read() as conn:
            return [
                dict(r._mapping)
                for r in conn.execute(
                    sa.select(alerts).where(alerts.c.resolved_at.is_(None)).order_by(alerts.c.id)
                )
            ]
