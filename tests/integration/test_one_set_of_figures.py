"""One set of figures: for a seeded year, the plan page, /bao-cao, /stats, the XLSX and the DOCX
state the same failures, reach and counts (each read from ``compute_kpis``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Workspace, parsed_article
from docx import Document
from openpyxl import load_workbook
from test_web import PASSWORD, Web

from bot.reports.files import kpis_for, write_report
from bot.telegram.commands import stats_lines
from bot.web.app import build_app
from bot.web.passwords import hash_password
from content_queue.models import Actor
from content_queue.store import ChannelPlan
from content_queue.tables import reach_samples

ADMIN = Actor("lan")
PLAN = [ChannelPlan("website"), ChannelPlan("facebook", "website")]


@pytest.fixture
def web(workspace: Workspace) -> Iterator[Web]:
    with workspace.config.open("a", encoding="utf-8") as f:
        f.write('\n[web]\nlisten = "127.0.0.1:8080"\nbase_url = "http://127.0.0.1:8080"\n')
    loa = workspace.loa()
    loa.store.users.add_user("xem", "viewer", hash_password(PASSWORD), Actor("test"))
    yield Web(loa, build_app(loa))
    loa.store.engine.dispose()


def _seed(web: Web) -> None:
    """Two published articles (Facebook reach known, website reach never sampled), one post that
    failed for good and one that failed and was then fixed."""
    store, now = web.loa.store, datetime.now(UTC)
    fb_ids = []
    for title in ("Bài một", "Bài hai"):
        aid = store.articles.submit(parsed_article(title), ADMIN).article.id
        store.articles.approve(aid, ADMIN, now - timedelta(minutes=5), PLAN)
        for _ in range(2):  # the website, then Facebook once released
            for d in store.deliveries.claim_due("w", now, limit=5, lease_seconds=60):
                store.deliveries.record_sent(
                    d.id, "w", remote_id=f"r{d.id}", url=f"https://x.gov.vn/{d.id}"
                )
                if d.channel == "facebook":
                    fb_ids.append(d.id)
    with store.engine.begin() as conn:
        for did, value in zip(fb_ids, (31_000, 32_206), strict=True):
            conn.execute(
                reach_samples.insert().values(
                    delivery_id=did,
                    metric="post_total_media_view_unique",
                    value=value,
                    available=True,
                    collected_at=now,
                )
            )
    for title in ("Hỏng hẳn", "Lỗi rồi được"):
        aid = store.articles.submit(parsed_article(title), ADMIN).article.id
        store.articles.approve(aid, ADMIN, now - timedelta(minutes=5), [ChannelPlan("website")])
    first, second = store.deliveries.claim_due("w", now, limit=5, lease_seconds=60)
    store.deliveries.record_failure(
        first.id, "w", state="failed", error="HTTP 400", kind="rejected"
    )
    store.deliveries.record_failure(
        second.id, "w", state="retry", error="HTTP 500", kind="transient", next_attempt_at=now
    )
    (again,) = store.deliveries.claim_due(
        "w", now + timedelta(seconds=1), limit=5, lease_seconds=60
    )
    store.deliveries.record_sent(again.id, "w", remote_id="9", url="https://x.gov.vn/9")


def test_pages_stats_xlsx_and_docx_state_the_same_figures(web: Web, tmp_path: Path) -> None:
    _seed(web)
    now = datetime.now(web.loa.settings.schedule.tz)
    year = str(now.year)
    kpis = kpis_for(web.loa, year)
    failed, fixed = len(kpis.failures.failed), len(kpis.failures.fixed)
    reach = {r.channel: r.reach for r in kpis.reach}
    assert (failed, fixed) == (1, 1) and reach == {"website": None, "facebook": 63_206}
    assert kpis.website_articles == 3

    c = web.login("xem")
    report = c.get(f"/bao-cao?ky={year}").text
    assert re.search(r'id="failures">2<', report)
    assert "chưa khắc phục 1, đã khắc phục 1" in report
    assert re.search(r'data-channel="facebook">.*?class="reach">63\.206<', report, re.S)
    assert re.search(r'data-channel="website">.*?class="reach">không có số liệu<', report, re.S)
    assert re.search(r'id="website-articles">3<', report)

    plan = c.get(f"/ke-hoach?nam={year}").text
    rows = re.search(r'id="failure-rows">.*?<tbody>(.*?)</tbody>', plan, re.S).group(1)  # type: ignore[union-attr]
    cells = [re.findall(r"<td>([^<]*)</td>", r) for r in re.findall(r"<tr>(.*?)</tr>", rows)]
    assert sum(int(r[1]) for r in cells) == failed and sum(int(r[2]) for r in cells) == fixed
    assert "Facebook: 63.206" in plan and "Trang web: không có số liệu" in plan

    stats = "\n".join(stats_lines(web.loa, now))
    month = kpis_for(web.loa, f"{now.year}-{now.month:02d}")
    assert f"đã đăng {month.months[0].published} bài" in stats
    posts = {c.channel: c.posts for c in month.channels}
    assert f"Trang web: {posts['website']} lượt đăng" in stats
    assert f"Facebook: {posts['facebook']} lượt đăng" in stats

    xlsx, _ = write_report(web.loa, year, "xlsx", tmp_path / "r.xlsx")
    assert xlsx is not None
    book = load_workbook(xlsx)
    kinds = [r[0] for r in book["Sự cố"].iter_rows(min_row=2, values_only=True)]
    assert (kinds.count("Không thành công"), kinds.count("Đã khắc phục")) == (failed, fixed)
    reached = {
        r[0]: r[3]
        for r in book["Tiếp cận"].iter_rows(min_row=2, values_only=True)
        if r[1] == "Lượt tiếp cận"
    }
    assert reached == {"website": None, "facebook": 63_206}

    docx, _ = write_report(web.loa, year, "docx", tmp_path / "r.docx")
    assert docx is not None
    doc = Document(str(docx))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells_text = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert f"Có {failed} lượt đăng bài không thành công" in text
    assert f"Có {fixed} lượt đăng bài gặp sự cố và đã được khắc phục" in text
    assert "đã đăng 3 tin, bài" in text
    assert "63.206" in cells_text and "không có số liệu" in cells_text
