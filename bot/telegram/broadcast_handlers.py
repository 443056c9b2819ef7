"""Broadcast cards in the admin chat: propose → one admin decides → sent, or in doubt → confirmed.

Callback data ``bc:<action>:<broadcast id>``: ``a`` send, ``r`` do not send, ``y`` it went out,
``n`` it did not. Every press is checked against the sender (admins only) and the card it came
from; the state change itself is one guarded ``UPDATE``, so the first decision wins.
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
from telegram.ext import Application, CallbackQueryHandler

import bot.telegram.broadcast_texts as t
from bot.broadcasts import decide_broadcast, quota_status
from bot.context import Loa
from bot.telegram.access import stranger_button_answer
from bot.telegram.context import LoaContext
from bot.wording import vi_number
from content_queue.broadcasts import Broadcast
from content_queue.models import Actor

__all__ = ["broadcast_card_text", "register_broadcast_handlers", "sync_broadcast_cards"]

log = logging.getLogger(__name__)

PATTERN = r"^bc:[aryn]:\d+$"


def _number(n: int) -> str:
    return vi_number(n)


def broadcast_card_text(loa: Loa, b: Broadcast) -> str:
    """The card of a proposal (or of a broadcast in doubt), in Telegram HTML."""
    if b.state == "in_doubt":
        return t.CARD_IN_DOUBT.format(
            id=b.id, channel=escape(b.channel), error=escape(b.last_error or "—")
        )
    lines = [
        t.CARD_HEADER.format(
            id=b.id, channel=escape(b.channel), kind=t.KIND_VI.get(b.kind, b.kind)
        ),
        t.CARD_RECIPIENTS.format(count=_number(b.recipients))
        if b.recipients is not None
        else t.CARD_RECIPIENTS_UNKNOWN,
    ]
    lines += [
        escape(t.CARD_ARTICLE.format(n=i, title=title, id=aid))
        for i, (title, aid) in enumerate(zip(b.titles, b.article_ids, strict=True), 1)
    ]
    q = quota_status(loa, b.channel, b.proposed_at)
    lines.append(
        t.CARD_QUOTA.format(
            month=b.month[5:] + "/" + b.month[:4], used=q.used, quota=q.quota, remaining=q.remaining
        )
    )
    lines.append(t.CARD_REVIEW)
    return "\n".join(lines)


def _keyboard(b: Broadcast) -> InlineKeyboardMarkup:
    if b.state == "in_doubt":
        labels = [(t.BUTTON_WAS_SENT, "y"), (t.BUTTON_NOT_SENT, "n")]
    else:
        labels = [(t.BUTTON_SEND, "a"), (t.BUTTON_REJECT, "r")]
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"bc:{a}:{b.id}") for label, a in labels]]
    )


def _outcome_text(loa: Loa, b: Broadcast) -> str:
    """What the card says once decided (plain text)."""
    tz = loa.settings.schedule.tz
    if b.state == "sent":
        q = quota_status(loa, b.channel, b.sent_at or b.proposed_at)
        at = (b.sent_at or b.proposed_at).astimezone(tz).strftime("%H:%M %d/%m/%Y")
        return t.SENT.format(
            id=b.id,
            at=at,
            actor=b.decided_by or "—",
            state=b.moderation_state or "—",
            remaining=q.remaining,
            quota=q.quota,
        )
    if b.state == "rejected":
        return t.REJECTED.format(actor=b.decided_by or "—", id=b.id)
    if b.state == "failed":
        return t.FAILED.format(id=b.id, error=b.last_error or "—")
    if b.state == "not_sent":
        return t.NOT_SENT.format(id=b.id, actor=b.decided_by or "—")
    return t.ALREADY_DECIDED.format(id=b.id, state=t.STATE_VI.get(b.state, b.state))


async def sync_broadcast_cards(bot: Bot, loa: Loa) -> int:
    """Post a card for every proposal or in-doubt broadcast that has none; returns cards sent."""
    chat_id = loa.settings.telegram.chat_id
    if chat_id is None:
        return 0
    broadcasts = loa.store.broadcasts
    sent = 0
    for b in await asyncio.to_thread(broadcasts.without_card):
        if not await asyncio.to_thread(broadcasts.claim_card, b.id, chat_id):
            continue
        try:
            text = await asyncio.to_thread(broadcast_card_text, loa, b)
            message = await bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=_keyboard(b),
            )
        except TelegramError as exc:
            # Give the claim back: the next round tries again.
            await asyncio.to_thread(broadcasts.set_card, b.id, None, None)
            log.warning("could not send the card of broadcast %s: %s", b.id, exc)
            if isinstance(exc, RetryAfter):
                break
            continue
        await asyncio.to_thread(broadcasts.set_card, b.id, chat_id, message.message_id)
        sent += 1
    return sent


async def _close_card(bot: Bot, chat_id: int, message_id: int, text: str) -> None:
    try:
        await bot.edit_message_text(
            escape(text),
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=None,
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def on_broadcast_button(update: Update, context: LoaContext) -> None:
    """Check the sender and the card, then apply the one decision the button stands for."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    loa = context.loa
    user = query.from_user
    answer = t.ALREADY_DECIDED
    try:
        _, action, raw_id = query.data.split(":")
        broadcast_id = int(raw_id)
        actor = Actor(f"tg:{user.id}", "telegram")
        if user.id not in loa.settings.telegram.admins:
            answer = await stranger_button_answer(context, loa, user, query.data, t.NOT_ADMIN)
            return
        broadcasts = loa.store.broadcasts
        message = query.message
        card = (
            await asyncio.to_thread(broadcasts.by_card, message.chat.id, message.message_id)
            if message
            else None
        )
        if card is None or card.id != broadcast_id:
            await asyncio.to_thread(
                loa.store.audit.record_event, actor, "forged_callback", None, data=query.data
            )
            answer = t.ALREADY_DECIDED.format(id=broadcast_id, state="thẻ không hợp lệ")
            return
        now = datetime.now(UTC)
        if action in ("a", "r"):
            # Sending is blocking HTTP: it runs in a thread, the chat stays responsive.
            won, b = await asyncio.to_thread(
                decide_broadcast, loa, broadcast_id, actor, approve=action == "a", now=now
            )
        else:
            won = await asyncio.to_thread(
                broadcasts.resolve_in_doubt, broadcast_id, actor, sent=action == "y", now=now
            )
            b = await asyncio.to_thread(broadcasts.get, broadcast_id)
        assert b is not None
        if not won:
            answer = t.ALREADY_DECIDED.format(id=b.id, state=t.STATE_VI.get(b.state, b.state))
        elif action in ("y", "n"):
            answer = (t.CONFIRMED if action == "y" else t.NOT_SENT).format(
                id=b.id, actor=actor.name
            )
        else:
            answer = await asyncio.to_thread(_outcome_text, loa, b)
        if message is not None:
            text = (
                await asyncio.to_thread(_outcome_text, loa, b)
                if b.state != "in_doubt"
                else t.ALREADY_DECIDED.format(id=b.id, state=t.STATE_VI["in_doubt"])
            )
            await _close_card(context.bot, message.chat.id, message.message_id, text)
    except ValueError:
        answer = t.ALREADY_DECIDED.format(id="?", state="dữ liệu nút không hợp lệ")
    finally:
        with contextlib.suppress(TelegramError):
            await query.answer(answer[:200] or None, show_alert=bool(answer))


def register_broadcast_handlers(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Attach the broadcast buttons (before the article buttons, which take any other press)."""
    app.add_handler(CallbackQueryHandler(on_broadcast_button, pattern=PATTERN))
