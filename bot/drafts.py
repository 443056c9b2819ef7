"""What an article becomes on each channel: the view channels render, and each channel's draft."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from bot.context import Loa
from channels.base import ArticleView, Channel, Draft, ImageRef
from content_queue.models import Article
from content_queue.topics import Topic, default_topics

__all__ = ["PLACEHOLDER_PATH", "article_view", "drafts_for", "render_draft"]


def _image(d: Mapping[str, Any], urls: Mapping[str, str]) -> ImageRef:
    return ImageRef(
        path=d["path"],
        mime_type=d.get("mime_type", "image/jpeg"),
        width=d.get("width", 0),
        height=d.get("height", 0),
        size_bytes=d.get("size_bytes", 0),
        public_url=urls.get(d["path"]),
        caption=d.get("caption", ""),
    )


def article_view(
    article: Article,
    topics: Mapping[str, Topic] | None = None,
    receipts: Mapping[str, Mapping[str, Any]] | None = None,
) -> ArticleView:
    """What channels see of an article; images carry the website's public URLs once known."""
    topics = topics or default_topics()
    urls: dict[str, str] = {}
    for extra in (receipts or {}).values():
        urls.update(extra.get("media") or {})
    cover = _image(article.cover, urls) if article.cover else None
    return ArticleView(
        id=article.id,
        title=article.title,
        summary=article.summary,
        body_html=article.body_html,
        body_text=article.body_text,
        topic=article.topic,
        topic_label=topics[article.topic].label if article.topic in topics else article.topic,
        cover=cover,
        images=tuple(_image(i, urls) for i in article.images),
    )


def render_draft(
    channel: Channel,
    article: Article,
    receipts: Mapping[str, Mapping[str, Any]],
    links: Mapping[str, str],
) -> Draft:
    """What ``channel`` sends for ``article``: the one rendering the posts and previews share."""
    return channel.render(article_view(article, receipts=receipts), links)


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
    current, stored, sent_links = loa.store.articles.draft_inputs(article.id)
    receipts, links = _placeholders(loa, current, stored, sent_links)
    return {
        p.channel: render_draft(loa.channel(p.channel), current, receipts, links)
        for p in loa.channel_plan(current.channels)
    }
