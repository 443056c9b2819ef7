"""Stage 5, assemble the article: metadata checked (channels, time, topic, lengths) into a
``ParsedArticle``."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from channels.render import nfc, truncate_words
from content_queue.ingest.rules import IngestLimits, IngestRefusal, printable_name
from content_queue.ingest.topic import parse_topic, suggest_topic
from content_queue.models import ParsedArticle, ParsedImage
from content_queue.topics import Topic

__all__ = ["Cleaned", "assemble", "parse_publish_at"]

_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M")


@dataclass(frozen=True)
class Cleaned:
    """What the earlier stages produced: sanitised body with its pictures, title and metadata."""

    title: str
    body_html: str
    body_text: str
    meta: Mapping[str, Any]
    images: tuple[ParsedImage, ...]
    cover: ParsedImage | None
    source_name: str
    content_hash: str


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
                f"Không hiểu thời điểm đăng “{printable_name(text, 60)}”.",
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
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
    else:
        items = str(value).replace(";", ",").split(",")
    names = [nfc(v).strip().lower() for v in items]
    names = [n for n in names if n]
    unknown = [printable_name(n, 40) for n in names if n not in known]
    if unknown:
        raise IngestRefusal(
            "unknown_channel",
            f"Kênh không có trong cấu hình: {', '.join(unknown[:10])}.",
            f"Các kênh đang có: {', '.join(sorted(known))}. Hãy sửa dòng “Kênh:” cho đúng "
            "hoặc bỏ dòng này để đăng trên mọi kênh.",
        )
    return tuple(dict.fromkeys(names))


def assemble(
    cleaned: Cleaned,
    *,
    known_channels: Collection[str],
    topics: Mapping[str, Topic],
    limits: IngestLimits,
    now: datetime,
    tz: ZoneInfo,
) -> ParsedArticle:
    """The article to store, or a refusal saying which piece of metadata is wrong."""
    meta, title, body_text = cleaned.meta, cleaned.title, cleaned.body_text
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
        first = body_text.split("\n\n", 1)[0] if body_text else title
        summary = truncate_words(first[: limits.summary_max * 4], limits.summary_max)
    if meta.get("topic") not in (None, ""):
        topic, suggested, reason = parse_topic(meta["topic"], topics), False, None
    else:
        topic, reason = suggest_topic(f"{title}\n{body_text}", topics)
        suggested = True
    external_id = meta.get("id")
    return ParsedArticle(
        title=title,
        summary=summary,
        body_html=cleaned.body_html,
        body_text=body_text,
        topic=topic,
        topic_suggested=suggested,
        topic_reason=reason,
        channels=_parse_channels(meta.get("channels"), known_channels),
        publish_at=parse_publish_at(meta.get("publish_at"), now=now, tz=tz),
        cover=cleaned.cover,
        images=cleaned.images,
        external_id=nfc(str(external_id)).strip()[:200] if external_id not in (None, "") else None,
        source_name=cleaned.source_name,
        content_hash=cleaned.content_hash,
    )
