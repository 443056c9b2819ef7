"""Articles: the editorial workflow (submit, revise, approve, reject, withdraw, retract) and the
reads a draft is rendered from."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from content_queue.models import Actor, Article, ParsedArticle
from content_queue.store_core import (
    StoreCore,
    utcnow,
)
from content_queue.tables import (
    articles,
    deliveries,
)
from content_queue.workflow import (
    ArticleState,
    IllegalTransition,
    check_transition,
)

__all__ = ["ArticleQueries", "ChannelPlan", "NotYourArticle", "SubmitResult"]


class NotYourArticle(IllegalTransition):
    """A revision of a pending article someone else sent (same ``Mã bài`` or title and file)."""


@dataclass(frozen=True)
class SubmitResult:
    article: Article
    outcome: str  # created | revised | duplicate


@dataclass(frozen=True)
class ChannelPlan:
    """One delivery to create at approval: the channel and the channel it waits for."""

    channel: str
    after: str | None = None


class ArticleQueries(StoreCore):
    """The ``articles`` table and the deliveries an approval creates."""

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
            return list(
                conn.execute(
                    sa.select(articles.c.scheduled_at).where(
                        articles.c.state == ArticleState.APPROVED, articles.c.scheduled_at > now
                    )
                ).scalars()
            )

    def submit(
        self, parsed: ParsedArticle, actor: Actor, *, replace_others: bool = False
    ) -> SubmitResult:
        """Store a parsed article: a new one, a revision of a pending one, or a known duplicate.

        Only the sender of a pending article revises it (an admin too, with ``replace_others``):
        reusing someone else's ``Mã bài`` is refused (:class:`NotYourArticle`)."""
        now = utcnow()
        values = dict(
            title=parsed.title,
            summary=parsed.summary,
            body_html=parsed.body_html,
            body_text=parsed.body_text,
            topic=parsed.topic,
            topic_suggested=parsed.topic_suggested,
            topic_reason=parsed.topic_reason,
            cover=parsed.cover.as_json() if parsed.cover else None,
            images=[i.as_json() for i in parsed.images],
            channels=list(parsed.channels),
            publish_at=parsed.publish_at,
            source_name=parsed.source_name,
            content_hash=parsed.content_hash,
            external_id=parsed.external_id,
            updated_at=now,
        )
        with self.tx() as conn:
            dup = conn.execute(
                sa.select(articles.c.id)
                .where(articles.c.content_hash == parsed.content_hash)
                .order_by(articles.c.id)
            ).first()
            if dup is not None:
                return SubmitResult(self._article(conn, dup.id), "duplicate")
            same = None
            if parsed.external_id:
                same = sa.and_(articles.c.external_id == parsed.external_id)
            elif parsed.source_name:
                same = sa.and_(
                    articles.c.title == parsed.title, articles.c.source_name == parsed.source_name
                )
            prior = None
            if same is not None:
                prior = conn.execute(
                    sa.select(
                        articles.c.id,
                        articles.c.state,
                        articles.c.revision,
                        articles.c.submitted_by,
                    )
                    .where(same, articles.c.state.notin_([ArticleState.REJECTED]))
                    .order_by(articles.c.id.desc())
                ).first()
            if prior is not None:
                if prior.state != ArticleState.PENDING:
                    raise IllegalTransition(
                        f"Bài #{prior.id} đã được duyệt hoặc đã đăng, không thể thay bằng bản sửa. "
                        "Hãy đề nghị quản trị rút lại hoặc gỡ bài rồi gửi bài mới."
                    )
                if prior.submitted_by != actor.name and not replace_others:
                    raise NotYourArticle(
                        f"Bài #{prior.id} đang chờ duyệt là bài của người khác gửi "
                        f"(cùng “Mã bài” hoặc cùng tiêu đề và tên tệp); bài không bị thay."
                    )
                conn.execute(
                    articles.update()
                    .where(articles.c.id == prior.id)
                    .values(**values, revision=prior.revision + 1)
                )
                self.audit(
                    conn,
                    actor,
                    "revised",
                    prior.id,
                    revision=prior.revision + 1,
                    source=parsed.source_name,
                )
                return SubmitResult(self._article(conn, prior.id), "revised")
            new_id: Any = conn.execute(
                articles.insert()
                .values(
                    **values, state=ArticleState.PENDING, submitted_by=actor.name, submitted_at=now
                )
                .returning(articles.c.id)
            ).scalar_one()
            self.audit(conn, actor, "submitted", new_id, source=parsed.source_name)
            return SubmitResult(self._article(conn, new_id), "created")

    def change_topic(self, article_id: int, topic: str, actor: Actor) -> Article:
        with self.tx() as conn:
            art = self._article(conn, article_id, lock=True)
            check_transition(article_id, art.state, "revise")
            conn.execute(
                articles.update()
                .where(articles.c.id == article_id)
                .values(topic=topic, topic_suggested=False, updated_at=utcnow())
            )
            self.audit(conn, actor, "topic_changed", article_id, old=art.topic, new=topic)
            return self._article(conn, article_id)

    def approve(
        self,
        article_id: int,
        actor: Actor,
        due_at: datetime,
        plan: Sequence[ChannelPlan],
        *,
        expected_revision: int | None = None,
        skipped: dict[str, str] | None = None,
    ) -> Article:
        """Approve a pending article: one waiting delivery per planned channel, due at ``due_at``."""
        now = utcnow()
        with self.tx() as conn:
            art = self._article(conn, article_id, lock=True)
            new_state = check_transition(article_id, art.state, "approve")
            if expected_revision is not None and art.revision != expected_revision:
                raise IllegalTransition(
                    f"Bài #{article_id} vừa được thay bằng bản sửa (lần {art.revision}); "
                    "hãy xem lại trước khi duyệt."
                )
            if not plan:
                raise IllegalTransition(f"Bài #{article_id} không có kênh nào để đăng.")
            upd = conn.execute(
                articles.update()
                .where(articles.c.id == article_id, articles.c.state == ArticleState.PENDING)
                .values(
                    state=new_state,
                    approved_by=actor.name,
                    approved_at=now,
                    scheduled_at=due_at,
                    updated_at=now,
                )
            )
            if upd.rowcount != 1:  # lost a race with another decision (SQLite: serialised anyway)
                raise IllegalTransition(f"Bài #{article_id} vừa được người khác xử lý.")
            planned = {p.channel for p in plan}
            for p in plan:
                blocked = p.after is not None and p.after in planned
                conn.execute(
                    deliveries.insert().values(
                        article_id=article_id,
                        channel=p.channel,
                        state="waiting",
                        after_channel=p.after if blocked else None,
                        due_at=due_at,
                        next_attempt_at=None if blocked else due_at,
                        idempotency_key=f"loa-{article_id}-{p.channel}-{uuid.uuid4().hex[:10]}",
                        updated_at=now,
                    )
                )
            self.audit(
                conn,
                actor,
                "approved",
                article_id,
                due_at=due_at.isoformat(),
                channels=sorted(planned),
                revision=art.revision,
                skipped=skipped or {},
            )
            return self._article(conn, article_id)

    def reject(self, article_id: int, actor: Actor, reason: str) -> Article:
        reason = reason.strip()
        if not reason:
            raise IllegalTransition("Cần ghi lý do từ chối.")
        now = utcnow()
        with self.tx() as conn:
            art = self._article(conn, article_id, lock=True)
            new_state = check_transition(article_id, art.state, "reject")
            conn.execute(
                articles.update()
                .where(articles.c.id == article_id)
                .values(
                    state=new_state,
                    rejected_by=actor.name,
                    rejected_at=now,
                    reject_reason=reason,
                    updated_at=now,
                )
            )
            self.audit(conn, actor, "rejected", article_id, reason=reason)
            return self._article(conn, article_id)

    def withdraw(self, article_id: int, actor: Actor) -> Article:
        """Cancel an approved article before any channel posted it."""
        now = utcnow()
        with self.tx() as conn:
            art = self._article(conn, article_id, lock=True)
            new_state = check_transition(article_id, art.state, "withdraw")
            started = [
                d
                for d in art.deliveries
                if d.state in ("sent", "in_flight", "in_doubt", "awaiting_url")
            ]
            if started:
                raise IllegalTransition(
                    f"Bài #{article_id} đã (hoặc đang) được đăng lên "
                    f"{', '.join(d.channel for d in started)}; hãy dùng lệnh gỡ bài (retract)."
                )
            conn.execute(
                deliveries.update()
                .where(deliveries.c.article_id == article_id)
                .values(state="cancelled", next_attempt_at=None, updated_at=now)
            )
            conn.execute(
                articles.update()
                .where(articles.c.id == article_id)
                .values(state=new_state, updated_at=now)
            )
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

    def finish_retract(self, article_id: int, actor: Actor) -> Article:
        """Mark the article retracted; unsent deliveries are cancelled."""
        now = utcnow()
        with self.tx() as conn:
            art = self._article(conn, article_id, lock=True)
            new_state = check_transition(article_id, art.state, "retract")
            conn.execute(
                deliveries.update()
                .where(
                    deliveries.c.article_id == article_id,
                    deliveries.c.state.in_(
                        ["waiting", "retry", "failed", "in_doubt", "awaiting_url"]
                    ),
                )
                .values(state="cancelled", next_attempt_at=None, updated_at=now)
            )
            conn.execute(
                articles.update()
                .where(articles.c.id == article_id)
                .values(state=new_state, updated_at=now)
            )
            self.audit(conn, actor, "retracted", article_id)
            return self._article(conn, article_id)

    def draft_inputs(
        self, article_id: int
    ) -> tuple[Article, dict[str, dict[str, Any]], dict[str, str]]:
        """The article, plus ``Receipt.extra`` and public URL of each sent delivery by channel
        (e.g. the website's media URLs and link), read in one snapshot."""
        article, rows = self._article_with_rows(article_id)
        sent = [r for r in rows if r["state"] == "sent"]
        return (
            article,
            {r["channel"]: r["receipt"] or {} for r in sent},
            {r["channel"]: r["url"] for r in sent if r["url"]},
        )
