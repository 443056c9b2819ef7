"""The report's "Hỏi đáp" section: citizens' questions in the period, counts only.

Questions received, answered automatically, handed over, median time to a person's answer,
unanswered; and the topics most asked with no good source (handed over), worded as suggestions
for new articles. Never a name, an id or a message: topics are two-word phrases shared by the
questions, the kind of words an article title would use.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.assistant.folding import STOP_WORDS, fold
from content_queue.store import Store

__all__ = ["CitizenSection", "citizen_section", "docx_lines", "table"]

TOPICS = 5
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class CitizenSection:
    received: int
    answered: int
    handed_over: int
    human_answered: int
    unanswered: int
    median_human_minutes: float | None
    topics: list[tuple[str, int]] = field(default_factory=list)  # (phrase, questions)


def gap_topics(texts: tuple[str, ...] | list[str], limit: int = TOPICS) -> list[tuple[str, int]]:
    """The two-word phrases most shared by ``texts`` (each text counted once per phrase)."""
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for text in texts:
        words = [w for w in _WORD.findall(text) if not w.isdigit()]
        seen: set[str] = set()
        for a, b in zip(words, words[1:], strict=False):
            fa, fb = fold(a), fold(b)
            if fa in STOP_WORDS or fb in STOP_WORDS or len(fa) < 2 or len(fb) < 2:
                continue
            key = f"{fa} {fb}"
            if key not in seen:
                seen.add(key)
                counts[key] += 1
                shown.setdefault(key, f"{a} {b}".lower())
    # A phrase of one question alone is no topic (and could be a part of what identifies them).
    return [(shown[k], n) for k, n in counts.most_common(limit) if n >= 2]


def citizen_section(store: Store, lo: datetime, hi: datetime) -> CitizenSection:
    """The section's figures for [lo, hi)."""
    f = store.citizens.figures(lo, hi)
    return CitizenSection(
        f.received,
        f.answered,
        f.handed_over,
        f.human_answered,
        f.unanswered,
        f.median_human_minutes,
        gap_topics(f.handed_over_texts),
    )


def _duration(minutes: float | None) -> str:
    if minutes is None:
        return "không có số liệu"
    if minutes < 60:
        return f"{minutes:.0f} phút"
    return f"{minutes / 60:.1f} giờ".replace(".", ",")


def docx_lines(s: CitizenSection) -> tuple[str, list[str]]:
    """The section's paragraph and its suggestions, in Vietnamese."""
    text = (
        f"Trợ lý hỏi đáp trên Zalo và Facebook đã nhận {s.received} câu hỏi của người dân, "
        f"tổ chức; tự động trả lời (kèm đường dẫn nguồn) {s.answered} câu; chuyển cán bộ "
        f"{s.handed_over} câu, trong đó đã trả lời {s.human_answered} câu, thời gian trả lời "
        f"trung vị {_duration(s.median_human_minutes)}; chưa trả lời {s.unanswered} câu."
    )
    suggestions = [
        f"Đề xuất viết tin, bài về «{phrase}» ({n} câu hỏi chưa có nguồn phù hợp)."
        for phrase, n in s.topics
    ]
    return text, suggestions


def table(s: CitizenSection) -> tuple[str, list[str], list[list[Any]]]:
    """The section as a (title, header, rows) table of the XLSX file."""
    rows: list[list[Any]] = [
        ["Câu hỏi nhận được", s.received],
        ["Trợ lý tự động trả lời", s.answered],
        ["Chuyển cán bộ", s.handed_over],
        ["Cán bộ đã trả lời", s.human_answered],
        ["Chưa trả lời", s.unanswered],
        [
            "Thời gian trả lời trung vị (phút)",
            round(s.median_human_minutes, 1) if s.median_human_minutes is not None else None,
        ],
    ]
    rows += [[f"Chủ đề chưa có nguồn: {phrase}", n] for phrase, n in s.topics]
    return ("Hỏi đáp", ["Chỉ số", "Giá trị"], rows)
