"""Article HTML as the body of a Zalo OA article: text blocks of simple inline HTML, and images."""

from __future__ import annotations

import html
from html.parser import HTMLParser

from channels import render

__all__ = ["BodyBlocks", "plain_text"]


class BodyBlocks(HTMLParser):
    """Article HTML → Zalo body: text blocks (simple inline HTML) and image positions."""

    BLOCKS = {
        "p",
        "div",
        "li",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "figcaption",
        "tr",
        "pre",
    }
    INLINE = {"b": "b", "strong": "b", "i": "i", "em": "i", "u": "u"}
    SKIP = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str, str]] = []  # ("text", html, "") | ("image", src, alt)
        self._parts: list[str] = []
        self._open: list[str] = []
        self._heading = False
        self._skip = 0

    def _flush(self) -> None:
        content = " ".join("".join(self._parts + [f"</{t}>" for t in reversed(self._open)]).split())
        content = content.replace("<br> ", "<br>").replace(" <br>", "<br>")
        self._parts, self._open = [], []
        plain = content.replace("<br>", "")
        for tag in self.INLINE.values():
            plain = plain.replace(f"<{tag}>", "").replace(f"</{tag}>", "")
        if plain.strip(" •"):
            self.blocks.append(("text", f"<b>{content}</b>" if self._heading else content, ""))
        self._heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif tag in self.BLOCKS:
            self._flush()
            self._heading = tag[0] == "h" and tag[1:].isdigit()
            if tag == "li":
                self._parts.append("• ")
        elif tag == "img":
            self._flush()
            values = dict(attrs)
            self.blocks.append(("image", values.get("src") or "", values.get("alt") or ""))
        elif tag == "br":
            self._parts.append("<br>")
        elif tag in ("td", "th"):
            self._parts.append(" ")
        elif tag in self.INLINE:
            self._open.append(self.INLINE[tag])
            self._parts.append(f"<{self.INLINE[tag]}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(self._skip - 1, 0)
        elif tag in self.BLOCKS:
            self._flush()
        elif tag in self.INLINE and self.INLINE[tag] in self._open:
            self._open.remove(self.INLINE[tag])
            self._parts.append(f"</{self.INLINE[tag]}>")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._parts.append(html.escape(render.nfc(data), quote=False))

    def close(self) -> None:
        super().close()
        self._flush()


def plain_text(fragment: str) -> str:
    """The words of an HTML fragment on one line (scripts and styles dropped), NFC."""
    parser = BodyBlocks()
    parser.feed(render.nfc(fragment))
    parser.close()
    texts = [render.html_to_text(value) for kind, value, _ in parser.blocks if kind == "text"]
    return " ".join(" ".join(texts).split())
