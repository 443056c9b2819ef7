"""Follower growth and broadcasts in the report, and the report's layout polish."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm
from openpyxl import load_workbook
from PIL import ImageFont
from test_kpis_report import Seeder

from bot.reports.docx_report import (
    HEADER_WIDTHS_CM,
    ReportAgency,
    _posts_figure,
    _reach_figure,
    write_docx,
)
from bot.reports.kpis import compute_kpis, parse_period
from bot.reports.tables import write_markdown, write_xlsx
from content_queue.broadcasts import BroadcastCandidate
from content_queue.models import Actor
from content_queue.store import Store

NOW = datetime(2026, 12, 20, 3, tzinfo=UTC)
SERIF_BOLD = Path("/usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf")  # Times metrics


def seed(store: Store) -> dict[str, int]:
    # October: samples every 10 days; the Page gains 150 followers, the OA 40
    store.followers.record_follower_counts(
        "facebook",
        {"followers_count": 5000, "fan_count": 4800},
        datetime(2026, 9, 30, 10, tzinfo=UTC),
    )
    for i, day in enumerate((1, 11, 21, 31)):
        at = datetime(2026, 10, day, 2, tzinfo=UTC)
        store.followers.record_follower_counts(
            "facebook", {"followers_count": 5000 + 50 * i, "fan_count": None}, at
        )
        store.followers.record_follower_counts(
            "zalo", {"followers": 1200 + 10 * i + (10 if i == 3 else 0)}, at
        )
    with store.engine.begin() as conn:
        s = Seeder(conn)
        a1, a2 = s.article("a"), s.article("b")
        d1 = s.delivery(a1, "zalo", sent_at=datetime(2026, 10, 5, tzinfo=UTC), remote_id="z1")
        s.delivery(a2, "zalo", sent_at=datetime(2026, 10, 6, tzinfo=UTC), remote_id="z2")
        s.samples(d1, "views", (datetime(2026, 10, 7, tzinfo=UTC), 321))
    b = store.broadcasts
    sent_at = datetime(2026, 10, 9, 2, tzinfo=UTC)
    p = b.propose(
        "zalo",
        "digest",
        "2026-10",
        4,
        [
            BroadcastCandidate(a2, "z2", "Bài 2", sent_at, None),
            BroadcastCandidate(a1, "z1", "Bài 1", sent_at, 321),
        ],
        1220,
        sent_at,
    )
    assert p is not None
    assert b.decide(p.id, Actor("tg:1", "telegram"), approve=True, now=sent_at)
    assert b.begin_send(p.id, sent_at)
    b.record_sent(p.id, message_id="m-1", moderation_state="reviewing", now=sent_at)
    return {"a1": a1, "a2": a2, "broadcast": p.id}


def test_followers_and_broadcasts_feed_the_reports_table_and_chart(
    store: Store, tmp_path: Path
) -> None:
    ids = seed(store)
    k = compute_kpis(store, parse_period("2026-10"), now=NOW)
    growth = {(g.channel, g.metric): g for g in k.followers}
    fb = growth[("facebook", "followers_count")]
    assert (fb.start, fb.end, fb.growth, fb.label) == (5000, 5150, 150, "Người theo dõi Trang")
    assert len(fb.points) == 4 and fb.growth_percent == 3.0
    assert growth[("facebook", "fan_count")].end is None  # retired: unknown, never zero
    zalo = growth[("zalo", "followers")]
    assert (zalo.start, zalo.end, zalo.growth, zalo.label) == (1200, 1240, 40, "Người quan tâm OA")
    (sent,) = k.broadcasts
    assert (sent.broadcast_id, sent.recipients, sent.moderation_state) == (
        ids["broadcast"],
        1220,
        "reviewing",
    )
    assert sorted(sent.article_ids) == sorted([ids["a1"], ids["a2"]])
    assert k.as_json()["followers"][0]["metric"] in ("fan_count", "followers_count", "followers")

    doc = Document(str(write_docx(k, tmp_path / "bc.docx", agency=ReportAgency())))
    tables = [[[c.text for c in r.cells] for r in t.rows] for t in doc.tables]
    growth_table = next(
        t for t in tables if t[0][:3] == ["Kênh", "Chỉ số", "Tên chỉ số (API)"] and "Đầu kỳ" in t[0]
    )
    assert [
        "Facebook",
        "Người theo dõi Trang",
        "followers_count",
        "5.000",
        "5.150",
        "+150",
    ] in growth_table
    assert ["Zalo", "Người quan tâm OA", "followers", "1.200", "1.240", "+40"] in growth_table
    broadcasts = next(t for t in tables if t[0][0] == "Thời điểm gửi")
    assert broadcasts[1][1:] == ["Zalo", "2", "1.220", "Đã gửi"]
    text = "\n".join(p.text for p in doc.paragraphs)
    assert (
        "Đã gửi 1 tin truyền thông Zalo tới người theo dõi (khoảng 1.220 lượt người nhận)." in text
    )
    assert len(doc.inline_shapes) == 3  # posts, reach, followers
    wb = load_workbook(write_xlsx(k, tmp_path / "bc.xlsx"))
    rows = [[c.value for c in r] for r in wb["Người theo dõi"].iter_rows()]
    assert ["facebook", "Người theo dõi Trang", "followers_count", 5000, 5150, 150, 3.0] in rows
    assert [c.value for c in wb["Tin truyền thông"][2]][:2] == [ids["broadcast"], "zalo"]
    assert "| zalo | Người quan tâm OA | followers | 1.200 | 1.240 | 40 |" in write_markdown(k)


def test_a_period_without_samples_says_so(store: Store, tmp_path: Path) -> None:
    k = compute_kpis(store, parse_period("2026-10"), now=NOW)
    assert k.followers == [] and k.broadcasts == []
    doc = Document(str(write_docx(k, tmp_path / "bc.docx", agency=ReportAgency())))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Chưa có số liệu người theo dõi các kênh" in text
    assert "Đã gửi 0 tin truyền thông Zalo tới người theo dõi." in text


def test_national_title_stands_on_one_line_in_the_widened_right_column(
    store: Store, tmp_path: Path
) -> None:
    k = compute_kpis(store, parse_period("2026-10"), now=NOW)
    doc = Document(str(write_docx(k, tmp_path / "bc.docx", agency=ReportAgency())))
    header = doc.tables[0]
    grid = [int(c.get(qn("w:w"))) for c in header._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert [round(w * 635 / Cm(1), 2) for w in grid] == list(HEADER_WIDTHS_CM)  # twips → cm
    assert [round(c.width / Cm(1), 2) for c in header.rows[0].cells] == list(HEADER_WIDTHS_CM)
    if not SERIF_BOLD.exists():
        pytest.skip("no Times-compatible font to measure with")
    font = ImageFont.truetype(str(SERIF_BOLD), 1000)
    title_cm = font.getlength("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") / 1000 * 13 / 72 * 2.54
    padding_cm = 2 * 0.19  # Word's default cell margins
    assert title_cm + padding_cm < HEADER_WIDTHS_CM[1]
    assert title_cm + padding_cm > 16.5 / 2  # it did not fit in the old, even split


def _overlap(a, b) -> bool:  # type: ignore[no-untyped-def]
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_chart_legends_stand_outside_the_plot(store: Store) -> None:
    seed(store)
    k = compute_kpis(store, parse_period("2026-Q4"), now=NOW)
    for make in (_posts_figure, _reach_figure):
        fig = make(k)
        fig.canvas.draw()
        ax = fig.axes[0]
        legend = ax.get_legend()
        assert legend is not None
        renderer = fig.canvas.get_renderer()
        assert not _overlap(legend.get_window_extent(renderer), ax.get_window_extent(renderer))


def test_reach_of_fewer_than_three_months_is_drawn_as_bars_not_lone_dots(store: Store) -> None:
    seed(store)
    one_month = _reach_figure(compute_kpis(store, parse_period("2026-10"), now=NOW))
    ax = one_month.axes[0]
    assert len(ax.patches) >= 1 and not [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    quarter = _reach_figure(compute_kpis(store, parse_period("2026-Q4"), now=NOW))
    assert [ln for ln in quarter.axes[0].get_lines() if ln.get_marker() == "o"]


def test_follower_counts_of_a_month_start_from_the_last_count_before_it(store: Store) -> None:
    seed(store)
    k = compute_kpis(store, parse_period("2026-11"), now=NOW)  # no samples in November
    fb = {(g.channel, g.metric): g for g in k.followers}[("facebook", "followers_count")]
    assert (fb.start, fb.end, fb.growth) == (5150, None, None)
