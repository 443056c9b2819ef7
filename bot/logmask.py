"""A log filter that masks every configured secret, wherever it appears in a record."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from pydantic import SecretStr

from bot.settings import Settings

__all__ = ["install_secret_mask", "secret_values"]


def secret_values(settings: Settings) -> list[str]:
    """Every secret value in the configuration (Telegram token, channel secrets)."""
    values = []
    if settings.telegram.token:
        values.append(settings.telegram.token.get_secret_value())
    for ch in settings.parsed_channels.values():
        for name in type(ch).model_fields:
            v = getattr(ch, name)
            if isinstance(v, SecretStr):
                values.append(v.get_secret_value())
    return [v for v in values if len(v) >= 6]


class _Mask(logging.Filter):
    def __init__(self, secrets: Iterable[str]):
        super().__init__()
        self.secrets = sorted(set(secrets), key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if any(s in text for s in self.secrets):
            for s in self.secrets:
                text = text.replace(s, "***")
            record.msg, record.args = text, None
        return True


def install_secret_mask(settings: Settings) -> None:
    """Mask the configuration's secrets in every handler of the root logger."""
    mask = _Mask(secret_values(settings))
    for handler in logging.getLogger().handlers:
        handler.addFilter(mask)
