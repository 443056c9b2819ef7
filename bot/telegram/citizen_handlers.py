"""Hand-over cards in the admin chat: a question the assistant was not sure of, answered by a
person; and replies in doubt (Đã gửi / Chưa gửi).

Callback data ``cq:<action>:<question id>`` (``r`` how to answer, ``s`` send the suggestion, ``v`` save as a
question–answer pair, ``k`` skip) and ``cr:<y|n>:<reply id>``. An admin's Telegram *reply* to a
card is the answer sent to the citizen. Every press and reply is checked against the sender
(admins only) and the card it came from; the decision is one guarded ``UPDATE`` (the first wins).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from html import escape
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

import bot.telegram.citizen_texts as t
from bot.citizens import (
    answer_handover,
    save_handover,
    skip_handover,
    suggest_handover,
    window_left,
)
from bot.context import Loa
from bot.logmask import mask_citizen
from bot.telegram.access import stranger_button_answer, stranger_verdict
from bot.telegram.context import LoaContext
from content_queue.citizens import Question, Reply
from content_queue.models import Actor

__all__ = ["question_card_text", "register_citizen_handlers", "sync_citizen_cards"]

log = logging.getLogger(__name__)

QUESTION_PATTERN = r"^cq:[rsvk]:\d+$"
REPLY_PATTERN = r"^cr:[yn]:\d+$"


def _left(loa: Loa, q: Question) -> str:
    left = window_left(loa, q, datetime.now(UTC))
    if left is None or left.total_seconds() <= 0:
        return t.CARD_WINDOW_CLOSED
    hours, minutes = divmod(int(left.total_seconds() // 60), 60)
    return t.CARD_WINDOW.format(left=f"{hours} giờ {minutes} phút" if hours else f"{minutes} phút")


def question_card_text(loa: Loa, q: Question) -> str:
    """The hand-over card (Telegram HTML): question, who (masked), when, guesses, window left."""
    at = q.asked_at.astimezone(loa.settings.schedule.tz).strftime("%H:%M %d/%m/%Y")
    lines = [
        t.CARD_HEADER.format(
            id=q.id, channel=escape(q.channel), who=escape(mask_citizen(q.citizen_id)), at=at
        ),
        escape(t.CARD_QUESTION.format(text=q.text)),
    ]
    if q.hits:
        lines.append(t.CARD_GUESSES)
        lines += [
            escape(t.CARD_GUESS.format(n=i, title=h["title"], url=h["url"]))
            for i, h in enumerate(q.hits, 1)
        ]
    else:
        lines.append(t.CARD_NO_GUESS)
    lines += [_left(loa, q), t.CARD_HOW]
    return "\n".join(lines)


def _question_keyboard(q: Question, *, answered: bool = False) -> InlineKeyboardMarkup:
    if answered:
        rows = [[InlineKeyboardButton(t.BUTTON_SAVE, callback_data=f"cq:v:{q.id}")]]
    else:
        rows = [
            [
                InlineKeyboardButton(t.BUTTON_REPLY, callback_data=f"cq:r:{q.id}"),
                InlineKeyboardButton(t.BUTTON_SUGGEST, callback_data=f"cq:s:{q.id}"),
                InlineKeyboardButton(t.BUTTON_SKIP, callback_data=f"cq:k:{q.id}"),
            ]
        ]
    return InlineKeyboardMarkup(rows)


def _doubt_text(r: Reply, question: int) -> str:
    return t.CARD_IN_DOUBT.format(
        question=question,
        channel=escape(r.channel),
        text=escape(r.text[:300]),
        error=escape(r.error or "—"),
    )


async def sync_citizen_cards(bot: Bot, loa: Loa) -> int:
    """Post a card for every open hand-over and every reply in doubt that has none."""
    chat_id = loa.settings.telegram.chat_id
    if chat_id is None or not loa.settings.assistant.enabled:
        return 0
    data = loa.store.citizens
    sent = 0
    questions, doubts = await asyncio.to_thread(
        lambda: (data.handovers_without_card(), data.doubts_without_card())
    )
    cards: list[tuple[str, int, str, InlineKeyboardMarkup]] = []
    for q in questions:
        text = await asyncio.to_thread(question_card_text, loa, q)
        cards.append(("question", q.id, text, _question_keyboard(q)))
    for r in doubts:
        buttons = [
            InlineKeyboardButton(t.BUTTON_WAS_SENT, callback_data=f"cr:y:{r.id}"),
            InlineKeyboardButton(t.BUTTON_NOT_SENT, callback_data=f"cr:n:{r.id}"),
        ]
        cards.append(
            ("reply", r.id, _doubt_text(r, r.question_id), InlineKeyboardMarkup([buttons]))
        )
    for table, row_id, text, keyboard in cards:
        if not await asyncio.to_thread(data.claim_card, table, row_id, chat_id):
            continue
        try:
            message = await bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard
            )
        except TelegramError as exc:
            await asyncio.to_thread(data.set_card, table, row_id, None, None)
            log.warning("could not send the card of %s %s: %s", table, row_id, exc)
            if isinstance(exc, RetryAfter):
                break
            continue
        await asyncio.to_thread(data.set_card, table, row_id, chat_id, message.message_id)
        sent += 1
    return sent


async def _edit(
    bot: Bot, chat_id: int, message_id: int, text: str, keyboard: InlineKeyboardMarkup | None
) -> None:
    try:
        await bot.edit_message_text(
            escape(text),
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard,
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


def _answered_text(q: Question, r: Reply | None, actor: str) -> str:
    if r is None:
        return t.ALREADY.format(id=q.id, state=t.STATE_VI.get(q.handover or "", "đã xử lý"))
    state = t.REPLY_SENT if r.state == "sent" else t.REPLY_NOT_SENT.format(error=r.error or r.state)
    return t.ANSWERED.format(id=q.id, actor=actor, text=r.text[:500], state=state)


async def on_card_reply(update: Update, context: LoaContext) -> None:
    """An admin's reply to a hand-over card: the answer sent to the citizen (first one wins)."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or message.reply_to_message is None or not message.text:
        return
    loa = context.loa
    data = loa.store.citizens
    card = message.reply_to_message
    q = await asyncio.to_thread(data.question_by_card, card.chat.id, card.message_id)
    if q is None:
        return  # a reply to something else
    actor = Actor(f"tg:{user.id}", "telegram")
    if user.id not in loa.settings.telegram.admins:
        # The strangers' rate limit: one answer and one audit row per person and window.
        if await asyncio.to_thread(stranger_verdict, context, loa, user, "reply to a question"):
            await message.reply_text(t.NOT_ADMIN)
        return
    r = await asyncio.to_thread(answer_handover, loa, q.id, actor, message.text[:2000])
    fresh = await asyncio.to_thread(data.question, q.id)
    assert fresh is not None
    text = _answered_text(fresh, r, actor.name)
    with contextlib.suppress(TelegramError):
        await message.reply_text(text)
    if r is not None:
        await _edit(
            context.bot,
            card.chat.id,
            card.message_id,
            text,
            _question_keyboard(fresh, answered=True) if r.state == "sent" else None,
        )


