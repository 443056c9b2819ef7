"""Builds the admin chat's PTB application and runs it beside the service until asked to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.context import Loa
from bot.telegram.broadcast_handlers import register_broadcast_handlers, sync_broadcast_cards
from bot.telegram.citizen_handlers import register_citizen_handlers, sync_citizen_cards
from bot.telegram.comment_cards import intake_card_loop, register_intake_handlers
from bot.telegram.context import CONTEXT_TYPES, attach
from bot.telegram.handlers import register_handlers, sync_cards
from bot.telegram.stats_growth import register_stats_growth

__all__ = ["build_application", "run_bot"]

log = logging.getLogger(__name__)

# httpx logs every request URL at INFO, and Bot API URLs carry the bot token.
logging.getLogger("httpx").setLevel(logging.WARNING)


def build_application(loa: Loa) -> Application[Any, Any, Any, Any, Any, Any]:
    """A PTB application talking to ``[telegram] api_url`` with every handler registered."""
    tg = loa.settings.telegram
    if tg.token is None:
        raise ValueError(
            "telegram.token is missing: set LOA_TELEGRAM__TOKEN in the environment or .env"
        )
    api = tg.api_url.rstrip("/")
    app = (
        ApplicationBuilder()
        .token(tg.token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .context_types(CONTEXT_TYPES)
        .build()
    )
    attach(app, loa)
    register_broadcast_handlers(app)  # first: the article buttons' handler takes any press
    register_intake_handlers(app)
    register_citizen_handlers(app)
    register_handlers(app)
    register_stats_growth(app)
    return app


async def run_bot(
    loa: Loa, stopping: asyncio.Event, *, poll_timeout: int = 10, card_interval: float = 2.0
) -> None:
    """Poll for updates and post cards for new pending articles until ``stopping`` is set."""
    app = build_application(loa)
    await app.initialize()
    try:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            drop_pending_updates=False,
            timeout=poll_timeout,
            poll_interval=0.0,
            allowed_updates=["message", "callback_query"],
            error_callback=_polling_error,
        )
        log.info("telegram admin chat running")
        intake = asyncio.create_task(intake_card_loop(app.bot, loa, stopping))
        while not stopping.is_set():
            try:
                await sync_cards(app.bot, loa)
                await sync_broadcast_cards(app.bot, loa)
                await sync_citizen_cards(app.bot, loa)
            except (TelegramError, OSError) as exc:
                log.warning("posting approval cards failed: %s", exc)
            except Exception:  # a bug must not stop the admin chat
                log.exception("posting approval cards failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), card_interval)
        await intake
    finally:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        log.info("telegram admin chat stopped")


def _polling_error(exc: TelegramError) -> None:
    log.warning("telegram polling: %s (retrying)", exc)
