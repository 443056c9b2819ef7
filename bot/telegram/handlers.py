"""The Telegram admin chat's handlers, registered in one place (``register_handlers``); what each
does lives in ``access``, ``card_sync``, ``decisions``, ``documents`` and ``commands``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CommandHandler,
    MessageHandler,
    filters,
)

import bot.telegram.texts as texts
from bot.telegram.access import Context, loa_of, reply, role_of, stranger_verdict
from bot.telegram.card_sync import sync_cards
from bot.telegram.commands import COMMANDS
from bot.telegram.context import loa_of_app
from bot.telegram.decisions import question_conversation
from bot.telegram.documents import on_document

log = logging.getLogger(__name__)


__all__ = ["COMMANDS", "register_handlers", "sync_cards"]


async def on_unknown_update(update: Update, context: Context) -> None:
    """A stranger's plain message: refused once, then silence (admins' chatter is ignored)."""
    loa = loa_of(context)
    user = update.effective_user
    message = update.effective_message
    if (
        user is not None
        and message is not None
        and role_of(loa, user.id) is None
        and await asyncio.to_thread(stranger_verdict, context, loa, user, message.text or "?")
    ):
        await reply(update, texts.UNAUTHORISED)


async def on_error(update: object, context: Context) -> None:
    """Log the failure; tell the person something went wrong when there is someone to tell."""
    log.warning("telegram handler failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        with contextlib.suppress(TelegramError):
            await update.effective_message.reply_text(texts.ERROR_GENERIC)


def register_handlers(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Attach every command, the buttons, documents, answers to questions and the error log."""
    app.add_handler(question_conversation(loa_of_app(app)))
    for name, handler in COMMANDS.items():
        app.add_handler(CommandHandler(name, handler))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document, block=False))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_unknown_update), group=1)
    app.add_error_handler(on_error)
