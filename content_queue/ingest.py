"""Reading an article file (.docx, .md, .html, folder or .zip) into a clean ``ParsedArticle``.

Everything here is pure apart from reading the source and writing checked images to ``media_dir``;
the store and the inbox decide what happens next. Every refusal is an ``IngestRefusal`` carrying a
Vietnamese reason and hint for the editor.
"""

from __future__ import annotations

import html
import logging
import re
import tempfile
from collections.abc import Collection, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import nh3
import yaml
from markdown_it import MarkdownIt

from channels.render import html_to_text, nfc, truncate_words
from content_queue.ingest_docx import docx_to_html
from content_queue.ingest_media import MediaStore
from content_queue.ingest_rules import IngestLimits, IngestRefusal
from content_queue.ingest_sources import decode_text, open_source
from content_queue.ingest_topic import parse_topic, suggest_topic
from content_queue.models import ParsedArticle, ParsedImage
from content_queue.topics import Topic

__all__ = ["IngestLimits", "IngestRefusal", "parse_file", "parse_publish_at", "sanitise_html"]

log = logging.getLogger(__name__)

_TAGS = {"p", "h1", "h2", "h3", "h4", "strong", "b", "em", "i", "ul", "ol", "li", "table", "thead",
         "tbody", "tfoot", "tr", "th", "td", "caption", "a", "img", "blockquote", "br"}
_ATTRS = {"a": {"href"}, "img": {"src", "alt"}, "td": {"colspan", "rowspan"},
          "th": {"colspan", "rowspan"}}
_BLOCK_RE = re.compile(r"^\s*<(p|h[1-6])>(.*?)</\1>", re.S)
_H1_RE = re.compile(r"<h1>(.*?)</h1>", re.S)
_IMG_RE = re.compile(r'<img\b[^>]*?\bsrc="([^"]*)"[^>]*>')
_META_RE = re.compile(r"^\s*(chủ đề|kênh|đăng lúc|tóm tắt|mã bài)\s*:\s*(.*)$", re.I | re.S)
_META_KEYS = {"chủ đề": "topic", "kênh": "channels", "đăng lúc": "publish_at",
              "tóm tắt": "summary", "mã bài": "id"}
_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M")
_markdown = MarkdownIt("commonmark").enable("table")


def sanitise_html(fragment: str) -> str:
    """NFC HTML with only the tags Loa publishes: no scripts, handlers, iframes or js: links."""
    return nh3.clean(nfc(fragment), tags=_TAGS, attributes=_ATTRS,
                     url_schemes={"http", "https", "mailto", "tel"}, link_rel=None)


