"""The content store: every state change is one transaction that also writes the audit log."""

from __future__ import annotations

import builtins
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from content_queue.alerts import AlertQueries
from content_queue.cards import CardQueries
from content_queue.db import is_postgres, open_database, reader
from content_queue.models import Actor, Article, Delivery, ParsedArticle
from content_queue.reach import ReachQueries
from content_queue.tables import (
    DUE_CONDITION,
    DUE_STATES,
    articles,
    audit_log,
    channel_state,
    deliveries,
)
from content_queue.workflow import (
    DELIVERY_TRANSITIONS,
    DeliveryState,
    ErrorKind,
    IllegalTransition,
    NotFound,
    check_delivery_transition,
    check_transition,
    sources_of,
)

__all__ = ["ChannelPlan", "ChannelStatus", "Store", "SubmitResult", "claim_statement", "utcnow"]

TERMINAL_DELIVERY = frozenset({DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.CANCELLED,
                               DeliveryState.RETRACTED})
# What a failed attempt of a leased delivery may lead to (the table minus the successes).
_FAILURES = DELIVERY_TRANSITIONS[DeliveryState.IN_FLIGHT] - {DeliveryState.SENT,
                                                              DeliveryState.AWAITING_URL}

# The dispatcher's hot path uses statements built once: building a statement costs more CPU than
# SQLite takes to run it. Bound names carry a prefix so they never clash with SET columns.
_P = sa.bindparam
# Written exactly as the partial index ix_deliveries_due says it, so the planners use that index.
_IS_DUE = sa.text(f"deliveries.{DUE_CONDITION}")
_ARTICLE = sa.select(articles).where(articles.c.id == _P("p_article"))
_DELIVERIES_OF = (sa.select(deliveries).where(deliveries.c.article_id == _P("p_article"))
                  .order_by(deliveries.c.id))
_DELIVERY_STATES_OF = (sa.select(deliveries.c.state, deliveries.c.after_channel,
                                  deliveries.c.next_attempt_at)
                        .where(deliveries.c.article_id == _P("p_article")))
_SET_DELIVERY = (deliveries.update().where(deliveries.c.id == _P("p_delivery"))
                 .returning(deliveries.c.article_id, deliveries.c.channel))
_SET_LEASED = _SET_DELIVERY.where(deliveries.c.state == "in_flight",
                                  deliveries.c.lease_owner == _P("p_owner"))
_RELEASE_DEPENDENTS = deliveries.update().where(
    deliveries.c.article_id == _P("p_article"), deliveries.c.after_channel == _P("p_channel"),
    deliveries.c.state == "waiting", deliveries.c.next_attempt_at.is_(None)).values(
    next_attempt_at=sa.func.coalesce(deliveries.c.due_at, _P("p_now")), updated_at=_P("p_now"))
_SETTLE_ARTICLE = articles.update().where(articles.c.id == _P("p_article"),
                                          articles.c.state == "approved")
_AUDIT = audit_log.insert()


def _claim(dialect: str) -> sa.Update:
    """Lease the oldest due deliveries of channels that are neither paused nor backing off.

    The due rows are read in order straight from an index, never sorted, however many are due:
    on PostgreSQL from the partial index ix_deliveries_due (with ``SKIP LOCKED``, so concurrent
    workers pass each other's rows); on SQLite, whose planner would rather sort, from
    ix_deliveries_state_next, one ordered branch per due state.
    """
    held = sa.select(channel_state.c.channel).where(sa.or_(
        channel_state.c.paused, channel_state.c.backoff_until > _P("p_now")))
    order = (deliveries.c.next_attempt_at, deliveries.c.id)
    if dialect == "postgresql":
        due = (sa.select(deliveries.c.id)
               .where(_IS_DUE, deliveries.c.next_attempt_at <= _P("p_now"),
                      deliveries.c.channel.not_in(held))
               .order_by(*order).limit(_P("p_limit")).with_for_update(skip_locked=True))
    else:
        branches = sa.union_all(*(
            sa.select(deliveries.c.id, deliveries.c.next_attempt_at)
            .where(deliveries.c.state == state, deliveries.c.next_attempt_at <= _P("p_now"),
                   deliveries.c.channel.not_in(held))
            .order_by(*order).limit(_P("p_limit")).subquery().select()
            for state in DUE_STATES)).subquery()
        due = (sa.select(branches.c.id).order_by(branches.c.next_attempt_at, branches.c.id)
               .limit(_P("p_limit")))
    return (deliveries.update().where(deliveries.c.id.in_(due.scalar_subquery()))
            .values(state="in_flight", lease_owner=_P("p_owner"), lease_expires_at=_P("p_until"),
                    attempts=deliveries.c.attempts + 1,
                    first_attempt_at=sa.func.coalesce(deliveries.c.first_attempt_at, _P("p_now")),
                    updated_at=_P("p_now"))
            .returning(*deliveries.c))


