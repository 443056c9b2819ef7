"""One file's way through ingestion, one direction only:

    open the source (file, folder, zip)        sources.open_source
 -> convert the format (docx, md, html)        convert.convert (docx.py, frontmatter.py)
 -> clean (sanitise, NFC, title/meta, bounds)  clean.py
 -> collect media (check and copy pictures)    media.py
 -> assemble the article (metadata checked)    assemble.py (topic.py)

``parse_file`` runs the stages in the calling process; ``worker.parse_isolated`` runs it in a
child process with memory and CPU limits, which is how the service and the bot call it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from channels.render import html_to_text, nfc
from content_queue.ingest.assemble import Cleaned, assemble
from content_queue.ingest.clean import (
    check_body_bounds,
    check_html_bounds,
    sanitise_html,
    take_title_and_meta,
    title_text,
)
from content_queue.ingest.convert import convert
from content_queue.ingest.media import MediaCollector, collect_images, pick_cover
from content_queue.ingest.rules import IngestLimits, IngestRefusal, printable_name
from content_queue.ingest.sources import open_source
from content_queue.models import ParsedArticle
from content_queue.topics import Topic

__all__ = ["parse_file"]


def parse_file(
    path: Path,
    *,
    known_channels: Collection[str],
    topics: Mapping[str, Topic],
    limits: IngestLimits,
    now: datetime,
    tz: ZoneInfo,
    media_dir: Path,
    staging_dir: Path | None = None,
) -> ParsedArticle:
    """The cleaned article held in ``path`` (file, folder or .zip), or an ``IngestRefusal``.

    Pictures are named in ``media_dir``; with ``staging_dir`` they are written there instead,
    for the caller to move once the article is accepted (``media.promote_media``)."""
    shown = printable_name(path.name)
    source = open_source(path, limits)
    folder = source.content_hash[:12]
    media = MediaCollector(
        media_dir / folder, limits, staging_dir / folder if staging_dir is not None else None
    )
    converted = convert(source, limits, media)
    title, meta, body = take_title_and_meta(
        sanitise_html(converted.html, limits, shown),
        nfc(str(converted.front.get("title") or "")),
        converted.page_title,
    )
    marked_up, title = title, title_text(title)
    if marked_up and not title:
        raise IngestRefusal(
            "title_markup_only",
            f"Tiêu đề của “{shown}” chỉ có thẻ định dạng (mã HTML), không có chữ: "
            f"“{printable_name(marked_up, 80)}”.",
            "Tiêu đề là chữ thường: hãy gõ lại tiêu đề, không dùng thẻ như <b>, <script>.",
        )
    merged: dict[str, object] = {
        **meta,
        **{k: v for k, v in converted.front.items() if v is not None},
    }
    body_text = html_to_text(body)
    check_body_bounds(body_text, shown, limits)
    check_html_bounds(body, shown, limits)  # before pictures are read: refused early and cheap
    body = collect_images(body, source, media)
    check_html_bounds(body, shown, limits)
    cover = pick_cover(merged.get("cover"), source, media)
    if not body_text and not media.images:
        raise IngestRefusal(
            "empty",
            f"Tệp “{shown}” không có nội dung bài viết.",
            "Hãy kiểm tra lại tệp: bài cần có tiêu đề và ít nhất một đoạn nội dung.",
        )
    if not title:
        raise IngestRefusal(
            "no_title",
            f"Không tìm thấy tiêu đề trong “{shown}”.",
            "Hãy đặt tiêu đề ở dòng đầu tiên (kiểu Title hoặc Heading 1 trong Word, "
            "dòng “# …” hoặc “title:” trong Markdown, thẻ <h1> trong HTML).",
        )
    cleaned = Cleaned(
        title=title,
        body_html=body,
        body_text=body_text,
        meta=merged,
        images=tuple(media.images),
        cover=cover,
        source_name=printable_name(path.name, 200),
        content_hash=source.content_hash,
    )
    return assemble(
        cleaned, known_channels=known_channels, topics=topics, limits=limits, now=now, tz=tz
    )
