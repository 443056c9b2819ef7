"""Alerts for admins through one interface: always the log, and Telegram when configured.

Repeats of one incident (same ``key``) while it is open are merged into one alert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import requests

from content_queue.store import Store

__all__ = ["Notifier", "telegram_sender"]

log = logging.getLogger(__name__)

Sender = Callable[[str], None]


def telegram_sender(api_url: str, token: str, chat_id: int, timeout: float = 10) -> Sender:
    """A sender that posts the alert text to the admins' chat through the Bot API."""

    def send(text: str) -> None:
        try:
            r = requests.post(
                f"{api_url.rstrip('/')}/bot{token}/sendMessage",
                json={"chat_id": chat_id, "text": text},
                timeout=timeout,
            )
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
        if not self.store.alerts.raise_alert(key, message, severity):
            return False
        log.warning("ALERT [%s] %s", key, message)
        for send in self.senders:
            send("⚠️ " + message)
        return True

    def resolve(self, *keys: str) -> None:
        """Close the open alerts with these keys (the incident is over)."""
        self.store.alerts.resolve_alerts(keys)

    def open_alerts(self) -> list[dict[str, object]]:
        return self.store.alerts.open_alerts()
