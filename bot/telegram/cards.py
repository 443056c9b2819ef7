"""How an article is shown in the admin chat: the approval card, its buttons, its closed form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

import bot.telegram.texts as texts
from bot.context import Loa
from bot.drafts import drafts_for
from bot.schedule import proposed_slot
from content_queue.models import Article
from content_queue.workflow import STATE_VI, ArticleState

__all__ = [
    "ACTIONS",
    "CallbackData",
    "card_keyboard",
    "card_text",
    "closed_card_text",
    "local_time",
    "parse_callback",
]

ACTIONS = ("ap", "at", "rj", "pv")  # approve next slot, approve at…, reject, preview


@dataclass(frozen=True)
class CallbackData:
    action: str
    article_id: int
    revision: int

    def encode(self) -> str:
        return f"{self.action}:{self.article_id}:{self.revision}"


def parse_callback(data: str | None) -> CallbackData | None:
    """The decoded ``action:id:revision`` of a button, or None when it is not one of ours."""
    parts = (data or "").split(":")
    if len(parts) != 3 or parts[0] not in ACTIONS:
        return None
    try:
        article_id, revision = int(parts[1]), int(parts[2])
    except ValueError:
        return None
    if article_id <= 0 or revision <= 0:
        return None
    return CallbackData(parts[0], article_id, revision)


def local_time(loa: Loa, when: datetime | None) -> str:
    """A UTC instant shown in the configured time zone (``dd/mm/yyyy HH:MM``)."""
    if when is None:
        return "—"
    return when.astimezone(loa.settings.schedule.tz).strftime("%d/%m/%Y %H:%M")


def card_text(loa: Loa, article: Article) -> str:
    """The approval card in Telegram HTML: title, topic, summary, channels, slot, checks."""
    topic = loa.topics.get(article.topic)
    lines = [
        texts.CARD_HEADER.format(
            id=article.id, revision=article.revision, title=escape(article.title)
        ),
        escape(
            texts.CARD_TOPIC.format(
                key=article.topic, label=topic.label if topic else article.topic
            )
        ),
    ]
    if article.topic_suggested and article.topic_reason:
        lines[-1] += escape(texts.CARD_SUGGESTED.format(reason=article.topic_reason))
    if article.summary:
        summary = article.summary if len(article.summary) <= 800 else article.summary[:799] + "…"
        lines.append(f"<i>{escape(summary)}</i>")
    channels = [p.channel for p in loa.channel_plan(article.channels)]
    lines.append(escape(texts.CARD_CHANNELS.format(channels=", ".join(channels) or "—")))
    try:
        slot = local_time(loa, proposed_slot(loa, article))
    except ValueError as exc:
        slot = str(exc)
    lines.append(escape(texts.CARD_SLOT.format(slot=slot)))
    for name, draft in drafts_for(loa, article).items():
        problems = [c for c in draft.checks if not c.ok]
        if not problems:
            lines.append(escape(texts.CARD_CHECKS_OK.format(channel=name)))
        for check in problems:
            template = texts.CARD_CHECK_REFUSE if check.blocking else texts.CARD_CHECK_FAIL
            lines.append(escape(template.format(channel=name, message=check.message)))
    return _fit("\n".join(lines))


def card_keyboard(article: Article) -> InlineKeyboardMarkup:
    """Approve, approve at…, reject and preview buttons bound to this article revision."""

    def button(label: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            label, callback_data=CallbackData(action, article.id, article.revision).encode()
        )

    return InlineKeyboardMarkup(
        [
            [button(texts.BUTTON_APPROVE, "ap"), button(texts.BUTTON_APPROVE_AT, "at")],
            [button(texts.BUTTON_REJECT, "rj"), button(texts.BUTTON_PREVIEW, "pv")],
        ]
    )


def closed_card_text(loa: Loa, article: Article) -> str:
    """The card after the decision: who decided what and when (no buttons)."""
    head = texts.CARD_HEADER.format(
        id=article.id, revision=article.revision, title=escape(article.title)
    )
    if article.state == ArticleState.REJECTED:
        on_web = (article.rejected_by or "").startswith("web:")
        tail = (texts.CARD_DECIDED_REJECTED_WEB if on_web else texts.CARD_DECIDED_REJECTED).format(
            actor=(article.rejected_by or "—").removeprefix("web:"),
            at=local_time(loa, article.rejected_at),
            reason=article.reject_reason or "—",
        )
    elif article.approved_by and article.state in (
        ArticleState.APPROVED,
        ArticleState.PUBLISHED,
        ArticleState.PARTIAL,
    ):
        on_web = article.approved_by.startswith("web:")
        tail = (texts.CARD_DECIDED_APPROVED_WEB if on_web else texts.CARD_DECIDED_APPROVED).format(
            actor=article.approved_by.removeprefix("web:"),
            at=local_time(loa, article.approved_at),
            slot=local_time(loa, article.scheduled_at),
        )
    else:
        tail = texts.CLOSED_CARD.format(state=STATE_VI.get(article.state, article.state))
    if article.state == ArticleState.APPROVED:  # a channel that could not get ready before the slot
        tail += "".join(
            "\n" + texts.CARD_NOT_PREPARED.format(channel=name, error=p.error)
            for name, p in loa.store.preparations.preparations_of(article.id).items()
            if not p.ready
        )
    return _fit(f"{head}\n{escape(tail)}")


def _fit(text: str, limit: int = 4000) -> str:
    """Keep a card under Telegram's 4096-character limit by dropping whole trailing lines.

    Whole lines only, so an HTML tag is never cut in half.
    """
    lines = text.split("\n")
    while len(lines) > 2 and len("\n".join(lines)) > limit:
        lines.pop()
    return "\n".join(lines)
