"""The period report as tables: XLSX (one sheet per table), Markdown and JSON."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from bot.reports import citizens as citizens_report
from bot.reports.intake_section import intake_table
from bot.reports.kpis import Kpis
from bot.reports.metric_labels import metric_vi
from bot.wording import vi_number

__all__ = [
    "TABLE_SECTIONS",
    "report_tables",
    "write_json",
    "write_markdown",
    "write_xlsx",
    "xlsx_value",
]

log = logging.getLogger(__name__)

Table = tuple[str, list[str], list[list[Any]]]


def _ids(ids: Sequence[int]) -> str:
    return ", ".join(str(i) for i in ids)


def _quota_tables(kpis: Kpis) -> list[Table]:
    """Monthly quota: articles on the website against the minimum."""
    return [
        (
            "Chỉ tiêu tháng",
            ["Tháng", "Số tin, bài đã đăng", "Chỉ tiêu", "Đánh giá", "Mã bài"],
            [
                [
                    f"{m.month:02d}/{m.year}",
                    m.published,
                    m.minimum,
                    m.status_vi,
                    _ids(m.article_ids),
                ]
                for m in kpis.months
            ],
        )
    ]


def _channel_tables(kpis: Kpis) -> list[Table]:
    """Posts per channel."""
    return [
        (
            "Kênh",
            ["Kênh", "Số bài đăng", "Mã bài"],
            [[c.channel, c.posts, _ids(c.article_ids)] for c in kpis.channels],
        )
    ]


def _topic_tables(kpis: Kpis) -> list[Table]:
    """Articles per plan topic a)–i)."""
    return [
        (
            "Chủ đề",
            ["Mục", "Nội dung", "Số tin, bài", "Mã bài"],
            [[f"{t.key})", t.label, t.articles, _ids(t.article_ids)] for t in kpis.topics],
        )
    ]


def _reach_tables(kpis: Kpis) -> list[Table]:
    """Every reach metric per channel, then reach and engagement."""
    return [
        (
            "Tiếp cận",
            [
                "Kênh",
                "Chỉ số",
                "Tên chỉ số (API)",
                "Tổng",
                "Số bài có số liệu",
                "Số bài không có số liệu",
                "Mã bài",
            ],
            [
                [
                    r.channel,
                    metric_vi(m.metric),
                    m.metric,
                    m.total,
                    m.posts_with_value,
                    m.posts_unavailable,
                    _ids(m.article_ids),
                ]
                for r in kpis.reach
                for m in r.metrics
            ]
            + [[r.channel, "Lượt tiếp cận", "", r.reach, None, None, ""] for r in kpis.reach]
            + [[r.channel, "Lượt tương tác", "", r.engagement, None, None, ""] for r in kpis.reach],
        )
    ]


def _follower_tables(kpis: Kpis) -> list[Table]:
    """Followers at the start and end of the period."""
    return [
        (
            "Người theo dõi",
            [
                "Kênh",
                "Chỉ số",
                "Tên chỉ số (API)",
                "Đầu kỳ",
                "Cuối kỳ",
                "Tăng/giảm",
                "Tỷ lệ tăng (%)",
            ],
            [
                [g.channel, g.label, g.metric, g.start, g.end, g.growth, g.growth_percent]
                for g in kpis.followers
            ],
        )
    ]


def _broadcast_tables(kpis: Kpis) -> list[Table]:
    """Broadcasts to followers sent (or in doubt) in the period."""
    return [
        (
            "Tin truyền thông",
            [
                "Mã tin",
                "Kênh",
                "Thời điểm gửi",
                "Trạng thái",
                "Trạng thái Zalo báo",
                "Người theo dõi",
                "Mã bài",
            ],
            [
                [
                    b.broadcast_id,
                    b.channel,
                    b.at.isoformat(),
                    "Đã gửi" if b.state == "sent" else "Không rõ đã gửi",
                    b.moderation_state or "",
                    b.recipients,
                    _ids(b.article_ids),
                ]
                for b in kpis.broadcasts
            ],
        )
    ]


def _top_tables(kpis: Kpis) -> list[Table]:
    """The articles with the most reach."""
    return [
        (
            "Bài nổi bật",
            ["TT", "Mã bài", "Tiêu đề", "Mục", "Lượt tiếp cận", "Theo kênh"],
            [
                [
                    i,
                    a.article_id,
                    a.title,
                    f"{a.topic})",
                    a.reach,
                    "; ".join(f"{k}: {v}" for k, v in sorted(a.per_channel.items())),
                ]
                for i, a in enumerate(kpis.top_articles, 1)
            ],
        )
    ]


def _failure_tables(kpis: Kpis) -> list[Table]:
    """Failed posts, and those fixed with the hours it took."""
    f = kpis.failures
    return [
        (
            "Sự cố",
            ["Loại", "Mã lượt đăng", "Mã bài", "Kênh", "Chi tiết", "Số giờ khắc phục"],
            [
                [
                    "Không thành công",
                    d.delivery_id,
                    d.article_id,
                    d.channel,
                    d.last_error or "",
                    None,
                ]
                for d in f.failed
            ]
            + [
                [
                    "Đã khắc phục",
                    x.delivery_id,
                    x.article_id,
                    x.channel,
                    f"{x.first_failure_at.isoformat()} → {x.sent_at.isoformat()}",
                    x.hours_to_fix,
                ]
                for x in f.fixed
            ],
        )
    ]


def _intake_tables(kpis: Kpis) -> list[Table]:
    return intake_table(kpis.intake)


def _citizen_tables(kpis: Kpis) -> list[Table]:
    if kpis.citizens is None or not kpis.citizens.received:
        return []  # the Hỏi đáp sheet only when questions came in
    return [citizens_report.table(kpis.citizens)]


# The report's tables in order. To add a section: one function above, one line here.
TABLE_SECTIONS: list[Callable[[Kpis], list[Table]]] = [
    _quota_tables,
    _channel_tables,
    _topic_tables,
    _reach_tables,
    _follower_tables,
    _broadcast_tables,
    _top_tables,
    _failure_tables,
    _intake_tables,
    _citizen_tables,
]


def report_tables(kpis: Kpis) -> list[Table]:
    """(title, header, rows) of every table of the report; article ids make each count traceable."""
    return [table for section in TABLE_SECTIONS for table in section(kpis)]


# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def xlsx_value(value: Any) -> Any:
    """A cell's value: text that a spreadsheet could take for a formula gets a leading ``'``
    (titles, platform errors and states come from outside Loa)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def write_xlsx(kpis: Kpis, path: str | Path) -> Path:
    """One sheet per table, bold header row; returns the path."""
    wb = Workbook()
    wb.remove(wb.active)
    tables = report_tables(kpis)
    for title, header, rows in tables:
        ws = wb.create_sheet(title)
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([xlsx_value(v) for v in row])
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text is text: never a formula, whatever it starts with
        for col, name in zip(ws.columns, header, strict=False):
            ws.column_dimensions[col[0].column_letter].width = max(12, min(60, len(name) + 4))
    out = Path(path)
    wb.save(out)
    log.info("report tables %s written to %s", kpis.period.key, out)
    return out


def _md_cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return vi_number(value)
    return str(value).replace("|", "\\|").replace("\n", " ")


def write_markdown(kpis: Kpis) -> str:
    """The report's tables as Markdown, under a title naming the period."""
    lines = [f"# Kết quả tuyên truyền cải cách hành chính {kpis.period.label_vi}", ""]
    if kpis.uncovered_topics:
        lines += [
            "Chủ đề chưa có tin, bài: " + ", ".join(f"{k})" for k in kpis.uncovered_topics),
            "",
        ]
    for title, header, rows in report_tables(kpis):
        lines += [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]
        lines.append("")
    return "\n".join(lines)


def write_json(kpis: Kpis) -> str:
    """``kpis.as_json()`` as readable UTF-8 JSON."""
    return json.dumps(kpis.as_json(), ensure_ascii=False, indent=2)
