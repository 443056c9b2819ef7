"""Alerts for admins through one interface: always the log, and Telegram when configured.

Repeats of one incident (same ``key``) while it is open are merged into one alert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import requests
import sqlalchemy as sa

from content_queue.store import Store
from content_queue.tables import alerts

__all__ = ["Notifier", "telegram_sender"]

log = logging.getLogger(__name__)

Sender = Callable[[str], None]


def telegram_sender(api_url: str, token: str, chat_id: int, timeout: float = 10) -> Sender:
    """A sender that posts the alert text to the admins' chat through the Bot API."""

    def send(text: str) -> None:
        try:
            r = requests.post(f"{api_url.rstrip('/')}/bot{token}/sendMessage",
                              json={"chat_id": chat_id, "text": text}, timeout=timeout)
            if r.status_code != 200:
                log.warning("Telegram refused an alert: HTTP %s", r.status_code)
        except requests.RequestException as exc:
            log.warning("could not send an alert to Telegram: %s", type(exc).__name__)

    return send


class Notifier:
    """Raises, merges and resolves alerts; ``senders`` deliver the first of each incident."""

    def __init__(self, store: Store, senders: list[Sender] | None = None):
        self.store = store
        self.senders = senders or []

    def alert(self, key: str, message: str, severity: str = "warning") -> bool:
        """Record an alert; True if it is new (sent), False if merged into an open one."""
        now = datetime.now(UTC)
        with self.store.tx() as conn:
            row = conn.execute(sa.select(alerts.c.id).where(
                alerts.c.key == key, alerts.c.resolved_at.is_(None))).first()
            if row is not None:
                conn.execute(alerts.update().where(alerts.c.id == row.id).values(
                    last_at=now, count=alerts.c.count + 1))
                return False
            conn.execute(alerts.insert().values(key=key, severity=severity, message=message,
                                                first_at=now, last_at=now, notified_at=now))
        log.warning("ALERT [%s] %s", key, message)
        for send in self.senders:
            send("⚠️ " + message)
        return True

    def resolve(self, *keys: str) -> None:
        """Close the open alerts with these keys (the incident is over)."""
        with self.store.tx() as conn:
            conn.execute(alerts.update().where(alerts.c.key.in_(keys), alerts.c.resolved_at.is_(None))
                         .values(resolved_at=datetime.now(UTC)))

    def open_alerts(self) -> list[dict[str, object]]:
        with self.store.read() as conn:
            return [dict(r._mapping) for r in conn.execute(
                sa.select(alerts).where(alerts.c.resolved_at.is_(None)).order_by(alerts.c.id))]
