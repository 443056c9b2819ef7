"""Each channel's preview as it will look, built from the adapter's own draft.

The draft is what the channel would send, rendered by the function the dispatcher posts with
and from the same inputs (``bot.approval.drafts_for``: before the website has posted, its address
is a stand-in); here it is only laid out. Previews are rendered once per article revision and
delivery state and kept (``PreviewStore``): a page view never re-renders nor re-cleans a body. Any HTML from an article
is cleaned again with nh3 (no script, no handler, no frame, no style) before it reaches the
page, image sources become this site's own image routes, and the page's CSP forbids inline
script on top: nothing in an article can script the page.
"""

from __future__ import annotations

import html
import re
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import nh3

from bot.context import Loa
from bot.drafts import PLACEHOLDER_PATH, drafts_for
from channels.base import Check, Draft
from content_queue.models import Article

__all__ = ["Preview", "PreviewStore", "image_paths", "previews_for", "safe_html"]

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
    cover_note: str = ""  # a cover this site cannot show (the channel's default, a remote URL)
    placeholder: str = ""  # the stand-in website address inside ``text``, if any


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


def _cover(article: Article, draft: Draft, root: str) -> tuple[str | None, str]:
    """The cover the channel sends: this site's copy of the article's, or the default's URL."""
    payload_cover = draft.payload.get("cover")
    sent = payload_cover.get("photo_url") if isinstance(payload_cover, dict) else None
    # Zalo says so with a non-blocking "cover" check when it falls back to its default cover.
    fallback = any(c.name == "cover" and not c.ok and not c.blocking for c in draft.checks)
    if sent and (fallback or not image_paths(article)):
        return None, f"Ảnh bìa mặc định của kênh: {sent}"
    return (f"{root}/bai-viet/{article.id}/anh/0", "") if image_paths(article) else (None, "")


def _preview(loa: Loa, article: Article, draft: Draft, root: str) -> Preview:
    cfg = loa.settings.parsed_channels.get(draft.channel)
    kind = _KIND.get(cfg.type if cfg else "", "text")
    link = draft.link
    description = str(
        draft.payload.get("description") or draft.payload.get("excerpt") or article.summary
    )
    cover, note = _cover(article, draft, root)
    placeholder = link if link and link.endswith(PLACEHOLDER_PATH) else ""
    return Preview(
        channel=draft.channel,
        kind=kind,
        title=draft.title,
        text=draft.text,
        html=safe_html(draft.html or article.body_html, article, root),
        link=link,
        link_host=urlsplit(link).netloc if link else "",
        description=description,
        cover=cover,
        checks=draft.checks,
        cover_note=note,
        placeholder=placeholder or "",
    )


def previews_for(loa: Loa, article: Article, root: str) -> list[Preview]:
    """One preview per target channel; a channel that cannot render says why."""
    try:
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


class PreviewStore:
    """Previews rendered once per article revision and delivery states, kept (bounded LRU).

    The key holds everything a draft is rendered from: the article's id, revision and state,
    and each delivery's channel, state and address (the website's link and media arrive with
    its receipt). A page view reads the stored previews; only a change renders again.
    """

    def __init__(self, loa: Loa, root: str, size: int = 256) -> None:
        self.loa, self.root, self.size = loa, root, size
        self._kept: OrderedDict[Hashable, list[Preview]] = OrderedDict()
        self._lock = threading.Lock()
        self.rendered = 0  # how many times a preview was rendered (tests read it)

    @staticmethod
    def key(article: Article) -> Hashable:
        return (
            article.id,
            article.revision,
            article.state,
            tuple(sorted((d.channel, str(d.state), d.url or "") for d in article.deliveries)),
        )

    def get(self, article: Article) -> list[Preview]:
        key = self.key(article)
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        previews = previews_for(self.loa, article, self.root)
        with self._lock:
            self.rendered += 1
            self._kept[key] = previews
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return previews