def parse_publish_at(value: Any, *, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The requested publish time in UTC (local times are read in ``tz``); refuses past times."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        when = value
    else:
        text = nfc(str(value)).strip()
        for fmt in _DATE_FORMATS:
            try:
                when = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise IngestRefusal(
                "publish_at_format",
                f"Không hiểu thời điểm đăng “{text}”.",
                "Hãy ghi theo dạng YYYY-MM-DD HH:MM (giờ Việt Nam), ví dụ “Đăng lúc: 2026-12-01 08:30”.",
            )
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    if when <= now:
        shown = when.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        raise IngestRefusal(
            "publish_at_past",
            f"Thời điểm đăng {shown} đã qua.",
            "Hãy ghi một thời điểm trong tương lai theo dạng YYYY-MM-DD HH:MM, "
            "hoặc bỏ dòng này để đăng ngay khi bài được duyệt.",
        )
    return when.astimezone(ZoneInfo("UTC"))


def _parse_channels(value: Any, known: Collection[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list | tuple) else re.split(r"[,;]", str(value))
    names = [nfc(str(v)).strip().lower() for v in items]
    names = [n for n in names if n]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise IngestRefusal(
            "unknown_channel",
            f"Kênh không có trong cấu hình: {', '.join(unknown)}.",
            f"Các kênh đang có: {', '.join(sorted(known))}. Hãy sửa dòng “Kênh:” cho đúng "
            "hoặc bỏ dòng này để đăng trên mọi kênh.",
        )
    return tuple(dict.fromkeys(names))


def _split_front_matter(text: str, name: str) -> tuple[dict[str, Any], str]:
    if not text.startswith("---"):
        return {}, text
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            try:
                meta = yaml.safe_load("".join(lines[1:i])) or {}
            except yaml.YAMLError as exc:
                meta = exc
            if not isinstance(meta, dict):
                raise IngestRefusal(
                    "front_matter",
                    f"Phần thông tin đầu tệp “{name}” (giữa hai dòng ---) không đọc được.",
                    "Mỗi dòng phải có dạng “khóa: giá trị”, ví dụ “title: Tiêu đề bài”.",
                )
            return {str(k).lower(): v for k, v in meta.items()}, "".join(lines[i + 1 :])
    return {}, text


def _take_title_and_meta(
    body: str, preferred: str, fallback: str
) -> tuple[str, dict[str, str], str]:
    """Leading metadata lines removed; title = ``preferred``, first h1, ``fallback``, first line."""
    meta: dict[str, str] = {}
    title = " ".join(preferred.split())
    while match := _BLOCK_RE.match(body):
        text = html_to_text(match.group(2))
        meta_match = _META_RE.match(text)
        if text and not meta_match and not title and match.group(1) == "h1":
            title = text
        elif (text and not meta_match) or "<img" in match.group(2):
            break
        elif meta_match:
            meta[_META_KEYS[meta_match.group(1).lower()]] = meta_match.group(2).strip()
        body = body[match.end() :]
    if not title and (h1 := _H1_RE.search(body)):
        title = html_to_text(h1.group(1))
        body = body[: h1.start()] + body[h1.end() :]
    if not title and fallback:
        title = fallback
    if not title and (first := _BLOCK_RE.match(body)) and first.group(1) == "p":
        title = html_to_text(first.group(2))
        body = body[first.end() :]
    body = body.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    return " ".join(title.split()), meta, body.strip()


def _localise_images(body: str, base: Path, media: MediaStore) -> str:
    """Relative image paths replaced by checked copies in the media folder; remote ones kept."""
    stored = media.paths()
    root = base.resolve()

    def replace(match: re.Match[str]) -> str:
        src = html.unescape(match.group(1))
        if not src or src in stored or src.startswith(("http://", "https://")):
            return match.group(0) if src else ""
        target = (root / unquote(src)).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            raise IngestRefusal(
                "image_missing",
                f"Không tìm thấy ảnh “{src}” được dùng trong bài.",
                "Hãy đặt ảnh cùng thư mục với tệp bài (hoặc trong tệp .zip) và ghi đúng tên ảnh.",
            )
        alt = re.search(r'\balt="([^"]*)"', match.group(0))
        image = media.add(target.read_bytes(), src, html.unescape(alt.group(1)) if alt else "")
        return match.group(0).replace(match.group(1), html.escape(image.path, quote=True))

    return _IMG_RE.sub(replace, body)


def _pick_cover(value: Any, base: Path, media: MediaStore) -> ParsedImage | None:
    if value:
        html_img = f'<img src="{html.escape(str(value), quote=True)}">'
        src = _IMG_RE.match(_localise_images(html_img, base, media))
        by_path = {image.path: image for image in media.images}
        if src and html.unescape(src.group(1)) in by_path:
            return by_path[html.unescape(src.group(1))]
    return media.images[0] if media.images else None


def parse_file(
    path: Path,
    *,
    known_channels: Collection[str],
    topics: Mapping[str, Topic],
    limits: IngestLimits,
    now: datetime,
    tz: ZoneInfo,
    media_dir: Path,
) -> ParsedArticle:
    """The cleaned article held in ``path`` (file, folder or .zip), or an ``IngestRefusal``."""
    with tempfile.TemporaryDirectory(prefix="loa-ingest-") as work:
        source = open_source(path, limits, Path(work))
        media = MediaStore(media_dir / source.content_hash[:12], limits)
        article = source.article
        suffix = article.suffix.lower()
        front: dict[str, Any] = {}
        fallback_title = ""
        if suffix == ".docx":
            raw = docx_to_html(article, limits, media)
        else:
            text = nfc(decode_text(article.read_bytes(), article.name))
            if suffix in (".md", ".markdown"):
                front, text = _split_front_matter(text, article.name)
                raw = _markdown.render(text)
            else:
                raw = text
                if m := re.search(r"<title[^>]*>(.*?)</title>", raw, re.S | re.I):
                    fallback_title = html_to_text(m.group(1))
                if m := re.search(r"<body[^>]*>(.*)</body>", raw, re.S | re.I):
                    raw = m.group(1)
        title, meta, body = _take_title_and_meta(
            sanitise_html(raw), nfc(str(front.get("title") or "")), fallback_title
        )
        meta.update({k: v for k, v in front.items() if v is not None})
        body = _localise_images(body, source.base, media)
        body_text = html_to_text(body)
        if not body_text and not media.images:
            raise IngestRefusal(
                "empty",
                f"Tệp “{path.name}” không có nội dung bài viết.",
                "Hãy kiểm tra lại tệp: bài cần có tiêu đề và ít nhất một đoạn nội dung.",
            )
        if not title:
            raise IngestRefusal(
                "no_title",
                f"Không tìm thấy tiêu đề trong “{path.name}”.",
                "Hãy đặt tiêu đề ở dòng đầu tiên (kiểu Title hoặc Heading 1 trong Word, "
                "dòng “# …” hoặc “title:” trong Markdown, thẻ <h1> trong HTML).",
            )
        if len(title) > limits.title_max:
            raise IngestRefusal(
                "title_too_long",
                f"Tiêu đề dài {len(title)} ký tự, vượt giới hạn {limits.title_max} ký tự của "
                f"{limits.title_max_channel}.",
                f"Hãy rút gọn tiêu đề còn tối đa {limits.title_max} ký tự.",
            )
        summary = " ".join(nfc(str(meta.get("summary") or "")).split())
        if len(summary) > limits.summary_max:
            raise IngestRefusal(
                "summary_too_long",
                f"Tóm tắt dài {len(summary)} ký tự, vượt giới hạn {limits.summary_max} ký tự.",
                f"Hãy rút gọn tóm tắt còn tối đa {limits.summary_max} ký tự, hoặc bỏ trống để "
                "Loa tự lấy đoạn đầu của bài.",
            )
        if not summary:
            summary = truncate_words(body_text.split("\n\n")[0] if body_text else title,
                                     limits.summary_max)
        if meta.get("topic") not in (None, ""):
            topic, suggested, reason = parse_topic(meta["topic"], topics), False, None
        else:
            topic, reason = suggest_topic(f"{title}\n{body_text}", topics)
            suggested = True
        external_id = meta.get("id")
        return ParsedArticle(
            title=title,
            summary=summary,
            body_html=body,
            body_text=body_text,
            topic=topic,
            topic_suggested=suggested,
            topic_reason=reason,
            channels=_parse_channels(meta.get("channels"), known_channels),
            publish_at=parse_publish_at(meta.get("publish_at"), now=now, tz=tz),
            cover=_pick_cover(meta.get("cover"), source.base, media),
            images=tuple(media.images),
            external_id=nfc(str(external_id)).strip() if external_id not in (None, "") else None,
            source_name=nfc(path.name),
            content_hash=source.content_hash,
        )
