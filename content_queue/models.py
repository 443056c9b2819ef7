"""Plain values read from and written to the store: articles, deliveries, states."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from content_queue.workflow import ArticleState

__all__ = [
    "ARTICLE_STATES",
    "DELIVERY_STATES",
    "Actor",
    "Article",
    "Delivery",
    "ParsedArticle",
    "ParsedImage",
]

ARTICLE_STATES = tuple(ArticleState)
DELIVERY_STATES = (
    "waiting",
    "in_flight",
    "sent",
    "retry",
    "awaiting_url",
    "failed",
    "in_doubt",
    "cancelled",
    "retracted",
)


@dataclass(frozen=True)
class Actor:
    """Who did something: a name and the way in (cli, telegram, service, inbox)."""

    name: str
    via: str = "cli"

    @classmethod
    def service(cls) -> Actor:
        return cls("loa", "service")


@dataclass(frozen=True)
class ParsedImage:
    """An image that passed the checks (real type by content, size and pixel limits)."""

    path: str
    mime_type: str
    width: int
    height: int
    size_bytes: int
    caption: str = ""

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ParsedArticle:
    """An article read from a file, cleaned (NFC, sanitised HTML), ready to be stored."""

    title: str
    summary: str
    body_html: str
    body_text: str
    topic: str
    topic_suggested: bool = False
    topic_reason: str | None = None
    channels: tuple[str, ...] = ()  # empty = every enabled channel
    publish_at: datetime | None = None
    cover: ParsedImage | None = None
    images: tuple[ParsedImage, ...] = ()
    external_id: str | None = None
    source_name: str | None = None
    content_hash: str = ""


@dataclass(frozen=True)
class Delivery:
    id: int
    article_id: int
    channel: str
    state: str
    after_channel: str | None
    due_at: datetime | None
    next_attempt_at: datetime | None
    attempts: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    idempotency_key: str
    remote_id: str | None
    url: str | None
    last_error: str | None
    last_error_kind: str | None
    sent_at: datetime | None
    first_failure_at: datetime | None = None
    may_have_posted: bool = False  # an earlier attempt may have posted: look before any resend

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "state": self.state,
            "due_at": _iso(self.due_at),
            "attempts": self.attempts,
            "remote_id": self.remote_id,
            "url": self.url,
            "last_error": self.last_error,
            "last_error_kind": self.last_error_kind,
            "may_have_posted": self.may_have_posted,
        }


@dataclass(frozen=True)
class Article:
    id: int
    revision: int
    title: str
    summary: str
    body_html: str
    body_text: str
    topic: str
    topic_suggested: bool
    topic_reason: str | None
    cover: dict[str, Any] | None
    images: list[dict[str, Any]]
    channels: list[str]
    publish_at: datetime | None
    scheduled_at: datetime | None
    state: str
    submitted_by: str | None
    submitted_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    rejected_by: str | None
    rejected_at: datetime | None
    reject_reason: str | None
    source_name: str | None
    content_hash: str
    external_id: str | None
    deliveries: list[Delivery] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "revision": self.revision,
            "title": self.title,
            "state": self.state,
            "topic": self.topic,
            "summary": self.summary,
            "channels": self.channels,
            "publish_at": _iso(self.publish_at),
            "scheduled_at": _iso(self.scheduled_at),
            "submitted_by": self.submitted_by,
            "approved_by": self.approved_by,
            "reject_reason": self.reject_reason,
            "source_name": self.source_name,
            "deliveries": [d.as_json() for d in self.deliveries],
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
