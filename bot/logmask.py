"""Masking of secrets in everything a log handler writes, tracebacks included.

The mask works in the *formatter*, on the finished text: a token in an exception message, a
traceback line, a URL logged by a library or an argument all pass through it. It masks the
configuration's secrets (the Telegram token, channel secrets, the database password, the
credentials key), every credential the token store has read or written in this process, and
anything shaped like a credential (``Bearer …``, ``access_token=…``, ``/bot<digits>:…``, the
password of a URL).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from pydantic import SecretStr

from bot.settings import Settings
from content_queue.channel_tokens import handled_secret_values
from content_queue.credential_cipher import url_password

__all__ = [
    "MASK",
    "MaskingFormatter",
    "install_secret_mask",
    "mask_citizen",
    "mask_message",
    "mask_secrets",
    "secret_values",
]

MASK = "***"
# Shorter values (ids, "true") would mask ordinary words.
_MIN_LENGTH = 6
# Every pattern is linear: no nested quantifier can backtrack over a long line.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {MASK}"),
    (re.compile(r"(?i)\b(basic)\s+[A-Za-z0-9+/]{12,}=*"), rf"\1 {MASK}"),
    (
        re.compile(
            r"(?i)\b(access_token|refresh_token|client_secret|app_secret|appsecret_proof"
            r"|secret_key|password|passwd|code_verifier|fb_exchange_token|input_token)"
            r"(\"?\s*[=:]\s*\"?)[^\s&\"',;}]+"
        ),
        rf"\1\2{MASK}",
    ),
    (re.compile(r"/bot\d+:[A-Za-z0-9_-]+"), f"/bot{MASK}"),
    (re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}"), MASK),  # a bare Telegram bot token
    (re.compile(r"\b([a-z][a-z0-9+.-]{1,20}://[^\s:/@]{1,200}:)[^\s@/]{1,200}@"), rf"\1{MASK}@"),
)


def secret_values(settings: Settings) -> list[str]:
    """Every secret value in the configuration (Telegram token, channel secrets, DB password)."""
    values: list[str] = []
    if settings.telegram.token:
        values.append(settings.telegram.token.get_secret_value())
    if settings.secret_key:
        values += settings.secret_key.get_secret_value().split(",")
    for ch in settings.parsed_channels.values():
        for name in type(ch).model_fields:
            v = getattr(ch, name)
            if isinstance(v, SecretStr):
                values.append(v.get_secret_value())
    password = url_password(settings.database.url)
    if password:
        values.append(password)
    return [v.strip() for v in values if len(v.strip()) >= _MIN_LENGTH]


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every known secret and every credential-shaped string replaced by ***."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= _MIN_LENGTH and secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class MaskingFormatter(logging.Formatter):
    """Formats with ``inner`` (the handler's own formatter), then masks the whole text."""

    def __init__(self, inner: logging.Formatter | None, secrets: Iterable[str] = ()):
        super().__init__()
        self.inner = inner or logging.Formatter()
        self.secrets: set[str] = set(secrets)

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        # The inner formatter caches the traceback text on the record; another handler would
        # print that cache as it is, so it is masked too.
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text, self._known())
        return mask_secrets(text, self._known())

    def _known(self) -> set[str]:
        return self.secrets | handled_secret_values()


def install_secret_mask(settings: Settings) -> None:
    """Mask secrets in every handler of the root logger (a stderr handler is added if none)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    values = secret_values(settings)
    for handler in root.handlers:
        current = handler.formatter
        if isinstance(current, MaskingFormatter):
            current.secrets.update(values)
        else:
            handler.setFormatter(MaskingFormatter(current, values))


def mask_citizen(citizen_id: str | None) -> str:
    """A citizen's platform id as logs show it (personal data): its last 4 characters only."""
    if not citizen_id:
        return "—"
    return f"…{citizen_id[-4:]}" if len(citizen_id) > 4 else MASK


def mask_message(text: str | None) -> str:
    """A citizen's message as logs show it: its length, never its words."""
    return f"<{len(text or '')} ký tự>"
