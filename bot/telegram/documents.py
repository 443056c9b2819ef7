"""Article files sent to the bot: the same ingestion as the inbox, parsed off the event loop."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.error import TelegramError

import bot.telegram.texts as texts
from bot.intake import ingest_upload, upload_name
from bot.telegram.access import (
    ACCEPTED_SUFFIXES,
    Context,
    actor_of,
    loa_of,
    reply,
    role_of,
    stranger_verdict,
)

__all__ = ["on_document"]

log = logging.getLogger(__name__)


async def on_document(update: Update, context: Context) -> None:
    """An editor's (or admin's) .docx/.md/.html becomes a pending article.

    Writing the file and parsing it (in a worker process) run in a thread: the event loop, and
    so every other chat and job, never waits for a file.
    """
    loa = loa_of(context)
    user = update.effective_user
    message = update.effective_message
    if message is None or message.document is None:
        return
    name = upload_name(message.document.file_name)
    role = role_of(loa, user.id if user else None)
    if role is None or user is None:
        if stranger_verdict(context, loa, user, f"document {name}"):
            await reply(update, texts.UNAUTHORISED)
        return
    if not name.lower().endswith(ACCEPTED_SUFFIXES):
        await reply(update, texts.DOC_UNSUPPORTED.format(name=name))
        return
    try:
        file = await message.document.get_file()
        content = bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("could not download %s from Telegram: %s", name, exc)
        await reply(update, texts.DOC_DOWNLOAD_FAILED.format(name=name))
        return
    result = await asyncio.to_thread(ingest_upload, loa, name, content, actor_of(user))
    await reply(update, result.message)
