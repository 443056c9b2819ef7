"""The composition root: what ``loa run`` (and the demo) put together, above everything else.

:class:`bot.context.Loa` builds the store, the channel adapters and the notifier from one
configuration; here they are composed with the dispatcher, the service's jobs, the Telegram bot and
the web page. Nothing imports this module but the entry points (``bot/cli``, ``bot/devtools``).
"""

from __future__ import annotations

import asyncio
import logging

from bot.context import Loa
from bot.service.dispatcher import Dispatcher
from bot.service.loop import Companion, Service
from bot.telegram.app import run_bot
from bot.web.app import serve_web

__all__ = ["build_dispatcher", "build_service", "companions", "run_service"]

log = logging.getLogger(__name__)


def build_dispatcher(loa: Loa, owner: str | None = None) -> Dispatcher:
    """The dispatcher over the store, the enabled channels, the schedule and the notifier."""
    return Dispatcher(loa.store, loa.channels(), loa.settings.schedule, loa.notifier, owner=owner)


def companions(loa: Loa) -> list[Companion]:
    """What runs beside the jobs: the Telegram bot when configured, the web page when enabled."""
    out: list[Companion] = []
    s = loa.settings
    if s.telegram.token and s.telegram.chat_id is not None:
        out.append(lambda stopping: run_bot(loa, stopping))
    else:
        log.warning("no Telegram token/chat configured: running headless (alerts go to the log)")
    if s.web.enabled:
        out.append(lambda stopping: serve_web(loa, stopping))
    return out


def build_service(loa: Loa, *, workers: int = 4) -> Service:
    """The running service: its jobs, its dispatcher, and its companions."""
    return Service(loa, build_dispatcher(loa), companions=companions(loa), workers=workers)


def run_service(loa: Loa, *, stop_after: float | None = None) -> None:
    """Run until SIGINT/SIGTERM (or ``stop_after`` seconds)."""
    asyncio.run(build_service(loa).run(stop_after=stop_after))
