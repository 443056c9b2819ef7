"""Broadcasts of published articles to a channel's followers: proposals, decisions, sends, quota.

States::

    proposed ──approve──▶ approved ──▶ sending ──▶ sent
        │                                 ├──────▶ failed      (the platform refused: not sent)
        ├──reject──▶ rejected             └──────▶ in_doubt ──▶ sent | not_sent  (an admin says)
        └──its month ended undecided──▶ expired

Rules the statements here enforce, whoever calls them:

* The month's quota: a proposal is stored only while the broadcasts of that month that may reach
  followers (``COUNTED``) are fewer than the quota, and only when no other broadcast of the channel
  is still open (proposed, approved or sending); both are checked in the proposal's transaction.
* Never twice: an article is broadcast at most once per channel (a unique row per (channel,
  article)); the rows of a broadcast that surely did not go out (``RELEASED``: failed, not sent,
  or a proposal whose month ended undecided) are released so the articles may go in a later one.
  A rejected proposal keeps them: an admin said no.
* One decision wins: every transition is an ``UPDATE … WHERE state = <expected>``.
* Exactly once: nothing here ever turns ``in_doubt`` or ``sending`` back into something that
  sends; a stale ``sending`` (its worker died mid-call) becomes ``in_doubt``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from content_queue.db import is_postgres
from content_queue.models import Actor
from content_queue.store_core import StoreCore
from content_queue.tables import (
    articles,
    broadcast_articles,
    broadcasts,
    deliveries,
    reach_samples,
)

__all__ = ["COUNTED", "OPEN", "Broadcast", "BroadcastCandidate", "Broadcasts"]

COUNTED = ("proposed", "approved", "sending", "sent", "in_doubt")  # use (or may use) the quota
OPEN = ("proposed", "approved", "sending")
RELEASED = ("failed", "not_sent", "expired")
_B, _BA = broadcasts, broadcast_articles
# An arbitrary constant: the PostgreSQL advisory lock serialising proposals (quota check + insert).
_PROPOSAL_LOCK = 0x10A0006


@dataclass(frozen=True)
class BroadcastCandidate:
    """A published article that has not been broadcast on the channel yet."""

    article_id: int
    remote_id: str
    title: str
    sent_at: datetime
    reach: int | None  # latest available view count on the channel (None = not known)


@dataclass(frozen=True)
class Broadcast:
    id: int
    channel: str
    kind: str
    state: str
    month: str
    recipients: int | None
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    sent_at: datetime | None
    message_id: str | None
    moderation_state: str | None
    last_error: str | None
    card_chat_id: int | None
    card_message_id: int | None
    article_ids: tuple[int, ...]
    remote_ids: tuple[str, ...]
    titles: tuple[str, ...]


def _load(conn: Connection, rows: Sequence[Any]) -> list[Broadcast]:
    """Broadcast values for ``rows`` of the broadcasts table, with their articles in order."""
    if not rows:
        return []
    items: dict[int, list[Any]] = {r.id: [] for r in rows}
    for a in conn.execute(
        sa.select(_BA.c.broadcast_id, _BA.c.article_id, _BA.c.remote_id, articles.c.title)
        .join(articles, articles.c.id == _BA.c.article_id)
        .where(_BA.c.broadcast_id.in_(list(items)))
        .order_by(_BA.c.broadcast_id, _BA.c.position)
    ):
        items[a.broadcast_id].append(a)
    return [
        Broadcast(
            r.id,
            r.channel,
            r.kind,
            r.state,
            r.month,
            r.recipients,
            r.proposed_at,
            r.decided_by,
            r.decided_at,
            r.sent_at,
            r.message_id,
            r.moderation_state,
            r.last_error,
            r.card_chat_id,
            r.card_message_id,
            tuple(a.article_id for a in items[r.id]),
            tuple(a.remote_id for a in items[r.id]),
            tuple(a.title for a in items[r.id]),
        )
        for r in rows
    ]


class Broadcasts(StoreCore):
    """Every statement about broadcasts, over the content store's engine and audit log."""

    # ----- reading ---------------------------------------------------------------------------
    def broadcasts_between(self, lo: datetime, hi: datetime) -> list[Broadcast]:
        """Broadcasts sent (or in doubt, by proposal time) in [lo, hi): those that may have reached
        followers."""
        when = sa.func.coalesce(_B.c.sent_at, _B.c.proposed_at)
        q = (
            sa.select(_B)
            .where(_B.c.state.in_(("sent", "in_doubt")), when >= lo, when < hi)
            .order_by(when, _B.c.id)
        )
        with self.read() as conn:
            return _load(conn, conn.execute(q).all())

    def _load(self, conn: Connection, rows: Sequence[Any]) -> list[Broadcast]:
        return _load(conn, rows)

    def get(self, broadcast_id: int) -> Broadcast | None:
        with self.read() as conn:
            rows = conn.execute(sa.select(_B).where(_B.c.id == broadcast_id)).all()
            found = self._load(conn, rows)
        return found[0] if found else None

    def in_states(self, states: Sequence[str], channel: str | None = None) -> list[Broadcast]:
        q = sa.select(_B).where(_B.c.state.in_(list(states))).order_by(_B.c.id)
        if channel is not None:
            q = q.where(_B.c.channel == channel)
        with self.read() as conn:
            return self._load(conn, conn.execute(q).all())

    def used(self, channel: str, month: str) -> int:
        """Broadcasts of ``month`` that reached, or may reach, followers (or wait for a decision)."""
        with self.read() as conn:
            return self._used(conn, channel, month)

    @staticmethod
    def _used(conn: Connection, channel: str, month: str) -> int:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(_B)
                .where(_B.c.channel == channel, _B.c.month == month, _B.c.state.in_(COUNTED))
            ).scalar_one()
        )

    def sent_between(self, lo: datetime, hi: datetime) -> list[Broadcast]:
        """See :func:`broadcasts_between`."""
        return self.broadcasts_between(lo, hi)

    def candidates(
        self,
        channel: str,
        since: datetime,
        *,
        reach_metric: str = "views",
    ) -> list[BroadcastCandidate]:
        """Articles posted on ``channel`` since ``since``, still up, never broadcast there."""
        d = deliveries
        taken = sa.select(_BA.c.article_id).where(_BA.c.channel == channel)
        ranked = (
            sa.select(
                reach_samples.c.delivery_id,
                reach_samples.c.value,
                sa.func.row_number()
                .over(
                    partition_by=reach_samples.c.delivery_id,
                    order_by=(reach_samples.c.collected_at.desc(), reach_samples.c.id.desc()),
                )
                .label("rn"),
            )
            .where(reach_samples.c.metric == reach_metric, reach_samples.c.available)
            .subquery()
        )
        q = (
            sa.select(d.c.article_id, d.c.remote_id, d.c.sent_at, articles.c.title, ranked.c.value)
            .join(articles, articles.c.id == d.c.article_id)
            .outerjoin(ranked, sa.and_(ranked.c.delivery_id == d.c.id, ranked.c.rn == 1))
            .where(
                d.c.channel == channel,
                d.c.state == "sent",
                d.c.remote_id.is_not(None),
                d.c.sent_at >= since,
                articles.c.state.in_(("published", "partial")),
                d.c.article_id.not_in(taken),
            )
            .order_by(d.c.sent_at.desc(), d.c.id.desc())
        )
        with self.read() as conn:
            return [
                BroadcastCandidate(
                    r.article_id,
                    str(r.remote_id),
                    r.title,
                    r.sent_at,
                    int(r.value) if r.value is not None else None,
                )
                for r in conn.execute(q)
            ]

    # ----- proposing and deciding ------------------------------------------------------------
    def propose(
        self,
        channel: str,
        kind: str,
        month: str,
        quota: int,
        items: Sequence[BroadcastCandidate],
        recipients: int | None,
        now: datetime,
    ) -> Broadcast | None:
        """Store a proposal of ``items`` unless the quota is used, another is open, or an article
        was taken meanwhile; returns it, or None."""
        if not items:
            return None
        try:
            with self.tx() as conn:
                if is_postgres(conn):
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PROPOSAL_LOCK})
                if self._used(conn, channel, month) >= quota:
                    return None
                if conn.execute(
                    sa.select(_B.c.id).where(_B.c.channel == channel, _B.c.state.in_(OPEN))
                ).first():
                    return None
                bid = conn.execute(
                    _B.insert().values(
                        channel=channel,
                        kind=kind,
                        state="proposed",
                        month=month,
                        recipients=recipients,
                        proposed_at=now,
                        updated_at=now,
                    )
                ).inserted_primary_key
                assert bid is not None
                bid = bid[0]
                conn.execute(
                    _BA.insert(),
                    [
                        {
                            "broadcast_id": bid,
                            "channel": channel,
                            "article_id": c.article_id,
                            "remote_id": c.remote_id,
                            "position": i,
                        }
                        for i, c in enumerate(items)
                    ],
                )
                self.audit(
                    conn,
                    Actor.service(),
                    "broadcast_proposed",
                    None,
                    broadcast_id=bid,
                    channel=channel,
                    kind=kind,
                    month=month,
                    articles=[c.article_id for c in items],
                    recipients=recipients,
                )
        except IntegrityError:
            return None  # an article went into another broadcast meanwhile
        return self.get(int(bid))

    def _move(
        self, conn: Connection, broadcast_id: int, expected: Sequence[str], **values: Any
    ) -> bool:
        done = conn.execute(
            _B.update()
            .where(_B.c.id == broadcast_id, _B.c.state.in_(list(expected)))
            .values(**values)
        )
        return done.rowcount == 1

    def decide(self, broadcast_id: int, actor: Actor, *, approve: bool, now: datetime) -> bool:
        """Approve or reject a proposal; False when it was no longer proposed (someone else won)."""
        state = "approved" if approve else "rejected"
        with self.tx() as conn:
            won = self._move(
                conn,
                broadcast_id,
                ("proposed",),
                state=state,
                decided_by=actor.name,
                decided_at=now,
                updated_at=now,
            )
            if won:
                self.audit(conn, actor, f"broadcast_{state}", None, broadcast_id=broadcast_id)
        return won

    def begin_send(self, broadcast_id: int, now: datetime) -> bool:
        """approved → sending: only the caller that wins this may call the platform."""
        with self.tx() as conn:
            return self._move(conn, broadcast_id, ("approved",), state="sending", updated_at=now)

    def record_sent(
        self, broadcast_id: int, *, message_id: str, moderation_state: str, now: datetime
    ) -> None:
        with self.tx() as conn:
            if self._move(
                conn,
                broadcast_id,
                ("sending",),
                state="sent",
                sent_at=now,
                message_id=message_id,
                moderation_state=moderation_state,
                last_error=None,
                updated_at=now,
            ):
                self.audit(
                    conn,
                    Actor.service(),
                    "broadcast_sent",
                    None,
                    broadcast_id=broadcast_id,
                    message_id=message_id,
                    moderation_state=moderation_state,
                )

    def record_in_doubt(self, broadcast_id: int, error: str, now: datetime) -> None:
        with self.tx() as conn:
            # A fresh card (asking whether it went out) replaces the decided one.
            if self._move(
                conn,
                broadcast_id,
                ("sending",),
                state="in_doubt",
                last_error=error,
                updated_at=now,
                card_chat_id=None,
                card_message_id=None,
            ):
                self.audit(
                    conn,
                    Actor.service(),
                    "broadcast_in_doubt",
                    None,
                    broadcast_id=broadcast_id,
                    error=error,
                )

    def record_failed(self, broadcast_id: int, error: str, now: datetime) -> None:
        """The platform refused: nothing went out; the articles may go in a later broadcast."""
        with self.tx() as conn:
            if self._move(
                conn,
                broadcast_id,
                ("sending", "approved"),
                state="failed",
                last_error=error,
                updated_at=now,
            ):
                conn.execute(_BA.delete().where(_BA.c.broadcast_id == broadcast_id))
                self.audit(
                    conn,
                    Actor.service(),
                    "broadcast_failed",
                    None,
                    broadcast_id=broadcast_id,
                    error=error,
                )

    def resolve_in_doubt(
        self, broadcast_id: int, actor: Actor, *, sent: bool, now: datetime
    ) -> bool:
        """An admin says whether an in-doubt broadcast reached followers; False if not in doubt."""
        with self.tx() as conn:
            values: dict[str, Any] = {
                "state": "sent" if sent else "not_sent",
                "updated_at": now,
                "decided_by": actor.name,
            }
            if sent:
                values["sent_at"] = now
            won = self._move(conn, broadcast_id, ("in_doubt",), **values)
            if won:
                if not sent:
                    conn.execute(_BA.delete().where(_BA.c.broadcast_id == broadcast_id))
                self.audit(
                    conn,
                    actor,
                    "broadcast_confirmed" if sent else "broadcast_not_sent",
                    None,
                    broadcast_id=broadcast_id,
                )
        return won

    def expire_proposals(self, month: str, now: datetime) -> list[int]:
        """Proposals of another month than ``month`` lapse (their quota month has passed); their
        articles are freed."""
        with self.tx() as conn:
            found: list[Any] = list(
                conn.execute(
                    sa.select(_B.c.id).where(_B.c.state == "proposed", _B.c.month != month)
                ).scalars()
            )
            ids = [int(i) for i in found]
            for bid in ids:
                if self._move(conn, bid, ("proposed",), state="expired", updated_at=now):
                    conn.execute(_BA.delete().where(_BA.c.broadcast_id == bid))
                    self.audit(conn, Actor.service(), "broadcast_expired", None, broadcast_id=bid)
        return ids

    def expire_sending(self, before: datetime, now: datetime) -> list[int]:
        """``sending`` rows last touched before ``before`` (their worker died) become in doubt."""
        with self.tx() as conn:
            found: list[Any] = list(
                conn.execute(
                    sa.select(_B.c.id).where(_B.c.state == "sending", _B.c.updated_at < before)
                ).scalars()
            )
            ids = [int(i) for i in found]
            for bid in ids:
                if self._move(
                    conn,
                    bid,
                    ("sending",),
                    state="in_doubt",
                    updated_at=now,
                    card_chat_id=None,
                    card_message_id=None,
                    last_error="Tiến trình gửi dừng giữa chừng; không rõ Zalo đã nhận.",
                ):
                    self.audit(
                        conn,
                        Actor.service(),
                        "broadcast_in_doubt",
                        None,
                        broadcast_id=bid,
                        error="worker stopped mid-call",
                    )
        return ids

    # ----- the admins' cards -----------------------------------------------------------------
    def claim_card(self, broadcast_id: int, chat_id: int) -> bool:
        """Reserve the posting of the card (one worker posts it)."""
        with self.tx() as conn:
            return (
                conn.execute(
                    _B.update()
                    .where(_B.c.id == broadcast_id, _B.c.card_chat_id.is_(None))
                    .values(card_chat_id=chat_id)
                ).rowcount
                == 1
            )

    def set_card(self, broadcast_id: int, chat_id: int | None, message_id: int | None) -> None:
        """Remember the card's message (or give the claim back with ``None``)."""
        with self.tx() as conn:
            conn.execute(
                _B.update()
                .where(_B.c.id == broadcast_id)
                .values(card_chat_id=chat_id, card_message_id=message_id)
            )

    def without_card(self) -> list[Broadcast]:
        """Proposals and in-doubt broadcasts whose card was never posted."""
        q = (
            sa.select(_B)
            .where(_B.c.state.in_(("proposed", "in_doubt")), _B.c.card_chat_id.is_(None))
            .order_by(_B.c.id)
        )
        with self.read() as conn:
            return self._load(conn, conn.execute(q).all())

    def by_card(self, chat_id: int, message_id: int) -> Broadcast | None:
        q = sa.select(_B).where(_B.c.card_chat_id == chat_id, _B.c.card_message_id == message_id)
        with self.read() as conn:
            found = self._load(conn, conn.execute(q).all())
        return found[0] if found else None
