"""Channel state: paused or not, backing off, last health check (credentials: channel_tokens)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from content_queue.models import Actor
from content_queue.store_core import StoreCore, utcnow
from content_queue.tables import (
    channel_state,
    deliveries,
)

__all__ = ["ChannelStateQueries", "ChannelStatus"]


@dataclass(frozen=True)
class ChannelStatus:
    channel: str
    paused: bool
    paused_reason: str | None
    needs_reauth: bool
    backoff_until: datetime | None
    token_expires_at: datetime | None
    last_check_at: datetime | None
    last_check_ok: bool | None
    last_check_detail: str | None


class ChannelStateQueries(StoreCore):
    """The ``channel_state`` table."""

    def channel_status(self, channel: str) -> ChannelStatus:
        with self.read() as conn:
            row = conn.execute(
                sa.select(channel_state).where(channel_state.c.channel == channel)
            ).first()
        if row is None:
            return ChannelStatus(channel, False, None, False, None, None, None, None, None)
        m = row._mapping
        return ChannelStatus(**{f: m[f] for f in ChannelStatus.__dataclass_fields__})

    def _upsert_channel(self, conn: Connection, channel: str, **values: Any) -> None:
        now = utcnow()
        res = conn.execute(
            channel_state.update()
            .where(channel_state.c.channel == channel)
            .values(**values, updated_at=now)
        )
        if res.rowcount == 0:
            conn.execute(channel_state.insert().values(channel=channel, updated_at=now, **values))

    def set_paused(
        self,
        channel: str,
        paused: bool,
        actor: Actor,
        reason: str | None = None,
        *,
        needs_reauth: bool = False,
    ) -> None:
        now = utcnow()
        with self.tx() as conn:
            self._upsert_channel(
                conn,
                channel,
                paused=paused,
                paused_reason=reason if paused else None,
                paused_at=now if paused else None,
                needs_reauth=needs_reauth if paused else False,
            )
            self.audit(
                conn,
                actor,
                "channel_paused" if paused else "channel_resumed",
                channel=channel,
                reason=reason,
            )
            if not paused:
                conn.execute(
                    deliveries.update()
                    .where(
                        deliveries.c.channel == channel,
                        deliveries.c.state == "retry",
                        deliveries.c.next_attempt_at.is_(None),
                    )
                    .values(next_attempt_at=now, updated_at=now)
                )

    def set_backoff(self, channel: str, until: datetime | None) -> None:
        with self.tx() as conn:
            self._upsert_channel(conn, channel, backoff_until=until)

    def record_health(
        self, channel: str, ok: bool, detail: str, expires_at: datetime | None
    ) -> None:
        with self.tx() as conn:
            self._upsert_channel(
                conn,
                channel,
                last_check_at=utcnow(),
                last_check_ok=ok,
                last_check_detail=detail,
                token_expires_at=expires_at,
            )
