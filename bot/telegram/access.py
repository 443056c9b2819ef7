"""Who is speaking and how the bot answers: roles, the stranger gate, the audit of refusals, the
``guarded`` decorator every command goes through."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from telegram import Message, Update, User

import bot.telegram.texts as texts
from bot.context import Loa
from bot.telegram.context import LoaContext
from bot.telegram.strangers import audit_prefix
from content_queue.models import Actor

__all__ = [
    "ACCEPTED_SUFFIXES",
    "Command",
    "Context",
    "Handler",
    "actor_of",
    "audit_unauthorised",
    "chunks",
    "example_time",
    "guarded",
    "loa_of",
    "reply",
    "role_of",
    "send_long",
    "stranger_verdict",
]

log = logging.getLogger(__name__)


ACCEPTED_SUFFIXES = (".docx", ".md", ".html", ".htm")


Context = LoaContext


Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


Command = Callable[[Update, Context, Loa], Awaitable[None]]


def role_of(loa: Loa, user_id: int | None) -> str | None:
    """``admin``, ``editor`` or None (a stranger)."""
    tg = loa.settings.telegram
    if user_id is None:
        return None
    if user_id in tg.admins:
        return "admin"
    if user_id in tg.editors:
        return "editor"
    return None


def actor_of(user: User | None) -> Actor:
    return Actor(f"tg:{user.id if user else '?'}", "telegram")


def loa_of(context: Context) -> Loa:
    return context.loa


def audit_unauthorised(loa: Loa, user: User | None, what: str, *, suppressed: int = 0) -> None:
    """One audit row; what the person wrote is kept as a short prefix only (it writes to the
    store: a coroutine calls it through ``asyncio.to_thread``)."""
    extra: dict[str, Any] = {"length": len(what)}
    if suppressed:
        extra["unanswered_before"] = suppressed
    loa.store.audit.record_event(
        Actor(f"tg:{user.id if user else '?'}", "telegram"),
        "unauthorised",
        None,
        user_id=user.id if user else None,
        what=audit_prefix(what),
        **extra,
    )


def stranger_verdict(context: Context, loa: Loa, user: User | None, what: str) -> bool:
    """Audit a stranger's attempt within the rate limit; True when they should be answered
    (it may write to the store: a coroutine calls it through ``asyncio.to_thread``)."""
    verdict = context.bot_data.strangers.admit(user.id if user else 0)
    if verdict.audit:
        audit_unauthorised(loa, user, what, suppressed=verdict.suppressed)
    return verdict.answer


async def stranger_button_answer(
    context: Context, loa: Loa, user: User | None, data: str | None, refusal: str
) -> str:
    """What a button press by someone who may not press it gets: ``refusal`` once per person and
    window of the strangers' rate limit (one audit row too), then nothing, however often pressed."""
    verdict = await asyncio.to_thread(stranger_verdict, context, loa, user, f"button {data}")
    return refusal if verdict else ""


async def reply(update: Update, text: str, **kwargs: Any) -> Message | None:
    if update.effective_message is None:
        return None
    return await update.effective_message.reply_text(text, **kwargs)


def guarded(needs: str) -> Callable[[Command], Handler]:
    """Run the command only for ``admin`` (or, with ``editor``, editors too); refuse the rest."""

    def wrap(command: Command) -> Handler:
        async def handler(update: Update, context: Context) -> None:
            loa = loa_of(context)
            user = update.effective_user
            role = role_of(loa, user.id if user else None)
            what = update.effective_message.text if update.effective_message else None
            if role is None:
                if await asyncio.to_thread(stranger_verdict, context, loa, user, what or "?"):
                    await reply(update, texts.UNAUTHORISED)
                return
            if needs == "admin" and role != "admin":
                await asyncio.to_thread(audit_unauthorised, loa, user, what or "?")
                await reply(update, texts.NOT_ADMIN)
                return
            await command(update, context, loa)

        handler.__name__ = command.__name__
        handler.__doc__ = command.__doc__
        return handler

    return wrap


def example_time(loa: Loa) -> str:
    tomorrow = datetime.now(loa.settings.schedule.tz) + timedelta(days=1)
    return tomorrow.strftime("%Y-%m-%d") + " 08:30"


def chunks(text: str, size: int = 4000) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or ["—"]


async def send_long(update: Update, lines: list[str]) -> None:
    """Send lines as few messages as fit Telegram's limit."""
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 4000 and chunk:
            await reply(update, "\n".join(chunk))
            chunk = []
        chunk.append(line[:4000])
    if chunk:
        await reply(update, "\n".join(chunk))
