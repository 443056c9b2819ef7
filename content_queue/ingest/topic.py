"""Topic of an article (part of assembling it): the editor's choice validated, or a suggestion."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from channels.render import nfc
from content_queue.ingest.rules import IngestRefusal, printable_name
from content_queue.topics import Topic

__all__ = ["parse_topic", "suggest_topic"]

FALLBACK_TOPIC = "i"


def parse_topic(value: Any, topics: Mapping[str, Topic]) -> str:
    """The topic key for ``đ``, ``Đ``, ``dd``, ``đ)``, ``(a)``…; ``d`` and ``đ`` stay different."""
    key = nfc(str(value)).strip().lower().strip("().: ")
    if key == "dd":
        key = "đ"
    if key not in topics:
        listed = ", ".join(f"{k}) {t.label}" for k, t in topics.items())
        raise IngestRefusal(
            "unknown_topic",
            f"Chủ đề “{printable_name(str(value).strip(), 40)}” không có trong kế hoạch.",
            f"Hãy ghi một trong các chủ đề: {listed}. Lưu ý “d” và “đ” là hai chủ đề khác nhau "
            "(có thể ghi “dd” thay cho “đ”).",
        )
    return key


def _count(keyword: str, text: str) -> int:
    return len(re.findall(rf"(?<!\w){re.escape(keyword)}(?!\w)", text))


def suggest_topic(text: str, topics: Mapping[str, Topic]) -> tuple[str, str]:
    """The best-scoring topic by keyword occurrences, with the reason in Vietnamese."""
    text = nfc(text).lower()
    best: tuple[int, int, int] | None = None
    best_key, best_hits = "", []
    for order, (key, topic) in enumerate(topics.items()):
        hits = [(kw, n) for kw in topic.keywords if (n := _count(nfc(kw).lower(), text))]
        score = (sum(n for _, n in hits), len(hits), -order)
        if hits and (best is None or score > best):
            best, best_key, best_hits = score, key, hits
    if not best_hits:
        fallback = topics.get(FALLBACK_TOPIC) or next(iter(topics.values()))
        return fallback.key, (
            f"Không thấy từ khóa của chủ đề nào; tạm xếp vào {fallback.key}) {fallback.label}. "
            "Hãy chọn lại chủ đề khi duyệt."
        )
    best_hits.sort(key=lambda h: -h[1])
    words = ", ".join(f"“{kw}” ({n} lần)" if n > 1 else f"“{kw}”" for kw, n in best_hits)
    return best_key, f"Gợi ý theo từ khóa: {words}"
