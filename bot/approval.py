"""Decisions that need channels: per-channel checks at approval, the slot, retraction."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.context import Loa
from bot.drafts import drafts_for
from bot.prepare import prepare_approved
from bot.schedule import next_free_slot, parse_local_time
from channels.base import ChannelError, Receipt
from content_queue.models import Actor, Article
from content_queue.workflow import ArticleState, IllegalTransition

__all__ = ["approve_article", "retract_article"]


def approve_article(
    loa: Loa,
    article_id: int,
    actor: Actor,
    *,
    at: str | None = None,
    now: bool = False,
    expected_revision: int | None = None,
) -> tuple[Article, dict[str, str]]:
    """Approve for every channel that accepts the article; returns it and the skipped channels.

    A channel whose render check refuses the article (e.g. Zalo without a cover image) is left
    out at approval, with the reason, instead of failing at posting time.
    """
    article = loa.store.articles.get(article_id)
    drafts = drafts_for(loa, article)
    skipped = {
        name: "; ".join(c.message for c in d.refusals) for name, d in drafts.items() if d.refusals
    }
    plan = [p for p in loa.channel_plan(article.channels) if p.channel not in skipped]
    if not plan and article.state == ArticleState.PENDING:
        raise IllegalTransition(
            f"Bài #{article_id} chưa thể duyệt vì mọi kênh sẽ từ chối: "
            + "; ".join(f"{k}: {v}" for k, v in skipped.items())
        )
    current = datetime.now(UTC)
    policy = loa.settings.schedule
    if now:
        due = current
    elif at:
        due = parse_local_time(at, policy)
        if due < current:
            raise IllegalTransition(f"Thời điểm {at} đã qua.")
    elif article.publish_at and article.publish_at > current:
        due = article.publish_at
    else:
        due = next_free_slot(loa.store, policy, current)
    approved = loa.store.articles.approve(
        article_id, actor, due, plan, expected_revision=expected_revision, skipped=skipped
    )
    prepare_approved(loa, article_id)  # ready before the slot; a failure alerts, never refuses
    return approved, skipped


def retract_article(loa: Loa, article_id: int, actor: Actor) -> tuple[Article, list[str]]:
    """Take the article down everywhere it was posted; returns the channels that failed."""
    article = loa.store.articles.begin_retract(article_id)
    problems = []

    for d in article.deliveries:
        if d.state != "sent" or d.remote_id is None:
            continue
        try:
            loa.channel(d.channel).retract(Receipt(d.remote_id, d.url))
        except (ChannelError, KeyError) as exc:
            problems.append(f"{d.channel}: {getattr(exc, 'message', exc)}")
            continue
        loa.store.deliveries.record_retracted(d.id, actor)
    if problems:
        return loa.store.articles.get(article_id), problems
    return loa.store.articles.finish_retract(article_id, actor), []
