"""The admins' approval cards in Telegram: one row per (article revision, chat), claimed before it
is sent so two workers never post the same card."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from content_queue.store_core import StoreCore
from content_queue.tables import bot_cards

__all__ = ["Card", "CardQueries"]


@dataclass(frozen=True)
class Card:
    id: int
    article_id: int
    revision: int
    chat_id: int
    message_id: int | None
    closed_at: datetime | None


def _card(row: sa.Row) -> Card:  # type: ignore[type-arg]
    return Card(row.id, row.article_id, row.revision, row.chat_id, row.message_id, row.closed_at)


class CardQueries(StoreCore):
    """The ``bot_cards`` table."""

    def card_at(self, chat_id: int, message_id: int) -> Card | None:
        """The card shown as message ``message_id`` in ``chat_id``, if Loa sent it."""
        with self.read() as conn:
            row = conn.execute(
                sa.select(bot_cards).where(
                    bot_cards.c.chat_id == chat_id, bot_cards.c.message_id == message_id
                )
            ).first()
        return _card(row) if row is not None else None

    def open_cards(self, article_id: int) -> list[Card]:
        """The article's cards that were sent and are not closed yet."""
        with self.read() as conn:
            rows = conn.execute(
                sa.select(bot_cards).where(
                    bot_cards.c.article_id == article_id,
                    bot_cards.c.closed_at.is_(None),
                    bot_cards.c.message_id.is_not(None),
                )
            ).all()
        return [_card(r) for r in rows]

    def articles_with_open_cards(self) -> list[int]:
        with self.read() as conn:
            return sorted(
                set(
                    conn.execute(
                        sa.select(bot_cards.c.article_id).where(
                            bot_cards.c.closed_at.is_(None), bot_cards.c.message_id.is_not(None)
                        )
                    ).scalars()
                )
            )

    def claim_card(self, article_id: int, revision: int, chat_id: int) -> int | None:
        """Claim the card of this revision in this chat before sending it; None if already
        claimed (sent, or being sent by another worker)."""
        try:
            with self.tx() as conn:
                key = conn.execute(
                    bot_cards.insert().values(
                        article_id=article_id,
                        revision=revision,
                        chat_id=chat_id,
                        created_at=datetime.now(UTC),
                    )
                ).inserted_primary_key
        except IntegrityError:
            return None
        return int(key[0]) if key else None

    def release_card(self, card_id: int) -> None:
        """Give a claim back (the send failed): the next round tries again."""
        with self.tx() as conn:
            conn.execute(bot_cards.delete().where(bot_cards.c.id == card_id))

    def card_sent(self, card_id: int, message_id: int) -> None:
        with self.tx() as conn:
            conn.execute(
                bot_cards.update().where(bot_cards.c.id == card_id).values(message_id=message_id)
            )

    def close_card(self, card_id: int) -> None:
        with self.tx() as conn:
            conn.execute(
                bot_cards.update()
                .where(bot_cards.c.id == card_id)
                .values(closed_at=datetime.now(UTC))
            )
