"""The typed callback context of Loa's handlers: ``context.loa`` instead of ``bot_data["loa"]``."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.context import Loa

__all__ = ["CONTEXT_TYPES", "LoaContext", "attach"]

_KEY = "loa"


class LoaContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """What every handler receives; ``loa`` is the service's wiring (settings, store, channels)."""

    @property
    def loa(self) -> Loa:
        loa = self.application.bot_data[_KEY]
        assert isinstance(loa, Loa)
        return loa


CONTEXT_TYPES = ContextTypes(context=LoaContext)


def attach(app: Application[Any, Any, Any, Any, Any, Any], loa: Loa) -> None:
    """Give ``app``'s handlers the service (read back as ``context.loa``)."""
    app.bot_data[_KEY] = loa
