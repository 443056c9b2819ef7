"""Cases: citizens' petitions (phản ánh, kiến nghị) and takedown requests, numbered per year.

Petition states::

    received (tiếp nhận) ──▶ in_progress (đang xử lý) ──▶ answered (đã trả lời)
          └───────────────────────┴──────────────────▶ transferred (chuyển cơ quan khác)
                                                  └──▶ out_of_scope (không thuộc thẩm quyền)

Takedown states: ``open`` ──▶ ``done`` (the item was hidden, deleted or the article retracted)
or ``declined`` (a person decided it stays, with a reason).

Rules enforced here: the number (``PA-2026-0001``) is unique per kind and year (a unique key;
two services numbering at once retry with the next); every move is ``UPDATE … WHERE state IN
(expected)`` (one decision wins); each reminder fires once (``WHERE reminded_… IS NULL``);
every change writes the timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from content_queue.intake_base import IntakeBase
from content_queue.intake_tables import cases
from content_queue.models import Actor

__all__ = [
    "CLOSED",
    "OPEN",
    "Case",
    "CaseCounts",
    "Cases",
    "NewCase",
]

OPEN = ("received", "in_progress", "open")
CLOSED = ("answered", "transferred", "out_of_scope", "done", "declined")
_K = cases
_REMINDER_COLUMNS = {
    "half": "reminded_half_at",
    "last": "reminded_last_at",
    "overdue": "overdue_alerted_at",
}


@dataclass(frozen=True)
class NewCase:
    """What opens a case."""

    kind: str  # "petition" | "takedown"
    prefix: str  # "PA", …
    subject: str
    source_kind: str  # message | comment | cli | web | telegram
    received_at: datetime
    due_at: datetime
    channel: str | None = None
    citizen_ref: str | None = None
    citizen_name: str | None = None
    source_ref: str | None = None
    comment_id: int | None = None
    owner: str | None = None
    requester: str | None = None
    requester_kind: str | None = None


@dataclass(frozen=True)
class Case:
    id: int
    number: str
    kind: str
    year: int
    seq: int
    state: str
    channel: str | None
    citizen_ref: str | None
    citizen_name: str | None
    subject: str
    source_kind: str
    source_ref: str | None
    comment_id: int | None
    owner: str | None
    requester: str | None
    requester_kind: str | None
    received_at: datetime
    due_at: datetime
    answered_at: datetime | None
    answer: str | None
    action_taken: str | None
    evidence: Any
    evidence_at: datetime | None
    reminded_half_at: datetime | None
    reminded_last_at: datetime | None
    overdue_alerted_at: datetime | None
    citizen_told_at: datetime | None
    card_chat_id: int | None
    card_message_id: int | None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN

    def overdue(self, now: datetime) -> bool:
        """Still open after its due time, or closed after it."""
        if self.is_open:
            return now > self.due_at
        return self.answered_at is not None and self.answered_at > self.due_at


@dataclass(frozen=True)
class CaseCounts:
    received: int
    closed: int
    on_time: int
    overdue: int  # closed late, or still open past the due time
    median_hours: float | None  # received → closed


def _case(r: Any) -> Case:
    m = r._mapping
    return Case(**{f: m[f] for f in Case.__dataclass_fields__})


class Cases(IntakeBase):
    """Every statement about cases (``store.cases``)."""

    def open(self, new: NewCase, actor: Actor) -> Case:
        """A new case with the next number of its kind and year."""
        year = new.received_at.year
        for _ in range(20):
            try:
                with self.tx() as conn:
                    seq = (
                        int(
                            conn.execute(
                                sa.select(sa.func.coalesce(sa.func.max(_K.c.seq), 0)).where(
                                    _K.c.kind == new.kind, _K.c.year == year
                                )
                            ).scalar_one()
                        )
                        + 1
                    )
                    number = f"{new.prefix}-{year}-{seq:04d}"
                    key = conn.execute(
                        _K.insert().values(
                            number=number,
                            kind=new.kind,
                            year=year,
                            seq=seq,
                            state="open" if new.kind == "takedown" else "received",
                            channel=new.channel,
                            citizen_ref=new.citizen_ref and new.citizen_ref[:200],
                            citizen_name=new.citizen_name and new.citizen_name[:200],
                            subject=new.subject[:8000],
                            source_kind=new.source_kind,
                            source_ref=new.source_ref and new.source_ref[:500],
                            comment_id=new.comment_id,
                            owner=new.owner,
                            requester=new.requester and new.requester[:300],
                            requester_kind=new.requester_kind,
                            received_at=new.received_at,
                            due_at=new.due_at,
                            updated_at=new.received_at,
                        )
                    ).inserted_primary_key
                    assert key is not None
                    self.event(
                        conn,
                        actor,
                        "case_opened",
                        new.received_at,
                        case_id=int(key[0]),
                        comment_id=new.comment_id,
                        number=number,
                        kind=new.kind,
                        due_at=new.due_at.isoformat(),
                    )
            except IntegrityError:
                continue  # another process took this number: the next one
            got = self.get(int(key[0]))
            assert got is not None
            return got
        raise RuntimeError("could not number a new case")

    def get(self, case_id: int) -> Case | None:
        with self.read() as conn:
            row = conn.execute(sa.select(_K).where(_K.c.id == case_id)).first()
        return _case(row) if row is not None else None

    def by_number(self, number: str) -> Case | None:
        with self.read() as conn:
            row = conn.execute(sa.select(_K).where(_K.c.number == number.strip().upper())).first()
        return _case(row) if row is not None else None

    def by_source(self, source_kind: str, source_ref: str) -> Case | None:
        """The case opened from this message or comment, if any (idempotent intake)."""
        with self.read() as conn:
            row = conn.execute(
                sa.select(_K)
                .where(_K.c.source_kind == source_kind, _K.c.source_ref == source_ref[:500])
                .order_by(_K.c.id)
            ).first()
        return _case(row) if row is not None else None

    def by_card(self, chat_id: int, message_id: int) -> Case | None:
        with self.read() as conn:
            row = conn.execute(
                sa.select(_K).where(
                    _K.c.card_chat_id == chat_id, _K.c.card_message_id == message_id
                )
            ).first()
        return _case(row) if row is not None else None

    def listed(
        self,
        *,
        kind: str | None = None,
        states: Sequence[str] | None = None,
        limit: int = 500,
    ) -> list[Case]:
        """Cases by due date (earliest first)."""
        q = sa.select(_K).order_by(_K.c.due_at, _K.c.id).limit(limit)
        if kind:
            q = q.where(_K.c.kind == kind)
        if states:
            q = q.where(_K.c.state.in_(list(states)))
        with self.read() as conn:
            return [_case(r) for r in conn.execute(q)]

    def move(
        self,
        case_id: int,
        expected: Sequence[str],
        state: str,
        actor: Actor,
        now: datetime,
        *,
        answer: str | None = None,
        note: str | None = None,
        action_taken: str | None = None,
    ) -> bool:
        """One state change; False when the case was not in ``expected`` (someone came first)."""
        values: dict[str, Any] = {"state": state, "updated_at": now}
        if state in CLOSED:
            values["answered_at"] = now
        if answer is not None:
            values["answer"] = answer[:8000]
        if action_taken is not None:
            values["action_taken"] = action_taken
        with self.tx() as conn:
            won = (
                conn.execute(
                    _K.update()
                    .where(_K.c.id == case_id, _K.c.state.in_(list(expected)))
                    .values(**values)
                ).rowcount
                == 1
            )
            if won:
                self.event(
                    conn,
                    actor,
                    f"case_{state}",
                    now,
                    case_id=case_id,
                    note=note,
                    answer=answer,
                    action_taken=action_taken,
                )
        return won

    def set_owner(self, case_id: int, owner: str, actor: Actor, now: datetime) -> bool:
        with self.tx() as conn:
            won = (
                conn.execute(
                    _K.update()
                    .where(_K.c.id == case_id, _K.c.state.in_(list(OPEN)))
                    .values(owner=owner[:200], updated_at=now)
                ).rowcount
                == 1
            )
            if won:
                self.event(conn, actor, "case_owner", now, case_id=case_id, owner=owner)
        return won

    def keep_evidence(self, case_id: int, evidence: dict[str, Any], now: datetime) -> None:
        """The item as read from the API, with the time it was read (kept once: the first)."""
        with self.tx() as conn:
            if (
                conn.execute(
                    _K.update()
                    .where(_K.c.id == case_id, _K.c.evidence_at.is_(None))
                    .values(evidence=evidence, evidence_at=now)
                ).rowcount
                == 1
            ):
                self.event(conn, Actor.service(), "case_evidence", now, case_id=case_id)

    def told_citizen(self, case_id: int, now: datetime) -> bool:
        with self.tx() as conn:
            won = (
                conn.execute(
                    _K.update()
                    .where(_K.c.id == case_id, _K.c.citizen_told_at.is_(None))
                    .values(citizen_told_at=now)
                ).rowcount
                == 1
            )
            if won:
                self.event(conn, Actor.service(), "case_citizen_told", now, case_id=case_id)
        return won

    def note(self, case_id: int, actor: Actor, action: str, now: datetime, **detail: Any) -> None:
        with self.tx() as conn:
            self.event(conn, actor, action, now, case_id=case_id, **detail)

    # ----- reminders -------------------------------------------------------------------------
    def open_cases(self) -> list[Case]:
        return self.listed(states=OPEN)

    def mark_reminded(self, case_id: int, which: str, now: datetime) -> bool:
        """True once per case and ``which`` (half / last / overdue): that reminder fires now."""
        col = _K.c[_REMINDER_COLUMNS[which]]
        with self.tx() as conn:
            won = (
                conn.execute(
                    _K.update().where(_K.c.id == case_id, col.is_(None)).values({col: now})
                ).rowcount
                == 1
            )
            if won:
                self.event(conn, Actor.service(), f"case_reminder_{which}", now, case_id=case_id)
        return won

    # ----- cards -----------------------------------------------------------------------------
    def without_card(self) -> list[Case]:
        q = (
            sa.select(_K)
            .where(_K.c.card_chat_id.is_(None), _K.c.state.in_(list(OPEN)))
            .order_by(_K.c.id)
        )
        with self.read() as conn:
            return [_case(r) for r in conn.execute(q)]

    def claim_card(self, case_id: int, chat_id: int) -> bool:
        with self.tx() as conn:
            return (
                conn.execute(
                    _K.update()
                    .where(_K.c.id == case_id, _K.c.card_chat_id.is_(None))
                    .values(card_chat_id=chat_id)
                ).rowcount
                == 1
            )

    def set_card(self, case_id: int, chat_id: int | None, message_id: int | None) -> None:
        with self.tx() as conn:
            conn.execute(
                _K.update()
                .where(_K.c.id == case_id)
                .values(card_chat_id=chat_id, card_message_id=message_id)
            )

    # ----- report ----------------------------------------------------------------------------
    def counts_between(self, kind: str, lo: datetime, hi: datetime, now: datetime) -> CaseCounts:
        """Cases of ``kind`` received in [lo, hi): closed, on time, overdue, median hours."""
        q = sa.select(_K.c.state, _K.c.received_at, _K.c.due_at, _K.c.answered_at).where(
            _K.c.kind == kind, _K.c.received_at >= lo, _K.c.received_at < hi
        )
        with self.read() as conn:
            rows = conn.execute(q).all()
        closed = [r for r in rows if r.state in CLOSED and r.answered_at is not None]
        on_time = sum(1 for r in closed if r.answered_at <= r.due_at)
        overdue = sum(1 for r in closed if r.answered_at > r.due_at) + sum(
            1 for r in rows if r.state in OPEN and now > r.due_at
        )
        hours = sorted((r.answered_at - r.received_at).total_seconds() / 3600 for r in closed)
        median = None
        if hours:
            mid = len(hours) // 2
            median = hours[mid] if len(hours) % 2 else (hours[mid - 1] + hours[mid]) / 2
        return CaseCounts(len(rows), len(closed), on_time, overdue, median)

    def forget_person(self, citizen_ref: str) -> int:
        """On request: one citizen's id and name erased from every case."""
        with self.tx() as conn:
            return int(
                conn.execute(
                    _K.update()
                    .where(_K.c.citizen_ref == citizen_ref)
                    .values(citizen_ref=None, citizen_name=None)
                ).rowcount
            )

    def forget_people(self, before: datetime) -> int:
        """Retention: citizens' ids and names of cases closed before ``before`` are erased."""
        with self.tx() as conn:
            return int(
                conn.execute(
                    _K.update()
                    .where(
                        _K.c.answered_at < before,
                        sa.or_(_K.c.citizen_ref.is_not(None), _K.c.citizen_name.is_not(None)),
                    )
                    .values(citizen_ref=None, citizen_name=None)
                ).rowcount
            )
