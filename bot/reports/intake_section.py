"""The report's section on citizens' voices: comments, petitions and takedown requests.

Counts only (personal data: never a name, an id or a text): comments received / answered /
hidden / deleted; petitions received, answered on time, overdue, median time to answer;
takedown requests, acted on, overdue, median time to act.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from content_queue.cases import CaseCounts
from content_queue.comments import CommentCounts
from content_queue.store import Store

__all__ = ["IntakeFigures", "intake_docx", "intake_figures", "intake_rows", "intake_table"]


@dataclass(frozen=True)
class IntakeFigures:
    comments: CommentCounts
    petitions: CaseCounts
    takedowns: CaseCounts


def intake_figures(store: Store, lo: datetime, hi: datetime, now: datetime) -> IntakeFigures:
    return IntakeFigures(
        store.comments.counts_between(lo, hi),
        store.cases.counts_between("petition", lo, hi, now),
        store.cases.counts_between("takedown", lo, hi, now),
    )


def _hours(h: float | None) -> str:
    return "—" if h is None else f"{h:.1f}".replace(".", ",") + " giờ"


def intake_rows(f: IntakeFigures) -> list[tuple[str, str, Any]]:
    """(group, figure, value) rows, in Vietnamese."""
    c, p, t = f.comments, f.petitions, f.takedowns
    return [
        ("Bình luận trên Trang Facebook", "Số bình luận nhận được", c.received),
        ("Bình luận trên Trang Facebook", "Đã trả lời", c.answered),
        ("Bình luận trên Trang Facebook", "Đã ẩn", c.hidden),
        ("Bình luận trên Trang Facebook", "Đã xóa", c.deleted),
        ("Phản ánh, kiến nghị", "Số phản ánh, kiến nghị tiếp nhận", p.received),
        ("Phản ánh, kiến nghị", "Đã trả lời/xử lý", p.closed),
        ("Phản ánh, kiến nghị", "Trả lời đúng hạn", p.on_time),
        ("Phản ánh, kiến nghị", "Quá hạn", p.overdue),
        ("Phản ánh, kiến nghị", "Thời gian trả lời (trung vị)", _hours(p.median_hours)),
        ("Yêu cầu gỡ nội dung", "Số yêu cầu", t.received),
        ("Yêu cầu gỡ nội dung", "Đã xử lý", t.closed),
        ("Yêu cầu gỡ nội dung", "Quá hạn", t.overdue),
        ("Yêu cầu gỡ nội dung", "Thời gian xử lý (trung vị)", _hours(t.median_hours)),
    ]


def intake_table(f: IntakeFigures | None) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The XLSX/Markdown table (none when the figures were not computed)."""
    if f is None:
        return []
    return [("Ý kiến người dân", ["Nhóm", "Chỉ số", "Số liệu"], [list(r) for r in intake_rows(f)])]


def intake_docx(doc: Any, f: IntakeFigures | None, para: Any, table: Any) -> None:
    """The DOCX section (``para``/``table``: the report's own paragraph and table writers)."""
    if f is None:
        return
    p, t = f.petitions, f.takedowns
    para(doc, "TIẾP NHẬN Ý KIẾN NGƯỜI DÂN TRÊN CÁC KÊNH", bold=True)
    para(
        doc,
        f"Trong kỳ, Sở nhận {f.comments.received} bình luận trên Trang Facebook (đã trả lời "
        f"{f.comments.answered}); tiếp nhận {p.received} phản ánh, kiến nghị (trả lời đúng hạn "
        f"{p.on_time}, quá hạn {p.overdue}) và {t.received} yêu cầu gỡ nội dung (đã xử lý "
        f"{t.closed}). Số liệu chỉ gồm số lượng, không ghi thông tin cá nhân.",
        indent=True,
    )
    table(doc, ["Nhóm", "Chỉ số", "Số liệu"], intake_rows(f))
