"""What an article becomes on each channel: the view channels render, and each channel's draft."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.context import Loa
from channels.base import ArticleView, Draft, ImageRef
from content_queue.models import Article
from content_queue.topics import Topic, default_topics

__all__ = ["article_view", "drafts_for"]


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


def drafts_for(loa: Loa, article: Article) -> dict[str, Draft]:
    """What each target channel would send now (before the website link exists)."""
    view = article_view(article, loa.topics)
    return {
        p.channel: loa.channel(p.channel).render(view, {})
        for p in loa.channel_plan(article.channels)
    }
