"""The channel protocol, the values it exchanges, and :class:`BaseChannel`, its working defaults.

The errors an adapter raises are :mod:`channels.errors` (re-exported here); what a failed write
means (posted, not posted, maybe posted) is decided once, in :mod:`channels.http`.

Never post twice: a write whose outcome the platform did not state (a dropped connection, a read
timeout, any 5xx, a body that is not the platform's JSON) is *maybe posted*. It is never resent in
the call: after a settle delay the host calls ``find_existing``, and only when that answers ``None``
with certainty may it publish again. A channel that cannot tell raises ``CannotTell`` from
``find_existing`` and an admin decides.
"""

from __future__ import annotations

import abc
import contextlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

import requests
from pydantic import BaseModel, ConfigDict

from channels.errors import (
    AuthError,
    CannotTell,
    ChannelError,
    RateLimited,
    RejectedError,
    TransientError,
)
from channels.http import Answers, HttpSession, call_json

__all__ = [
    "ArticleView",
    "AuthError",
    "BaseChannel",
    "CannotTell",
    "Channel",
    "ChannelError",
    "ChannelSettings",
    "Check",
    "Draft",
    "Health",
    "ImageRef",
    "MemoryTokenStore",
    "Prompts",
    "RateLimited",
    "Receipt",
    "RejectedError",
    "TokenStore",
    "TransientError",
]


class ChannelSettings(BaseModel):
    """Common keys of every ``[channels.NAME]`` section; adapters subclass it."""

    model_config = ConfigDict(extra="forbid")

    type: str
    enabled: bool = True
    after: str | None = None
    label: str | None = None  # how people name it; default: its kind ("Trang web", "Zalo OA")
    hashtags: list[str] = []
    timeout_seconds: float = 20.0
    # Seconds to wait before looking for a maybe-posted write; None: [schedule]'s value.
    reconcile_after_seconds: float | None = None

    # Secret fields (typed ``SecretStr | None``) that must be present, from the environment/.env
    # or from credentials stored by ``loa channels connect``.
    required_secrets: ClassVar[tuple[str, ...]] = ()

    def missing_secrets(self, stored: Mapping[str, Any] | None = None) -> list[str]:
        """Names of required secrets that are neither configured nor stored."""
        stored = stored or {}
        return [
            n for n in self.required_secrets if getattr(self, n, None) is None and not stored.get(n)
        ]


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

    def find_existing(
        self, draft: Draft, idempotency_key: str, since: datetime
    ) -> Receipt | None: ...

    def update(self, receipt: Receipt, draft: Draft) -> Receipt: ...

    def retract(self, receipt: Receipt) -> None: ...

    def fetch_reach(self, receipts: Sequence[Receipt]) -> dict[str, dict[str, int | None]]: ...

    def check(self) -> Health: ...


def iter_blocking(drafts: Sequence[Draft]) -> Iterator[Check]:
    """Every blocking refusal across drafts."""
    for d in drafts:
        yield from d.refusals


@runtime_checkable
class Prompts(Protocol):
    """How an adapter's optional ``connect(prompts) -> str`` talks to the person connecting it
    (``loa channels connect NAME``): show a line, ask for a visible answer or a secret one."""

    def say(self, text: str) -> None: ...

    def ask(self, prompt: str) -> str: ...

    def ask_secret(self, prompt: str) -> str: ...


SettingsT = TypeVar("SettingsT", bound=ChannelSettings)


class BaseChannel(abc.ABC, Generic[SettingsT]):
    """Working defaults, so a new channel declares its settings and writes ``render``,
    ``publish`` and ``find_existing`` only.

    Defaults: ``update`` and ``retract`` refuse with a clear Vietnamese reason (a person edits or
    takes the post down on the platform), ``fetch_reach`` reports no metric (unavailable, never
    zero), ``check`` reports the settings as usable. :meth:`call` sends one HTTP call under the
    outcome rule of :mod:`channels.http`, with the answers the subclass declares in ``answers``.
    Generic in its settings: ``class WordPressChannel(BaseChannel[WordPressSettings])`` types
    ``self.settings`` as the adapter's own settings, with no constructor of its own.
    """

    Settings: ClassVar[type[ChannelSettings]] = ChannelSettings
    # True when the adapter renews its own credentials (no "token expires soon" alert needed).
    refreshes_own_tokens: ClassVar[bool] = False
    label: ClassVar[str] = "nền tảng"  # the platform's name in messages

    def __init__(
        self,
        name: str,
        settings: SettingsT,
        *,
        token_store: TokenStore | None = None,
        session: requests.Session | None = None,
    ):
        self.name = name
        self.settings: SettingsT = settings
        self.token_store = token_store
        self.session = session if session is not None else HttpSession()

    def call(
        self, method: str, url: str, answers: Answers, *, write: bool = False, **kwargs: Any
    ) -> Any:
        """One HTTP call (``write``: a lost answer may have posted; see :mod:`channels.http`)."""
        return call_json(
            self.session,
            method,
            url,
            answers,
            write=write,
            timeout=self.settings.timeout_seconds,
            **kwargs,
        )

    @abc.abstractmethod
    def render(self, article: ArticleView, links: Mapping[str, str]) -> Draft:
        """Exactly what would be sent, with the platform's checks (pure)."""

    @abc.abstractmethod
    def publish(self, draft: Draft, idempotency_key: str) -> Receipt:
        """Create the post; a lost answer raises with ``may_have_posted``."""

    def find_existing(self, draft: Draft, idempotency_key: str, since: datetime) -> Receipt | None:
        raise CannotTell(f"Kênh {self.name} không tự kiểm tra được bài đã đăng hay chưa.")

    def update(self, receipt: Receipt, draft: Draft) -> Receipt:
        raise RejectedError(
            f"Kênh {self.name} không sửa được bài đã đăng; hãy sửa trực tiếp trên {self.label}."
        )

    def retract(self, receipt: Receipt) -> None:
        raise RejectedError(
            f"Kênh {self.name} không gỡ được bài tự động; hãy gỡ trực tiếp trên {self.label}."
        )

    def fetch_reach(self, receipts: Sequence[Receipt]) -> dict[str, dict[str, int | None]]:
        return {r.remote_id: {} for r in receipts}

    def check(self) -> Health:
        return Health(ok=True, detail=f"Kênh {self.name} không có phép kiểm tra kết nối riêng.")
