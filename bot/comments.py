"""Comments under the Page's posts: intake (webhook ``feed`` changes and the catch-up read), the
admins' actions on them under the never-twice rule, and the reconciliation of lost answers.

* Intake: a ``feed`` change (``item: comment``; ``add`` / ``edited`` / ``remove``) or a comment
  found by the catch-up read is stored once per comment id; a new one gets a card (the bot's
  card loop posts it). The Page's own comments (our replies) are kept, never carded.
* The catch-up read: every ``[comments] catchup_interval_minutes``, the comments of Loa's own
  posts of the last ``catchup_post_days`` written in the last ``catchup_hours`` are read in
  batches of 50 posts (one call per batch) — what a webhook outage missed is found there, and
  what was already stored is skipped (no comment lost, none carded twice).
* Actions (Trả lời, Ẩn / Hiện, Xóa, Trả lời riêng, Đã xem): :func:`comment_action`. One decision
  wins (the store takes the comment for one action at a time). A hide, unhide or delete whose
  answer was lost is retried (a known id: idempotent; an already deleted comment counts as
  deleted). A reply whose answer was lost is ``in_doubt``: after ``reply_settle_seconds`` its
  parent's replies from the Page are looked through for the same text — found: done; not found:
  sent again; cannot tell: a person decides. A private reply has no look-up: a person decides
  (Facebook's "already replied" answer to a later attempt proves the first one went out).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from bot.comment_flags import FlagWords, flags_of
from bot.context import Loa
from channels.base import ChannelError, RejectedError
from channels.comments import CommentModerator, PrivateReplyUsed, RemoteComment
from channels.errors import CannotTell
from content_queue.comments import Comment, CommentAction, IncomingComment
from content_queue.models import Actor

__all__ = [
    "ActionOutcome",
    "catch_up_comments",
    "comment_action",
    "comment_channels",
    "handle_feed_change",
    "reconcile_comment_actions",
]

log = logging.getLogger(__name__)

IMMEDIATE_TRIES = 3  # a hide/unhide/delete is retried this many times in the call
SENDING_STALE = timedelta(minutes=10)

KIND_VI = {
    "reply": "trả lời",
    "hide": "ẩn",
    "unhide": "hiện lại",
    "delete": "xóa",
    "private_reply": "trả lời riêng",
    "seen": "đánh dấu đã xem",
}
STATE_VI = {
    "new": "chưa xem",
    "seen": "đã xem",
    "answered": "đã trả lời",
    "hidden": "đã ẩn",
    "deleted": "đã xóa",
    "removed": "người viết đã gỡ",
    "own": "của Trang",
}


@dataclass(frozen=True)
class ActionOutcome:
    ok: bool
    message: str  # Vietnamese, for the admin who acted
    action: CommentAction | None = None


def comment_channels(loa: Loa) -> dict[str, CommentModerator]:
    """The enabled channels whose comments Loa reads (``[comments] channels``, else all able)."""
    if not loa.settings.comments.enabled:
        return {}
    wanted = set(loa.settings.comments.channels)
    out: dict[str, CommentModerator] = {}
    for name, ch in loa.channels().items():
        if isinstance(ch, CommentModerator) and (not wanted or name in wanted):
            out[name] = ch
    return out


@cache
def _flag_words(path: str) -> FlagWords:
    return FlagWords(Path(path) if path else None)


def comment_flags(loa: Loa, text: str) -> list[str]:
    f = loa.settings.comments.flags_file
    words = _flag_words(str(loa.settings.path(f)) if f else "")
    return flags_of(text, words.words(), tuple(loa.settings.comments.safe_hosts))


# ----- intake ----------------------------------------------------------------------------------
def _store(
    loa: Loa, channel: str, own_id: str, c: RemoteComment, source: str, now: datetime
) -> tuple[Comment, bool]:
    post = loa.store.comments.post(channel, c.post_id)
    own = c.author_id == own_id
    item = IncomingComment(
        channel=channel,
        remote_id=c.id,
        post_id=c.post_id,
        parent_id=c.parent_id,
        author_id=c.author_id,
        author_name=c.author_name,
        message=c.message,
        created_at=c.created_at,
        source=source,
        own=own,
        is_hidden=c.is_hidden,
    )
    flags = [] if own else comment_flags(loa, c.message)
    return loa.store.comments.record(
        item, article_id=post.article_id if post else None, flags=flags, now=now
    )


def handle_feed_change(
    loa: Loa, channel: str, value: dict[str, Any], now: datetime | None = None
) -> Comment | None:
    """Apply one pushed comment change (a stored ``feed`` event's payload, read by the channel's
    adapter); returns the stored comment, or None when the change is not about a comment or is
    about one Loa never saw."""
    now = now or datetime.now(UTC)
    ch = comment_channels(loa).get(channel)
    if ch is None or not isinstance(value, dict):
        return None
    change = ch.comment_change(value)
    if change is None:
        return None
    c = change.comment
    if change.verb == "remove":
        return loa.store.comments.record_removed(channel, c.id, now)
    if change.verb == "edited" and loa.store.comments.by_remote(channel, c.id) is not None:
        return loa.store.comments.record_edit(
            channel, c.id, c.message, comment_flags(loa, c.message), now
        )
    stored, _ = _store(loa, channel, ch.own_author_id(), c, "webhook", now)
    return stored


def catch_up_comments(loa: Loa, now: datetime | None = None) -> dict[str, int]:
    """Read recent comments of Loa's own posts and store those the webhook missed; returns
    the new comments per channel."""
    now = now or datetime.now(UTC)
    s = loa.settings.comments
    out: dict[str, int] = {}
    for name, ch in comment_channels(loa).items():
        posts = loa.store.comments.posts_of(name, now - timedelta(days=s.catchup_post_days))
        if not posts:
            out[name] = 0
            continue
        try:
            read = ch.read_comments(
                [p.remote_id for p in posts], now - timedelta(hours=s.catchup_hours)
            )
        except ChannelError as exc:
            log.warning("catch-up read of comments on %s failed: %s", name, exc.message)
            continue
        known = loa.store.comments.known_ids(name, [c.id for c in read.comments])
        new = 0
        for c in sorted(read.comments, key=lambda c: c.created_at):
            if c.id in known:
                continue
            _, fresh = _store(loa, name, ch.own_author_id(), c, "catchup", now)
            new += int(fresh and c.author_id != ch.own_author_id())
        out[name] = new
        if new:
            log.info("catch-up found %d comment(s) on %s that the webhook missed", new, name)
    return out


# ----- actions ---------------------------------------------------------------------------------
def _refusal(loa: Loa, comment_id: int, kind: str) -> str:
    c = loa.store.comments.get(comment_id)
    if c is None:
        return f"Không có bình luận BL-{comment_id}."
    if c.busy:
        return (
            f"Bình luận BL-{c.id} đang được xử lý ({KIND_VI.get(c.busy, c.busy)}); hãy chờ kết quả."
        )
    last = next(
        (a for a in reversed(loa.store.comments.actions_of(c.id)) if a.state == "done"), None
    )
    by = f" bởi {last.actor.removeprefix('web:').removeprefix('tg:')}" if last else ""
    return (
        f"Không thể {KIND_VI.get(kind, kind)} bình luận BL-{c.id}: bình luận "
        f"{STATE_VI.get(c.state, c.state)}{by}."
    )


def _channel(loa: Loa, name: str) -> CommentModerator:
    ch = loa.channel(name)
    if not isinstance(ch, CommentModerator):
        raise RejectedError(f"Kênh {name} không quản lý được bình luận.")
    return ch


def comment_action(
    loa: Loa,
    comment_id: int,
    kind: str,
    actor: Actor,
    *,
    text: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> ActionOutcome:
    """Do one admin action on a comment (see the module docstring for the rules)."""
    now = now or datetime.now(UTC)
    text = (text or "").strip() or None
    if kind in ("reply", "private_reply") and not text:
        return ActionOutcome(False, "Cần nội dung trả lời.")
    if kind == "delete" and not (reason or "").strip():
        return ActionOutcome(False, "Cần ghi lý do xóa bình luận.")
    a = loa.store.comments.begin_action(comment_id, kind, actor, now, text=text, reason=reason)
    if a is None:
        return ActionOutcome(False, _refusal(loa, comment_id, kind))
    return _perform(loa, a, now, actor)


def _perform(loa: Loa, a: CommentAction, now: datetime, actor: Actor) -> ActionOutcome:
    store = loa.store.comments
    c = store.get(a.comment_id)
    assert c is not None
    label = f"BL-{c.id}"
    if a.kind == "seen":
        store.finish_action(a.id, "done", now, actor=actor)
        return ActionOutcome(True, f"Đã đánh dấu {label} là đã xem.", store.action(a.id))
    try:
        ch = _channel(loa, c.channel)
    except (ChannelError, KeyError) as exc:
        store.finish_action(a.id, "failed", now, error=str(exc), actor=actor)
        return ActionOutcome(False, str(exc))
    if a.kind in ("hide", "unhide", "delete"):
        return _idempotent(loa, ch, a, c, now, actor)
    try:
        if a.kind == "reply":
            remote = ch.reply_comment(c.remote_id, a.text or "")
        else:
            remote = ch.private_reply(c.remote_id, a.text or "")
    except ChannelError as exc:
        if a.kind == "private_reply" and isinstance(exc, PrivateReplyUsed):
            store.finish_action(a.id, "done", now, actor=actor, error=exc.message)
            return ActionOutcome(True, f"Tin nhắn riêng cho {label} đã được gửi từ trước.")
        if exc.may_have_posted:
            state = "in_doubt" if a.kind == "reply" else "ask"
            store.finish_action(a.id, state, now, error=exc.message, actor=actor)
            if state == "ask":
                return ActionOutcome(
                    False,
                    f"Không rõ tin nhắn riêng cho {label} đã gửi hay chưa ({exc.message}). Loa "
                    "không tự gửi lại; hãy xem hộp thư Trang rồi trả lời trên thẻ hỏi.",
                    store.action(a.id),
                )
            return ActionOutcome(
                False,
                f"Chưa rõ câu trả lời {label} đã lên Facebook hay chưa ({exc.message}). Loa sẽ "
                "kiểm tra rồi mới gửi lại, không bao giờ đăng hai lần.",
                store.action(a.id),
            )
        store.finish_action(a.id, "failed", now, error=exc.message, actor=actor)
        return ActionOutcome(False, f"Facebook không nhận: {exc.message}", store.action(a.id))
    store.finish_action(a.id, "done", now, remote_id=remote or None, actor=actor)
    what = "Đã trả lời công khai" if a.kind == "reply" else "Đã gửi tin nhắn riêng cho"
    return ActionOutcome(True, f"{what} {label}.", store.action(a.id))


def _idempotent(
    loa: Loa, ch: CommentModerator, a: CommentAction, c: Comment, now: datetime, actor: Actor
) -> ActionOutcome:
    store = loa.store.comments
    label = f"BL-{c.id}"
    last: ChannelError | None = None
    for _ in range(IMMEDIATE_TRIES):
        try:
            if a.kind == "delete":
                ch.delete_comment(c.remote_id)
            else:
                ch.hide_comment(c.remote_id, a.kind == "hide")
        except ChannelError as exc:
            last = exc
            if isinstance(exc, RejectedError) or not _retryable(exc):
                break
            continue
        store.finish_action(a.id, "done", now, actor=actor)
        done = {"hide": "Đã ẩn", "unhide": "Đã hiện lại", "delete": "Đã xóa"}[a.kind]
        return ActionOutcome(True, f"{done} bình luận {label}.", store.action(a.id))
    assert last is not None
    if _retryable(last) and not isinstance(last, RejectedError):
        store.finish_action(a.id, "retry", now, error=last.message, actor=actor)
        return ActionOutcome(
            False,
            f"Facebook chưa trả lời rõ ({last.message}); Loa sẽ thử lại việc "
            f"{KIND_VI[a.kind]} {label} (thao tác này lặp lại không sao).",
            store.action(a.id),
        )
    store.finish_action(a.id, "failed", now, error=last.message, actor=actor)
    return ActionOutcome(False, f"Facebook không nhận: {last.message}", store.action(a.id))


def _retryable(exc: ChannelError) -> bool:
    from channels.errors import AuthError

    return not isinstance(exc, AuthError | RejectedError)


def reconcile_comment_actions(loa: Loa, now: datetime | None = None) -> int:
    """The service's job: stale sends → in doubt; idempotent ones retried; lost replies looked
    up after the settle delay (found: done; not found: sent again; cannot tell: a person)."""
    now = now or datetime.now(UTC)
    store = loa.store.comments
    store.expire_sending(now - SENDING_STALE, now)
    handled = 0
    settle = timedelta(seconds=loa.settings.comments.reply_settle_seconds)
    for a in store.actions_in(("retry", "in_doubt")):
        c = store.get(a.comment_id)
        if c is None:
            continue
        if a.kind in ("hide", "unhide", "delete", "seen"):
            if store.retry_again(a.id, now):
                fresh = store.action(a.id)
                assert fresh is not None
                _perform(loa, fresh, now, Actor(a.actor, a.via))
                handled += 1
            continue
        if a.kind == "private_reply":
            store.finish_action(a.id, "ask", now, error=a.error, expected=("in_doubt",))
            continue
        if a.updated_at > now - settle:
            continue  # Facebook may still be finishing the request: look later
        try:
            ch = _channel(loa, c.channel)
            found = ch.find_reply(c.remote_id, a.text or "", a.created_at - timedelta(minutes=5))
        except CannotTell as exc:
            store.finish_action(a.id, "ask", now, error=exc.message, expected=("in_doubt",))
            continue
        except ChannelError as exc:
            log.warning("looking up reply of comment %s failed: %s", c.id, exc.message)
            continue
        if found:
            store.finish_action(a.id, "done", now, remote_id=found, expected=("in_doubt",))
        elif store.retry_again(a.id, now):
            fresh = store.action(a.id)
            assert fresh is not None
            _perform(loa, fresh, now, Actor(a.actor, a.via))
        handled += 1
    return handled


def resolve_asked_action(loa: Loa, action_id: int, actor: Actor, *, sent: bool) -> bool:
    """A person says whether an action Loa could not check went out."""
    return loa.store.comments.resolve_in_doubt(action_id, actor, sent=sent, now=datetime.now(UTC))
