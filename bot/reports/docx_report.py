"""The period report as a DOCX laid out like a Vietnamese administrative report (Decree 30/2020)."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from docx import Document  # noqa: E402
from docx.document import Document as DocxDocument  # noqa: E402
from docx.enum.table import WD_TABLE_ALIGNMENT  # noqa: E402
from docx.enum.text import WD_ALIGN_PARAGRAPH  # noqa: E402
from docx.oxml.ns import qn  # noqa: E402
from docx.shared import Cm, Pt  # noqa: E402
from docx.table import Table, _Cell  # noqa: E402
from docx.text.paragraph import Paragraph  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bot.reports import citizens as citizens_report  # noqa: E402
from bot.reports.intake_section import intake_docx  # noqa: E402
from bot.reports.kpis import ChannelGrowth, Kpis  # noqa: E402
from bot.reports.metric_labels import metric_vi  # noqa: E402
from bot.wording import vi_number  # noqa: E402

__all__ = ["DOCX_SECTIONS", "FONT", "HEADER_WIDTHS_CM", "ReportAgency", "write_docx"]

log = logging.getLogger(__name__)

FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 12
# Decree 30 sets the national title on one line: the right header column is wide enough for
# "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in 13 pt bold (about 8.8 cm in Times New Roman).
HEADER_WIDTHS_CM = (6.0, 10.5)  # left + right = the 16.5 cm between the margins
MIN_LINE_POINTS = 3  # fewer points than this are drawn as bars, not as a line of lone dots


@dataclass(frozen=True)
class ReportAgency:
    """Who issues the report: names in the header, number suffix, signer and recipients."""

    name: str = "Sở Ngoại vụ tỉnh Lạng Sơn"
    parent: str = "UBND tỉnh Lạng Sơn"
    place: str = "Lạng Sơn"
    number_prefix: str = "/BC-SNgV"
    signer_title: str = "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC"
    signer_name: str = ""
    recipients: list[str] = field(
        default_factory=lambda: [
            "UBND tỉnh (b/c);",
            "Sở Nội vụ;",
            "Lãnh đạo Sở;",
            "Lưu: VT.",
        ]
    )


def _fmt(n: int | float | None) -> str:
    """Vietnamese number style (``63.206``, ``0,5``); None reads as "không có số liệu"."""
    return vi_number(n)


def _channel_vi(ch: str) -> str:
    return {"website": "Trang thông tin điện tử", "facebook": "Facebook", "zalo": "Zalo"}.get(
        ch, ch
    )


def _para(
    container: DocxDocument | _Cell,
    text: str = "",
    *,
    bold: bool = False,
    italic: bool = False,
    align: int | None = None,
    size: int = BODY_PT,
    indent: bool = False,
    space_after: int = 3,
) -> Paragraph:
    p = container.add_paragraph()
    if align is not None:
        p.alignment = align
    pf = p.paragraph_format
    pf.space_after = Pt(space_after)
    pf.space_before = Pt(0)
    if indent:
        pf.first_line_indent = Cm(1)
    for i, line in enumerate(text.split("\n")):
        if i:
            p.add_run().add_break()
        run = p.add_run(line)
        run.bold, run.italic, run.font.size = bold, italic, Pt(size)
    return cast("Paragraph", p)


def _borderless(table: Table) -> None:
    borders = table._tbl.tblPr.first_child_found_in("w:tblBorders")
    if borders is None:
        borders = table._tbl.tblPr.makeelement(qn("w:tblBorders"), {})
        table._tbl.tblPr.append(borders)
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = borders.makeelement(qn(f"w:{edge}"), {qn("w:val"): "nil"})
        borders.append(el)


def _cell_lines(cell: _Cell, lines: Sequence[tuple[str, bool, bool]], size: int = 13) -> None:
    """Fills a cell with centred lines of (text, bold, italic)."""
    cell.paragraphs[0]._element.getparent().remove(cell.paragraphs[0]._element)
    for text, bold, italic in lines:
        _para(
            cell,
            text,
            bold=bold,
            italic=italic,
            align=WD_ALIGN_PARAGRAPH.CENTER,
            size=size,
            space_after=0,
        )


def _data_table(
    doc: DocxDocument, header: Sequence[str], rows: Sequence[Sequence[object]]
) -> Table:
    t = doc.add_table(rows=1, cols=len(header))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(t.rows[0].cells, header, strict=True):
        cell.text = ""
        _fill(cell, str(text), bold=True)
    for row in rows:
        cells = t.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            _fill(cell, value if isinstance(value, str) else _fmt(value))  # type: ignore[arg-type]
    doc.add_paragraph().paragraph_format.space_after = Pt(0)
    return cast("Table", t)


def _fill(cell: _Cell, text: str, *, bold: bool = False) -> None:
    p = cell.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER if bold or len(text) < 25 else WD_ALIGN_PARAGRAPH.LEFT
    p.paragraph_format.space_after = Pt(0)
    run = p.add_run(text)
    run.bold = bold
    run.font.size = Pt(TABLE_PT)


def _legend_below(ax: Axes, entries: int) -> None:
    """A legend under the plot, outside the bars and lines it names."""
    if entries:
        ax.legend(
            fontsize=7,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.16),
            ncol=min(entries, 4),
            frameon=False,
        )


def _narrow_bars(ax: Axes, groups: int, series: int, width: float) -> None:
    """Room around one or two groups of bars, so they keep an ordinary width."""
    if groups < MIN_LINE_POINTS:
        middle = (groups - 1) / 2 + (series - 1) * width / 2
        span = groups / 2 + 0.8
        ax.set_xlim(middle - span, middle + span)


def _posts_figure(kpis: Kpis) -> Figure:
    months = [f"{m:02d}/{y}" for y, m in kpis.period.months]
    keys = [f"{y}-{m:02d}" for y, m in kpis.period.months]
    fig, ax = plt.subplots(figsize=(6.2, 2.9), dpi=100)
    width = 0.8 / max(len(kpis.channels), 1)
    for i, ch in enumerate(kpis.channels):
        xs = [j + i * width for j in range(len(keys))]
        ax.bar(xs, [ch.per_month.get(k, 0) for k in keys], width, label=_channel_vi(ch.channel))
    ax.axhline(
        kpis.monthly_minimum,
        color="red",
        linestyle="--",
        linewidth=1,
        label="Chỉ tiêu tối thiểu (Trang TTĐT)",
    )
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(keys))], months, fontsize=7)
    _narrow_bars(ax, len(keys), len(kpis.channels), width)
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_ylabel("Số tin, bài", fontsize=8)
    ax.set_title("Số tin, bài đăng theo tháng và kênh", fontsize=9)
    _legend_below(ax, len(kpis.channels) + 1)
    return fig


def _reach_figure(kpis: Kpis) -> Figure:
    months = [f"{m:02d}/{y}" for y, m in kpis.period.months]
    keys = [f"{y}-{m:02d}" for y, m in kpis.period.months]
    fig, ax = plt.subplots(figsize=(6.2, 2.9), dpi=100)
    shown = [ch for ch in kpis.reach if ch.reach is not None]
    if len(keys) < MIN_LINE_POINTS:  # a line needs points to join: bars for one or two months
        width = 0.8 / max(len(shown), 1)
        for i, ch in enumerate(shown):
            ax.bar(
                [j + i * width for j in range(len(keys))],
                [ch.reach_per_month.get(k, 0) for k in keys],
                width,
                label=_channel_vi(ch.channel),
            )
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(keys))], months)
        _narrow_bars(ax, len(keys), len(shown), width)
    else:
        for ch in shown:
            ax.plot(
                months,
                [ch.reach_per_month.get(k, 0) for k in keys],
                marker="o",
                label=_channel_vi(ch.channel),
            )
    ax.set_ylabel("Lượt tiếp cận", fontsize=8)
    ax.set_title("Lượt tiếp cận theo tháng đăng bài", fontsize=9)
    ax.tick_params(labelsize=7)
    _legend_below(ax, len(shown))
    return fig


def _growth_name(g: ChannelGrowth) -> str:
    return f"{_channel_vi(g.channel)} — {g.label}"


def _followers_figure(kpis: Kpis) -> Figure:
    shown = [g for g in kpis.followers if g.end is not None]
    fig, ax = plt.subplots(figsize=(6.2, 2.9), dpi=100)
    if all(len(g.points) >= MIN_LINE_POINTS for g in shown):
        for g in shown:
            ax.plot(
                [matplotlib.dates.date2num(d) for d, _ in g.points],
                [v for _, v in g.points],
                marker=".",
                label=_growth_name(g),
            )
        ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%d/%m"))
    else:  # too few samples for a line: the start and end of the period, side by side
        width = 0.4
        xs = range(len(shown))
        ax.bar([x - width / 2 for x in xs], [g.start or 0 for g in shown], width, label="Đầu kỳ")
        ax.bar([x + width / 2 for x in xs], [g.end or 0 for g in shown], width, label="Cuối kỳ")
        ax.set_xticks(list(xs), [_growth_name(g) for g in shown])
    ax.set_ylabel("Số người", fontsize=8)
    ax.set_title("Người theo dõi các kênh trong kỳ", fontsize=9)
    ax.tick_params(labelsize=7)
    _legend_below(ax, len(ax.get_legend_handles_labels()[0]))
    return fig


def _chart_posts(kpis: Kpis) -> bytes:
    return _png(_posts_figure(kpis))


def _chart_reach(kpis: Kpis) -> bytes:
    return _png(_reach_figure(kpis))


def _chart_followers(kpis: Kpis) -> bytes:
    return _png(_followers_figure(kpis))


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")  # keeps the legend below
    plt.close(fig)
    return buf.getvalue()


def _setup(doc: DocxDocument) -> None:
    s = doc.sections[0]
    s.page_width, s.page_height = Cm(21), Cm(29.7)
    s.top_margin, s.bottom_margin = Cm(2), Cm(2)
    s.left_margin, s.right_margin = Cm(3), Cm(1.5)
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(BODY_PT)
    rfonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        rfonts.set(qn(attr), FONT)


def _header(doc: DocxDocument, kpis: Kpis, agency: ReportAgency) -> None:
    t = doc.add_table(rows=1, cols=2)
    _borderless(t)
    t.autofit = False
    left, right = t.rows[0].cells
    # Word reads the cells' widths, LibreOffice the grid's: set both.
    for column, cell, width in zip(t.columns, (left, right), HEADER_WIDTHS_CM, strict=True):
        column.width = cell.width = Cm(width)
    _cell_lines(
        left,
        [
            (agency.parent.upper(), False, False),
            (agency.name.upper(), True, False),
            ("—————", False, False),
            (f"Số:       {agency.number_prefix}", False, False),
        ],
    )
    day = kpis.generated_at.astimezone(ZoneInfo(kpis.timezone))
    _cell_lines(
        right,
        [
            ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", True, False),
            ("Độc lập - Tự do - Hạnh phúc", True, False),
            ("—————", False, False),
            (
                f"{agency.place}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}",
                False,
                True,
            ),
        ],
    )


def _quota_part(doc: DocxDocument, kpis: Kpis) -> None:
    """I. Monthly quota on the website."""
    met = sum(1 for m in kpis.months if m.status == "met")
    due = sum(1 for m in kpis.months if m.status in ("met", "below"))
    _para(
        doc,
        f"Trong kỳ báo cáo, Trang thông tin điện tử của Sở đã đăng {_fmt(kpis.website_articles)} "
        f"tin, bài về CCHC; chỉ tiêu tối thiểu {kpis.monthly_minimum:02d} tin, bài/tháng đạt "
        f"{met}/{due} tháng đã đến hạn.",
        indent=True,
    )
    _data_table(
        doc,
        ["Tháng", "Số tin, bài đã đăng", "Chỉ tiêu", "Đánh giá"],
        [(f"{m.month:02d}/{m.year}", m.published, m.minimum, m.status_vi) for m in kpis.months],
    )
    doc.add_picture(io.BytesIO(_chart_posts(kpis)), width=Cm(15))
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER


def _topics_part(doc: DocxDocument, kpis: Kpis) -> None:
    """II. Topics a)–i)."""
    covered = len(kpis.topics) - len(kpis.uncovered_topics)
    _para(
        doc,
        f"Các tin, bài đã đăng bao quát {covered}/{len(kpis.topics)} nội dung tuyên truyền "
        "theo Kế hoạch (mục a đến mục i).",
        indent=True,
    )
    _data_table(
        doc,
        ["Mục", "Nội dung tuyên truyền", "Số tin, bài"],
        [(f"{t.key})", t.label, t.articles) for t in kpis.topics],
    )


def _social_part(doc: DocxDocument, kpis: Kpis) -> None:
    """III. Reach on the social networks, the top articles, followers and broadcasts."""
    _para(
        doc,
        "Lượt tiếp cận là số liệu mới nhất do từng nền tảng cung cấp (Facebook: số người "
        "tiếp cận; Zalo và Trang TTĐT: lượt xem); tương tác gồm lượt bày tỏ cảm xúc, bình luận, "
        "chia sẻ và nhấp chuột. Chỉ số nền tảng không cung cấp được ghi là “không có số liệu”.",
        indent=True,
    )
    _data_table(
        doc,
        ["Kênh", "Số bài đăng", "Lượt tiếp cận", "Lượt tương tác"],
        [(_channel_vi(r.channel), r.posts, r.reach, r.engagement) for r in kpis.reach],
    )
    if any(r.reach is not None for r in kpis.reach):
        doc.add_picture(io.BytesIO(_chart_reach(kpis)), width=Cm(15))
        doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    if kpis.top_articles:
        _para(
            doc,
            f"Các tin, bài có lượt tiếp cận cao nhất ({len(kpis.top_articles)} bài):",
            indent=True,
        )
        _data_table(
            doc,
            ["TT", "Tin, bài", "Mục", "Lượt tiếp cận"],
            [(str(i), a.title, f"{a.topic})", a.reach) for i, a in enumerate(kpis.top_articles, 1)],
        )
    metrics = [(r.channel, m) for r in kpis.reach for m in r.metrics]
    if metrics:
        _para(
            doc,
            "Chi tiết các chỉ số theo kênh (tên chỉ số do nền tảng đặt ghi ở cột riêng):",
            indent=True,
        )
        _data_table(
            doc,
            ["Kênh", "Chỉ số", "Tên chỉ số (API)", "Tổng"],
            [(_channel_vi(ch), metric_vi(m.metric), m.metric, m.total) for ch, m in metrics],
        )
    _followers_section(doc, kpis)
    intake_docx(doc, kpis.intake, _para, _data_table)
    if kpis.citizens is not None and kpis.citizens.received:
        _para(doc, "Trả lời câu hỏi của người dân, tổ chức:", bold=True, indent=True)
        _para(doc, citizens_report.docx_lines(kpis.citizens)[0], indent=True)


def _issues_part(doc: DocxDocument, kpis: Kpis) -> None:
    """IV. Shortcomings."""
    for line in _issues(kpis) or ["Không có tồn tại, hạn chế đáng kể trong kỳ báo cáo."]:
        _para(doc, f"- {line}", indent=True)


def _proposals_part(doc: DocxDocument, kpis: Kpis) -> None:
    """V. Proposals."""
    gaps = citizens_report.docx_lines(kpis.citizens)[1] if kpis.citizens is not None else []
    for line in _proposals(kpis) + gaps:
        _para(doc, f"- {line}", indent=True)


DocxPart = Callable[[Any, Kpis], None]
# The report's numbered parts in order (heading, writer). To add a part: one function above,
# one line here; the Roman numbers follow the order.
DOCX_SECTIONS: list[tuple[str, DocxPart]] = [
    ("KẾT QUẢ THỰC HIỆN CHỈ TIÊU ĐĂNG TIN, BÀI TRÊN TRANG THÔNG TIN ĐIỆN TỬ", _quota_part),
    ("KẾT QUẢ THEO NỘI DUNG TUYÊN TRUYỀN", _topics_part),
    ("KẾT QUẢ TRÊN CÁC NỀN TẢNG MẠNG XÃ HỘI (FACEBOOK, ZALO)", _social_part),
    ("TỒN TẠI, HẠN CHẾ", _issues_part),
    ("ĐỀ XUẤT", _proposals_part),
]
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


def write_docx(kpis: Kpis, path: str | Path, *, agency: ReportAgency) -> Path:
    """Writes the report for ``kpis.period`` to ``path`` and returns the path."""
    doc = Document()
    _setup(doc)
    _header(doc, kpis, agency)
    _para(doc, "")
    _para(doc, "BÁO CÁO", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    _para(
        doc,
        "Kết quả thực hiện công tác thông tin, tuyên truyền cải cách hành chính "
        f"{kpis.period.label_vi}",
        bold=True,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        space_after=12,
    )
    _para(
        doc,
        f"Thực hiện Kế hoạch tuyên truyền cải cách hành chính năm {kpis.period.year}, "
        f"{agency.name} báo cáo kết quả thực hiện {kpis.period.label_vi} như sau:",
        indent=True,
    )
    for number, (heading, part) in zip(_ROMAN, DOCX_SECTIONS, strict=False):
        _para(doc, f"{number}. {heading}", bold=True)
        part(doc, kpis)
    _para(
        doc,
        f"Trên đây là báo cáo kết quả thực hiện công tác thông tin, tuyên truyền cải cách "
        f"hành chính {kpis.period.label_vi} của {agency.name}./.",
        indent=True,
        space_after=12,
    )

    _footer(doc, agency)
    out = Path(path)
    doc.save(str(out))
    log.info("report %s written to %s", kpis.period.key, out)
    return out


def _followers_section(doc: DocxDocument, kpis: Kpis) -> None:
    """Followers at the start and end of the period per channel, and the broadcasts sent."""
    growth = kpis.followers
    if growth:
        _para(doc, "Số người theo dõi các kênh của Sở đầu kỳ và cuối kỳ báo cáo:", indent=True)
        _data_table(
            doc,
            ["Kênh", "Chỉ số", "Tên chỉ số (API)", "Đầu kỳ", "Cuối kỳ", "Tăng/giảm"],
            [
                (_channel_vi(g.channel), g.label, g.metric, g.start, g.end, _signed(g.growth))
                for g in growth
            ],
        )
        if any(g.end is not None for g in growth):
            doc.add_picture(io.BytesIO(_chart_followers(kpis)), width=Cm(15))
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    else:
        _para(doc, "Chưa có số liệu người theo dõi các kênh trong kỳ báo cáo.", indent=True)
    sent = [b for b in kpis.broadcasts if b.state == "sent"]
    doubt = [b for b in kpis.broadcasts if b.state != "sent"]
    people = sum(b.recipients or 0 for b in sent)
    text = (
        f"Đã gửi {_fmt(len(sent))} tin truyền thông Zalo tới người theo dõi"
        + (f" (khoảng {_fmt(people)} lượt người nhận)" if people else "")
        + "."
    )
    if doubt:
        text += f" Có {_fmt(len(doubt))} tin chưa xác định được đã gửi hay chưa."
    _para(doc, text, indent=True)
    if kpis.broadcasts:
        zone = ZoneInfo(kpis.timezone)
        _data_table(
            doc,
            ["Thời điểm gửi", "Kênh", "Số bài", "Người theo dõi", "Trạng thái"],
            [
                (
                    b.at.astimezone(zone).strftime("%d/%m/%Y %H:%M"),
                    _channel_vi(b.channel),
                    len(b.article_ids),
                    b.recipients,
                    "Đã gửi" if b.state == "sent" else "Chưa xác định",
                )
                for b in kpis.broadcasts
            ],
        )


def _signed(n: int | None) -> str:
    if n is None:
        return "không có số liệu"
    return ("+" if n > 0 else "−" if n < 0 else "") + _fmt(abs(n))


def _issues(kpis: Kpis) -> list[str]:
    out: list[str] = []
    if kpis.months_below:
        months = ", ".join(
            f"{m.month:02d}/{m.year} ({m.published}/{m.minimum})" for m in kpis.months_below
        )
        out.append(
            f"Chưa đạt chỉ tiêu đăng tin, bài trên Trang thông tin điện tử trong các tháng: "
            f"{months}."
        )
    if kpis.uncovered_topics:
        out.append(
            "Chưa có tin, bài về các nội dung tuyên truyền: "
            + ", ".join(f"{k})" for k in kpis.uncovered_topics)
            + "."
        )
    f = kpis.failures
    if f.failed:
        out.append(f"Có {len(f.failed)} lượt đăng bài không thành công chưa được khắc phục.")
    if f.fixed:
        out.append(
            f"Có {len(f.fixed)} lượt đăng bài gặp sự cố và đã được khắc phục; thời gian khắc "
            f"phục trung vị {_fmt(f.median_hours_to_fix)} giờ, lâu nhất "
            f"{_fmt(f.max_hours_to_fix)} giờ."
        )
    unavailable = sorted({m for r in kpis.reach for m in r.unavailable})
    if unavailable:
        out.append(
            "Một số chỉ số không được nền tảng cung cấp: "
            + ", ".join(f"{metric_vi(m)} ({m})" for m in unavailable)
            + "."
        )
    return out


def _proposals(kpis: Kpis) -> list[str]:
    out = []
    if kpis.months_below:
        out.append(
            "Các phòng, đơn vị tăng cường cung cấp tin, bài để bảo đảm đăng ít nhất "
            f"{kpis.monthly_minimum:02d} tin, bài/tháng trên Trang thông tin điện tử."
        )
    if kpis.uncovered_topics:
        out.append("Bổ sung tin, bài về các nội dung tuyên truyền chưa được đề cập trong kỳ.")
    out.append(
        "Tiếp tục đẩy mạnh tuyên truyền CCHC trên các nền tảng mạng xã hội (Facebook, "
        "Zalo) để nâng cao lượt tiếp cận, tương tác của người dân, doanh nghiệp."
    )
    return out


def _footer(doc: DocxDocument, agency: ReportAgency) -> None:
    t = doc.add_table(rows=1, cols=2)
    _borderless(t)
    left, right = t.rows[0].cells
    left.width, right.width = Cm(8), Cm(8.5)
    first = left.paragraphs[0]
    run = first.add_run("Nơi nhận:")
    run.bold, run.italic, run.font.size = True, True, Pt(12)
    for r in agency.recipients:
        _para(left, f"- {r}", size=11, space_after=0)
    lines = [(line, True, False) for line in agency.signer_title.split("\n")]
    lines += [("", False, False)] * 3 + [(agency.signer_name, True, False)]
    _cell_lines(right, lines, size=14)
