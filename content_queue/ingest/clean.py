"""Stage 3, clean: sanitise the HTML, NFC, take the title and metadata lines, check the bounds.

Every step is one pass over the text (the sanitiser is html5ever through nh3; the rest are
``str.find`` walks with a moving index): no regular expression runs over a whole document.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import nh3

from channels.render import html_to_text, nfc
from content_queue.ingest.rules import IngestLimits, IngestRefusal, over_limit, printable_name

__all__ = [
    "LINK_SCHEMES",
    "check_body_bounds",
    "check_html_bounds",
    "sanitise_html",
    "take_title_and_meta",
    "title_text",
]

LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_TAGS = {
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "strong",
    "b",
    "em",
    "i",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "caption",
    "a",
    "img",
    "blockquote",
    "br",
}
_ATTRS = {
    "a": {"href"},
    "img": {"src", "alt"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# Removed with their content: code, styles and the page <title> (read separately as a fallback).
_DROP_WITH_CONTENT = {
    "script",
    "style",
    "title",
    "template",
    "noscript",
    "textarea",
    "iframe",
    "object",
    "svg",
    "math",
}
_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6")
# C0/C1 control characters other than tab and line breaks: never part of an article's text.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Applied to one paragraph's text (a line), never to a document.
_META_RE = re.compile(r"\s*(chủ đề|kênh|đăng lúc|tóm tắt|mã bài)\s*:\s*(.*)", re.I | re.S)
_META_KEYS = {
    "chủ đề": "topic",
    "kênh": "channels",
    "đăng lúc": "publish_at",
    "tóm tắt": "summary",
    "mã bài": "id",
}


def _link_allowed(value: str) -> bool:
    """Only absolute http(s) links with a host, mailto: and tel:; no ``//host`` nor relative."""
    value = value.strip()
    if value.startswith(("//", "\\", "/\\")):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if scheme not in LINK_SCHEMES:
        return False
    return bool(parts.netloc) if scheme in ("http", "https") else bool(parts.path)


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if tag == "a" and attr == "href":
        return value.strip() if _link_allowed(value) else None
    if tag == "img" and attr == "src" and value.strip().lower().startswith(("data:", "blob:")):
        return None
    if attr in ("colspan", "rowspan"):  # a table cell spans a few columns, not a million
        value = value.strip()
        return value if value.isdigit() and 1 <= int(value[:4]) <= 100 and len(value) <= 3 else None
    return value


def sanitise_html(fragment: str, limits: IngestLimits | None = None, name: str = "") -> str:
    """NFC HTML with only the tags and links Loa publishes (no scripts, handlers, iframes, js: or
    relative links) and no control characters.

    With ``limits``: a picture's description is cut to ``max_alt_chars``, and a link longer than
    ``max_link_chars`` refuses the file (named ``name`` in the refusal)."""
    too_long: list[str] = []

    def bounded(tag: str, attr: str, value: str) -> str | None:
        kept = _attribute_filter(tag, attr, value)
        if kept is None or limits is None:
            return kept
        if attr == "href" and len(kept) > limits.max_link_chars:
            too_long.append(kept)
            return None
        if attr == "alt" and len(kept) > limits.max_alt_chars:
            return kept[: limits.max_alt_chars]
        return kept

    clean = nh3.clean(
        _CONTROL_RE.sub("", nfc(fragment)),
        tags=_TAGS,
        attributes=_ATTRS,
        clean_content_tags=_DROP_WITH_CONTENT,
        attribute_filter=bounded,
        url_schemes=set(LINK_SCHEMES),
        link_rel=None,
    )
    if too_long and limits is not None:
        longest = max(too_long, key=len)
        raise IngestRefusal(
            "link_too_long",
            f"Bài “{name}” có liên kết dài {len(longest):,} ký tự, vượt giới hạn "
            f"{limits.max_link_chars:,} ký tự: “{printable_name(longest, 80)}”.".replace(",", "."),
            "Hãy thay bằng địa chỉ ngắn (trang gốc của văn bản hoặc trang tin) rồi gửi lại.",
        )
    return clean


