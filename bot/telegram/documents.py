"""Article files sent to the bot: the same ingestion as the inbox, parsed off the event loop."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.error import TelegramError

import bot.telegram.texts as texts
from bot.intake import ingest_upload, upload_name
from bot.parsing import BUSY_VI, ParseBusy
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

    The announced size is checked before anything is downloaded. Writing the file and parsing
    it (in a worker process) run on parsing's own bounded pool (``loa.parsing``): the event loop,
    every other chat and the buttons never wait for a file; a full pool answers "đang bận".
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
    limit = int(loa.settings.queue.max_file_mb * 1024 * 1024)
    declared = message.document.file_size
    if declared is not None and declared > limit:  # a self-hosted Bot API serves up to 2 GB
        await reply(update, texts.DOC_TOO_BIG.format(name=name, mb=loa.settings.queue.max_file_mb))
        return
    if not loa.parsing.has_room(f"tg:{user.id}"):
        await reply(update, BUSY_VI)
        return
    try:
        file = await message.document.get_file()
        if file.file_size is None or file.file_size > limit:  # unknown size: not downloaded
            too_big = texts.DOC_TOO_BIG.format(name=name, mb=loa.settings.queue.max_file_mb)
            await reply(
                update, too_big if file.file_size else texts.DOC_SIZE_UNKNOWN.format(name=name)
            )
            return
        content = bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("could not download %s from Telegram: %s", name, exc)
        await reply(update, texts.DOC_DOWNLOAD_FAILED.format(name=name))
        return
    if len(content) > limit:
        await reply(update, texts.DOC_TOO_BIG.format(name=name, mb=loa.settings.queue.max_file_mb))
        return
    try:
        parsed = loa.parsing.submit(
            f"tg:{user.id}",
            ingest_upload,
            loa,
            name,
            content,
            actor_of(user),
            replace_others=role == "admin",
        )
    except ParseBusy:
        await reply(update, BUSY_VI)
        return
    result = await asyncio.wrap_future(parsed)  # parsing's own pool: no shared thread waits
    await reply(update, result.message)
