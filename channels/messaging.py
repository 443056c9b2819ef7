"""Messages from citizens: the abilities an adapter declares to receive them and to answer.

Platform facts: ``../shared/contracts/zalo.md`` and ``facebook.md``, "Messages from citizens".

A channel that receives citizens' messages has :class:`ReceivesMessages` (verify a webhook on its
raw bytes, parse it into :class:`IncomingEvent` values, answer a subscription handshake); one that
answers them has :class:`MessageReplier`. The host asks ``isinstance(channel, MessageReplier)``
once, at wiring time. A reply is a **write**: an answer that was lost raises a ``ChannelError``
with ``may_have_posted=True`` (:mod:`channels.http`); the host never sends it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from channels.errors import ChannelError

__all__ = [
    "MAX_WEBHOOK_BYTES",
    "IncomingEvent",
    "MessageReplier",
    "ReceivesMessages",
    "ReplyReceipt",
    "ReplyWindow",
    "WebhookRefused",
]

MAX_WEBHOOK_BYTES = 64 * 1024  # a citizen's text event is a few hundred bytes


class WebhookRefused(Exception):
    """A webhook request that is not the platform's (unsigned, forged, stale, malformed).

    ``status`` is the HTTP answer (403 for a signature or a stale event, 400 for a malformed
    body); ``reason`` is for the log, never holds a secret nor a citizen's words.
    """

    def __init__(self, reason: str, status: int = 403):
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class IncomingEvent:
    """One event of a verified webhook body.

    ``kind``: ``message`` (a citizen wrote to the OA/Page) or ``feed`` (a comment on the Page's
    posts); ``external_id``: the platform's id to deduplicate on (``msg_id``, ``mid``, comment id);
    ``text``: the citizen's text (None for a picture, sticker …); ``payload``: the event as the
    platform sent it (kept for later handlers).
    """

    kind: str
    external_id: str
    sender: str | None
    text: str | None
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReplyReceipt:
    message_id: str | None


@dataclass(frozen=True)
class ReplyWindow:
    """How long after a citizen's last message the OA/Page may answer, and how many times."""

    hours: float
    free_replies: int | None  # None: no count
    human_hours: float | None = None  # a human-written answer may go out until then (HUMAN_AGENT)


@runtime_checkable
class ReceivesMessages(Protocol):
    """A channel whose platform pushes citizens' events to Loa's web hook."""

    platform: str  # the web hook path: /hooks/<platform>
    webhook_secrets: tuple[str, ...]  # settings keys the web hook needs (secrets from the env)

    def verify_webhook(self, body: bytes, headers: Mapping[str, str], now: float) -> None:
        """Raise :class:`WebhookRefused` unless ``body`` is signed by the platform and fresh."""
        ...

    def parse_webhook(self, body: bytes) -> list[IncomingEvent]:
        """The events of a verified body that Loa keeps (echoes and receipts left out)."""
        ...

    def subscription_challenge(self, params: Mapping[str, str]) -> str | None:
        """The challenge to echo for a valid subscription handshake (GET), else None."""
        ...


@runtime_checkable
class MessageReplier(Protocol):
    """A channel that can answer a citizen who wrote to it."""

    def reply_window(self) -> ReplyWindow: ...

    def send_reply(
        self, citizen_id: str, text: str, *, quote_id: str | None = None, human: bool = False
    ) -> ReplyReceipt:
        """Send ``text`` to the citizen (a write: see the module docstring)."""
        ...

    def refusal_line(self, exc: ChannelError) -> str:
        """One Vietnamese line for the admins saying why a reply was not delivered."""
        ...
