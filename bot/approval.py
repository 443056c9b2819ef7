"""Decisions that need channels: per-channel checks at approval, the slot, retraction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from bot.context import Loa
from bot.service.dispatcher import render_draft
from bot.service.prepare import prepare_approved
from bot.service.schedule import next_free_slot, parse_local_time
from channels.base import ChannelError, Draft, Receipt
from content_queue.models import Actor, Article
from content_queue.workflow import IllegalTransition

__all__ = ["PLACEHOLDER_PATH", "approve_article", "drafts_for", "retract_article"]

# The last part of the website address a preview shows before the website has posted.
PLACEHOLDER_PATH = "/dia-chi-bai-se-co-khi-dang"


def _website_origin(loa: Loa, channel: str) -> str:
    url = str(getattr(loa.settings.parsed_channels.get(channel), "url", "") or "")
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "https://website"


def _placeholders(
    loa: Loa,
    article: Article,
    receipts: Mapping[str, Mapping[str, Any]],
    links: Mapping[str, str],
) -> tuple[dict[str, Mapping[str, Any]], dict[str, str]]:
    """Receipts and links as they will be once the website channels have posted.

    A website channel of the article that has not posted yet gets a stand-in address (and, for
    WordPress, stand-in public URLs of the pictures it uploads), so every other channel renders
    exactly as it will when the dispatcher posts it: with "Xem chi tiết: …" and its link card.
    """
    receipts, links = dict(receipts), dict(links)
    for plan in loa.channel_plan(article.channels):
        if plan.channel not in loa.settings.plan.website_channels or plan.channel in links:
            continue
        cfg = loa.settings.parsed_channels.get(plan.channel)
        if cfg is None or cfg.type != "wordpress":
            continue  # a hand-off site: a person publishes it, its address is not foreseen
        origin = _website_origin(loa, plan.channel)
        links[plan.channel] = origin + PLACEHOLDER_PATH
        if plan.channel not in receipts:
            paths = ([article.cover["path"]] if article.cover else []) + [
                i["path"] for i in article.images
            ]
            media = {p: f"{origin}/wp-content/uploads/{PurePosixPath(p).name}" for p in paths}
            receipts[plan.channel] = {"media": media}
    return receipts, links


def drafts_for(loa: Loa, article: Article) -> dict[str, Draft]:
    """What each target channel sends for the article, rendered as the dispatcher renders it.

    Before the website has posted, its address is a stand-in (``PLACEHOLDER_PATH``); after, the
    real address and media URLs are used: the same function, the same inputs as the post.
    """
    current, stored, sent_links = loa.store.draft_inputs(article.id)
    receipts, links = _placeholders(loa, current, stored, sent_links)
    return {
        p.channel: render_draft(loa.channel(p.channel), current, receipts, links)
        for p in loa.channel_plan(current.channels)
    }


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
    article = loa.store.get(article_id)
    drafts = drafts_for(loa, article)
    skipped = {
        name: "; ".join(c.message for c in d.refusals) for name, d in drafts.items() if d.refusals
    }
    plan = [p for p in loa.channel_plan(article.channels) if p.channel not in skipped]
    if not plan and article.state == "pending":
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
    approved = loa.store.approve(
        article_id, actor, due, plan, expected_revision=expected_revision, skipped=skipped
    )
    prepare_approved(loa, article_id)  # ready before the slot; a failure alerts, never refuses
    return approved, skipped


def retract_article(loa: Loa, article_id: int, actor: Actor) -> tuple[Article, list[str]]:
    """Take the article down everywhere it was posted; returns the channels that failed."""
    article = loa.store.begin_retract(article_id)
    problems = []

    for d in article.deliveries:
        if d.state != "sent" or d.remote_id is None:
            continue
        try:
            loa.channel(d.channel).retract(Receipt(d.remote_id, d.url))
        except (ChannelError, KeyError) as exc:
            problems.append(f"{d.channel}: {getattr(exc, 'message', exc)}")
            continue
        loa.store.record_retracted(d.id, actor)
    if problems:
        return loa.store.get(article_id), problems
    return loa.store.finish_retract(article_id, actor), []
