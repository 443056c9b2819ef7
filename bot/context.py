"""Wiring: settings → store, channel adapters, notifier (composed further in :mod:`bot.run`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property

import requests

from bot.notifier import Notifier, telegram_sender
from bot.parsing import ParsePool, auto_workers
from bot.settings import Settings
from channels.base import Channel
from channels.capabilities import ConfirmsByHand
from channels.http import HttpSession
from channels.registry import build_channel
from content_queue.channel_tokens import DbTokenStore
from content_queue.credential_cipher import CredentialCipher
from content_queue.ingest.worker import set_worker_servers
from content_queue.store import ChannelPlan, Store
from content_queue.topics import Topic, topics_with_overrides

__all__ = ["Loa"]

log = logging.getLogger(__name__)


@dataclass
class Loa:
    """Everything a command needs, built lazily from one validated configuration."""

    settings: Settings
    _channels: dict[str, Channel] = field(default_factory=dict)

    @cached_property
    def store(self) -> Store:
        return Store.open(self.settings.database.url, self.settings.base_dir)

    @cached_property
    def topics(self) -> dict[str, Topic]:
        return topics_with_overrides(self.settings.plan.topics)

    @cached_property
    def parsing(self) -> ParsePool:
        """The pool that parses files sent on the web page and in the chat."""
        i = self.settings.ingest
        workers = i.parse_workers or auto_workers()
        set_worker_servers(workers + 1)  # the inbox parses beside the pool
        return ParsePool(workers, i.parse_queue, i.parse_per_user)

    @cached_property
    def session(self) -> requests.Session:
        return HttpSession()

    @cached_property
    def cipher(self) -> CredentialCipher | None:
        """The key of stored credentials (``LOA_SECRET_KEY``), None when it is not configured.

        Raises ``SecretKeyError`` when the key is malformed.
        """
        key = self.settings.secret_key
        return CredentialCipher(key.get_secret_value()) if key is not None else None

    def token_store(self, name: str) -> DbTokenStore:
        """The durable credentials of channel ``name``, encrypted with the configured key."""
        return self.store.tokens.of(name, self.cipher)

    def channel(self, name: str) -> Channel:
        if name not in self._channels:
            channel = build_channel(
                name,
                self.settings.parsed_channels[name],
                token_store=self.token_store(name),
                session=self.session,
            )
            if isinstance(channel, ConfirmsByHand):
                from bot.instructions import confirm_instructions

                channel.confirm_instructions = confirm_instructions
            self._channels[name] = channel
        return self._channels[name]

    def channels(self) -> dict[str, Channel]:
        return {n: self.channel(n) for n in self.settings.enabled_channels()}

    def stored_credentials(self) -> dict[str, dict[str, object]]:
        return {n: self.token_store(n).load() for n in self.settings.parsed_channels}

    @cached_property
    def notifier(self) -> Notifier:
        senders = []
        tg = self.settings.telegram
        if tg.token and tg.chat_id is not None:
            senders.append(telegram_sender(tg.api_url, tg.token.get_secret_value(), tg.chat_id))
        return Notifier(self.store, senders)

    def channel_plan(self, requested: list[str]) -> list[ChannelPlan]:
        """Deliveries for an article: its requested channels (or all enabled), with dependencies."""
        enabled = self.settings.enabled_channels()
        names = [n for n in (requested or list(enabled)) if n in enabled]
        return [ChannelPlan(n, enabled[n].after) for n in names]
