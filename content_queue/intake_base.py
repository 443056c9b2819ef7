"""What the citizens' register's sub-stores share: the engine, a write transaction, a read
snapshot, the timeline (``case_events``) and once-only marks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from content_queue.db import reader
from content_queue.intake_tables import case_events, intake_marks
from content_queue.models import Actor
from content_queue.tables import audit_log

__all__ = ["IntakeBase", "TimelineEntry"]


class TimelineEntry(dict[str, Any]):
    """One row of a comment's or case's timeline: at, actor, via, action, detail."""


class IntakeBase:
    """The engine and the timeline; every change writes its timeline row and an audit row."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._reader = reader(engine)

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._reader.connect() as conn:
            yield conn

    @staticmethod
    def event(
        conn: Connection,
        actor: Actor,
        action: str,
        now: datetime,
        *,
        case_id: int | None = None,
        comment_id: int | None = None,
        **detail: Any,
    ) -> None:
        """One timeline row, and the same fact in the audit log (who did what, and why)."""
        conn.execute(
            case_events.insert().values(
                case_id=case_id,
                comment_id=comment_id,
                at=now,
                actor=actor.name,
                via=actor.via,
                action=action,
                detail=detail or None,
            )
        )
        conn.execute(
            audit_log.insert().values(
                at=now,
                actor=actor.name,
                via=actor.via,
                action=action,
                article_id=None,
                delivery_id=None,
                detail={"case_id": case_id, "comment_id": comment_id, **detail},
            )
        )

    def timeline(
        self, *, case_id: int | None = None, comment_id: int | None = None
    ) -> list[TimelineEntry]:
        q = sa.select(case_events).order_by(case_events.c.at, case_events.c.id)
        if case_id is not None:
            q = q.where(case_events.c.case_id == case_id)
        if comment_id is not None:
            q = q.where(case_events.c.comment_id == comment_id)
        with self.read() as conn:
            return [TimelineEntry(r._mapping) for r in conn.execute(q)]

    def timelines(
        self, *, case_ids: list[int] | None = None, comment_ids: list[int] | None = None
    ) -> dict[int, list[TimelineEntry]]:
        """Timelines of many cases (or comments) in one read, by id."""
        col = case_events.c.case_id if case_ids is not None else case_events.c.comment_id
        ids = list(case_ids if case_ids is not None else comment_ids or [])
        out: dict[int, list[TimelineEntry]] = {i: [] for i in ids}
        with self.read() as conn:
            for i in range(0, len(ids), 500):
                q = (
                    sa.select(case_events)
                    .where(col.in_(ids[i : i + 500]))
                    .order_by(case_events.c.at, case_events.c.id)
                )
                for r in conn.execute(q):
                    out[int(r._mapping[col.name])].append(TimelineEntry(r._mapping))
        return out

    def mark_once(self, key: str, now: datetime) -> bool:
        """True the first time ``key`` is marked (across processes), False afterwards."""
        try:
            with self.tx() as conn:
                conn.execute(intake_marks.insert().values(key=key[:200], at=now))
        except IntegrityError:
            return False
        return True
