"""The Tiếp nhận page: comments awaiting a look, cases by due date (overdue said in words),
timelines, filters, and admins' actions with CSRF, as in Telegram."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import Workspace
from test_comments_service import ADMIN, change, seed_post
from test_web import Web, csrf_of, web  # noqa: F401 - the fixture

from bot.cases import open_petition
from bot.comments import handle_feed_change


def test_the_page_lists_comments_and_cases_and_an_admin_hides_a_comment(
    web: Web,  # noqa: F811
    workspace: Workspace,
) -> None:
    loa = web.loa
    fb = workspace.fb
    post = seed_post(loa, fb, "Lịch tiếp công dân tháng 12")
    cid = fb.comments.add(post, "Vay tiền nhanh liên hệ 0912345678")
    c = handle_feed_change(loa, "facebook", change(fb, cid))
    assert c is not None
    old = datetime.now(UTC) - timedelta(days=40)
    late = open_petition(loa, "Đường xuống cấp", ADMIN, source_kind="web", now=old)
    fresh = open_petition(loa, "Hồ sơ chậm", ADMIN, source_kind="web")
    client = web.login("lan")
    page = client.get("/tiep-nhan")
    assert page.status_code == 200
    html = page.text
    assert "Lịch tiếp công dân tháng 12" in html and "nghi lừa đảo" in html
    assert html.index(late.number) < html.index(fresh.number)  # by due date
    assert "QUÁ HẠN" in html  # overdue in words, not colour alone
    only = client.get("/tiep-nhan?xem=phan-anh").text
    assert late.number in only and f"BL-{c.id}" not in only
    forged = client.post(f"/tiep-nhan/binh-luan/{c.id}/an", data={"csrf": "x", "text": "spam"})
    assert forged.status_code == 403 and not fb.comments.items[cid]["is_hidden"]
    r = client.post(
        f"/tiep-nhan/binh-luan/{c.id}/an",
        data={"csrf": csrf_of(html), "text": "Quảng cáo lừa đảo"},
        headers={"origin": "http://127.0.0.1:8080"},
    )
    assert r.status_code == 303
    assert fb.comments.items[cid]["is_hidden"]
    again = client.post(
        f"/tiep-nhan/binh-luan/{c.id}/an",
        data={"csrf": csrf_of(html), "text": "lần hai"},
        headers={"origin": "http://127.0.0.1:8080"},
    )
    assert "loi=1" in again.headers["location"]
    viewer = web.login("xem")
    refused = viewer.post(
        f"/tiep-nhan/ho-so/{late.id}/tra-loi",
        data={"csrf": csrf_of(viewer.get("/tiep-nhan").text), "text": "x"},
        headers={"origin": "http://127.0.0.1:8080"},
    )
    assert refused.status_code == 403
