"""Comment, in-doubt action and case cards in the admins' chat, and what their buttons do.

Callback data: ``cm:<action>:<comment id>`` (``r`` reply, ``h`` hide, ``u`` unhide, ``d`` delete,
``p`` private reply, ``s`` seen, ``c`` to a petition, ``t`` takedown), ``ca:<y|n>:<action id>``
(an in-doubt action went out or not), ``cs:<action>:<case id>`` (``m`` take, ``i`` in progress,
``a`` answer, ``t`` transfer, ``o`` out of scope, ``h`` / ``d`` hide / delete the comment, ``r``
retract the article, ``x`` done by hand, ``n`` decline).

A button that needs words (a reply, a reason) sends a question the admin answers by replying to
it; the question carries its purpose as a tag (``#bl:r:12``) in the bot's own message, which a
person cannot edit. An admin's reply to the comment card itself is posted as the Page's reply.
Every press and answer is checked against the sender (admins only); the action itself is one
guarded update in the store, so the first decision wins.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from datetime import UTC, datetime
from html import escape
from typing import Any

from telegram import Bot, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

import bot.telegram.intake_texts as t
from bot.cases import (
    CASE_STATE_VI,
    act_on_takedown,
    move_petition,
    open_petition,
    open_takedown,
)
from bot.comment_flags import FLAG_VI
from bot.comments import KIND_VI, STATE_VI, comment_action, resolve_asked_action
from bot.context import Loa
from bot.telegram.access import stranger_button_answer
from bot.telegram.context import LoaContext
from content_queue.cases import Case
from content_queue.comments import Comment, CommentAction
from content_queue.models import Actor

__all__ = [
    "case_card_text",
    "intake_card_loop",
    "comment_card_text",
    "register_intake_handlers",
    "sync_intake_cards",
]

log = logging.getLogger(__name__)

PATTERN = r"^(cm:[rhudpsct]|ca:[yn]|cs:[miatohdrxn]):\d+$"
_TAG = re.compile(r"#(bl|pa):([a-z]):(\d+)\s*$")
MESSAGE_SHOWN = 900  # characters of a comment shown on its card


def _who(actor: str) -> str:
    return actor.removeprefix("web:").removeprefix("tg:")


def _actor(user: Any) -> Actor:
    name = getattr(user, "full_name", "") or ""
    return Actor(f"tg:{name} ({user.id})" if name else f"tg:{user.id}", "telegram")


def _local(loa: Loa, when: datetime | None) -> str:
    return when.astimezone(loa.settings.schedule.tz).strftime("%H:%M %d/%m/%Y") if when else "—"


# ----- texts -----------------------------------------------------------------------------------
def comment_card_text(loa: Loa, c: Comment) -> str:
    post = loa.store.comments.post(c.channel, c.post_id)
    if post is not None:
        where = f"{escape(post.title)} ({escape(post.url or '')})"
    else:
        where = t.COMMENT_OTHER_POST.format(link=escape(f"https://www.facebook.com/{c.post_id}"))
    lines = [
        t.COMMENT_CARD.format(
            id=c.id,
            channel=escape(c.channel),
            post=where,
            author=escape(c.author_name or "ẩn danh"),
            when=_local(loa, c.created_at),
            message=escape(c.message[:MESSAGE_SHOWN])
            + ("…" if len(c.message) > MESSAGE_SHOWN else ""),
        )
    ]
    if c.edited:
        lines.append(t.COMMENT_EDITED)
    if c.flags:
        lines.append(t.COMMENT_FLAGS.format(flags=", ".join(FLAG_VI.get(f, f) for f in c.flags)))
    if c.state != "new":
        lines.append(t.COMMENT_STATE.format(state=STATE_VI.get(c.state, c.state)))
    return "\n".join(lines)


def _comment_keyboard(c: Comment) -> InlineKeyboardMarkup | None:
    if c.state in ("deleted", "removed", "own"):
        return None
    b = InlineKeyboardButton
    hide = (
        b(t.BUTTON_UNHIDE, callback_data=f"cm:u:{c.id}")
        if c.is_hidden
        else b(t.BUTTON_HIDE, callback_data=f"cm:h:{c.id}")
    )
    rows = [
        [
            b(t.BUTTON_REPLY, callback_data=f"cm:r:{c.id}"),
            hide,
            b(t.BUTTON_DELETE, callback_data=f"cm:d:{c.id}"),
        ],
        [
            b(t.BUTTON_PRIVATE, callback_data=f"cm:p:{c.id}"),
            b(t.BUTTON_SEEN, callback_data=f"cm:s:{c.id}"),
        ],
    ]
    third = []
    if c.case_id is None:
        third.append(b(t.BUTTON_PETITION, callback_data=f"cm:c:{c.id}"))
    third.append(b(t.BUTTON_TAKEDOWN, callback_data=f"cm:t:{c.id}"))
    rows.append(third)
    return InlineKeyboardMarkup(rows)


def case_card_text(loa: Loa, case: Case) -> str:
    now = datetime.now(UTC)
    if case.kind == "petition":
        who = f"Người gửi: {escape(case.citizen_name or 'ẩn danh')} · kênh {escape(case.channel or case.source_kind)}"
    else:
        who = f"Bên yêu cầu: {escape(case.requester or '—')} · {escape(case.source_ref or '')}"
    if case.owner:
        who += f"\nNgười xử lý: {escape(_who(case.owner))}"
    return t.CASE_CARD.format(
        kind=t.KIND_PETITION if case.kind == "petition" else t.KIND_TAKEDOWN,
        number=case.number,
        state=CASE_STATE_VI.get(case.state, case.state),
        received=_local(loa, case.received_at),
        due=_local(loa, case.due_at),
        overdue=t.OVERDUE_MARK if case.overdue(now) else "",
        who=who,
        subject=escape(case.subject[:MESSAGE_SHOWN]),
    )


def _case_keyboard(case: Case) -> InlineKeyboardMarkup | None:
    if not case.is_open:
        return None
    b = InlineKeyboardButton
    if case.kind == "petition":
        rows = [
            [
                b(t.BUTTON_TAKE, callback_data=f"cs:m:{case.id}"),
                b(t.BUTTON_ANSWER, callback_data=f"cs:a:{case.id}"),
            ],
            [
                b(t.BUTTON_TRANSFER, callback_data=f"cs:t:{case.id}"),
                b(t.BUTTON_SCOPE, callback_data=f"cs:o:{case.id}"),
            ],
        ]
    else:
        first = []
        if case.comment_id is not None:
            first = [
                b(t.BUTTON_HIDE, callback_data=f"cs:h:{case.id}"),
                b(t.BUTTON_DELETE, callback_data=f"cs:d:{case.id}"),
            ]
        else:
            first = [b(t.BUTTON_RETRACT, callback_data=f"cs:r:{case.id}")]
        rows = [
            first,
            [
                b(t.BUTTON_MANUAL, callback_data=f"cs:x:{case.id}"),
                b(t.BUTTON_DECLINE, callback_data=f"cs:n:{case.id}"),
            ],
        ]
    return InlineKeyboardMarkup(rows)


def _action_text(a: CommentAction) -> str:
    return t.ACTION_IN_DOUBT.format(
        what=KIND_VI.get(a.kind, a.kind),
        id=a.comment_id,
        actor=escape(_who(a.actor)),
        error=escape(a.error or "—"),
    )


# ----- posting cards ---------------------------------------------------------------------------
async def sync_intake_cards(bot: Bot, loa: Loa) -> int:
    """Post a card for every new comment, every case and every action a person must settle."""
    chat_id = loa.settings.telegram.chat_id
    if chat_id is None:
        return 0
    comments = loa.store.comments
    cases = loa.store.cases
    sent = 0
    todo_comments, todo_cases, todo_actions = await asyncio.to_thread(
        lambda: (comments.without_card(), cases.without_card(), comments.actions_in(("ask",)))
    )
    for c in todo_comments:
        if not await asyncio.to_thread(comments.claim_card, c.id, chat_id):
            continue
        text = await asyncio.to_thread(comment_card_text, loa, c)
        mid = await _send(bot, chat_id, text, _comment_keyboard(c))
        await asyncio.to_thread(comments.set_card, c.id, chat_id if mid else None, mid)
        if mid is None:
            break
        sent += 1
    for case in todo_cases:
        if not await asyncio.to_thread(cases.claim_card, case.id, chat_id):
            continue
        text = await asyncio.to_thread(case_card_text, loa, case)
        mid = await _send(bot, chat_id, text, _case_keyboard(case))
        await asyncio.to_thread(cases.set_card, case.id, chat_id if mid else None, mid)
        if mid is None:
            break
        sent += 1
    for a in todo_actions:
        if a.card_chat_id is not None or not await asyncio.to_thread(
            comments.claim_action_card, a.id, chat_id
        ):
            continue
        kb = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(t.BUTTON_WAS_SENT, callback_data=f"ca:y:{a.id}"),
                    InlineKeyboardButton(t.BUTTON_NOT_SENT, callback_data=f"ca:n:{a.id}"),
                ]
            ]
        )
        mid = await _send(bot, chat_id, _action_text(a), kb)
        await asyncio.to_thread(comments.set_action_card, a.id, chat_id if mid else None, mid)
        if mid is None:
            break
        sent += 1
    return sent


async def _send(bot: Bot, chat_id: int, text: str, kb: InlineKeyboardMarkup | None) -> int | None:
    try:
        message = await bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, reply_markup=kb, disable_web_page_preview=True
        )
    except TelegramError as exc:
        log.warning("could not send an intake card: %s", exc)
        if isinstance(exc, RetryAfter):
            await asyncio.sleep(
                min(float(exc.retry_after if isinstance(exc.retry_after, int | float) else 1), 5)
            )
        return None
    return message.message_id


async def _refresh(bot: Bot, loa: Loa, message: Message | None, footer: str | None = None) -> None:
    """Re-draw a comment or case card after an action (state, buttons)."""
    if message is None:
        return
    chat, mid = message.chat.id, message.message_id
    c = await asyncio.to_thread(loa.store.comments.by_card, chat, mid)
    if c is not None:
        text, kb = await asyncio.to_thread(comment_card_text, loa, c), _comment_keyboard(c)
    else:
        case = await asyncio.to_thread(loa.store.cases.by_card, chat, mid)
        if case is None:
            return
        text, kb = await asyncio.to_thread(case_card_text, loa, case), _case_keyboard(case)
    if footer:
        text += "\n\n" + escape(footer)
    try:
        await bot.edit_message_text(
            text,
            chat_id=chat,
            message_id=mid,
            parse_mode=ParseMode.HTML,
            reply_markup=kb,
            disable_web_page_preview=True,
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            log.warning("could not refresh card: %s", exc)


# ----- buttons ---------------------------------------------------------------------------------
_ASKS = {
    ("cm", "r"): t.ASK_REPLY,
    ("cm", "p"): t.ASK_PRIVATE,
    ("cm", "d"): t.ASK_DELETE,
    ("cm", "h"): t.ASK_HIDE,
    ("cm", "t"): t.ASK_TAKEDOWN,
    ("cs", "a"): t.ASK_CASE_ANSWER,
    ("cs", "t"): t.ASK_CASE_TRANSFER,
    ("cs", "o"): t.ASK_CASE_SCOPE,
    ("cs", "n"): t.ASK_CASE_DECLINE,
}


async def on_intake_button(update: Update, context: LoaContext) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    loa = context.loa
    user = query.from_user
    answer = t.STALE
    try:
        prefix, action, raw = query.data.split(":")
        target = int(raw)
        actor = _actor(user)
        if user.id not in loa.settings.telegram.admins:
            answer = await stranger_button_answer(context, loa, user, query.data, t.NOT_ADMIN)
            return
        message = query.message if isinstance(query.message, Message) else None
        if message is None or not await _button_matches(loa, prefix, target, message):
            await asyncio.to_thread(
                loa.store.audit.record_event, actor, "forged_callback", None, data=query.data
            )
            return
        ask = _ASKS.get((prefix, action))
        if ask is not None:
            label = target
            if prefix == "cs":
                case = await asyncio.to_thread(loa.store.cases.get, target)
                label = case.number if case else target  # type: ignore[assignment]
            tag = "bl" if prefix == "cm" else "pa"
            await context.bot.send_message(
                message.chat.id,
                ask.format(id=label, number=label) + f"\n#{tag}:{action}:{target}",
                reply_to_message_id=message.message_id,
                reply_markup=ForceReply(selective=True),
            )
            answer = t.ASKED
            return
        answer = await asyncio.to_thread(_apply, loa, prefix, action, target, actor, None)
        if prefix == "ca":
            with contextlib.suppress(BadRequest):
                await context.bot.edit_message_text(
                    escape(answer),
                    chat_id=message.chat.id,
                    message_id=message.message_id,
                    parse_mode=ParseMode.HTML,
                )
        else:
            await _refresh(context.bot, loa, message, f"{answer} — {_who(actor.name)}")
    except ValueError:
        answer = t.STALE
    finally:
        with contextlib.suppress(TelegramError):
            await query.answer(answer[:200] or None, show_alert=bool(answer))


async def _button_matches(loa: Loa, prefix: str, target: int, message: Message) -> bool:
    chat, mid = message.chat.id, message.message_id
    if prefix == "cm":
        c = await asyncio.to_thread(loa.store.comments.by_card, chat, mid)
        return c is not None and c.id == target
    if prefix == "cs":
        case = await asyncio.to_thread(loa.store.cases.by_card, chat, mid)
        return case is not None and case.id == target
    a = await asyncio.to_thread(loa.store.comments.action_by_card, chat, mid)
    return a is not None and a.id == target


def _apply(loa: Loa, prefix: str, action: str, target: int, actor: Actor, text: str | None) -> str:
    """What a button (with its answer ``text``) does; returns the Vietnamese result."""
    if prefix == "ca":
        a = loa.store.comments.action(target)
        won = resolve_asked_action(loa, target, actor, sent=action == "y")
        what = KIND_VI.get(a.kind, a.kind) if a else "?"
        if not won:
            return "Việc này đã được người khác xác nhận."
        return t.ACTION_RESOLVED.format(
            what=what,
            id=a.comment_id if a else "?",
            outcome="đã gửi" if action == "y" else "chưa gửi",
            actor=_who(actor.name),
        )
    if prefix == "cm":
        if action == "c":
            c = loa.store.comments.get(target)
            if c is None:
                return t.STALE
            if c.case_id is not None:
                return "Bình luận này đã thành phản ánh."
            case = open_petition(
                loa,
                c.message,
                actor,
                source_kind="comment",
                channel=c.channel,
                citizen_name=c.author_name,
                citizen_ref=c.author_id,
                source_ref=c.remote_id,
                comment_id=c.id,
            )
            return f"Đã tạo phản ánh {case.number}, hạn {_local(loa, case.due_at)}."
        if action == "t":
            c = loa.store.comments.get(target)
            if c is None:
                return t.STALE
            case = open_takedown(loa, c.remote_id, text or "người dân", actor, comment_id=c.id)
            return f"Đã ghi yêu cầu gỡ {case.number}, hạn {_local(loa, case.due_at)}."
        kind = {
            "r": "reply",
            "h": "hide",
            "u": "unhide",
            "d": "delete",
            "p": "private_reply",
            "s": "seen",
        }[action]
        body = text if kind in ("reply", "private_reply") else None
        reason = text if kind in ("delete", "hide") else None
        return comment_action(loa, target, kind, actor, text=body, reason=reason).message
    if action in ("m",):
        found = loa.store.cases.get(target)
        if found is None:
            return t.STALE
        ok = loa.store.cases.set_owner(target, actor.name, actor, datetime.now(UTC))
        if ok and found.kind == "petition" and found.state == "received":
            move_petition(loa, target, "in_progress", actor)
        case = found
        return (
            f"{_who(actor.name)} nhận xử lý {case.number}." if ok else "Không nhận được (đã đóng)."
        )
    if action in ("a", "t", "o", "i"):
        state = {"a": "answered", "t": "transferred", "o": "out_of_scope", "i": "in_progress"}[
            action
        ]
        return move_petition(loa, target, state, actor, answer=text)[1]
    act = {"h": "hide", "d": "delete", "r": "retract", "x": "manual", "n": "decline"}[action]
    return act_on_takedown(loa, target, act, actor, reason=text)[1]


# ----- answers by reply ------------------------------------------------------------------------
async def on_intake_reply(update: Update, context: LoaContext) -> None:
    """An admin's reply to a comment card (→ the Page's reply) or to one of Loa's questions."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or message.reply_to_message is None or not message.text:
        return
    loa = context.loa
    replied = message.reply_to_message
    bot_id = context.bot.id
    if replied.from_user is None or replied.from_user.id != bot_id:
        return
    tag = _TAG.search(replied.text or "")
    card = None
    if tag is None:
        card = await asyncio.to_thread(
            loa.store.comments.by_card, message.chat.id, replied.message_id
        )
        if card is None:
            return  # a reply to some other message of the bot: not ours
    if user.id not in loa.settings.telegram.admins:
        await message.reply_text(t.NOT_ADMIN)
        return
    actor = _actor(user)
    if card is not None:
        prefix, action, target = "cm", "r", card.id
    else:
        assert tag is not None
        prefix, action, target = (
            ("cm" if tag.group(1) == "bl" else "cs"),
            tag.group(2),
            int(tag.group(3)),
        )
    result = await asyncio.to_thread(
        _apply, loa, prefix, action, target, actor, message.text.strip()
    )
    await message.reply_text(result)
    # the card itself: re-drawn with the new state
    c_or_case_msg = None
    if card is not None:
        c_or_case_msg = replied
    elif replied.reply_to_message is not None:
        c_or_case_msg = replied.reply_to_message
    await _refresh(context.bot, loa, c_or_case_msg, f"{result} — {_who(actor.name)}")


