"""Channel adapters found by ``type`` through the entry-point group ``loa.channels``.

An adapter class has a ``Settings`` class attribute (a :class:`ChannelSettings` subclass) and is
built as ``Adapter(name, settings, token_store=..., session=...)``. A third party registers one in
its own package metadata::

    [project.entry-points."loa.channels"]
    telegram_channel = "loa_telegram_channel:TelegramChannel"
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any, cast

import requests

from channels.base import Channel, ChannelSettings, TokenStore

__all__ = ["UnknownChannelType", "build_channel", "channel_types", "parse_channel_settings"]

GROUP = "loa.channels"


class UnknownChannelType(ValueError):
    def __init__(self, type_name: str, known: list[str]):
        self.type_name, self.known = type_name, known
        super().__init__(f"unknown channel type {type_name!r}; known types: {', '.join(known)}")


@cache
def channel_types() -> dict[str, Any]:
    """Every installed adapter class by type name."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def adapter_class(type_name: str) -> Any:
    types = channel_types()
    if type_name not in types:
        raise UnknownChannelType(type_name, sorted(types))
    return types[type_name].load()


def parse_channel_settings(raw: dict[str, Any]) -> ChannelSettings:
    """Validate one ``[channels.NAME]`` section with its adapter's settings model."""
    type_name = raw.get("type")
    if not isinstance(type_name, str):
        raise UnknownChannelType(str(type_name), sorted(channel_types()))
    return cast("ChannelSettings", adapter_class(type_name).Settings.model_validate(raw))


def build_channel(
    name: str,
    settings: ChannelSettings,
    *,
    token_store: TokenStore | None = None,
    session: requests.Session | None = None,
) -> Channel:
    """An adapter instance for the validated settings of channel ``name``."""
    cls = adapter_class(settings.type)
    return cast("Channel", cls(name, settings, token_store=token_store, session=session))
