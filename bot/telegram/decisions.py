"""A card's buttons and the questions they ask: approve (now, next slot, at a time) and reject
with a reason, one ``ConversationHandler`` so only the same admin's reply in the same chat counts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from dataclasses import replace
from typing import Any

from telegram import Bot, ForceReply, Update
from telegram.error import TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

import bot.telegram.texts as texts
from bot.approval import approve_article
from bot.context import Loa
from bot.drafts import drafts_for
from bot.schedule import parse_local_time
from bot.telegram.access import (
    Context,
    actor_of,
    audit_unauthorised,
    chunks,
    example_time,
    loa_of,
    reply,
    role_of,
    stranger_button_answer,
)
from bot.telegram.card_sync import close_cards
from bot.telegram.cards import (
    CallbackData,
    local_time,
    parse_callback,
)
from bot.telegram.context import Question
from bot.telegram.strangers import audit_prefix
from content_queue.models import Actor, Article
from content_queue.workflow import STATE_VI, ArticleState, IllegalTransition, NotFound

__all__ = [
    "ASK_REASON",
    "ASK_TIME",
    "Question",
    "on_answer",
    "on_answer_timeout",
    "on_button",
    "on_cancel_question",
    "question_conversation",
]

log = logging.getLogger(__name__)


async def on_button(update: Update, context: Context) -> str | None:
    """Check the sender, the card, the state and the revision, then act on one press.

    Returns the conversation state when the press asked a question (a time, a reason).
    """
    query = update.callback_query
    if query is None:
        return None
    loa = loa_of(context)
    user = query.from_user
    answer = texts.BAD_DATA
    show_alert = True
    state: str | None = None
    try:
        role = role_of(loa, user.id)
        if role == "editor":
            await asyncio.to_thread(audit_unauthorised, loa, user, f"button {query.data}")
            answer = texts.NOT_ADMIN
            return None
        if role is None:
            answer = await stranger_button_answer(
                context, loa, user, query.data, texts.UNAUTHORISED
            )
            return None
        data = parse_callback(query.data)
        message = query.message
        row = (
            await asyncio.to_thread(loa.store.cards.card_at, message.chat.id, message.message_id)
            if message
            else None
        )
        if (
            data is None
            or row is None
            or (row.article_id, row.revision) != (data.article_id, data.revision)
        ):
            log.warning(
                "refused a button press that does not match its card: %r by %s", query.data, user.id
            )
            await asyncio.to_thread(
                loa.store.audit.record_event,
                actor_of(user),
                "forged_callback",
                None,
                user_id=user.id,
                data=audit_prefix(str(query.data)),
            )
            return None
        try:
            article = await asyncio.to_thread(loa.store.articles.get, data.article_id)
        except NotFound as exc:
            answer = str(exc)
            return None
        if article.state != ArticleState.PENDING:
            answer = texts.ALREADY_DECIDED.format(
                id=article.id, state=STATE_VI.get(article.state, article.state)
            )
            await close_cards(context.bot, loa, article)
            return None
        if article.revision != data.revision:
            answer = texts.STALE_CARD.format(id=article.id, revision=article.revision)
            return None
        answer, show_alert, state = await _act(update, context, loa, data, article)
    finally:
        with contextlib.suppress(TelegramError):
            await query.answer(answer[:200] or None, show_alert=show_alert and bool(answer))
    return state


# Conversation states: waiting for the time of "approve at", or for a rejection reason.
ASK_TIME, ASK_REASON = "ask_time", "ask_reason"


async def _ask(
    update: Update, context: Context, loa: Loa, data: CallbackData, article: Article
) -> str | None:
    chat = update.effective_chat
    if chat is None or context.user_data is None:
        return None
    if data.action == "at":
        prompt = texts.ASK_TIME.format(
            id=article.id, example=example_time(loa), minutes=_minutes(loa)
        )
    else:
        prompt = texts.ASK_REASON.format(id=article.id, minutes=_minutes(loa))
    sent = await context.bot.send_message(chat.id, prompt, reply_markup=ForceReply())
    context.user_data.question = Question(
        data.action,
        article.id,
        data.revision,
        chat.id,
        sent.message_id,
        time.monotonic() + loa.settings.telegram.answer_timeout_seconds,
    )
    return ASK_TIME if data.action == "at" else ASK_REASON


def _minutes(loa: Loa) -> int:
    return max(1, round(loa.settings.telegram.answer_timeout_seconds / 60))


async def on_answer(update: Update, context: Context) -> str | int | None:
    """The admin's reply to the bot's question: a time to approve at, or a reason to reject."""
    loa = loa_of(context)
    user, message = update.effective_user, update.effective_message
    data = context.user_data
    question = data.question if data is not None else None
    if user is None or message is None or question is None or data is None:
        return ConversationHandler.END
    if time.monotonic() > question.expires_at:
        data.question = None
        await reply(update, texts.ANSWER_TIMED_OUT.format(id=question.article_id))
        return ConversationHandler.END
    replied = message.reply_to_message
    if (
        message.chat.id != question.chat_id
        or replied is None
        or replied.message_id != question.message_id
    ):
        if not question.hinted:  # said once: admins also talk to each other in the group
            data.question = replace(question, hinted=True)
            await reply(update, texts.ANSWER_BY_REPLY.format(id=question.article_id))
        return None
    if role_of(loa, user.id) != "admin":
        data.question = None
        return ConversationHandler.END
    text = message.text or ""
    if question.kind == "at":
        try:
            parse_local_time(text, loa.settings.schedule)
        except ValueError as exc:
            await reply(update, texts.BAD_TIME.format(error=exc, example=example_time(loa)))
            return None
        data.question = None
        await reply(
            update,
            await _approve(
                context.bot,
                loa,
                question.article_id,
                question.revision,
                actor_of(user),
                at=text.strip(),
            ),
        )
        return ConversationHandler.END
    data.question = None
    await reply(
        update,
        await _reject(
            context.bot, loa, question.article_id, question.revision, actor_of(user), text
        ),
    )
    return ConversationHandler.END


async def on_cancel_question(update: Update, context: Context) -> int:
    """/cancel while a question waits: forget it."""
    if context.user_data is not None:
        context.user_data.question = None
    await reply(update, texts.WAITING_CANCELLED)
    return ConversationHandler.END


async def on_answer_timeout(update: object, context: Context) -> None:
    """The time to answer ran out: the question is forgotten and the chat is told so."""
    data = context.user_data
    question = data.question if data is not None else None
    if question is None or data is None or time.monotonic() < question.expires_at:
        return  # a press that asked nothing, or a newer question that is still open
    data.question = None
    with contextlib.suppress(TelegramError):
        await context.bot.send_message(
            question.chat_id, texts.ANSWER_TIMED_OUT.format(id=question.article_id)
        )


def question_conversation(loa: Loa) -> ConversationHandler[Any]:
    """Buttons, and the questions some of them ask, scoped to one admin in one chat."""
    with warnings.catch_warnings():
        # per_message=False is intended: the answer is a message, not a press on the question.
        warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[CallbackQueryHandler(on_button)],
            states={
                ASK_TIME: [MessageHandler(filters.TEXT & ~filters.COMMAND, on_answer)],
                ASK_REASON: [MessageHandler(filters.TEXT & ~filters.COMMAND, on_answer)],
                ConversationHandler.TIMEOUT: [TypeHandler(Update, on_answer_timeout)],
            },
            fallbacks=[CommandHandler("cancel", on_cancel_question)],
            per_chat=True,
            per_user=True,
            per_message=False,
            allow_reentry=True,
            conversation_timeout=loa.settings.telegram.answer_timeout_seconds,
            name="questions",
        )


async def _act(
    update: Update, context: Context, loa: Loa, data: CallbackData, article: Article
) -> tuple[str, bool, str | None]:
    assert update.callback_query is not None  # _act is only called for a button press
    user = update.callback_query.from_user
    chat = update.effective_chat
    if data.action == "ap":
        return (
            await _approve(context.bot, loa, article.id, data.revision, actor_of(user)),
            False,
            None,
        )
    if data.action in ("at", "rj"):
        state = await _ask(update, context, loa, data, article)
        return texts.QUESTION_ASKED, False, state
    # pv: the exact text each channel would get
    if chat is not None:
        for name, draft in (await asyncio.to_thread(drafts_for, loa, article)).items():
            await context.bot.send_message(chat.id, texts.PREVIEW_HEADER.format(channel=name))
            for part in chunks(draft.text or draft.html or draft.title):
                await context.bot.send_message(chat.id, part)
    return texts.PREVIEW_SENT, False, None


async def _approve(
    bot: Bot, loa: Loa, article_id: int, revision: int, actor: Actor, *, at: str | None = None
) -> str:
    """Approve and close the cards; the answer says what happened (also when it lost a race)."""
    try:
        approved, skipped = await asyncio.to_thread(  # it prepares the channels: HTTP calls
            approve_article, loa, article_id, actor, at=at, expected_revision=revision
        )
    except IllegalTransition as exc:
        current = await asyncio.to_thread(loa.store.articles.get, article_id)
        if current.state != ArticleState.PENDING:
            await close_cards(bot, loa, current)
            return texts.ALREADY_DECIDED.format(
                id=article_id, state=STATE_VI.get(current.state, current.state)
            )
        return str(exc)
    await close_cards(bot, loa, approved)
    answer = texts.APPROVED_ANSWER.format(
        id=article_id, slot=local_time(loa, approved.scheduled_at)
    )
    if skipped:
        answer += " " + texts.SKIPPED_CHANNELS.format(
            channels="; ".join(f"{k} ({v})" for k, v in skipped.items())
        )
    return answer


async def _reject(
    bot: Bot, loa: Loa, article_id: int, revision: int, actor: Actor, reason: str
) -> str:
    try:
        current = await asyncio.to_thread(loa.store.articles.get, article_id)
        if current.state == ArticleState.PENDING and current.revision != revision:
            return texts.STALE_CARD.format(id=article_id, revision=current.revision)
        rejected = await asyncio.to_thread(loa.store.articles.reject, article_id, actor, reason)
    except (IllegalTransition, NotFound) as exc:
        current = await asyncio.to_thread(loa.store.articles.get, article_id)
        if current.state != ArticleState.PENDING:
            await close_cards(bot, loa, current)
            return texts.ALREADY_DECIDED.format(
                id=article_id, state=STATE_VI.get(current.state, current.state)
            )
        return str(exc)
    await close_cards(bot, loa, rejected)
    return texts.REJECTED_ANSWER.format(id=article_id)