async def intake_card_loop(
    bot: Bot, loa: Loa, stopping: asyncio.Event, interval: float = 0.5
) -> None:
    """Post intake cards as they come (every ``interval`` seconds) until ``stopping`` is set."""
    while not stopping.is_set():
        try:
            await sync_intake_cards(bot, loa)
        except (TelegramError, OSError) as exc:
            log.warning("posting intake cards failed: %s", exc)
        except Exception:  # a bug must not stop the admin chat
            log.exception("posting intake cards failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), interval)


async def on_petition_command(update: Update, context: LoaContext) -> None:
    """``/phananh ID``, or ``/phananh`` in reply to a question's hand-over card: the citizen's
    message becomes a petition."""
    from bot.petition_intake import petition_from_question

    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    loa = context.loa
    if user.id not in loa.settings.telegram.admins:
        await message.reply_text(t.NOT_ADMIN)
        return
    qid: int | None = None
    if context.args and context.args[0].isdigit():
        qid = int(context.args[0])
    elif message.reply_to_message is not None:
        q = await asyncio.to_thread(
            loa.store.citizens.question_by_card,
            message.chat.id,
            message.reply_to_message.message_id,
        )
        qid = q.id if q is not None else None
    if qid is None:
        await message.reply_text(t.PETITION_USAGE)
        return
    _, text = await asyncio.to_thread(petition_from_question, loa, qid, _actor(user))
    await message.reply_text(text)


def register_intake_handlers(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Attach the comment/case buttons and answers (before the article handlers)."""
    app.add_handler(CallbackQueryHandler(on_intake_button, pattern=PATTERN))
    app.add_handler(CommandHandler("phananh", on_petition_command))
    app.add_handler(
        MessageHandler(filters.REPLY & filters.TEXT & ~filters.COMMAND, on_intake_reply), group=-1
    )
