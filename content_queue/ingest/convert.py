"""Stage 2, convert the format: .docx, Markdown or HTML to one HTML fragment plus its metadata."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from markdown_it import MarkdownIt

from channels.render import html_to_text, nfc
from content_queue.ingest.clean import sanitise_html
from content_queue.ingest.docx import docx_to_html
from content_queue.ingest.frontmatter import split_front_matter
from content_queue.ingest.media import MediaCollector
from content_queue.ingest.rules import IngestLimits
from content_queue.ingest.sources import Source, decode_text

__all__ = ["Converted", "convert"]

_markdown = MarkdownIt("commonmark").enable("table")
# Literal patterns (nothing to backtrack over), searched once each.
_TITLE_OPEN = re.compile("<title", re.I)
_TITLE_CLOSE = re.compile("</title", re.I)


@dataclass(frozen=True)
class Converted:
    """The article as raw (unsanitised) HTML, its front matter and the page title, if any."""

    html: str
    front: dict[str, object] = field(default_factory=dict)
    page_title: str = ""


def _page_title(page: str) -> str:
    """The text of the first ``<title>`` of an HTML page, found with three searches."""
    start = _TITLE_OPEN.search(page)
    if start is None:
        return ""
    open_end = page.find(">", start.end())
    close = _TITLE_CLOSE.search(page, open_end) if open_end >= 0 else None
    if close is None:
        return ""
    return html_to_text(sanitise_html(page[open_end + 1 : close.start()]))


def convert(source: Source, limits: IngestLimits, media: MediaCollector) -> Converted:
    """The article file of ``source`` as HTML; .docx images go straight to ``media``."""
    name = source.article_name
    suffix = PurePosixPath(name).suffix.lower()
    if suffix == ".docx":
        return Converted(docx_to_html(source.article, name, limits, media))
    text = nfc(decode_text(source.article, name))
    if suffix in (".md", ".markdown"):
        front, text = split_front_matter(text, name, limits)
        return Converted(_markdown.render(text), front)
    return Converted(text, {}, _page_title(text))
