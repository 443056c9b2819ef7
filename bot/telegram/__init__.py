"""The Telegram admin chat: approval cards, commands and file submission."""

from __future__ import annotations

from bot.telegram.app import build_application, run_bot

__all__ = ["build_application", "run_bot"]
