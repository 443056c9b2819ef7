"""The assistant's knowledge in the database: the procedure catalogue, the question–answer pairs
admins saved, and the published articles it may cite (read from articles and deliveries).

An article is citable while its website delivery is sent with a URL and the article is neither
retracted nor withdrawn; the moment either happens it leaves :meth:`Knowledge.citable_articles`.
:meth:`Knowledge.version` is a few aggregate reads that change whenever any of this changes, so an
index can tell cheaply whether it must be rebuilt.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from content_queue.knowledge.catalogue import FIELDS, ProcedureRow
from content_queue.models import Actor
from content_queue.store_core import StoreCore, utcnow
from content_queue.tables import articles, deliveries, procedures, saved_answers
from content_queue.workflow import ArticleState

__all__ = [
    "CitableArticle",
    "ImportResult",
    "Knowledge",
    "Procedure",
    "SavedAnswer",
]

# States of an article that is never cited, whatever its deliveries say.
NEVER_CITED = (ArticleState.RETRACTED, ArticleState.WITHDRAWN, ArticleState.REJECTED)


@dataclass(frozen=True)
class Procedure(ProcedureRow):
    """A procedure of the catalogue as stored, with who imported it and when."""

    imported_by: str = ""
    imported_at: datetime | None = None


@dataclass(frozen=True)
class ImportResult:
    """What an import changed: new codes, replaced codes, codes whose content was the same."""

    added: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]

    @property
    def total(self) -> int:
        return len(self.added) + len(self.updated) + len(self.unchanged)

    def summary_vi(self) -> str:
        return (
            f"Đã nhập {self.total} thủ tục: {len(self.added)} mới, {len(self.updated)} cập nhật, "
            f"{len(self.unchanged)} không đổi."
        )


@dataclass(frozen=True)
class SavedAnswer:
    """A question–answer pair an admin saved as knowledge."""

    id: int
    question: str
    answer: str
    source_url: str | None
    saved_by: str
    saved_at: datetime


@dataclass(frozen=True)
class CitableArticle:
    """A published article the assistant may cite: its text and its website URL."""

    id: int
    title: str
    summary: str
    body_text: str
    url: str
    published_at: datetime | None


def _content(row: ProcedureRow) -> dict[str, Any]:
    return {
        **{k: getattr(row, k) for k in FIELDS},
        "cap_nhat": row.cap_nhat,
        "extra": row.extra or None,
    }


def _import(conn: Connection, rows: Sequence[ProcedureRow], actor: Actor) -> ImportResult:
    p = procedures
    now = utcnow()
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    codes = [r.ma for r in rows]
    existing = {r.ma: r._mapping for r in conn.execute(sa.select(p).where(p.c.ma.in_(codes))).all()}
    for row in rows:
        content = _content(row)
        old = existing.get(row.ma)
        if old is None:
            conn.execute(p.insert(), {**content, "imported_by": actor.name, "imported_at": now})
            added.append(row.ma)
        elif all((old[k] or None) == (v or None) for k, v in content.items()):
            unchanged.append(row.ma)
        else:
            conn.execute(
                p.update().where(p.c.ma == row.ma),
                {**content, "imported_by": actor.name, "imported_at": now},
            )
            updated.append(row.ma)
    StoreCore.audit(
        conn,
        actor,
        "knowledge_import",
        added=len(added),
        updated=len(updated),
        unchanged=len(unchanged),
    )
    return ImportResult(tuple(added), tuple(updated), tuple(unchanged))


class Knowledge(StoreCore):
    """Reads and writes of the assistant's knowledge (``store.knowledge``), on the store's shared
    transactions (or an engine alone)."""

    # ----- the procedure catalogue ------------------------------------------------------------
    def import_procedures(self, rows: Sequence[ProcedureRow], actor: Actor) -> ImportResult:
        """Add or replace (by ``ma``) every row in one transaction; other codes are kept."""
        try:
            with self.tx() as conn:
                result = _import(conn, rows, actor)
        except sa.exc.IntegrityError:  # another import inserted one of these codes meanwhile
            raise ValueError(
                "Một lần nhập danh mục khác vừa ghi cùng mã thủ tục; không thủ tục nào được nhập "
                "lần này, hãy chạy lại lệnh."
            ) from None
        return result

    def procedures(self) -> list[Procedure]:
        """Every procedure of the catalogue, by code."""
        with self.read() as conn:
            rows = conn.execute(sa.select(procedures).order_by(procedures.c.ma)).all()
        out = []
        for r in rows:
            m = dict(r._mapping)
            m["extra"] = m["extra"] or {}
            out.append(Procedure(**m))
        return out

    # ----- saved question–answer pairs ---------------------------------------------------------
    def save_qa(
        self, question: str, answer: str, actor: Actor, source_url: str | None = None
    ) -> int:
        """Keep an admin's answer to a citizen's question as knowledge; returns its id."""
        question, answer = question.strip(), answer.strip()
        if not question or not answer:
            raise ValueError("Câu hỏi và câu trả lời không được để trống.")
        with self.tx() as conn:
            new_id: int = conn.execute(
                saved_answers.insert().returning(saved_answers.c.id),
                {
                    "question": question[:4000],
                    "answer": answer[:8000],
                    "source_url": (source_url or "").strip() or None,
                    "saved_by": actor.name,
                    "saved_at": utcnow(),
                },
            ).scalar_one()
            StoreCore.audit(conn, actor, "knowledge_save_qa", saved_answer=new_id)
        return int(new_id)

    def saved_qas(self) -> list[SavedAnswer]:
        """Every saved question–answer pair, oldest first."""
        with self.read() as conn:
            rows = conn.execute(sa.select(saved_answers).order_by(saved_answers.c.id)).all()
        return [SavedAnswer(**r._mapping) for r in rows]

    def delete_qa(self, qa_id: int, actor: Actor) -> bool:
        """Forget a saved pair (a wrong answer); False when there was none."""
        with self.tx() as conn:
            gone = conn.execute(saved_answers.delete().where(saved_answers.c.id == qa_id))
            if gone.rowcount:
                StoreCore.audit(conn, actor, "knowledge_delete_qa", saved_answer=qa_id)
        return bool(gone.rowcount)

    # ----- published articles -----------------------------------------------------------------
    def citable_articles(self, website_channels: Collection[str]) -> list[CitableArticle]:
        """Articles on the website now (sent website delivery with a URL), never a retracted or
        withdrawn one; an article on two website channels once, with its first URL."""
        a, d = articles, deliveries
        q = (
            sa.select(a.c.id, a.c.title, a.c.summary, a.c.body_text, d.c.url, d.c.sent_at)
            .join(d, d.c.article_id == a.c.id)
            .where(
                d.c.channel.in_(list(website_channels)),
                d.c.state == "sent",
                d.c.url.is_not(None),
                d.c.url != "",
                a.c.state.not_in(NEVER_CITED),
            )
            .order_by(a.c.id, d.c.id)
        )
        seen: set[int] = set()
        out = []
        with self.read() as conn:
            for r in conn.execute(q):
                if r.id in seen:
                    continue
                seen.add(r.id)
                out.append(CitableArticle(r.id, r.title, r.summary, r.body_text, r.url, r.sent_at))
        return out

    def citable_ids(
        self, article_ids: Collection[int], website_channels: Collection[str]
    ) -> set[int]:
        """Which of ``article_ids`` are citable now (see :meth:`citable_articles`)."""
        a, d = articles, deliveries
        q = (
            sa.select(a.c.id)
            .join(d, d.c.article_id == a.c.id)
            .where(
                a.c.id.in_(list(article_ids)),
                d.c.channel.in_(list(website_channels)),
                d.c.state == "sent",
                d.c.url.is_not(None),
                d.c.url != "",
                a.c.state.not_in(NEVER_CITED),
            )
        )
        with self.read() as conn:
            return {int(r.id) for r in conn.execute(q)}

    def version(self, website_channels: Collection[str]) -> tuple[Any, ...]:
        """A value that changes whenever procedures, saved answers or citable articles change
        (counts and latest change times; a few index reads)."""
        a, d, p, s = articles, deliveries, procedures, saved_answers
        with self.read() as conn:
            arts = conn.execute(sa.select(sa.func.count(), sa.func.max(a.c.updated_at))).one()
            dels = conn.execute(
                sa.select(sa.func.count(), sa.func.max(d.c.updated_at)).where(
                    d.c.channel.in_(list(website_channels)),
                    d.c.state.in_(("sent", "retracted")),
                )
            ).one()
            procs = conn.execute(sa.select(sa.func.count(), sa.func.max(p.c.imported_at))).one()
            saved = conn.execute(sa.select(sa.func.count(), sa.func.max(s.c.id))).one()
        return (*arts, *dels, *procs, *saved)


def procedure_as_dict(proc: ProcedureRow) -> dict[str, Any]:
    """A procedure as plain JSON-ready data (dates as ISO strings)."""
    out = asdict(proc)
    for k, v in out.items():
        if isinstance(v, date | datetime):
            out[k] = v.isoformat()
    return out
