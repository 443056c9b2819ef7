"""The channel protocol, the values it exchanges, and the four errors the dispatcher understands.

Error tree::

    ChannelError
     ├── TransientError        network trouble, 5xx, timeouts: retry with backoff
     │    └── RateLimited      platform throttling: back off the whole channel for ``retry_after``
     ├── AuthError             token invalid/expired/missing permission: refresh once, else pause
     └── RejectedError         the platform refused this content: fail the delivery, alert admins

Never post twice: before any resend of a delivery whose earlier attempt may have reached the
platform (a timeout, a dropped connection, a worker that died mid-call), the dispatcher calls
``find_existing``; only when it answers ``None`` with certainty may it publish again. A channel that
cannot tell raises ``CannotTell`` from ``find_existing`` and an admin decides.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

__all__ = [
    "ArticleView",
    "AuthError",
    "CannotTell",
    "Channel",
    "ChannelError",
    "ChannelSettings",
    "Check",
    "Draft",
    "Health",
    "ImageRef",
    "MemoryTokenStore",
    "RateLimited",
    "Receipt",
    "RejectedError",
    "TokenStore",
    "TransientError",
]


class ChannelError(Exception):
    """Base of every error an adapter raises; ``message`` is safe to show to an admin."""

    def __init__(self, message: str, *, code: str | int | None = None, may_have_posted: bool = False):
        super().__init__(message)
        self.message = message
        self.code = code
        # True when the request may have reached the platform (timeout after sending, dropped
        # connection): the dispatcher must reconcile with find_existing before any resend.
        self.may_have_posted = may_have_posted


class TransientError(ChannelError):
    """Network trouble, 5xx, timeouts: retry later."""


class RateLimited(TransientError):
    """Platform throttling: the whole channel waits ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float, code: str | int | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after


class AuthError(ChannelError):
    """Credentials invalid, expired, or missing a permission: a person must act."""

    def __init__(
        self,
        message: str,
        *,
        code: str | int | None = None,
        refreshable: bool = False,
        reconnect_hint: str | None = None,
    ):
        super().__init__(message, code=code)
        self.refreshable = refreshable
        self.reconnect_hint = reconnect_hint


class RejectedError(ChannelError):
    """The platform refused this content for good (bad parameter, spam, too large)."""


class CannotTell(ChannelError):
    """``find_existing`` cannot decide whether an earlier attempt created a post."""


class ChannelSettings(BaseModel):
    """Common keys of every ``[channels.NAME]`` section; adapters subclass it."""

    model_config = ConfigDict(extra="forbid")

    type: str
    enabled: bool = True
    after: str | None = None
    hashtags: list[str] = []
    timeout_seconds: float = 20.0

    # Secret fields (typed ``SecretStr | None``) that must be present, from the environment/.env
    # or from credentials stored by ``loa channels connect``.
    required_secrets: ClassVar[tuple[str, ...]] = ()

    def missing_secrets(self, stored: Mapping[str, Any] | None = None) -> list[str]:
        """Names of required secrets that are neither configured nor stored."""
        stored = stored or {}
        return [n for n in self.required_secrets if getattr(self, n, None) is None and not stored.get(n)]


@dataclass(frozen=True)
class ImageRef:
    """One image of an article: a local file, and once the website has it, its public URL."""

    path: str
    mime_type: str
    width: int = 0
    height: int = 0
    size_bytes: int = 0
    public_url: str | None = None
    caption: str = ""


@dataclass(frozen=True)
class ArticleView:
    """What a channel may know of an article: plain values, no database handle."""

    id: int
    title: str
    summary: str
    body_html: str
    body_text: str
    topic: str
    topic_label: str
    cover: ImageRef | None = None
    images: tuple[ImageRef, ...] = ()
    slug_hint: str | None = None


@dataclass(frozen=True)
class Check:
    """One render-time check shown on the approval card (``ok=False`` means the channel refuses)."""

    name: str
    ok: bool
    message: str
    blocking: bool = True


@dataclass(frozen=True)
class Draft:
    """Exactly what a channel would send; rendering is pure, so the card can preview it."""

    channel: str
    title: str
    text: str
    html: str = ""
    link: str | None = None
    images: tuple[ImageRef, ...] = ()
    payload: Mapping[str, Any] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    fingerprint: str = ""

    @property
    def refusals(self) -> list[Check]:
        return [c for c in self.checks if not c.ok and c.blocking]


@dataclass(frozen=True)
class Receipt:
    """Proof of a post: the platform's id and the public URL (``url`` may be None for handoff)."""

    remote_id: str
    url: str | None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Health:
    """Result of ``check``: whether the credentials work and when they expire."""

    ok: bool
    detail: str
    expires_at: datetime | None = None
    account: str | None = None
    scopes: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


class TokenStore(Protocol):
    """Durable storage for rotating credentials, provided by the host (the database).

    ``locked()`` serialises refreshes across processes; inside it ``load`` sees the latest pair and
    ``save`` commits at once (before anything else happens).
    """

    def load(self) -> dict[str, Any]: ...

    def save(self, values: dict[str, Any]) -> None: ...

    def locked(self) -> contextlib.AbstractContextManager[None]: ...


class MemoryTokenStore:
    """Credentials kept in memory, within one process: rotated tokens die with it (a developer's
    session, tests); the service uses the database-backed store."""

    def __init__(self, values: dict[str, Any] | None = None):
        self._values = dict(values or {})
        self._lock = threading.Lock()

    def load(self) -> dict[str, Any]:
        return dict(self._values)

    def save(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if value is None:
                self._values.pop(key, None)
            else:
                self._values[key] = value

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock:
            yield


@runtime_checkable
class Channel(Protocol):
    """A platform adapter: render + HTTP, nothing else (no database, no sleeping, no retries).

    Never post twice: ``find_existing`` before any resend of an attempt that may have reached
    the platform.
    """

    name: str
    Settings: ClassVar[type[ChannelSettings]]

    def render(self, article: ArticleView, links: Mapping[str, str]) -> Draft: ...

    def publish(self, draft: Draft, idempotency_key: str) -> Receipt: ...

    def find_existing(self, draft: Draft, idempotency_key: str, since: datetime) -> Receipt | None: ...

    def update(self, receipt: Receipt, draft: Draft) -> Receipt: ...

    def retract(self, receipt: Receipt) -> None: ...

    def fetch_reach(self, receipts: Sequence[Receipt]) -> dict[str, dict[str, int | None]]: ...

    def check(self) -> Health: ...


def iter_blocking(drafts: Sequence[Draft]) -> Iterator[Check]:
    """Every blocking refusal across drafts."""
    for d in drafts:
        yield from d.refusals