def _strip_tags(text: str) -> str:
    return html.unescape(nh3.clean(text, tags=set(), clean_content_tags=_DROP_WITH_CONTENT))


def title_text(title: str) -> str:
    """A title is text: tags removed (script/style with their content), entities decoded,
    control characters dropped, spaces collapsed. Decoding may reveal markup written as
    entities (``&lt;b&gt;``): that is stripped too."""
    if "<" in title or "&" in title:
        title = _strip_tags(title)
        if "<" in title:
            title = _strip_tags(title)
    return " ".join(_CONTROL_RE.sub("", title).split())


def _block_at(body: str, pos: int) -> tuple[str, str, int] | None:
    """(tag, inner HTML, end) of the ``<p>``/``<hN>`` starting at ``pos`` (after spaces), or None."""
    n = len(body)
    while pos < n and body[pos] in " \t\r\n":
        pos += 1
    if not body.startswith("<", pos):
        return None
    for tag in _BLOCKS:
        if body.startswith(f"<{tag}>", pos):
            close = body.find(f"</{tag}>", pos)
            if close < 0:
                return None
            return tag, body[pos + len(tag) + 2 : close], close + len(tag) + 3
    return None


def take_title_and_meta(
    body: str, preferred: str, fallback: str
) -> tuple[str, dict[str, str], str]:
    """Leading metadata lines removed; title = ``preferred``, first h1, ``fallback``, first line."""
    meta: dict[str, str] = {}
    title = " ".join(preferred.split())
    pos = 0
    while block := _block_at(body, pos):
        tag, inner, end = block
        # Plain text needs no parsing: the common case (a metadata line) stays cheap.
        text = (
            " ".join(inner.split())
            if "<" not in inner and "&" not in inner
            else (html_to_text(inner))
        )
        meta_match = _META_RE.fullmatch(text) if text else None
        if text and not meta_match and not title and tag == "h1":
            title = text
        elif (text and not meta_match) or "<img" in inner:
            break
        elif meta_match:
            meta[_META_KEYS[meta_match.group(1).lower()]] = meta_match.group(2).strip()
        pos = end
    body = body[pos:]
    if (
        not title
        and (start := body.find("<h1>")) >= 0
        and (close := body.find("</h1>", start)) >= 0
    ):
        title = html_to_text(body[start + 4 : close])
        body = body[:start] + body[close + 5 :]
    if not title and fallback:
        title = fallback
    if not title and (first := _block_at(body, 0)) and first[0] == "p":
        title = html_to_text(first[1])
        body = body[first[2] :]
    body = body.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    return " ".join(title.split()), meta, body.strip()


def check_html_bounds(body_html: str, name: str, limits: IngestLimits) -> None:
    """Refuses an article whose HTML outgrows ``max_body_html_bytes``, naming the bound."""
    size = len(body_html.encode("utf-8", "surrogatepass"))
    if size > limits.max_body_html_bytes:
        raise over_limit(
            "body_html_too_large",
            f"Mã trang (HTML) của bài “{name}” nặng",
            size,
            limits.max_body_html_bytes,
            "MB",
            "Bài có quá nhiều định dạng, bảng hoặc liên kết dài so với phần chữ. Hãy chép phần "
            "chữ sang một tệp Word mới (Dán → Chỉ giữ văn bản), định dạng lại đơn giản rồi gửi lại.",
        )


def check_body_bounds(body_text: str, name: str, limits: IngestLimits) -> None:
    """Refuses a body longer than ``max_body_chars`` characters, naming the bound."""
    if len(body_text) > limits.max_body_chars:
        raise over_limit(
            "body_too_long",
            f"Nội dung bài “{name}” dài",
            len(body_text),
            limits.max_body_chars,
            "ký tự",
            "Hãy tách thành nhiều bài ngắn hơn hoặc đưa phần phụ lục thành tệp đính "
            "kèm trên website.",
        )