async def on_question_button(update: Update, context: LoaContext) -> None:
    """Gửi gợi ý / Lưu làm hỏi đáp / Bỏ qua on a hand-over card."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    loa = context.loa
    data = loa.store.citizens
    user = query.from_user
    answer = t.BAD_CARD
    try:
        _, action, raw_id = query.data.split(":")
        question_id = int(raw_id)
        actor = Actor(f"tg:{user.id}", "telegram")
        if user.id not in loa.settings.telegram.admins:
            answer = await stranger_button_answer(context, loa, user, query.data, t.NOT_ADMIN)
            return
        message = query.message
        card = (
            await asyncio.to_thread(data.question_by_card, message.chat.id, message.message_id)
            if message
            else None
        )
        if card is None or card.id != question_id:
            await asyncio.to_thread(
                loa.store.audit.record_event, actor, "forged_callback", None, data=query.data
            )
            return
        if action == "r":  # the answer is the admin's Telegram reply to this card
            answer = t.HOW_TO_REPLY.format(id=question_id)
            return
        if action == "v":
            qa = await asyncio.to_thread(save_handover, loa, question_id, actor)
            answer = (
                t.SAVED.format(id=question_id, qa=qa)
                if qa is not None
                else t.NOT_SAVED.format(id=question_id)
            )
            if qa is not None and message is not None:
                with contextlib.suppress(TelegramError):
                    await context.bot.edit_message_reply_markup(
                        message.chat.id, message.message_id, reply_markup=None
                    )
            return
        if action == "k":
            won = await asyncio.to_thread(skip_handover, loa, question_id, actor)
            q = await asyncio.to_thread(data.question, question_id)
            assert q is not None
            answer = (
                t.SKIPPED.format(id=q.id, actor=actor.name)
                if won
                else t.ALREADY.format(id=q.id, state=t.STATE_VI.get(q.handover or "", "đã xử lý"))
            )
            if won and message is not None:
                await _edit(context.bot, message.chat.id, message.message_id, answer, None)
            return
        if not card.hits:
            answer = t.NO_SUGGESTION.format(id=question_id)
            return
        r = await asyncio.to_thread(suggest_handover, loa, question_id, actor)
        q = await asyncio.to_thread(data.question, question_id)
        assert q is not None
        answer = _answered_text(q, r, actor.name)
        if r is not None and message is not None:
            await _edit(
                context.bot,
                message.chat.id,
                message.message_id,
                answer,
                _question_keyboard(q, answered=True) if r.state == "sent" else None,
            )
    except ValueError:
        answer = t.BAD_CARD
    finally:
        with contextlib.suppress(TelegramError):
            await query.answer(answer[:200] or None, show_alert=bool(answer))


async def on_doubt_button(update: Update, context: LoaContext) -> None:
    """Đã gửi / Chưa gửi on a reply in doubt (Loa never resends it on its own)."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    loa = context.loa
    data = loa.store.citizens
    user = query.from_user
    answer = t.BAD_CARD
    try:
        _, action, raw_id = query.data.split(":")
        reply_id = int(raw_id)
        actor = Actor(f"tg:{user.id}", "telegram")
        if user.id not in loa.settings.telegram.admins:
            answer = t.NOT_ADMIN
            return
        message = query.message
        card = (
            await asyncio.to_thread(data.reply_by_card, message.chat.id, message.message_id)
            if message
            else None
        )
        if card is None or card.id != reply_id:
            await asyncio.to_thread(
                loa.store.audit.record_event, actor, "forged_callback", None, data=query.data
            )
            return
        won = await asyncio.to_thread(
            data.resolve_in_doubt, reply_id, actor, sent=action == "y", now=datetime.now(UTC)
        )
        answer = (
            (t.CONFIRMED if action == "y" else t.NOT_SENT).format(
                question=card.question_id, actor=actor.name
            )
            if won
            else t.DOUBT_DECIDED.format(question=card.question_id)
        )
        if message is not None:
            await _edit(context.bot, message.chat.id, message.message_id, answer, None)
    except ValueError:
        answer = t.BAD_CARD
    finally:
        with contextlib.suppress(TelegramError):
            await query.answer(answer[:200], show_alert=True)


def register_citizen_handlers(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Attach the hand-over buttons (before the article buttons, which take any other press) and
    the replies to cards (their own group: other text handlers still see other messages)."""
    app.add_handler(CallbackQueryHandler(on_question_button, pattern=QUESTION_PATTERN))
    app.add_handler(CallbackQueryHandler(on_doubt_button, pattern=REPLY_PATTERN))
    app.add_handler(
        MessageHandler(filters.REPLY & filters.TEXT & ~filters.COMMAND, on_card_reply), group=3
    )
