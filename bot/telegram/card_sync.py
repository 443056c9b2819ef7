"""Approval cards in the admins' chat: posted for each pending revision, closed once decided.

The database and the card's text (which renders each channel's draft) are read in a worker
thread: the event loop only talks to Telegram."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError

import bot.telegram.texts as texts
from bot.context import Loa
from bot.telegram.cards import (
    card_keyboard,
    card_text,
    closed_card_text,
)
from content_queue.cards import Card
from content_queue.models import Article
from content_queue.workflow import ArticleState

__all__ = ["close_cards", "sync_cards"]

log = logging.getLogger(__name__)


# The database and the card's text (which renders each channel's draft) are read in a worker
# thread: the event loop only talks to Telegram.
async def _edit_quietly(bot: Bot, chat_id: int, message_id: int, text: str) -> None:
    """Show ``text`` without buttons; "message is not modified" is harmless and ignored."""
    try:
        await bot.edit_message_text(
            text,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=None,
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


def _closing(loa: Loa, article: Article) -> list[tuple[Card, str]]:
    """The article's open cards to close, each with its closed text (blocking: in a thread)."""
    out = []
    for card in loa.store.cards.open_cards(article.id):
        if article.state == ArticleState.PENDING and card.revision == article.revision:
            continue
        text = closed_card_text(loa, article)
        if article.state == ArticleState.PENDING:  # an older revision's card
            text += "\n" + texts.SUPERSEDED.format(revision=article.revision)
        out.append((card, text))
    return out


async def close_cards(bot: Bot, loa: Loa, article: Article) -> None:
    """Edit every open card of the article to its closed form and mark them closed."""
    for card, text in await asyncio.to_thread(_closing, loa, article):
        assert card.message_id is not None
        try:
            await _edit_quietly(bot, card.chat_id, card.message_id, text)
        except TelegramError as exc:
            log.warning("could not close the card of article %s: %s", article.id, exc)
            continue
        await asyncio.to_thread(loa.store.cards.close_card, card.id)


def _cards_to_send(loa: Loa, chat_id: int) -> list[tuple[int, Article, str]]:
    """Claim a card for each pending revision not yet shown, with its text (in a thread)."""
    out = []
    for article in loa.store.articles.list([ArticleState.PENDING]):
        claim = loa.store.cards.claim_card(article.id, article.revision, chat_id)
        if claim is not None:
            out.append((claim, article, card_text(loa, article)))
    return out


async def sync_cards(bot: Bot, loa: Loa) -> int:
    """Post a card for every pending article revision not yet shown; close decided ones.

    The card is claimed in the database before sending, so two workers never post the same card;
    a send that fails gives the claim back so the next round tries again. Returns cards sent.
    """
    chat_id = loa.settings.telegram.chat_id
    if chat_id is None:
        return 0
    sent = 0
    pending = await asyncio.to_thread(_cards_to_send, loa, chat_id)
    for i, (claim, article, text) in enumerate(pending):
        try:
            message = await bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, reply_markup=card_keyboard(article)
            )
        except (TelegramError, ValueError) as exc:
            await asyncio.to_thread(loa.store.cards.release_card, claim)
            log.warning("could not send the card of article %s: %s", article.id, exc)
            if isinstance(exc, RetryAfter):
                for later, _, _ in pending[i + 1 :]:  # the rest waits for the next round
                    await asyncio.to_thread(loa.store.cards.release_card, later)
                break
            continue
        await asyncio.to_thread(loa.store.cards.card_sent, claim, message.message_id)
        sent += 1
    for article_id in await asyncio.to_thread(loa.store.cards.articles_with_open_cards):
        await close_cards(bot, loa, await asyncio.to_thread(loa.store.articles.get, article_id))
    return sent
