"""Deliveries: claiming due ones under a lease, recording posts and failures, doubts, retries."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from content_queue.db import is_postgres
from content_queue.models import Actor, Delivery
from content_queue.preparations import add_calls
from content_queue.store_core import (
    _P,
    _SETTLE_ARTICLE,
    TERMINAL_DELIVERY,
    StoreCore,
    delivery_of,
    utcnow,
)
from content_queue.tables import (
    DUE_CONDITION,
    DUE_STATES,
    articles,
    channel_state,
    deliveries,
)
from content_queue.workflow import (
    DELIVERY_TRANSITIONS,
    ArticleState,
    DeliveryState,
    ErrorKind,
    IllegalTransition,
    NotFound,
    check_delivery_transition,
    sources_of,
)

__all__ = ["DeliveryQueries", "claim_statement"]

_FAILURES = DELIVERY_TRANSITIONS[DeliveryState.IN_FLIGHT] - {
    DeliveryState.SENT,
    DeliveryState.AWAITING_URL,
}

# Written exactly as the partial index ix_deliveries_due says it, so the planners use that index.
_IS_DUE = sa.text(f"deliveries.{DUE_CONDITION}")

# The other deliveries of the row being updated, counted in the UPDATE's own RETURNING: what
# recording a post must know next (dependents to release, whether the article is finished) comes
# back with the update itself, no second read. Each count leaves the updated row out, so both
# dialects agree (PostgreSQL's subqueries see the table before the statement, SQLite's during).
# Written as SQL: SQLAlchemy renders RETURNING columns unqualified, which would make the
# correlation ambiguous; the constants are the workflow's own state names.
_TERMINAL = ", ".join(f"'{s}'" for s in sorted(TERMINAL_DELIVERY))


def _count_others(label: str, condition: str) -> sa.Label[int]:
    return sa.literal_column(
        "(SELECT count(*) FROM deliveries AS others"
        " WHERE others.article_id = deliveries.article_id AND others.id <> deliveries.id"
        f" AND {condition})",
        sa.Integer,
    ).label(label)


_SET_DELIVERY = (
    deliveries.update()
    .where(deliveries.c.id == _P("p_delivery"))
    .returning(
        deliveries.c.article_id,
        deliveries.c.channel,
        _count_others(
            "dependents",
            "others.after_channel = deliveries.channel AND others.state = 'waiting'"
            " AND others.next_attempt_at IS NULL",
        ),
        _count_others("unfinished", f"others.state NOT IN ({_TERMINAL})"),
        _count_others("unsent", "others.state <> 'sent'"),
    )
)

_SET_LEASED = _SET_DELIVERY.where(
    deliveries.c.state == "in_flight", deliveries.c.lease_owner == _P("p_owner")
)


def _set_failed(keep_attempts: bool) -> sa.Update:
    stmt = (
        deliveries.update()
        .where(
            deliveries.c.id == _P("p_delivery"),
            deliveries.c.state == "in_flight",
            deliveries.c.lease_owner == _P("p_owner"),
        )
        .values(first_failure_at=sa.func.coalesce(deliveries.c.first_failure_at, _P("p_now")))
        .returning(deliveries.c.article_id, deliveries.c.channel)
    )
    return stmt.values(attempts=deliveries.c.attempts - 1) if keep_attempts else stmt


_SET_FAILED = {keep: _set_failed(keep) for keep in (False, True)}

_RELEASE_DEPENDENTS = (
    deliveries.update()
    .where(
        deliveries.c.article_id == _P("p_article"),
        deliveries.c.after_channel == _P("p_channel"),
        deliveries.c.state == "waiting",
        deliveries.c.next_attempt_at.is_(None),
    )
    .values(
        next_attempt_at=sa.func.coalesce(deliveries.c.due_at, _P("p_now")), updated_at=_P("p_now")
    )
)


def _claim(dialect: str) -> sa.Update:
    """Lease the oldest due deliveries of channels that are neither paused nor backing off.

    The due rows are read in order straight from an index, never sorted, however many are due:
    on PostgreSQL from the partial index ix_deliveries_due (with ``SKIP LOCKED``, so concurrent
    workers pass each other's rows); on SQLite, whose planner would rather sort, from
    ix_deliveries_state_next, one ordered branch per due state.
    """
    held = sa.select(channel_state.c.channel).where(
        sa.or_(channel_state.c.paused, channel_state.c.backoff_until > _P("p_now"))
    )
    order = (deliveries.c.next_attempt_at, deliveries.c.id)
    if dialect == "postgresql":
        due = (
            sa.select(deliveries.c.id)
            .where(
                _IS_DUE,
                deliveries.c.next_attempt_at <= _P("p_now"),
                deliveries.c.channel.not_in(held),
            )
            .order_by(*order)
            .limit(_P("p_limit"))
            .with_for_update(skip_locked=True)
        )
    else:
        branches = sa.union_all(
            *(
                sa.select(deliveries.c.id, deliveries.c.next_attempt_at)
                .where(
                    deliveries.c.state == state,
                    deliveries.c.next_attempt_at <= _P("p_now"),
                    deliveries.c.channel.not_in(held),
                )
                .order_by(*order)
                .limit(_P("p_limit"))
                .subquery()
                .select()
                for state in DUE_STATES
            )
        ).subquery()
        due = (
            sa.select(branches.c.id)
            .order_by(branches.c.next_attempt_at, branches.c.id)
            .limit(_P("p_limit"))
        )
    return (
        deliveries.update()
        .where(deliveries.c.id.in_(due.scalar_subquery()))
        .values(
            state="in_flight",
            lease_owner=_P("p_owner"),
            lease_expires_at=_P("p_until"),
            attempts=deliveries.c.attempts + 1,
            first_attempt_at=sa.func.coalesce(deliveries.c.first_attempt_at, _P("p_now")),
            updated_at=_P("p_now"),
        )
        .returning(*deliveries.c)
    )


_CLAIMS = {"sqlite": _claim("sqlite"), "postgresql": _claim("postgresql")}


def claim_statement(dialect: str) -> sa.Update:
    """The statement :meth:`Store.claim_due` runs on ``dialect`` (benchmarks EXPLAIN it)."""
    return _CLAIMS["postgresql" if dialect == "postgresql" else "sqlite"]


class DeliveryQueries(StoreCore):
    """The ``deliveries`` table: one row per (article, channel), leased by a worker to post."""

    def delivery(self, delivery_id: int) -> Delivery:
        with self.read() as conn:
            row = conn.execute(sa.select(deliveries).where(deliveries.c.id == delivery_id)).first()
        if row is None:
            raise NotFound(f"Không có lượt đăng #{delivery_id}.")
        return delivery_of(row)

    def record_retracted(self, delivery_id: int, actor: Actor) -> None:
        with self.tx() as conn:
            done = conn.execute(
                deliveries.update()
                .where(
                    deliveries.c.id == delivery_id,
                    deliveries.c.state.in_(sources_of(DeliveryState.RETRACTED)),
                )
                .values(state="retracted", next_attempt_at=None, updated_at=utcnow())
            ).rowcount
            if not done:
                raise IllegalTransition(f"Lượt đăng #{delivery_id} chưa đăng nên không gỡ được.")
            d = conn.execute(
                sa.select(deliveries.c.article_id, deliveries.c.channel).where(
                    deliveries.c.id == delivery_id
                )
            ).one()
            self.audit(
                conn, actor, "delivery_retracted", d.article_id, delivery_id, channel=d.channel
            )

    def retry_delivery(self, delivery_id: int, actor: Actor) -> Delivery:
        """Put a failed delivery back in the queue (the article becomes approved again)."""
        now = utcnow()
        with self.tx() as conn:
            d = conn.execute(sa.select(deliveries).where(deliveries.c.id == delivery_id)).first()
            if d is None:
                raise NotFound(f"Không có lượt đăng #{delivery_id}.")
            if d.state not in (DeliveryState.FAILED, DeliveryState.RETRY):
                raise IllegalTransition(
                    f"Lượt đăng #{delivery_id} ({d.channel}) đang ở trạng thái {d.state}, "
                    "không cần đăng lại."
                )
            conn.execute(
                deliveries.update()
                .where(deliveries.c.id == delivery_id)
                .values(state="retry", next_attempt_at=now, attempts=0, updated_at=now)
            )
            conn.execute(
                articles.update()
                .where(articles.c.id == d.article_id, articles.c.state == ArticleState.PARTIAL)
                .values(state=ArticleState.APPROVED, updated_at=now)
            )
            self.audit(conn, actor, "retry_requested", d.article_id, delivery_id, channel=d.channel)
        return self.delivery(delivery_id)

    def resolve_in_doubt(
        self, delivery_id: int, actor: Actor, *, posted: bool, url: str | None = None
    ) -> Delivery:
        """An admin says whether an in-doubt (or awaiting-URL) delivery reached the platform."""
        now = utcnow()
        with self.tx() as conn:
            d = conn.execute(sa.select(deliveries).where(deliveries.c.id == delivery_id)).first()
            if d is None:
                raise NotFound(f"Không có lượt đăng #{delivery_id}.")
            if d.state not in (DeliveryState.IN_DOUBT, DeliveryState.AWAITING_URL):
                raise IllegalTransition(
                    f"Lượt đăng #{delivery_id} không ở trạng thái chờ xác nhận (đang là {d.state})."
                )
            if posted:
                if d.state == "awaiting_url" and not url:
                    raise IllegalTransition("Cần nhập địa chỉ (URL) công khai của bài đã đăng.")
                self._mark_sent(
                    conn, d.id, remote_id=d.remote_id or "confirmed", url=url or d.url, now=now
                )
            else:
                # A person looked: nothing is there, so it may be sent again without a look.
                conn.execute(
                    deliveries.update()
                    .where(deliveries.c.id == delivery_id)
                    .values(
                        state="retry",
                        next_attempt_at=now,
                        lease_owner=None,
                        may_have_posted=False,
                        updated_at=now,
                    )
                )
            self.audit(
                conn,
                actor,
                "confirmed_posted" if posted else "confirmed_not_posted",
                d.article_id,
                delivery_id,
                channel=d.channel,
                url=url,
            )
        return self.delivery(delivery_id)

    def claim_due(
        self, owner: str, now: datetime, *, limit: int, lease_seconds: float
    ) -> builtins.list[Delivery]:
        """Lease up to ``limit`` due deliveries to ``owner`` in one statement.

        Channels that are paused or backing off are skipped; on PostgreSQL rows another worker
        is claiming are skipped too (``FOR UPDATE SKIP LOCKED``), so no delivery is leased twice.
        """
        with self.tx() as conn:
            return self._claim(conn, owner, now, limit=limit, lease_seconds=lease_seconds)

    @staticmethod
    def _claim(
        conn: Connection, owner: str, now: datetime, *, limit: int, lease_seconds: float
    ) -> builtins.list[Delivery]:
        rows = conn.execute(
            claim_statement(conn.dialect.name),
            {
                "p_now": now,
                "p_limit": limit,
                "p_owner": owner,
                "p_until": now + timedelta(seconds=lease_seconds),
            },
        ).all()
        return sorted((delivery_of(r) for r in rows), key=lambda d: d.id)

    def next_wakeup(self) -> datetime | None:
        with self.read() as conn:
            return conn.execute(
                sa.select(sa.func.min(deliveries.c.next_attempt_at)).where(_IS_DUE)
            ).scalar()

    def _mark_sent(
        self,
        conn: Connection,
        delivery_id: int,
        *,
        remote_id: str,
        url: str | None,
        now: datetime,
        awaiting_url: bool = False,
        receipt: dict[str, Any] | None = None,
        owner: str | None = None,
    ) -> tuple[int, str, int] | None:
        """Record the post of a delivery; with ``owner``, only while that worker still holds the
        lease. Returns the delivery's article id and channel and the number of deliveries that
        waited for it and are now due, or None if nothing was recorded."""
        values: dict[str, Any] = dict(
            p_delivery=delivery_id,
            state="awaiting_url" if awaiting_url else "sent",
            remote_id=remote_id,
            url=url,
            sent_at=None if awaiting_url else now,
            lease_owner=None,
            lease_expires_at=None,
            next_attempt_at=None,
            reach_next_at=None if awaiting_url else now,
            last_error=None,
            may_have_posted=False,
            updated_at=now,
        )
        if receipt:
            values["receipt"] = receipt
        if owner is None:
            found = conn.execute(_SET_DELIVERY, values).first()
        else:
            found = conn.execute(_SET_LEASED, {**values, "p_owner": owner}).first()
        if found is None:
            return None  # the lease expired and the delivery moved on
        article_id, channel = int(found.article_id), str(found.channel)
        released = 0
        if awaiting_url:
            pass
        elif found.dependents:
            # Deliveries that waited for this channel's URL become due now.
            released = conn.execute(
                _RELEASE_DEPENDENTS,
                {"p_article": article_id, "p_channel": channel, "p_now": now},
            ).rowcount
        elif not found.unfinished:  # this was the article's last delivery to finish
            conn.execute(
                _SETTLE_ARTICLE,
                {
                    "p_article": article_id,
                    "state": ArticleState.PARTIAL if found.unsent else ArticleState.PUBLISHED,
                    "updated_at": now,
                },
            )
        return article_id, channel, released

    def record_sent(
        self,
        delivery_id: int,
        owner: str,
        *,
        remote_id: str,
        url: str | None,
        awaiting_url: bool = False,
        reconciled: bool = False,
        receipt: dict[str, Any] | None = None,
        calls: Mapping[str, int] | None = None,
    ) -> int | None:
        """Record a post: the number of deliveries that waited for it and are due now, or None
        if the lease was lost meanwhile (nothing recorded but ``calls``).

        One transaction: the delivery (with what follows from it: dependents released or the
        article settled), the audit event, and the platform calls the attempt made."""
        return self.record_sent_and_claim(
            delivery_id,
            owner,
            remote_id=remote_id,
            url=url,
            awaiting_url=awaiting_url,
            reconciled=reconciled,
            receipt=receipt,
            calls=calls,
        )[0]

    def record_sent_and_claim(
        self,
        delivery_id: int,
        owner: str,
        *,
        remote_id: str,
        url: str | None,
        awaiting_url: bool = False,
        reconciled: bool = False,
        receipt: dict[str, Any] | None = None,
        calls: Mapping[str, int] | None = None,
        lease_seconds: float | None = None,
    ) -> tuple[int | None, Delivery | None]:
        """:meth:`record_sent`, and with ``lease_seconds`` the next due delivery leased to
        ``owner`` in the same transaction (a worker that goes on saves a transaction per post).

        Returns what :meth:`record_sent` returns and the delivery claimed, if any."""
        now = utcnow()
        with self.tx() as conn:
            if calls:
                add_calls(conn, {delivery_id: calls})
            leased = self._mark_sent(
                conn,
                delivery_id,
                remote_id=remote_id,
                url=url,
                now=now,
                awaiting_url=awaiting_url,
                receipt=receipt,
                owner=owner,
            )
            released: int | None = None
            if leased is not None:
                article_id, channel, released = leased
                self.audit(
                    conn,
                    Actor.service(),
                    "awaiting_url" if awaiting_url else "sent",
                    article_id,
                    delivery_id,
                    channel=channel,
                    url=url,
                    remote_id=remote_id,
                    reconciled=reconciled,
                    owner=owner,
                )
            claimed = (
                self._claim(conn, owner, now, limit=1, lease_seconds=lease_seconds)
                if lease_seconds is not None
                else []
            )
            return released, (claimed[0] if claimed else None)

    def record_failure(
        self,
        delivery_id: int,
        owner: str,
        *,
        state: str,
        error: str,
        kind: str,
        next_attempt_at: datetime | None = None,
        keep_attempts: bool = False,
        may_have_posted: bool = False,
        calls: Mapping[str, int] | None = None,
    ) -> bool:
        """Record a failed attempt of a delivery ``owner`` holds: ``retry`` (with a time, or
        None: held), ``failed`` or ``in_doubt``; ``may_have_posted``: an attempt may have posted
        and no look has settled it; ``calls``: the platform calls the attempt made, recorded in the
        same transaction. Returns False (nothing recorded but ``calls``) if the lease was lost."""
        if state not in _FAILURES:
            check_delivery_transition(delivery_id, DeliveryState.IN_FLIGHT, state)
            raise IllegalTransition(f"Lượt đăng #{delivery_id}: {state} không phải một thất bại.")
        ErrorKind(kind)  # refuses an unknown kind
        now = utcnow()
        values: dict[str, Any] = dict(
            p_delivery=delivery_id,
            p_owner=owner,
            p_now=now,
            state=state,
            last_error=error,
            last_error_kind=kind,
            lease_owner=None,
            may_have_posted=may_have_posted,
            lease_expires_at=None,
            next_attempt_at=next_attempt_at,
            updated_at=now,
        )
        with self.tx() as conn:
            if calls:
                add_calls(conn, {delivery_id: calls})
            found = conn.execute(_SET_FAILED[keep_attempts], values).first()
            if found is None:
                return False  # the lease expired and the delivery moved on: record nothing
            article_id, channel = int(found[0]), str(found[1])
            self.audit(
                conn,
                Actor.service(),
                f"delivery_{state}",
                article_id,
                delivery_id,
                channel=channel,
                error=error,
                kind=kind,
                may_have_posted=may_have_posted,
            )
            if state == "failed":
                self._settle_article(conn, article_id, now)
            return True

    def renew_leases(self, owner: str, delivery_ids: Iterable[int], until: datetime) -> int:
        """Extend ``owner``'s leases on these deliveries (a worker that lives keeps them);
        returns how many it still held."""
        ids = list(delivery_ids)
        if not ids:
            return 0
        with self.tx() as conn:
            return conn.execute(
                deliveries.update()
                .where(
                    deliveries.c.id.in_(ids),
                    deliveries.c.state == "in_flight",
                    deliveries.c.lease_owner == owner,
                )
                .values(lease_expires_at=until)
            ).rowcount

    def expire_leases(self, now: datetime, *, reconcile_after: float) -> builtins.list[Delivery]:
        """In-flight deliveries whose worker died become ``in_doubt``, to be looked for on the
        platform ``reconcile_after`` seconds later (before any resend): the platform may still be
        finishing the dead worker's last request."""
        with self.tx() as conn:
            q = sa.select(deliveries).where(
                deliveries.c.state == "in_flight", deliveries.c.lease_expires_at < now
            )
            if is_postgres(conn):
                q = q.with_for_update(skip_locked=True)
            rows = conn.execute(q).all()
            for d in rows:
                conn.execute(
                    deliveries.update()
                    .where(deliveries.c.id == d.id)
                    .values(
                        state="in_doubt",
                        lease_owner=None,
                        lease_expires_at=None,
                        next_attempt_at=now + timedelta(seconds=reconcile_after),
                        last_error="Tiến trình đăng bị ngắt giữa chừng.",
                        last_error_kind="lease_expired",
                        may_have_posted=True,
                        updated_at=now,
                    )
                )
                self.audit(
                    conn,
                    Actor.service(),
                    "lease_expired",
                    d.article_id,
                    d.id,
                    channel=d.channel,
                    owner=d.lease_owner,
                )
            return [delivery_of(r) for r in rows]

    def claim_in_doubt(
        self, owner: str, now: datetime, *, lease_seconds: float, limit: int = 20
    ) -> builtins.list[Delivery]:
        """Lease in-doubt deliveries for a look; the look counts as an attempt (a look that keeps
        failing ends with a person deciding), which ``record_failure(keep_attempts=True)``
        undoes when the look settles the doubt."""
        with self.tx() as conn:
            q = (
                sa.select(deliveries.c.id)
                .where(deliveries.c.state == "in_doubt", deliveries.c.next_attempt_at <= now)
                .order_by(deliveries.c.id)
                .limit(limit)
            )
            if is_postgres(conn):
                q = q.with_for_update(skip_locked=True)
            ids: builtins.list[int] = list(conn.execute(q).scalars())
            if not ids:
                return []
            conn.execute(
                deliveries.update()
                .where(deliveries.c.id.in_(ids))
                .values(
                    state="in_flight",
                    lease_owner=owner,
                    attempts=deliveries.c.attempts + 1,
                    lease_expires_at=now + timedelta(seconds=lease_seconds),
                    updated_at=now,
                )
            )
            rows = conn.execute(sa.select(deliveries).where(deliveries.c.id.in_(ids))).all()
            return [delivery_of(r) for r in rows]

    def requeue_channel(self, channel: str, now: datetime) -> int:
        """Deliveries of a channel that were held (paused) become due again."""
        with self.tx() as conn:
            res = conn.execute(
                deliveries.update()
                .where(
                    deliveries.c.channel == channel,
                    deliveries.c.state == "retry",
                    deliveries.c.next_attempt_at.is_(None),
                )
                .values(next_attempt_at=now, updated_at=now)
            )
            return res.rowcount
