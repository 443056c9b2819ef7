"""Comments under the Page's posts: deduplicated by the platform's comment id, cards, actions.

States of a comment::

    new ──seen──▶ seen            (an admin looked: nothing to do)
     │  ──reply──▶ answered       (a public reply from the Page)
     │  ──hide───▶ hidden ──unhide──▶ seen
     │  ──delete─▶ deleted
     └──the author removed it──▶ removed       own: written by the Page itself (never carded)

Rules the statements here enforce, whoever calls them:

* One row per (channel, comment id): a webhook and the catch-up read meeting the same comment
  make one row and one card (``INSERT`` under a unique key; the loser reads the winner's row).
* One action at a time and one decision wins: an action begins with ``UPDATE comments SET busy
  = kind WHERE busy IS NULL AND <the action still makes sense>``; the loser is told why.
* Never twice: an action whose platform answer was lost is ``in_doubt`` (a reply is looked up
  before any resend; a private reply waits for a person); hide/unhide/delete are ``retry``
  (idempotent) until they succeed. A ``sending`` action whose worker died becomes ``in_doubt``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from content_queue.intake_base import IntakeBase
from content_queue.intake_tables import comment_actions, comments
from content_queue.models import Actor
from content_queue.tables import articles, deliveries

__all__ = [
    "ACTION_KINDS",
    "ChannelPost",
    "Comment",
    "CommentAction",
    "CommentCounts",
    "Comments",
    "IncomingComment",
]

MESSAGE_MAX = 8000  # characters kept of a comment (hostile input is bounded)
NAME_MAX = 200
ACTION_KINDS = ("reply", "hide", "unhide", "delete", "private_reply", "seen")
_C, _A = comments, comment_actions


@dataclass(frozen=True)
class IncomingComment:
    """A comment as it arrived (webhook or catch-up read), before it is stored."""

    channel: str
    remote_id: str
    post_id: str
    parent_id: str | None
    author_id: str | None
    author_name: str | None
    message: str
    created_at: datetime
    source: str  # "webhook" | "catchup"
    own: bool = False  # written by the Page itself
    is_hidden: bool = False


@dataclass(frozen=True)
class Comment:
    id: int
    channel: str
    remote_id: str
    post_id: str
    parent_id: str | None
    article_id: int | None
    author_id: str | None
    author_name: str | None
    message: str
    created_at: datetime
    received_at: datetime
    source: str
    state: str
    flags: tuple[str, ...]
    is_hidden: bool
    edited: bool
    replied_at: datetime | None
    private_replied_at: datetime | None
    busy: str | None
    case_id: int | None
    card_chat_id: int | None
    card_message_id: int | None


@dataclass(frozen=True)
class CommentAction:
    id: int
    comment_id: int
    kind: str
    text: str | None
    reason: str | None
    actor: str
    via: str
    state: str
    attempts: int
    remote_id: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    card_chat_id: int | None
    card_message_id: int | None


@dataclass(frozen=True)
class ChannelPost:
    """A post Loa made on a channel: the platform's id, its link, the article's title."""

    remote_id: str
    url: str | None
    article_id: int
    title: str
    sent_at: datetime | None


@dataclass(frozen=True)
class CommentCounts:
    received: int
    answered: int
    hidden: int
    deleted: int


def _comment(r: Any) -> Comment:
    m: dict[str, Any] = dict(r._mapping)
    m["flags"] = tuple(m["flags"] or ())
    return Comment(**{f: m[f] for f in Comment.__dataclass_fields__})


def _action(r: Any) -> CommentAction:
    m = r._mapping
    return CommentAction(**{f: m[f] for f in CommentAction.__dataclass_fields__})


# Which actions make sense in which state (checked in the same UPDATE that takes the comment).
def _allowed(kind: str) -> Any:
    alive = _C.c.state.not_in(("deleted", "removed", "own"))
    if kind == "reply":
        return sa.and_(alive, _C.c.replied_at.is_(None))
    if kind == "private_reply":
        return sa.and_(alive, _C.c.private_replied_at.is_(None))
    if kind == "hide":
        return sa.and_(alive, _C.c.is_hidden.is_(False))
    if kind == "unhide":
        return sa.and_(alive, _C.c.is_hidden.is_(True))
    if kind == "delete":
        return alive
    if kind == "seen":
        return _C.c.state == "new"
    raise ValueError(f"unknown comment action {kind!r}")


class Comments(IntakeBase):
    """Every statement about comments (``store.comments``)."""

    # ----- intake ----------------------------------------------------------------------------
    def record(
        self,
        item: IncomingComment,
        *,
        article_id: int | None,
        flags: Sequence[str],
        now: datetime,
    ) -> tuple[Comment, bool]:
        """Store a comment once; returns it and whether it is new (a card is due)."""
        values = dict(
            channel=item.channel,
            remote_id=item.remote_id[:200],
            post_id=item.post_id[:200],
            parent_id=(item.parent_id or None) and item.parent_id[:200],
            article_id=article_id,
            author_id=(item.author_id or None) and item.author_id[:200],
            author_name=(item.author_name or None) and item.author_name[:NAME_MAX],
            message=item.message[:MESSAGE_MAX],
            created_at=item.created_at,
            received_at=now,
            source=item.source,
            state="own" if item.own else "new",
            flags=list(flags) or None,
            is_hidden=item.is_hidden,
            updated_at=now,
        )
        try:
            with self.tx() as conn:
                key = conn.execute(_C.insert().values(**values)).inserted_primary_key
                assert key is not None
                if not item.own:
                    self.event(
                        conn,
                        Actor.service(),
                        "comment_received",
                        now,
                        comment_id=int(key[0]),
                        source=item.source,
                        flags=list(flags),
                    )
        except IntegrityError:
            found = self.by_remote(item.channel, item.remote_id)
            assert found is not None
            return found, False
        got = self.get(int(key[0]))
        assert got is not None
        return got, True

    def record_edit(
        self, channel: str, remote_id: str, message: str, flags: Sequence[str], now: datetime
    ) -> Comment | None:
        """The author edited the comment: the text and flags follow (None if unknown)."""
        with self.tx() as conn:
            row = conn.execute(
                sa.select(_C.c.id).where(_C.c.channel == channel, _C.c.remote_id == remote_id)
            ).first()
            if row is None:
                return None
            conn.execute(
                _C.update()
                .where(_C.c.id == row.id)
                .values(
                    message=message[:MESSAGE_MAX],
                    flags=list(flags) or None,
                    edited=True,
                    updated_at=now,
                )
            )
            self.event(conn, Actor.service(), "comment_edited", now, comment_id=row.id)
        return self.get(row.id)

    def record_removed(self, channel: str, remote_id: str, now: datetime) -> Comment | None:
        """The comment is gone from the platform (its author removed it, or our delete)."""
        with self.tx() as conn:
            row = conn.execute(
                sa.select(_C.c.id, _C.c.state).where(
                    _C.c.channel == channel, _C.c.remote_id == remote_id
                )
            ).first()
            if row is None or row.state in ("deleted", "removed"):
                return None
            conn.execute(
                _C.update().where(_C.c.id == row.id).values(state="removed", updated_at=now)
            )
            self.event(conn, Actor.service(), "comment_removed", now, comment_id=row.id)
        return self.get(row.id)

    # ----- reading ---------------------------------------------------------------------------
    def get(self, comment_id: int) -> Comment | None:
        with self.read() as conn:
            row = conn.execute(sa.select(_C).where(_C.c.id == comment_id)).first()
        return _comment(row) if row is not None else None

    def by_remote(self, channel: str, remote_id: str) -> Comment | None:
        with self.read() as conn:
            row = conn.execute(
                sa.select(_C).where(_C.c.channel == channel, _C.c.remote_id == remote_id)
            ).first()
        return _comment(row) if row is not None else None

    def known_ids(self, channel: str, remote_ids: Sequence[str]) -> set[str]:
        """Which of ``remote_ids`` are stored already (the catch-up skips them)."""
        out: set[str] = set()
        ids = list(remote_ids)
        with self.read() as conn:
            for i in range(0, len(ids), 500):
                out.update(
                    conn.execute(
                        sa.select(_C.c.remote_id).where(
                            _C.c.channel == channel, _C.c.remote_id.in_(ids[i : i + 500])
                        )
                    ).scalars()
                )
        return out

    def by_card(self, chat_id: int, message_id: int) -> Comment | None:
        with self.read() as conn:
            row = conn.execute(
                sa.select(_C).where(
                    _C.c.card_chat_id == chat_id, _C.c.card_message_id == message_id
                )
            ).first()
        return _comment(row) if row is not None else None

    def listed(
        self,
        *,
        states: Sequence[str] | None = None,
        flagged: bool | None = None,
        limit: int = 200,
    ) -> list[Comment]:
        """Comments newest first, by state (``flagged``: only those with a flag)."""
        q = sa.select(_C).where(_C.c.state != "own").order_by(_C.c.received_at.desc()).limit(limit)
        if states:
            q = q.where(_C.c.state.in_(list(states)))
        if flagged:
            q = q.where(_C.c.flags.is_not(None))
        with self.read() as conn:
            return [_comment(r) for r in conn.execute(q)]

    def last_received(self, channel: str, source: str) -> datetime | None:
        with self.read() as conn:
            value = conn.execute(
                sa.select(sa.func.max(_C.c.received_at)).where(
                    _C.c.channel == channel, _C.c.source == source
                )
            ).scalar()
        return value if isinstance(value, datetime) else None

    def counts_between(self, lo: datetime, hi: datetime) -> CommentCounts:
        """Comments received in [lo, hi), and of those, answered, hidden and deleted (counts)."""
        c = _C.c
        q = sa.select(
            sa.func.count(),
            sa.func.count(c.replied_at),
            sa.func.sum(sa.case((c.is_hidden.is_(True), 1), else_=0)),
            sa.func.sum(sa.case((c.state == "deleted", 1), else_=0)),
        ).where(c.received_at >= lo, c.received_at < hi, c.state != "own")
        with self.read() as conn:
            r = conn.execute(q).one()
        return CommentCounts(int(r[0] or 0), int(r[1] or 0), int(r[2] or 0), int(r[3] or 0))

    def posts_of(self, channel: str, since: datetime) -> list[ChannelPost]:
        """Loa's posts on ``channel`` sent since ``since`` (still up), newest first."""
        d = deliveries
        q = (
            sa.select(d.c.remote_id, d.c.url, d.c.article_id, articles.c.title, d.c.sent_at)
            .join(articles, articles.c.id == d.c.article_id)
            .where(
                d.c.channel == channel,
                d.c.state == "sent",
                d.c.remote_id.is_not(None),
                d.c.sent_at >= since,
            )
            .order_by(d.c.sent_at.desc(), d.c.id.desc())
        )
        with self.read() as conn:
            return [
                ChannelPost(str(r.remote_id), r.url, r.article_id, r.title, r.sent_at)
                for r in conn.execute(q)
            ]

    def post(self, channel: str, remote_id: str) -> ChannelPost | None:
        """Loa's post with this platform id on ``channel``, if Loa made it."""
        d = deliveries
        q = (
            sa.select(d.c.remote_id, d.c.url, d.c.article_id, articles.c.title, d.c.sent_at)
            .join(articles, articles.c.id == d.c.article_id)
            .where(d.c.channel == channel, d.c.remote_id == remote_id)
        )
        with self.read() as conn:
            r = conn.execute(q).first()
        return ChannelPost(str(r.remote_id), r.url, r.article_id, r.title, r.sent_at) if r else None

    def post_by_url(self, url: str) -> ChannelPost | None:
        """Loa's post whose public URL (or platform id) is ``url``, on any channel."""
        d = deliveries
        q = (
            sa.select(d.c.remote_id, d.c.url, d.c.article_id, articles.c.title, d.c.sent_at)
            .join(articles, articles.c.id == d.c.article_id)
            .where(sa.or_(d.c.url == url, d.c.remote_id == url))
            .order_by(d.c.id)
        )
        with self.read() as conn:
            r = conn.execute(q).first()
        return ChannelPost(str(r.remote_id), r.url, r.article_id, r.title, r.sent_at) if r else None

    # ----- cards -----------------------------------------------------------------------------
    def without_card(self, limit: int = 50) -> list[Comment]:
        q = (
            sa.select(_C)
            .where(_C.c.state != "own", _C.c.card_chat_id.is_(None))
            .order_by(_C.c.id)
            .limit(limit)
        )
        with self.read() as conn:
            return [_comment(r) for r in conn.execute(q)]

    def claim_card(self, comment_id: int, chat_id: int) -> bool:
        with self.tx() as conn:
            return (
                conn.execute(
                    _C.update()
                    .where(_C.c.id == comment_id, _C.c.card_chat_id.is_(None))
                    .values(card_chat_id=chat_id)
                ).rowcount
                == 1
            )

    def set_card(self, comment_id: int, chat_id: int | None, message_id: int | None) -> None:
        with self.tx() as conn:
            conn.execute(
                _C.update()
                .where(_C.c.id == comment_id)
                .values(card_chat_id=chat_id, card_message_id=message_id)
            )

    # ----- actions ---------------------------------------------------------------------------
    def begin_action(
        self,
        comment_id: int,
        kind: str,
        actor: Actor,
        now: datetime,
        *,
        text: str | None = None,
        reason: str | None = None,
    ) -> CommentAction | None:
        """Take the comment for one action; None when another action holds it or it no longer
        makes sense (someone decided first)."""
        with self.tx() as conn:
            won = conn.execute(
                _C.update()
                .where(_C.c.id == comment_id, _C.c.busy.is_(None), _allowed(kind))
                .values(busy=kind, updated_at=now)
            ).rowcount
            if won != 1:
                return None
            key = conn.execute(
                _A.insert().values(
                    comment_id=comment_id,
                    kind=kind,
                    text=text,
                    reason=reason,
                    actor=actor.name,
                    via=actor.via,
                    state="sending",
                    attempts=1,
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key
            assert key is not None
            self.event(
                conn,
                actor,
                f"comment_{kind}_begun",
                now,
                comment_id=comment_id,
                action_id=int(key[0]),
                reason=reason,
            )
        got = self.action(int(key[0]))
        assert got is not None
        return got

    def action(self, action_id: int) -> CommentAction | None:
        with self.read() as conn:
            row = conn.execute(sa.select(_A).where(_A.c.id == action_id)).first()
        return _action(row) if row is not None else None

    def actions_of(self, comment_id: int) -> list[CommentAction]:
        with self.read() as conn:
            return [
                _action(r)
                for r in conn.execute(
                    sa.select(_A).where(_A.c.comment_id == comment_id).order_by(_A.c.id)
                )
            ]

    def actions_in(
        self, states: Sequence[str], *, updated_before: datetime | None = None
    ) -> list[CommentAction]:
        q = sa.select(_A).where(_A.c.state.in_(list(states))).order_by(_A.c.id)
        if updated_before is not None:
            q = q.where(_A.c.updated_at < updated_before)
        with self.read() as conn:
            return [_action(r) for r in conn.execute(q)]

    def _move(
        self, conn: Connection, action_id: int, expected: Sequence[str], **values: Any
    ) -> bool:
        return (
            conn.execute(
                _A.update()
                .where(_A.c.id == action_id, _A.c.state.in_(list(expected)))
                .values(**values)
            ).rowcount
            == 1
        )

    def finish_action(
        self,
        action_id: int,
        outcome: str,
        now: datetime,
        *,
        remote_id: str | None = None,
        error: str | None = None,
        actor: Actor | None = None,
        expected: Sequence[str] = ("sending",),
    ) -> bool:
        """Record an action's outcome: ``done`` (the comment follows), ``failed`` (refused) or
        ``not_done`` (a person says it did not happen): the comment is free again; ``in_doubt``
        (Loa looks it up), ``ask`` (a person decides) or ``retry``: the comment stays held."""
        a = self.action(action_id)
        if a is None:
            return False
        with self.tx() as conn:
            if not self._move(
                conn,
                action_id,
                expected,
                state=outcome,
                remote_id=remote_id,
                error=error,
                updated_at=now,
                card_chat_id=None if outcome in ("in_doubt", "ask") else _A.c.card_chat_id,
                card_message_id=None if outcome in ("in_doubt", "ask") else _A.c.card_message_id,
            ):
                return False
            values: dict[str, Any] = {"updated_at": now}
            if outcome in ("done", "failed", "not_done"):
                values["busy"] = None
            if outcome == "done":
                values.update(self._effect(a.kind, now, remote_id))
            conn.execute(_C.update().where(_C.c.id == a.comment_id).values(**values))
            self.event(
                conn,
                actor or Actor.service(),
                f"comment_{a.kind}_{outcome}",
                now,
                comment_id=a.comment_id,
                action_id=action_id,
                error=error,
            )
        return True

    @staticmethod
    def _effect(kind: str, now: datetime, remote_id: str | None) -> dict[str, Any]:
        if kind == "reply":
            return {"replied_at": now, "reply_remote_id": remote_id, "state": "answered"}
        if kind == "private_reply":
            return {"private_replied_at": now, "state": "answered"}
        if kind == "hide":
            return {"is_hidden": True, "state": "hidden"}
        if kind == "unhide":
            return {"is_hidden": False, "state": "seen"}
        if kind == "delete":
            return {"state": "deleted"}
        return {"state": "seen"}

    def retry_again(self, action_id: int, now: datetime) -> bool:
        """A ``retry`` or looked-up ``in_doubt`` action is sent again (one more attempt)."""
        with self.tx() as conn:
            return self._move(
                conn,
                action_id,
                ("retry", "in_doubt"),
                state="sending",
                attempts=_A.c.attempts + 1,
                updated_at=now,
            )

    def resolve_in_doubt(self, action_id: int, actor: Actor, *, sent: bool, now: datetime) -> bool:
        """A person says whether an in-doubt action happened; False if it was not in doubt."""
        return self.finish_action(
            action_id,
            "done" if sent else "not_done",
            now,
            actor=actor,
            expected=("in_doubt", "ask"),
        )

    def expire_sending(self, before: datetime, now: datetime) -> list[int]:
        """``sending`` actions untouched since ``before`` (their worker died) are in doubt."""
        stale = self.actions_in(("sending",), updated_before=before)
        out = []
        for a in stale:
            if self.finish_action(
                a.id, "in_doubt", now, error="Tiến trình dừng giữa chừng; không rõ đã thực hiện."
            ):
                out.append(a.id)
        return out

    def claim_action_card(self, action_id: int, chat_id: int) -> bool:
        with self.tx() as conn:
            return (
                conn.execute(
                    _A.update()
                    .where(_A.c.id == action_id, _A.c.card_chat_id.is_(None))
                    .values(card_chat_id=chat_id)
                ).rowcount
                == 1
            )

    def set_action_card(self, action_id: int, chat_id: int | None, message_id: int | None) -> None:
        with self.tx() as conn:
            conn.execute(
                _A.update()
                .where(_A.c.id == action_id)
                .values(card_chat_id=chat_id, card_message_id=message_id)
            )

    def action_by_card(self, chat_id: int, message_id: int) -> CommentAction | None:
        with self.read() as conn:
            row = conn.execute(
                sa.select(_A).where(
                    _A.c.card_chat_id == chat_id, _A.c.card_message_id == message_id
                )
            ).first()
        return _action(row) if row is not None else None

    def link_case(self, comment_id: int, case_id: int, actor: Actor, now: datetime) -> bool:
        with self.tx() as conn:
            won = (
                conn.execute(
                    _C.update()
                    .where(_C.c.id == comment_id, _C.c.case_id.is_(None))
                    .values(case_id=case_id, updated_at=now)
                ).rowcount
                == 1
            )
            if won:
                self.event(
                    conn, actor, "comment_to_case", now, comment_id=comment_id, case_id=case_id
                )
        return won

    def forget_person(self, author_id: str) -> int:
        """On request: one author's id and name erased from every comment."""
        with self.tx() as conn:
            return int(
                conn.execute(
                    _C.update()
                    .where(_C.c.author_id == author_id)
                    .values(author_id=None, author_name=None)
                ).rowcount
            )

    def forget_people(self, before: datetime) -> int:
        """Retention: authors' ids and names of comments received before ``before`` are erased."""
        with self.tx() as conn:
            return int(
                conn.execute(
                    _C.update()
                    .where(_C.c.received_at < before, _C.c.author_id.is_not(None))
                    .values(author_id=None, author_name=None)
                ).rowcount
            )