_CLAIMS = {"sqlite": _claim("sqlite"), "postgresql": _claim("postgresql")}


def claim_statement(dialect: str) -> sa.Update:
    """The statement :meth:`Store.claim_due` runs on ``dialect`` (benchmarks EXPLAIN it)."""
    return _CLAIMS["postgresql" if dialect == "postgresql" else "sqlite"]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SubmitResult:
    article: Article
    outcome: str  # created | revised | duplicate


@dataclass(frozen=True)
class ChannelPlan:
    """One delivery to create at approval: the channel and the channel it waits for."""

    channel: str
    after: str | None = None


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


def _delivery(row: Any) -> Delivery:
    m = row._mapping
    return Delivery(**{f: m[f] for f in Delivery.__dataclass_fields__})


class Store(AlertQueries, CardQueries, ReachQueries):
    """Articles, deliveries, channel state and the audit log over one SQLAlchemy engine."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._reader = reader(engine)
        # SQLite has one writer at a time. Threads of this process queue for it here, waking the
        # moment it is free, instead of polling SQLite's lock with sleeps (other processes still
        # wait through SQLite's busy timeout). PostgreSQL needs no such queue.
        self._writer: AbstractContextManager[Any] = (
            nullcontext() if is_postgres(engine) else threading.RLock())

    @classmethod
    def open(cls, url: str, base_dir: Path | None = None) -> Store:
        """A store on a migrated database."""
        return cls(open_database(url, base_dir))

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        """One write transaction (on SQLite it holds the write lock from its start)."""
        with self._writer, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection (on SQLite a snapshot that never waits for the writer)."""
        with self._reader.connect() as conn:
            yield conn

    # ----- audit -----------------------------------------------------------------------------
    @staticmethod
    def audit(conn: Connection, actor: Actor, action: str, article_id: int | None = None,
              delivery_id: int | None = None, **detail: Any) -> None:
        conn.execute(_AUDIT, dict(
            at=utcnow(), actor=actor.name, via=actor.via, action=action, article_id=article_id,
            delivery_id=delivery_id, detail=detail or None))

    def record_event(self, actor: Actor, action: str, article_id: int | None = None,
                     **detail: Any) -> None:
        """Write one audit row on its own (an event that changes no state, e.g. a refusal)."""
        with self.tx() as conn:
            self.audit(conn, actor, action, article_id, **detail)

    def audit_entries(self, article_id: int | None = None) -> builtins.list[dict[str, Any]]:
        q = sa.select(audit_log).order_by(audit_log.c.id)
        if article_id is not None:
            q = q.where(audit_log.c.article_id == article_id)
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    # ----- reading ---------------------------------------------------------------------------
    def _article(self, conn: Connection, article_id: int, *, lock: bool = False) -> Article:
        return self._article_and_rows(conn, article_id, lock=lock)[0]

    def _article_and_rows(self, conn: Connection, article_id: int, *,
                          lock: bool = False) -> tuple[Article, Sequence[Any]]:
        """The article and its deliveries' raw rows (which also hold receipts)."""
        q = _ARTICLE.with_for_update() if lock and is_postgres(conn) else _ARTICLE
        row = conn.execute(q, {"p_article": article_id}).first()
        if row is None:
            raise NotFound(f"Không có bài #{article_id}.")
        ds = conn.execute(_DELIVERIES_OF, {"p_article": article_id}).all()
        m = dict(row._mapping)
        m.pop("updated_at")
        return Article(**m, deliveries=[_delivery(d) for d in ds]), ds

    def get(self, article_id: int) -> Article:
        with self.read() as conn:
            return self._article(conn, article_id)

    def list(self, states: Iterable[str] | None = None) -> builtins.list[Article]:
        q = sa.select(articles.c.id).order_by(articles.c.id)
        if states:
            q = q.where(articles.c.state.in_(list(states)))
        with self.read() as conn:
            ids: builtins.list[int] = list(conn.execute(q).scalars())
            return [self._article(conn, i) for i in ids]

    def scheduled_times_after(self, now: datetime) -> builtins.list[datetime]:
        """The slots of approved articles still to come (what the schedule may not reuse)."""
        with self.read() as conn:
            return list(conn.execute(sa.select(articles.c.scheduled_at).where(
                articles.c.state == "approved", articles.c.scheduled_at > now)).scalars())

    def delivery(self, delivery_id: int) -> Delivery:
        with self.read() as conn:
            row = conn.execute(sa.select(deliveries).where(deliveries.c.id == delivery_id)).first()
        if row is None:
            raise NotFound(f"Không có lượt đăng #{delivery_id}.")
        return _delivery(row)

    # ----- submission ------------------------------------------------------------------------
    def submit(self, parsed: ParsedArticle, actor: Actor) -> SubmitResult:
        """Store a parsed article: a new one, a revision of a pending one, or a known duplicate."""
        now = utcnow()
        values = dict(
            title=parsed.title, summary=parsed.summary, body_html=parsed.body_html,
            body_text=parsed.body_text, topic=parsed.topic, topic_suggested=parsed.topic_suggested,
            topic_reason=parsed.topic_reason,
            cover=parsed.cover.as_json() if parsed.cover else None,
            images=[i.as_json() for i in parsed.images], channels=list(parsed.channels),
            publish_at=parsed.publish_at, source_name=parsed.source_name,
            content_hash=parsed.content_hash, external_id=parsed.external_id, updated_at=now,
        )
        with self.tx() as conn:
            dup = conn.execute(sa.select(articles.c.id).where(
                articles.c.content_hash == parsed.content_hash).order_by(articles.c.id)).first()
            if dup is not None:
                return SubmitResult(self._article(conn, dup.id), "duplicate")
            same = None
            if parsed.external_id:
                same = sa.and_(articles.c.external_id == parsed.external_id)
            elif parsed.source_name:
                same = sa.and_(articles.c.title == parsed.title,
                               articles.c.source_name == parsed.source_name)
            prior = None
            if same is not None:
                prior = conn.execute(sa.select(articles.c.id, articles.c.state, articles.c.revision)
                                     .where(same, articles.c.state.notin_(["rejected"]))
                                     .order_by(articles.c.id.desc())).first()
            if prior is not None:
                if prior.state != "pending":
                    raise IllegalTransition(
                        f"Bài #{prior.id} đã được duyệt hoặc đã đăng, không thể thay bằng bản sửa. "
                        "Hãy đề nghị quản trị rút lại hoặc gỡ bài rồi gửi bài mới.")
                conn.execute(articles.update().where(articles.c.id == prior.id)
                             .values(**values, revision=prior.revision + 1))
                self.audit(conn, actor, "revised", prior.id, revision=prior.revision + 1,
                           source=parsed.source_name)
                return SubmitResult(self._article(conn, prior.id), "revised")
            new_id: Any = conn.execute(articles.insert().values(
                **values, state="pending", submitted_by=actor.name, submitted_at=now)
                .returning(articles.c.id)).scalar_one()
            self.audit(conn, actor, "submitted", new_id, source=parsed.source_name)
            return SubmitResult(self._article(conn, new_id), "created")

    def change_topic(self, article_id: int, topic: str, actor: Actor) -> Article:
        with self.tx() as conn:
            art = self._article(conn, article_id, lock=True)
            check_transition(article_id, art.state, "revise")
            conn.execute(articles.update().where(articles.c.id == article_id).values(
                topic=topic, topic_suggested=False, updated_at=utcnow()))
            self.audit(conn, actor, "topic_changed", article_id, old=art.topic, new=topic)
            return self._article(conn, article_id)

    # ----- decisions -------------------------------------------------------------------------
    def approve(self, article_id: int, actor: Actor, due_at: datetime,
                plan: Sequence[ChannelPlan], *, expected_revision: int | None = None,
                skipped: dict[str, str] | None = None) -> Article:
        """Approve a pending article: one waiting delivery per planned channel, due at ``due_at``."""
        now = utcnow()
        with self.tx() as conn:
            art = self._article(conn, article_id, lock=True)
            new_state = check_transition(article_id, art.state, "approve")
            if expected_revision is not None and art.revision != expected_revision:
                raise IllegalTransition(
                    f"Bài #{article_id} vừa được thay bằng bản sửa (lần {art.revision}); "
                    "hãy xem lại trước khi duyệt.")
            if not plan:
                raise IllegalTransition(f"Bài #{article_id} không có kênh nào để đăng.")
            upd = conn.execute(articles.update().where(
                articles.c.id == article_id, articles.c.state == "pending").values(
                state=new_state, approved_by=actor.name, approved_at=now, scheduled_at=due_at,
                updated_at=now))
            if upd.rowcount != 1:  # lost a race with another decision (SQLite: serialised anyway)
                raise IllegalTransition(f"Bài #{article_id} vừa được người khác xử lý.")
            planned = {p.channel for p in plan}
            for p in plan:
                blocked = p.after is not None and p.after in planned
                conn.execute(deliveries.insert().values(
                    article_id=article_id, channel=p.channel, state="waiting",
                    after_channel=p.after if blocked else None, due_at=due_at,
                    next_attempt_at=None if blocked else due_at,
                    idempotency_key=f"loa-{article_id}-{p.channel}-{uuid.uuid4().hex[:10]}",
                    updated_at=now))
            self.audit(conn, actor, "approved", article_id, due_at=due_at.isoformat(),
                       channels=sorted(planned), revision=art.revision, skipped=skipped or {})
            return self._article(conn, article_id)

    def reject(self, article_id: int, actor: Actor, reason: str) -> Article:
        reason = reason.strip()
        if not reason:
            raise IllegalTransition("Cần ghi lý do từ chối.")
        now = utcnow()
        with self.tx() as conn:
            art = self._article(conn, article_id, lock=True)
            new_state = check_transition(article_id, art.state, "reject")
            conn.execute(articles.update().where(articles.c.id == article_id).values(
                state=new_state, rejected_by=actor.name, rejected_at=now, reject_reason=reason,
                updated_at=now))
            self.audit(conn, actor, "rejected", article_id, reason=reason)
            return self._article(conn, article_id)

    def withdraw(self, article_id: int, actor: Actor) -> Article:
        """Cancel an approved article before any channel posted it."""
        now = utcnow()
        with self.tx() as conn:
            art = self._article(conn, article_id, lock=True)
            new_state = check_transition(article_id, art.state, "withdraw")
            started = [d for d in art.deliveries
                       if d.state in ("sent", "in_flight", "in_doubt", "awaiting_url")]
            if started:
                raise IllegalTransition(
                    f"Bài #{article_id} đã (hoặc đang) được đăng lên "
                    f"{', '.join(d.channel for d in started)}; hãy dùng lệnh gỡ bài (retract).")
            conn.execute(deliveries.update().where(deliveries.c.article_id == article_id).values(
                state="cancelled", next_attempt_at=None, updated_at=now))
            conn.execute(articles.update().where(articles.c.id == article_id).values(
                state=new_state, updated_at=now))
            self.audit(conn, actor, "withdrawn", article_id)
            return self._article(conn, article_id)

    def begin_retract(self, article_id: int) -> Article:
        """The article if it may be retracted (published or partial, nothing in flight)."""
        with self.read() as conn:
            art = self._article(conn, article_id)
        check_transition(article_id, art.state, "retract")
        if any(d.state == "in_flight" for d in art.deliveries):
            raise IllegalTransition(f"Bài #{article_id} đang được đăng; hãy thử lại sau ít phút.")
        return art

    def record_retracted(self, delivery_id: int, actor: Actor) -> None:
        with self.tx() as conn:
            done = conn.execute(deliveries.update().where(
                deliveries.c.id == delivery_id,
                deliveries.c.state.in_(sources_of(DeliveryState.RETRACTED))).values(
                state="retracted", next_attempt_at=None, updated_at=utcnow())).rowcount
            if not done:
                raise IllegalTransition(f"Lượt đăng #{delivery_id} chưa đăng nên không gỡ được.")
            d = conn.execute(sa.select(deliveries.c.article_id, deliveries.c.channel)
                             .where(deliveries.c.id == delivery_id)).one()
            self.audit(conn, actor, "delivery_retracted", d.article_id, delivery_id,
                       channel=d.channel)

    def finish_retract(self, article_id: int, actor: Actor) -> Article:
        """Mark the article retracted; unsent deliveries are cancelled."""
        now = utcnow()
        with self.tx() as conn:
            art = self._article(conn, article_id, lock=True)
            new_state = check_transition(article_id, art.state, "retract")
            conn.execute(deliveries.update().where(
                deliveries.c.article_id == article_id,
                deliveries.c.state.in_(["waiting", "retry", "failed", "in_doubt", "awaiting_url"]))
                .values(state="cancelled", next_attempt_at=None, updated_at=now))
            conn.execute(articles.update().where(articles.c.id == article_id).values(
                state=new_state, updated_at=now))
            self.audit(conn, actor, "retracted", article_id)
            return self._article(conn, article_id)

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
                    "không cần đăng lại.")
            conn.execute(deliveries.update().where(deliveries.c.id == delivery_id).values(
                state="retry", next_attempt_at=now, attempts=0, updated_at=now))
            conn.execute(articles.update().where(articles.c.id == d.article_id,
                                                 articles.c.state == "partial")
                         .values(state="approved", updated_at=now))
            self.audit(conn, actor, "retry_requested", d.article_id, delivery_id,
                       channel=d.channel)
        return self.delivery(delivery_id)

    def resolve_in_doubt(self, delivery_id: int, actor: Actor, *, posted: bool,
                         url: str | None = None) -> Delivery:
        """An admin says whether an in-doubt (or awaiting-URL) delivery reached the platform."""
        now = utcnow()
        with self.tx() as conn:
            d = conn.execute(sa.select(deliveries).where(deliveries.c.id == delivery_id)).first()
            if d is None:
                raise NotFound(f"Không có lượt đăng #{delivery_id}.")
            if d.state not in (DeliveryState.IN_DOUBT, DeliveryState.AWAITING_URL):
                raise IllegalTransition(
                    f"Lượt đăng #{delivery_id} không ở trạng thái chờ xác nhận (đang là {d.state}).")
            if posted:
                if d.state == "awaiting_url" and not url:
                    raise IllegalTransition("Cần nhập địa chỉ (URL) công khai của bài đã đăng.")
                self._mark_sent(conn, d.id, remote_id=d.remote_id or "confirmed", url=url or d.url,
                                now=now)
            else:
                # A person looked: nothing is there, so it may be sent again without a look.
                conn.execute(deliveries.update().where(deliveries.c.id == delivery_id).values(
                    state="retry", next_attempt_at=now, lease_owner=None, may_have_posted=False,
                    updated_at=now))
            self.audit(conn, actor, "confirmed_posted" if posted else "confirmed_not_posted",
                       d.article_id, delivery_id, channel=d.channel, url=url)
        return self.delivery(delivery_id)

    # ----- dispatching -----------------------------------------------------------------------
    def claim_due(self, owner: str, now: datetime, *, limit: int,
                  lease_seconds: float) -> builtins.list[Delivery]:
        """Lease up to ``limit`` due deliveries to ``owner`` in one statement.

        Channels that are paused or backing off are skipped; on PostgreSQL rows another worker
        is claiming are skipped too (``FOR UPDATE SKIP LOCKED``), so no delivery is leased twice.
        """
        with self.tx() as conn:
            rows = conn.execute(claim_statement(conn.dialect.name), {
                "p_now": now, "p_limit": limit, "p_owner": owner,
                "p_until": now + timedelta(seconds=lease_seconds)}).all()
        return sorted((_delivery(r) for r in rows), key=lambda d: d.id)

    def next_wakeup(self) -> datetime | None:
        with self.read() as conn:
            return conn.execute(sa.select(sa.func.min(deliveries.c.next_attempt_at))
                                .where(_IS_DUE)).scalar()

    def _mark_sent(self, conn: Connection, delivery_id: int, *, remote_id: str, url: str | None,
                   now: datetime, awaiting_url: bool = False,
                   receipt: dict[str, Any] | None = None,
                   owner: str | None = None) -> tuple[int, str, int] | None:
        """Record the post of a delivery; with ``owner``, only while that worker still holds the
        lease. Returns the delivery's article id and channel and the number of deliveries that
        waited for it and are now due, or None if nothing was recorded."""
        values: dict[str, Any] = dict(
            p_delivery=delivery_id, state="awaiting_url" if awaiting_url else "sent",
            remote_id=remote_id, url=url, sent_at=None if awaiting_url else now,
            lease_owner=None, lease_expires_at=None, next_attempt_at=None,
            reach_next_at=None if awaiting_url else now, last_error=None, may_have_posted=False,
            updated_at=now)
        if receipt:
            values["receipt"] = receipt
        if owner is None:
            found = conn.execute(_SET_DELIVERY, values).first()
        else:
            found = conn.execute(_SET_LEASED, {**values, "p_owner": owner}).first()
        if found is None:
            return None  # the lease expired and the delivery moved on
        article_id, channel = int(found[0]), str(found[1])
        released = 0
        if not awaiting_url:
            rows = conn.execute(_DELIVERY_STATES_OF, {"p_article": article_id}).all()
            if any(r.after_channel == channel and r.state == "waiting"
                   and r.next_attempt_at is None for r in rows):
                # Deliveries that waited for this channel's URL become due now.
                released = conn.execute(_RELEASE_DEPENDENTS, {
                    "p_article": article_id, "p_channel": channel, "p_now": now}).rowcount
            else:
                self._settle_article(conn, article_id, now, [r.state for r in rows])
        return article_id, channel, released

    def _settle_article(self, conn: Connection, article_id: int, now: datetime,
                        states: builtins.list[str] | None = None) -> None:
        """``published`` or ``partial`` once every delivery is finished (``states``: read here
        unless the caller has just read them in this transaction)."""
        if states is None:
            states = [r.state for r in conn.execute(_DELIVERY_STATES_OF, {"p_article": article_id})]
        if not states or any(s not in TERMINAL_DELIVERY for s in states):
            return
        new = "published" if all(s == "sent" for s in states) else "partial"
        if "sent" not in states and new == "partial" and all(s == "cancelled" for s in states):
            return
        conn.execute(_SETTLE_ARTICLE, {"p_article": article_id, "state": new, "updated_at": now})

    def record_sent(self, delivery_id: int, owner: str, *, remote_id: str, url: str | None,
                    awaiting_url: bool = False, reconciled: bool = False,
                    receipt: dict[str, Any] | None = None) -> int | None:
        """Record a post: the number of deliveries that waited for it and are due now, or None
        if the lease was lost meanwhile (nothing recorded)."""
        now = utcnow()
        with self.tx() as conn:
            leased = self._mark_sent(conn, delivery_id, remote_id=remote_id, url=url, now=now,
                                     awaiting_url=awaiting_url, receipt=receipt, owner=owner)
            if leased is None:
                return None
            article_id, channel, released = leased
            self.audit(conn, Actor.service(), "awaiting_url" if awaiting_url else "sent",
                       article_id, delivery_id, channel=channel, url=url,
                       remote_id=remote_id, reconciled=reconciled, owner=owner)
            return released

    def record_failure(self, delivery_id: int, owner: str, *, state: str, error: str, kind: str,
                       next_attempt_at: datetime | None = None, keep_attempts: bool = False,
                       may_have_posted: bool = False) -> bool:
        """Record a failed attempt of a delivery ``owner`` holds: ``retry`` (with a time, or
        None: held), ``failed`` or ``in_doubt``; ``may_have_posted``: an attempt may have posted
        and no look has settled it. Returns False (nothing recorded) if the lease was lost."""
        if state not in _FAILURES:
            check_delivery_transition(delivery_id, DeliveryState.IN_FLIGHT, state)
            raise IllegalTransition(f"Lượt đăng #{delivery_id}: {state} không phải một thất bại.")
        ErrorKind(kind)  # refuses an unknown kind
        now = utcnow()
        values: dict[str, Any] = dict(
            state=state, last_error=error, last_error_kind=kind, lease_owner=None,
            may_have_posted=may_have_posted,
            lease_expires_at=None, next_attempt_at=next_attempt_at, updated_at=now,
            first_failure_at=sa.func.coalesce(deliveries.c.first_failure_at, now))
        if keep_attempts:
            values["attempts"] = deliveries.c.attempts - 1
        with self.tx() as conn:
            found = conn.execute(deliveries.update().where(
                deliveries.c.id == delivery_id, deliveries.c.state == "in_flight",
                deliveries.c.lease_owner == owner).values(**values)
                .returning(deliveries.c.article_id, deliveries.c.channel)).first()
            if found is None:
                return False  # the lease expired and the delivery moved on: record nothing
            article_id, channel = int(found[0]), str(found[1])
            self.audit(conn, Actor.service(), f"delivery_{state}", article_id, delivery_id,
                       channel=channel, error=error, kind=kind, may_have_posted=may_have_posted)
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
            return conn.execute(deliveries.update().where(
                deliveries.c.id.in_(ids), deliveries.c.state == "in_flight",
                deliveries.c.lease_owner == owner).values(lease_expires_at=until)).rowcount

    def expire_leases(self, now: datetime, *, reconcile_after: float) -> builtins.list[Delivery]:
        """In-flight deliveries whose worker died become ``in_doubt``, to be looked for on the
        platform ``reconcile_after`` seconds later (before any resend): the platform may still be
        finishing the dead worker's last request."""
        with self.tx() as conn:
            q = sa.select(deliveries).where(deliveries.c.state == "in_flight",
                                            deliveries.c.lease_expires_at < now)
            if is_postgres(conn):
                q = q.with_for_update(skip_locked=True)
            rows = conn.execute(q).all()
            for d in rows:
                conn.execute(deliveries.update().where(deliveries.c.id == d.id).values(
                    state="in_doubt", lease_owner=None, lease_expires_at=None,
                    next_attempt_at=now + timedelta(seconds=reconcile_after),
                    last_error="Tiến trình đăng bị ngắt giữa chừng.",
                    last_error_kind="lease_expired", may_have_posted=True, updated_at=now))
                self.audit(conn, Actor.service(), "lease_expired", d.article_id, d.id,
                           channel=d.channel, owner=d.lease_owner)
            return [_delivery(r) for r in rows]

    def claim_in_doubt(self, owner: str, now: datetime, *, lease_seconds: float,
                       limit: int = 20) -> builtins.list[Delivery]:
        """Lease in-doubt deliveries for a look; the look counts as an attempt (a look that keeps
        failing ends with a person deciding), which ``record_failure(keep_attempts=True)``
        undoes when the look settles the doubt."""
        with self.tx() as conn:
            q = (sa.select(deliveries.c.id).where(deliveries.c.state == "in_doubt",
                                                  deliveries.c.next_attempt_at <= now)
                 .order_by(deliveries.c.id).limit(limit))
            if is_postgres(conn):
                q = q.with_for_update(skip_locked=True)
            ids: builtins.list[int] = list(conn.execute(q).scalars())
            if not ids:
                return []
            conn.execute(deliveries.update().where(deliveries.c.id.in_(ids)).values(
                state="in_flight", lease_owner=owner, attempts=deliveries.c.attempts + 1,
                lease_expires_at=now + timedelta(seconds=lease_seconds), updated_at=now))
            rows = conn.execute(sa.select(deliveries).where(deliveries.c.id.in_(ids))).all()
            return [_delivery(r) for r in rows]

    def requeue_channel(self, channel: str, now: datetime) -> int:
        """Deliveries of a channel that were held (paused) become due again."""
        with self.tx() as conn:
            res = conn.execute(deliveries.update().where(
                deliveries.c.channel == channel, deliveries.c.state == "retry",
                deliveries.c.next_attempt_at.is_(None)).values(next_attempt_at=now, updated_at=now))
            return res.rowcount

    def draft_inputs(self, article_id: int
                     ) -> tuple[Article, dict[str, dict[str, Any]], dict[str, str]]:
        """The article, plus ``Receipt.extra`` and public URL of each sent delivery by channel
        (e.g. the website's media URLs and link), read in one snapshot."""
        with self.read() as conn:
            article, rows = self._article_and_rows(conn, article_id)
        sent = [r for r in rows if r.state == "sent"]
        return article, {r.channel: r.receipt or {} for r in sent}, {
            r.channel: r.url for r in sent if r.url}

    # ----- channel state ---------------------------------------------------------------------
    def channel_status(self, channel: str) -> ChannelStatus:
        with self.read() as conn:
            row = conn.execute(sa.select(channel_state).where(
                channel_state.c.channel == channel)).first()
        if row is None:
            return ChannelStatus(channel, False, None, False, None, None, None, None, None)
        m = row._mapping
        return ChannelStatus(**{f: m[f] for f in ChannelStatus.__dataclass_fields__})

    def _upsert_channel(self, conn: Connection, channel: str, **values: Any) -> None:
        now = utcnow()
        res = conn.execute(channel_state.update().where(channel_state.c.channel == channel)
                           .values(**values, updated_at=now))
        if res.rowcount == 0:
            conn.execute(channel_state.insert().values(channel=channel, updated_at=now, **values))

    def set_paused(self, channel: str, paused: bool, actor: Actor, reason: str | None = None,
                   *, needs_reauth: bool = False) -> None:
        now = utcnow()
        with self.tx() as conn:
            self._upsert_channel(conn, channel, paused=paused,
                                 paused_reason=reason if paused else None,
                                 paused_at=now if paused else None,
                                 needs_reauth=needs_reauth if paused else False)
            self.audit(conn, actor, "channel_paused" if paused else "channel_resumed",
                       channel=channel, reason=reason)
            if not paused:
                conn.execute(deliveries.update().where(
                    deliveries.c.channel == channel, deliveries.c.state == "retry",
                    deliveries.c.next_attempt_at.is_(None)).values(
                    next_attempt_at=now, updated_at=now))

    def set_backoff(self, channel: str, until: datetime | None) -> None:
        with self.tx() as conn:
            self._upsert_channel(conn, channel, backoff_until=until)

    def record_health(self, channel: str, ok: bool, detail: str,
                      expires_at: datetime | None) -> None:
        with self.tx() as conn:
            self._upsert_channel(conn, channel, last_check_at=utcnow(), last_check_ok=ok,
                                 last_check_detail=detail, token_expires_at=expires_at)
