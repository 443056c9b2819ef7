"""Each channel's preview as it will look, built from the adapter's own draft.

The draft is what the channel would send; here it is only laid out. Any HTML from an article
is cleaned again with nh3 (no script, no handler, no frame, no style) before it reaches the
page, image sources become this site's own image routes, and the page's CSP forbids inline
script on top: nothing in an article can script the page.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import nh3

from bot.context import Loa
from bot.drafts import article_view, drafts_for
from channels.base import Check, Draft
from content_queue.models import Article

__all__ = ["Preview", "image_paths", "previews_for", "safe_html"]

_TAGS = {
    "p",
    "br",
    "h2",
    "h3",
    "h4",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "ul",
    "ol",
    "li",
    "blockquote",
    "figure",
    "figcaption",
    "img",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "td",
    "th",
}
_ATTRS = {
    "img": {"src", "alt"},
    "a": {"href"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]*)(")')
_KIND = {"wordpress": "site", "handoff": "site", "facebook_page": "facebook", "zalo_oa": "zalo"}


@dataclass(frozen=True)
class Preview:
    channel: str
    kind: str  # site | facebook | zalo | text
    title: str
    text: str
    html: str  # cleaned, safe to insert
    link: str | None
    link_host: str
    description: str
    cover: str | None  # URL on this site
    checks: tuple[Check, ...] = field(default_factory=tuple)
    error: str | None = None


def image_paths(article: Article) -> list[str]:
    """The stored paths of the article's images: 0 is the cover, then the body images."""
    paths = [article.cover["path"]] if article.cover else []
    return paths + [i["path"] for i in article.images if i.get("path") not in paths]


def safe_html(fragment: str, article: Article, root: str) -> str:
    """``fragment`` cleaned, with the article's images pointed at this site's image route."""
    cleaned = nh3.clean(
        fragment,
        tags=_TAGS,
        attributes=_ATTRS,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer",
    )
    paths = image_paths(article)

    def local(match: re.Match[str]) -> str:
        src = html.unescape(match.group(2))
        for n, path in enumerate(paths):
            if src == path or src.rsplit("/", 1)[-1] == path.rsplit("/", 1)[-1]:
                return f"{match.group(1)}{root}/bai-viet/{article.id}/anh/{n}{match.group(3)}"
        return match.group(0)  # a remote image: the CSP keeps it from loading

    return _IMG_SRC.sub(local, cleaned)


def _cover_url(article: Article, root: str) -> str | None:
    return f"{root}/bai-viet/{article.id}/anh/0" if image_paths(article) else None


def _preview(loa: Loa, article: Article, draft: Draft, root: str) -> Preview:
    cfg = loa.settings.parsed_channels.get(draft.channel)
    kind = _KIND.get(cfg.type if cfg else "", "text")
    website = next(
        (
            d.url
            for d in article.deliveries
            if d.url and d.channel in loa.settings.plan.website_channels
        ),
        None,
    )
    link = draft.link or website
    description = str(
        draft.payload.get("description") or draft.payload.get("excerpt") or article.summary
    )
    return Preview(
        channel=draft.channel,
        kind=kind,
        title=draft.title,
        text=draft.text,
        html=safe_html(draft.html or article.body_html, article, root),
        link=link,
        link_host=urlsplit(link).netloc if link else "",
        description=description,
        cover=_cover_url(article, root),
        checks=draft.checks,
    )


def previews_for(loa: Loa, article: Article, root: str) -> list[Preview]:
    """One preview per target channel; a channel that cannot render says why."""
    try:
        if any(d.state == "sent" for d in article.deliveries):
            # Once the website posted, render as the dispatcher does: with its link and media.
            current, receipts, links = loa.store.articles.draft_inputs(article.id)
            view = article_view(current, loa.topics, receipts)
            drafts = {
                p.channel: loa.channel(p.channel).render(view, links)
                for p in loa.channel_plan(current.channels)
            }
        else:
            drafts = drafts_for(loa, article)
    except Exception as exc:  # a broken adapter must not take the article page down
        return [
            Preview(
                "?",
                "text",
                article.title,
                "",
                "",
                None,
                "",
                "",
                None,
                error=f"Không dựng được bản xem trước: {type(exc).__name__}",
            )
        ]
    return [_preview(loa, article, d, root) for d in drafts.values()]
