"""Rendering helpers shared by every adapter: NFC, slugs, word-boundary cuts, hashtags, fingerprints.

All functions are pure.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Iterable

__all__ = [
    "fingerprint",
    "hashtag_line",
    "html_to_text",
    "nfc",
    "slugify",
    "truncate_words",
    "utf16_len",
    "vi_number",
]

_SPACE_RE = re.compile(r"\s+")
_TAG_RE = re.compile(r"<[^>]+>")
_BLOCK_END_RE = re.compile(r"</(p|div|h[1-6]|li|tr|table|ul|ol|blockquote)>|<br\s*/?>", re.I)


def vi_number(n: int | float | None, decimals: int = 1, missing: str = "không có số liệu") -> str:
    """``n`` as Vietnamese write it: dot thousands, decimal comma (``63.206``, ``0,5``).

    The one number formatter of Loa: the bot, the web page, reports and checks all call it.
    """
    if n is None:
        return missing
    if isinstance(n, float) and not n.is_integer():
        text = f"{n:,.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return f"{int(n):,}".replace(",", ".")


def nfc(text: str) -> str:
    """Vietnamese text in composed form (NFC): Word and the web often send it decomposed."""
    return unicodedata.normalize("NFC", text)


def slugify(text: str, max_length: int = 80) -> str:
    """A readable ASCII slug: diacritics dropped (đ → d), words joined by hyphens."""
    text = nfc(text).replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(text) > max_length:
        text = text[:max_length].rsplit("-", 1)[0] or text[:max_length]
    return text.strip("-")


def truncate_words(text: str, limit: int, ellipsis: str = "…") -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, with an ellipsis if cut."""
    text = _SPACE_RE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    room = max(limit - len(ellipsis), 0)
    cut = text[:room]
    if " " in cut and not text[room : room + 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-–") + ellipsis


def hashtag_line(tags: Iterable[str]) -> str:
    """``#CCHC #LangSon`` from configured tags (a leading # is optional, spaces are removed)."""
    out = []
    for tag in tags:
        tag = nfc(tag).strip().lstrip("#").replace(" ", "")
        if tag:
            out.append("#" + tag)
    return " ".join(out)


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, one paragraph per line."""
    text = _BLOCK_END_RE.sub("\n", fragment)
    text = html.unescape(_TAG_RE.sub("", text))
    lines = [_SPACE_RE.sub(" ", line).strip() for line in text.splitlines()]
    return "\n\n".join(line for line in lines if line)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram and Facebook count it."""
    return len(text.encode("utf-16-le")) // 2


def fingerprint(*parts: str | None) -> str:
    """A short stable hash of the normalised parts, used to recognise our own earlier post."""
    norm = "\x1f".join(_SPACE_RE.sub(" ", nfc(p or "")).strip() for p in parts)
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:16]
