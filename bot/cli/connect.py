"""``loa channels connect NAME``: the first thing a real department does for each platform."""

from __future__ import annotations

from collections.abc import Callable

import typer
from rich.console import Console

from bot.context import Loa
from channels.capabilities import Connects
from content_queue.models import Actor

__all__ = ["connect_channel"]

Ask = Callable[[str], str]


class _ConsolePrompts:
    """The terminal as :class:`channels.base.Prompts`; a secret typed is never echoed."""

    def __init__(self, console: Console, ask: Ask | None):
        self.console, self._ask = console, ask

    def say(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def ask(self, prompt: str) -> str:
        return self._ask(prompt) if self._ask else str(typer.prompt(prompt, hide_input=False))

    def ask_secret(self, prompt: str) -> str:
        return self._ask(prompt) if self._ask else str(typer.prompt(prompt, hide_input=True))


def connect_channel(loa: Loa, name: str, console: Console, ask: Ask | None = None) -> None:
    """Walk an admin through connecting one channel (the adapter's optional ``connect``
    capability); credentials are stored durably and the channel is resumed."""
    channel = loa.channel(name)
    if not isinstance(channel, Connects):
        settings = loa.settings.parsed_channels[name]
        console.print(f"Kênh {name} ({settings.type}) không cần kết nối tài khoản.")
        return
    console.print(channel.connect(_ConsolePrompts(console, ask)), markup=False, highlight=False)
    loa.store.channels.set_paused(name, False, Actor("connect", "cli"))
    loa.notifier.resolve(f"auth:{name}")
