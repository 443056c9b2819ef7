"""Citizens in: webhook events, questions and replies (issue 23; README.md, "Citizens' questions").

States::

    event     new ──claim──▶ claimed ──▶ done | ignored | failed     (a lease: a dead worker's
                                                                      claim is taken again)
    question  new ──▶ answered | greeted | handed_over (handover: open ──▶ answered | skipped)
    reply     pending ──begin_send──▶ sending ──▶ sent | failed
                                                └─▶ in_doubt ──▶ sent | not_sent   (a person says)

Rules the statements here enforce, whoever calls them:

* Store before 200: :meth:`CitizenData.store_events` writes on its own connection with a short
  lock wait, so a busy database is an :class:`IntakeBusy` (the web hook answers 503 and the
  platform retries), never a 200 for an event not stored. The platform's id is unique per channel:
  a retried event is stored once.
* Each question once: a question row per event (unique), its decision taken by one guarded
  ``UPDATE … WHERE state = 'new'``, and at most one reply of each kind per question (unique).
* Never twice: only the caller that moves a reply ``pending → sending`` calls the platform;
  nothing here ever turns ``sending`` or ``in_doubt`` back into ``pending``; a stale ``sending``
  (its worker died mid-call) becomes ``in_doubt``.
* One decision wins on a hand-over (``handover = 'open'`` guard).
* Personal data: every row holding a citizen's id or words is deleted after the retention time
  (:meth:`purge_before`) or on request (:meth:`forget`); the audit log never holds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from content_queue.db import create_engine_for, is_postgres
from content_queue.models import Actor
from content_queue.store_core import StoreCore, Transactions
from content_queue.tables import citizen_events, citizen_questions, citizen_replies

__all__ = [
    "CitizenData",
    "CitizenEvent",
    "InboundEvent",
    "IntakeBusy",
    "Question",
    "Reply",
    "ReportFigures",
]

_E, _Q, _R = citizen_events, citizen_questions, citizen_replies
# Replies that reached (or may have reached) the citizen: they count against the free replies.
_USED = ("sending", "sent", "in_doubt")
INTAKE_LOCK_WAIT_MS = 1200  # under the 1.5 s the web hook may spend before answering 503


class IntakeBusy(Exception):
    """The database could not take an event in time: the web hook answers 503 (retry)."""


@dataclass(frozen=True)
class InboundEvent:
    """A verified webhook event, as the web hook stores it."""

    channel: str
    platform: str
    kind: str  # message | feed | other
    external_id: str
    sender: str | None
    text: str | None  # the citizen's words as the adapter read them (None: a picture …)
    payload: dict[str, Any]  # the event as the platform sent it


@dataclass(frozen=True)
class CitizenEvent:
    id: int
    channel: str
    platform: str
    kind: str
    external_id: str
    sender: str | None
    text: str | None
    payload: dict[str, Any]
    received_at: datetime
    state: str
    attempts: int


@dataclass(frozen=True)
class Question:
    id: int
    event_id: int
    channel: str
    citizen_id: str
    message_id: str
    text: str
    asked_at: datetime
    state: str
    answer_text: str | None
    hits: list[dict[str, Any]]
    best: float | None
    handover: str | None
    handover_by: str | None
    handover_at: datetime | None
    saved_qa_id: int | None
    card_chat_id: int | None
    card_message_id: int | None


@dataclass(frozen=True)
class Reply:
    id: int
    question_id: int
    channel: str
    citizen_id: str
    kind: str
    text: str
    state: str
    author: str | None
    created_at: datetime
    sent_at: datetime | None
    remote_id: str | None
    error: str | None
    decided_by: str | None
    card_chat_id: int | None
    card_message_id: int | None


@dataclass(frozen=True)
class ReportFigures:
    """The report's counts for a period (never a name, id or message of a citizen)."""

    received: int
    answered: int
    handed_over: int
    human_answered: int
    unanswered: int
    median_human_minutes: float | None
    handed_over_texts: tuple[str, ...]  # grouped into topics by the report, never printed as is


def _event(r: Any) -> CitizenEvent:
    return CitizenEvent(
        r.id,
        r.channel,
        r.platform,
        r.kind,
        r.external_id,
        r.sender,
        r.text,
        dict(r.payload or {}),
        r.received_at,
        r.state,
        r.attempts,
    )


