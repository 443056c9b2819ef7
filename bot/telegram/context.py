"""The typed callback context of Loa's handlers: ``context.loa`` instead of ``bot_data["loa"]``,
and typed per-user and per-bot data instead of string-keyed dicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.context import Loa
from bot.telegram.strangers import StrangerGate

__all__ = ["CONTEXT_TYPES", "BotData", "LoaContext", "Question", "UserData", "attach", "loa_of_app"]


@dataclass(frozen=True)
class Question:
    """A question the bot asked one admin in one chat; only a reply to it answers it."""

    kind: str  # "at" (a time) or "rj" (a reason)
    article_id: int
    revision: int
    chat_id: int
    message_id: int
    expires_at: float  # time.monotonic()
    hinted: bool = False


@dataclass
class UserData:
    """What the bot keeps about one user between updates (in memory, ``context.user_data``)."""

    question: Question | None = None  # the question waiting for this admin's reply


class BotData:
    """What the whole bot shares (``context.bot_data``): the service, and the stranger gate."""

    def __init__(self) -> None:
        self.loa: Loa | None = None  # set by attach()
        self.strangers = StrangerGate()


class LoaContext(CallbackContext[ExtBot[None], UserData, dict[Any, Any], BotData]):
    """What every handler receives; ``loa`` is the service's wiring (settings, store, channels)."""

    @property
    def loa(self) -> Loa:
        loa = self.bot_data.loa
        assert loa is not None, "attach() gives the application its Loa"
        return loa


CONTEXT_TYPES = ContextTypes(context=LoaContext, user_data=UserData, bot_data=BotData)


def attach(app: Application[Any, Any, Any, Any, Any, Any], loa: Loa) -> None:
    """Give ``app``'s handlers the service (read back as ``context.loa``)."""
    data: BotData = app.bot_data
    data.loa = loa


def loa_of_app(app: Application[Any, Any, Any, Any, Any, Any]) -> Loa:
    """The service attached to ``app`` (for wiring done before any update arrives)."""
    data: BotData = app.bot_data
    assert data.loa is not None, "attach() gives the application its Loa"
    return data.loa