def _question(r: Any) -> Question:
    m = dict(r._mapping)
    m["hits"] = list(m.get("hits") or [])
    return Question(**{f: m[f] for f in Question.__dataclass_fields__})


def _reply(r: Any) -> Reply:
    m = r._mapping
    return Reply(**{f: m[f] for f in Reply.__dataclass_fields__})


class CitizenData:
    """Every statement about citizens' events, questions and replies, over one engine."""

    def __init__(self, transactions: Transactions | Engine):
        # The store's shared transactions: the intake queues with this process's other writers.
        self._core = StoreCore(transactions)
        self.engine = self._core.engine

    # ----- intake (the web hook) -------------------------------------------------------------
    @cached_property
    def _intake(self) -> Engine:
        """An engine whose writes give up after ~1.2 s instead of queueing behind a lock."""
        url = self.engine.url.render_as_string(hide_password=False)
        if is_postgres(self.engine):
            ms = INTAKE_LOCK_WAIT_MS
            given = self.engine.url.query.get("options", "")  # e.g. a search_path: kept
            given = " ".join(given) if isinstance(given, tuple) else given
            return sa.create_engine(
                url,
                # No ping per checkout (a round trip per webhook): a connection that died makes
                # one 503, and the platform sends the event again.
                pool_pre_ping=False,
                pool_recycle=300,
                pool_size=5,
                max_overflow=5,
                pool_timeout=1.0,
                connect_args={
                    "connect_timeout": 1,
                    "options": f"{given} -c lock_timeout={ms} -c statement_timeout={ms + 200}",
                },
            )
        return create_engine_for(url, busy_timeout_ms=INTAKE_LOCK_WAIT_MS)

    def store_events(self, events: Sequence[InboundEvent], now: datetime) -> int:
        """Store ``events`` (a retried one is kept once); returns how many were new.

        Raises :class:`IntakeBusy` when the database cannot take them within ~1.2 s.
        """
        if not events:
            return 0
        rows = [
            {
                "channel": e.channel,
                "platform": e.platform,
                "kind": e.kind,
                "external_id": e.external_id[:200],
                "sender": e.sender[:200] if e.sender else None,
                "text": e.text[:10000] if e.text else None,
                "payload": e.payload,
                "received_at": now,
                "state": "new",
                "attempts": 0,
            }
            for e in events
        ]
        engine = self._intake
        stmt: Any
        if is_postgres(engine):
            stmt = postgresql.insert(_E).on_conflict_do_nothing(
                index_elements=["channel", "external_id"]
            )
        else:
            stmt = sqlite.insert(_E).on_conflict_do_nothing(
                index_elements=["channel", "external_id"]
            )
        # SQLite: this process's writers queue here (waking the moment the lock is free) rather
        # than in SQLite's busy handler, which sleeps in steps of up to 100 ms.
        lock: Any = self._core._transactions._writer  # an RLock on SQLite (unused on PostgreSQL)
        if not is_postgres(engine) and not lock.acquire(timeout=INTAKE_LOCK_WAIT_MS / 1000):
            raise IntakeBusy("the write lock is taken")
        try:
            with engine.begin() as conn:
                return sum(conn.execute(stmt, [row]).rowcount for row in rows)
        except (OperationalError, PoolTimeout, DBAPIError) as exc:
            raise IntakeBusy(str(type(exc).__name__)) from exc
        finally:
            if not is_postgres(engine):
                lock.release()

    # ----- the job: claiming events ----------------------------------------------------------
    def claim_events(
        self, owner: str, now: datetime, lease_until: datetime, limit: int = 20
    ) -> list[CitizenEvent]:
        """Events that are new, or whose claim lapsed (a worker died), leased to ``owner``."""
        due = sa.or_(_E.c.state == "new", sa.and_(_E.c.state == "claimed", _E.c.lease_until < now))
        with self._core.tx() as conn:
            q = sa.select(_E.c.id).where(due).order_by(_E.c.id).limit(limit)
            if is_postgres(conn):
                q = q.with_for_update(skip_locked=True)
            found: list[Any] = list(conn.execute(q).scalars())
            ids = [int(i) for i in found]
            if not ids:
                return []
            conn.execute(
                _E.update()
                .where(_E.c.id.in_(ids), due)
                .values(
                    state="claimed",
                    lease_owner=owner,
                    lease_until=lease_until,
                    attempts=_E.c.attempts + 1,
                )
            )
            rows = conn.execute(
                sa.select(_E).where(_E.c.id.in_(ids), _E.c.lease_owner == owner).order_by(_E.c.id)
            ).all()
        return [_event(r) for r in rows]

    def finish_event(
        self, event_id: int, owner: str, state: str, now: datetime, error: str | None = None
    ) -> bool:
        """claimed → ``state`` (done | ignored | failed), only by the lease's owner."""
        with self._core.tx() as conn:
            return (
                conn.execute(
                    _E.update()
                    .where(_E.c.id == event_id, _E.c.state == "claimed", _E.c.lease_owner == owner)
                    .values(
                        state=state,
                        processed_at=now,
                        error=error,
                        lease_owner=None,
                        lease_until=None,
                    )
                ).rowcount
                == 1
            )

    def event_states(self) -> dict[str, int]:
        with self._core.read() as conn:
            return {
                r[0]: int(r[1])
                for r in conn.execute(sa.select(_E.c.state, sa.func.count()).group_by(_E.c.state))
            }

    def events(self) -> list[CitizenEvent]:
        with self._core.read() as conn:
            return [_event(r) for r in conn.execute(sa.select(_E).order_by(_E.c.id))]

    # ----- questions -------------------------------------------------------------------------
    def question_for(
        self, event: CitizenEvent, citizen_id: str, message_id: str, text: str
    ) -> Question:
        """The event's question, stored the first time (idempotent across retries)."""
        with self._core.tx() as conn:
            row = conn.execute(sa.select(_Q).where(_Q.c.event_id == event.id)).first()
            if row is None:
                conn.execute(
                    _Q.insert().values(
                        event_id=event.id,
                        channel=event.channel,
                        citizen_id=citizen_id[:200],
                        message_id=message_id[:200],
                        text=text,
                        asked_at=event.received_at,
                        state="new",
                    )
                )
                row = conn.execute(sa.select(_Q).where(_Q.c.event_id == event.id)).one()
        return _question(row)

    def is_first_contact(self, question: Question) -> bool:
        """Whether no earlier question of this citizen on this channel is on record."""
        with self._core.read() as conn:
            return (
                conn.execute(
                    sa.select(_Q.c.id).where(
                        _Q.c.channel == question.channel,
                        _Q.c.citizen_id == question.citizen_id,
                        _Q.c.id < question.id,
                    )
                ).first()
                is None
            )

    def record_answer(
        self,
        question_id: int,
        *,
        state: str,
        answer_text: str,
        hits: list[dict[str, Any]],
        best: float | None,
        reply_kind: str,
        now: datetime,
    ) -> bool:
        """The assistant's decision (answered | greeted | handed_over) and its pending reply, in
        one transaction; False when the question was already decided (another worker)."""
        with self._core.tx() as conn:
            q = conn.execute(sa.select(_Q).where(_Q.c.id == question_id)).one()
            values: dict[str, Any] = {
                "state": state,
                "answer_text": answer_text,
                "hits": hits,
                "best": best,
            }
            if state == "handed_over":
                values["handover"] = "open"
            won = (
                conn.execute(
                    _Q.update().where(_Q.c.id == question_id, _Q.c.state == "new").values(**values)
                ).rowcount
                == 1
            )
            if won:
                self._add_reply(conn, q, reply_kind, answer_text, None, now)
        return won

    @staticmethod
    def _add_reply(
        conn: Connection, q: Any, kind: str, text: str, author: str | None, now: datetime
    ) -> None:
        conn.execute(
            _R.insert().values(
                question_id=q.id,
                channel=q.channel,
                citizen_id=q.citizen_id,
                kind=kind,
                text=text,
                state="pending",
                author=author,
                created_at=now,
                updated_at=now,
            )
        )

    def question(self, question_id: int) -> Question | None:
        with self._core.read() as conn:
            row = conn.execute(sa.select(_Q).where(_Q.c.id == question_id)).first()
        return _question(row) if row is not None else None

    def questions(self, limit: int = 200) -> list[Question]:
        """The latest questions, newest first."""
        with self._core.read() as conn:
            rows = conn.execute(sa.select(_Q).order_by(_Q.c.id.desc()).limit(limit)).all()
        return [_question(r) for r in rows]

    def open_handovers(self) -> list[Question]:
        with self._core.read() as conn:
            rows = conn.execute(
                sa.select(_Q).where(_Q.c.handover == "open").order_by(_Q.c.asked_at, _Q.c.id)
            ).all()
        return [_question(r) for r in rows]

    def last_message_at(self, channel: str, citizen_id: str) -> datetime | None:
        """When the citizen last wrote on ``channel`` (the reply window runs from it)."""
        with self._core.read() as conn:
            return conn.execute(
                sa.select(sa.func.max(_Q.c.asked_at)).where(
                    _Q.c.channel == channel, _Q.c.citizen_id == citizen_id
                )
            ).scalar_one_or_none()

    def replies_since(self, channel: str, citizen_id: str, since: datetime) -> int:
        """Replies that reached (or may have reached) the citizen since ``since``."""
        with self._core.read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(_R)
                    .where(
                        _R.c.channel == channel,
                        _R.c.citizen_id == citizen_id,
                        _R.c.state.in_(_USED),
                        _R.c.updated_at >= since,
                    )
                ).scalar_one()
            )

    # ----- hand-over decisions ---------------------------------------------------------------
    def answer_handover(
        self, question_id: int, actor: Actor, text: str, now: datetime, *, how: str = "reply"
    ) -> Reply | None:
        """An admin's answer to an open hand-over (the first decision wins): a pending ``human``
        reply; None when the hand-over was no longer open."""
        with self._core.tx() as conn:
            won = (
                conn.execute(
                    _Q.update()
                    .where(_Q.c.id == question_id, _Q.c.handover == "open")
                    .values(handover="answered", handover_by=actor.name, handover_at=now)
                ).rowcount
                == 1
            )
            if not won:
                return None
            q = conn.execute(sa.select(_Q).where(_Q.c.id == question_id)).one()
            self._add_reply(conn, q, "human", text, actor.name, now)
            self._core.audit(conn, actor, f"handover_{how}", None, question_id=question_id)
            row = conn.execute(
                sa.select(_R).where(_R.c.question_id == question_id, _R.c.kind == "human")
            ).one()
        return _reply(row)

    def skip_handover(self, question_id: int, actor: Actor, now: datetime) -> bool:
        with self._core.tx() as conn:
            won = (
                conn.execute(
                    _Q.update()
                    .where(_Q.c.id == question_id, _Q.c.handover == "open")
                    .values(handover="skipped", handover_by=actor.name, handover_at=now)
                ).rowcount
                == 1
            )
            if won:
                self._core.audit(conn, actor, "handover_skipped", None, question_id=question_id)
        return won

    def mark_saved(self, question_id: int, qa_id: int) -> bool:
        """Remember the saved question–answer pair (once per question)."""
        with self._core.tx() as conn:
            return (
                conn.execute(
                    _Q.update()
                    .where(_Q.c.id == question_id, _Q.c.saved_qa_id.is_(None))
                    .values(saved_qa_id=qa_id)
                ).rowcount
                == 1
            )

    # ----- replies ---------------------------------------------------------------------------
    def reply(self, reply_id: int) -> Reply | None:
        with self._core.read() as conn:
            row = conn.execute(sa.select(_R).where(_R.c.id == reply_id)).first()
        return _reply(row) if row is not None else None

    def replies_of(self, question_id: int) -> list[Reply]:
        with self._core.read() as conn:
            rows = conn.execute(
                sa.select(_R).where(_R.c.question_id == question_id).order_by(_R.c.id)
            ).all()
        return [_reply(r) for r in rows]

    def replies(self, states: Sequence[str] | None = None) -> list[Reply]:
        q = sa.select(_R).order_by(_R.c.id)
        if states is not None:
            q = q.where(_R.c.state.in_(list(states)))
        with self._core.read() as conn:
            return [_reply(r) for r in conn.execute(q).all()]

    def _move(
        self, conn: Connection, reply_id: int, expected: Sequence[str], **values: Any
    ) -> bool:
        return (
            conn.execute(
                _R.update()
                .where(_R.c.id == reply_id, _R.c.state.in_(list(expected)))
                .values(**values)
            ).rowcount
            == 1
        )

    def begin_send(self, reply_id: int, now: datetime) -> bool:
        """pending → sending: only the caller that wins this may call the platform."""
        with self._core.tx() as conn:
            return self._move(conn, reply_id, ("pending",), state="sending", updated_at=now)

    def record_sent(self, reply_id: int, remote_id: str | None, now: datetime) -> None:
        with self._core.tx() as conn:
            self._move(
                conn,
                reply_id,
                ("sending",),
                state="sent",
                sent_at=now,
                remote_id=(remote_id or "")[:200] or None,
                error=None,
                updated_at=now,
            )

    def record_failed(self, reply_id: int, error: str, now: datetime) -> None:
        """The platform refused, or Loa did not send (window, quota): nothing went out."""
        with self._core.tx() as conn:
            self._move(
                conn, reply_id, ("sending", "pending"), state="failed", error=error, updated_at=now
            )

    def record_in_doubt(self, reply_id: int, error: str, now: datetime) -> None:
        with self._core.tx() as conn:
            self._move(conn, reply_id, ("sending",), state="in_doubt", error=error, updated_at=now)

    def expire_sending(self, before: datetime, now: datetime) -> list[int]:
        """``sending`` replies last touched before ``before`` (their worker died) → in doubt."""
        with self._core.tx() as conn:
            found: list[Any] = list(
                conn.execute(
                    sa.select(_R.c.id).where(_R.c.state == "sending", _R.c.updated_at < before)
                ).scalars()
            )
            ids = [int(i) for i in found]
            for rid in ids:
                self._move(
                    conn,
                    rid,
                    ("sending",),
                    state="in_doubt",
                    updated_at=now,
                    error="Tiến trình gửi dừng giữa chừng; không rõ nền tảng đã nhận.",
                )
        return ids

    def resolve_in_doubt(self, reply_id: int, actor: Actor, *, sent: bool, now: datetime) -> bool:
        """A person says whether an in-doubt reply reached the citizen; False if not in doubt."""
        values: dict[str, Any] = {
            "state": "sent" if sent else "not_sent",
            "decided_by": actor.name,
            "updated_at": now,
        }
        if sent:
            values["sent_at"] = now
        with self._core.tx() as conn:
            won = self._move(conn, reply_id, ("in_doubt",), **values)
            if won:
                self._core.audit(
                    conn,
                    actor,
                    "citizen_reply_confirmed" if sent else "citizen_reply_not_sent",
                    None,
                    reply_id=reply_id,
                )
        return won

    # ----- the admins' cards -----------------------------------------------------------------
    def handovers_without_card(self) -> list[Question]:
        with self._core.read() as conn:
            rows = conn.execute(
                sa.select(_Q)
                .where(_Q.c.handover == "open", _Q.c.card_chat_id.is_(None))
                .order_by(_Q.c.id)
            ).all()
        return [_question(r) for r in rows]

    def doubts_without_card(self) -> list[Reply]:
        with self._core.read() as conn:
            rows = conn.execute(
                sa.select(_R)
                .where(_R.c.state == "in_doubt", _R.c.card_chat_id.is_(None))
                .order_by(_R.c.id)
            ).all()
        return [_reply(r) for r in rows]

    def claim_card(self, table: str, row_id: int, chat_id: int) -> bool:
        """Reserve the posting of a card (``table``: question | reply); one worker posts it."""
        t = _Q if table == "question" else _R
        with self._core.tx() as conn:
            return (
                conn.execute(
                    t.update()
                    .where(t.c.id == row_id, t.c.card_chat_id.is_(None))
                    .values(card_chat_id=chat_id)
                ).rowcount
                == 1
            )

    def set_card(
        self, table: str, row_id: int, chat_id: int | None, message_id: int | None
    ) -> None:
        t = _Q if table == "question" else _R
        with self._core.tx() as conn:
            conn.execute(
                t.update()
                .where(t.c.id == row_id)
                .values(card_chat_id=chat_id, card_message_id=message_id)
            )

    def question_by_card(self, chat_id: int, message_id: int) -> Question | None:
        with self._core.read() as conn:
            row = conn.execute(
                sa.select(_Q).where(
                    _Q.c.card_chat_id == chat_id, _Q.c.card_message_id == message_id
                )
            ).first()
        return _question(row) if row is not None else None

    def reply_by_card(self, chat_id: int, message_id: int) -> Reply | None:
        with self._core.read() as conn:
            row = conn.execute(
                sa.select(_R).where(
                    _R.c.card_chat_id == chat_id, _R.c.card_message_id == message_id
                )
            ).first()
        return _reply(row) if row is not None else None

    # ----- report ----------------------------------------------------------------------------
    def figures(self, lo: datetime, hi: datetime) -> ReportFigures:
        """Counts of questions asked in [lo, hi) (and the texts of those handed over)."""
        with self._core.read() as conn:
            qs = conn.execute(
                sa.select(
                    _Q.c.id, _Q.c.state, _Q.c.handover, _Q.c.asked_at, _Q.c.handover_at, _Q.c.text
                ).where(_Q.c.asked_at >= lo, _Q.c.asked_at < hi)
            ).all()
            human_sent = {
                int(r.question_id): r.sent_at
                for r in conn.execute(
                    sa.select(_R.c.question_id, _R.c.sent_at)
                    .join(_Q, _Q.c.id == _R.c.question_id)
                    .where(
                        _R.c.kind == "human",
                        _R.c.state == "sent",
                        _Q.c.asked_at >= lo,
                        _Q.c.asked_at < hi,
                    )
                )
            }
        handed = [q for q in qs if q.state == "handed_over"]
        waits = sorted(
            (human_sent[q.id] - q.asked_at).total_seconds() / 60
            for q in handed
            if human_sent.get(q.id) is not None
        )
        median: float | None = None
        if waits:
            mid = len(waits) // 2
            median = waits[mid] if len(waits) % 2 else (waits[mid - 1] + waits[mid]) / 2
        return ReportFigures(
            received=len(qs),
            answered=sum(q.state in ("answered", "greeted") for q in qs),
            handed_over=len(handed),
            human_answered=sum(q.id in human_sent for q in handed),
            unanswered=sum(q.id not in human_sent for q in handed),
            median_human_minutes=median,
            handed_over_texts=tuple(q.text for q in handed),
        )

    # ----- personal data ---------------------------------------------------------------------
    def _delete(self, conn: Connection, questions: Any, events: Any) -> int:
        qids = sa.select(_Q.c.id).where(questions)
        n = conn.execute(_R.delete().where(_R.c.question_id.in_(qids))).rowcount
        n += conn.execute(_Q.delete().where(questions)).rowcount
        n += conn.execute(
            _E.delete().where(events, _E.c.id.not_in(sa.select(_Q.c.event_id)))
        ).rowcount
        return n

    def purge_before(self, cutoff: datetime) -> int:
        """Delete questions, replies and events older than ``cutoff``; returns rows deleted.

        Undecided work (an open hand-over, a reply in doubt or not yet sent, an event not yet
        processed) is kept until it is settled.
        """
        open_q = sa.or_(
            sa.func.coalesce(_Q.c.handover, "") == "open",  # NULL would make the NOT unknown
            _Q.c.id.in_(
                sa.select(_R.c.question_id).where(
                    _R.c.state.in_(("pending", "sending", "in_doubt"))
                )
            ),
        )
        with self._core.tx() as conn:
            return self._delete(
                conn,
                sa.and_(_Q.c.asked_at < cutoff, sa.not_(open_q)),
                sa.and_(_E.c.received_at < cutoff, _E.c.state.not_in(("new", "claimed"))),
            )

    def forget(self, citizen_id: str, actor: Actor) -> int:
        """Delete everything held about ``citizen_id`` on every channel; returns rows deleted."""
        with self._core.tx() as conn:
            n = self._delete(conn, _Q.c.citizen_id == citizen_id, _E.c.sender == citizen_id)
            # The audit row says that a request was carried out, never whose.
            self._core.audit(conn, actor, "citizen_forgotten", None, rows=n)
        return n
