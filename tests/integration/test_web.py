"""The web page over real HTTP requests (Starlette's TestClient): roles, CSRF, forged and stale
POSTs, sessions, login throttling, the CSP, sanitised previews, uploads and every page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from conftest import Workspace, parsed_article
from starlette.testclient import TestClient

from bot.context import Loa
from bot.web.app import build_app
from bot.web.passwords import hash_password
from content_queue.models import Actor
from content_queue.users import add_user, find_user, set_disabled

PASSWORD = "mat-khau-rat-dai-2026"


@dataclass
class Web:
    loa: Loa
    app: object

    def client(self) -> TestClient:
        return TestClient(
            self.app,
            base_url="http://127.0.0.1:8080",  # type: ignore[arg-type]
            follow_redirects=False,
        )

    def login(self, name: str, password: str = PASSWORD) -> TestClient:
        c = self.client()
        r = login(c, name, password)
        assert r.status_code == 303, r.text
        return c


def login(c: TestClient, name: str, password: str) -> object:
    page = c.get("/dang-nhap")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return c.post("/dang-nhap", data={"username": name, "password": password, "csrf": token})


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


@pytest.fixture
def web(workspace: Workspace) -> Iterator[Web]:
    with workspace.config.open("a", encoding="utf-8") as f:
        f.write(
            '\n[web]\nlisten = "127.0.0.1:8080"\nbase_url = "http://127.0.0.1:8080"\n'
            "login_lock_after = 3\n"
        )
    loa = workspace.loa()
    for name, role, full in (
        ("lan", "admin", "Nguyễn Thị Lan"),
        ("hung", "admin", ""),
        ("mai", "editor", ""),
        ("xem", "viewer", ""),
    ):
        add_user(loa.store, name, role, hash_password(PASSWORD), Actor("test"), full_name=full)
    yield Web(loa, build_app(loa))
    loa.store.engine.dispose()


def _pending(web: Web, title: str = "Hội nghị cải cách hành chính", **kw: object) -> int:
    return web.loa.store.submit(parsed_article(title, **kw), Actor("mai", "web")).article.id  # type: ignore[arg-type]


def _form(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action``."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S)
    assert form, f"no form for {action}"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1)))


def test_every_response_carries_a_strict_csp_and_login_cookie_is_httponly(web: Web) -> None:
    c = web.client()
    r = c.get("/dang-nhap")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp and r.headers["x-content-type-options"] == "nosniff"
    r = login(c, "lan", PASSWORD)
    cookie = r.headers["set-cookie"]  # type: ignore[attr-defined]
    assert "loa_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # base_url is http here
    assert c.get("/lich").headers["content-security-policy"] == csp


def test_pages_need_a_login(web: Web) -> None:
    c = web.client()
    for path in ("/lich", "/cho-duyet", "/ke-hoach", "/bao-cao", "/kenh", "/bai-viet/1"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/dang-nhap?next=")


def test_wrong_password_then_lock_after_three(web: Web) -> None:
    c = web.client()
    assert login(c, "lan", "sai-mat-khau-123").status_code == 401  # type: ignore[attr-defined]
    assert login(c, "khong-co", "sai-mat-khau-123").status_code == 401  # type: ignore[attr-defined]
    assert login(c, "lan", "sai-mat-khau-456").status_code == 401  # type: ignore[attr-defined]
    r = login(c, "lan", "sai-mat-khau-789")
    locked = login(c, "lan", PASSWORD)  # the right password no longer opens it for a while
    assert locked.status_code == 429 and "tạm khóa" in locked.text  # type: ignore[attr-defined]
    assert r.status_code == 401  # type: ignore[attr-defined]
    assert find_user(web.loa.store, "lan").locked_until > datetime.now(UTC)  # type: ignore[union-attr]
    actions = [e["action"] for e in web.loa.store.audit_entries()]
    assert actions.count("web_login_failed") == 3


def test_login_without_its_csrf_cookie_is_refused(web: Web) -> None:
    r = web.client().post(
        "/dang-nhap", data={"username": "lan", "password": PASSWORD, "csrf": "doan-bua"}
    )
    assert r.status_code == 403 and "mã bảo vệ" in r.text


def test_open_redirect_after_login_is_not_followed(web: Web) -> None:
    c = web.client()
    page = c.get("/dang-nhap?next=//evil.example/x")
    r = c.post(
        "/dang-nhap",
        data={
            "username": "lan",
            "password": PASSWORD,
            "csrf": csrf_of(page.text),
            "next": "//evil.example/x",
        },
    )
    assert r.headers["location"] == "/lich"


def test_logout_and_disabled_account_end_the_session(web: Web) -> None:
    c = web.login("xem")
    assert c.get("/lich").status_code == 200
    r = c.post("/dang-xuat", data={"csrf": csrf_of(c.get("/lich").text)})
    assert r.status_code == 303
    assert c.get("/lich").status_code == 303
    c = web.login("xem")
    set_disabled(web.loa.store, "xem", True, Actor("test"))
    assert c.get("/lich").status_code == 303


def test_admin_approves_and_the_audit_names_the_web_user(web: Web) -> None:
    aid = _pending(web)
    c = web.login("lan")
    page = c.get(f"/bai-viet/{aid}")
    assert page.status_code == 200 and 'id="approve-next"' in page.text
    r = c.post(
        f"/bai-viet/{aid}/duyet",
        data={**_form(page.text, f"/bai-viet/{aid}/duyet"), "mode": "next"},
    )
    assert r.status_code == 303, r.text
    article = web.loa.store.get(aid)
    assert article.state == "approved"
    assert article.approved_by == "web:Nguyễn Thị Lan (lan)"
    approved = [e for e in web.loa.store.audit_entries(aid) if e["action"] == "approved"]
    assert approved[0]["actor"] == "web:Nguyễn Thị Lan (lan)" and approved[0]["via"] == "web"
    shown = c.get(r.headers["location"])
    assert "Đã duyệt bài" in shown.text and "đã duyệt, chờ đăng" in shown.text
    assert {"website", "facebook"} <= {d.channel for d in article.deliveries}


def test_a_second_admins_stale_page_is_refused_clearly(web: Web) -> None:
    aid = _pending(web)
    lan, hung = web.login("lan"), web.login("hung")
    page_lan = lan.get(f"/bai-viet/{aid}").text
    page_hung = hung.get(f"/bai-viet/{aid}").text
    assert (
        lan.post(
            f"/bai-viet/{aid}/duyet",
            data={**_form(page_lan, f"/bai-viet/{aid}/duyet"), "mode": "next"},
        ).status_code
        == 303
    )
    r = hung.post(
        f"/bai-viet/{aid}/tu-choi",
        data={**_form(page_hung, f"/bai-viet/{aid}/tu-choi"), "reason": "Chưa đạt"},
    )
    assert r.status_code == 409
    assert "Trang này đã cũ" in r.text and "Nguyễn Thị Lan" in r.text
    assert web.loa.store.get(aid).state == "approved"
    assert (
        sum(e["action"] in ("approved", "rejected") for e in web.loa.store.audit_entries(aid)) == 1
    )


def test_a_page_of_an_older_revision_is_refused(web: Web) -> None:
    aid = _pending(web, source_name="bai.md")
    c = web.login("lan")
    page = c.get(f"/bai-viet/{aid}").text
    web.loa.store.submit(
        parsed_article("Hội nghị cải cách hành chính", body="Bản sửa.", source_name="bai.md"),
        Actor("mai"),
    )
    assert web.loa.store.get(aid).revision == 2
    r = c.post(
        f"/bai-viet/{aid}/duyet", data={**_form(page, f"/bai-viet/{aid}/duyet"), "mode": "now"}
    )
    assert r.status_code == 409 and "bản sửa (bản 2)" in r.text
    assert web.loa.store.get(aid).state == "pending"


def test_a_viewer_sees_no_action_and_a_forged_post_is_refused(web: Web) -> None:
    aid = _pending(web)
    c = web.login("xem")
    page = c.get(f"/bai-viet/{aid}").text
    assert 'id="actions"' not in page and "/duyet" not in page
    r = c.post(
        f"/bai-viet/{aid}/duyet",
        data={"csrf": csrf_of(page), "revision": "1", "state": "pending", "mode": "now"},
    )
    assert r.status_code == 403 and "Chỉ quản trị viên" in r.text
    assert web.loa.store.get(aid).state == "pending"
    assert any(
        e["action"] == "unauthorised" and e["actor"] == "web:xem"
        for e in web.loa.store.audit_entries()
    )
    r = c.post("/kenh/facebook/tam-dung", data={"csrf": csrf_of(page)})
    assert r.status_code == 403 and not web.loa.store.channel_status("facebook").paused


def test_a_post_without_the_csrf_token_is_refused(web: Web) -> None:
    aid = _pending(web)
    c = web.login("lan")
    page = c.get(f"/bai-viet/{aid}").text
    fields = _form(page, f"/bai-viet/{aid}/duyet")
    for bad in ({k: v for k, v in fields.items() if k != "csrf"}, {**fields, "csrf": "x" * 43}):
        r = c.post(f"/bai-viet/{aid}/duyet", data={**bad, "mode": "now"})
        assert r.status_code == 403 and "mã bảo vệ" in r.text
    r = c.post(
        f"/bai-viet/{aid}/duyet",
        data={**fields, "mode": "now"},
        headers={"origin": "https://evil.example"},
    )
    assert r.status_code == 403
    assert web.loa.store.get(aid).state == "pending"
    assert any(e["action"] == "web_csrf_refused" for e in web.loa.store.audit_entries())


def test_reject_needs_a_reason_and_then_rejects(web: Web) -> None:
    aid = _pending(web)
    c = web.login("hung")
    page = c.get(f"/bai-viet/{aid}").text
    fields = _form(page, f"/bai-viet/{aid}/tu-choi")
    r = c.post(f"/bai-viet/{aid}/tu-choi", data={**fields, "reason": "   "})
    assert r.status_code == 400 and "lý do" in r.text
    r = c.post(f"/bai-viet/{aid}/tu-choi", data={**fields, "reason": "Thiếu số liệu quý."})
    assert r.status_code == 303
    art = web.loa.store.get(aid)
    assert art.state == "rejected" and art.reject_reason == "Thiếu số liệu quý."
    assert art.rejected_by == "web:hung"


def test_approve_at_a_time_in_the_past_is_refused(web: Web) -> None:
    aid = _pending(web)
    c = web.login("lan")
    page = c.get(f"/bai-viet/{aid}").text
    r = c.post(
        f"/bai-viet/{aid}/duyet",
        data={**_form(page, f"/bai-viet/{aid}/duyet"), "mode": "at", "at": "2020-01-01T08:30"},
    )
    assert r.status_code == 409 and "đã qua" in r.text
    when = (datetime.now(web.loa.settings.schedule.tz) + timedelta(days=3)).replace(
        hour=9, minute=15, second=0, microsecond=0
    )
    r = c.post(
        f"/bai-viet/{aid}/duyet",
        data={
            **_form(page, f"/bai-viet/{aid}/duyet"),
            "mode": "at",
            "at": when.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert r.status_code == 303
    assert web.loa.store.get(aid).scheduled_at == when.astimezone(UTC)


def test_a_script_in_an_article_never_reaches_the_page(web: Web) -> None:
    evil = (
        'Bài <script>document.title="hacked"</script><img src="x.png" onerror="alert(1)">'
        '<a href="javascript:alert(2)">liên kết</a><iframe src="https://evil.example"></iframe>'
        '<p style="background:url(javascript:alert(3))">đoạn</p>'
    )
    aid = _pending(web, body=evil)
    page = web.login("xem").get(f"/bai-viet/{aid}").text
    article_part = page.split("<h2>Bản xem trước theo kênh</h2>", 1)[1]
    assert "<script" not in article_part and "onerror" not in article_part
    assert 'href="javascript:' not in article_part and "<iframe" not in article_part
    assert 'style="' not in article_part


def test_calendar_shows_the_scheduled_article_on_its_day_and_filters(web: Web) -> None:
    aid = _pending(web, title="Lịch tiếp công dân tháng mười hai")
    c = web.login("lan")
    page = c.get(f"/bai-viet/{aid}").text
    when = (datetime.now(web.loa.settings.schedule.tz) + timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    before = c.get(f"/lich?thang={when:%Y-%m}").text  # now cached
    cell = re.search(rf'data-day="{when:%Y-%m-%d}">(.*?)</td>', before, re.S).group(1)  # type: ignore[union-attr]
    assert f'data-article="{aid}"' not in cell
    c.post(
        f"/bai-viet/{aid}/duyet",
        data={
            **_form(page, f"/bai-viet/{aid}/duyet"),
            "mode": "at",
            "at": when.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    cal = c.get(f"/lich?thang={when:%Y-%m}").text
    cell = re.search(rf'data-day="{when:%Y-%m-%d}">(.*?)</td>', cal, re.S).group(1)  # type: ignore[union-attr]
    assert cell.count(f'data-article="{aid}"') == 1  # one card for the article
    assert "<b>Trang web</b> chờ đến giờ" in cell and "<b>Facebook</b>" in cell
    assert "st-waiting" in cell
    only_fb = c.get(f"/lich?thang={when:%Y-%m}&kenh=facebook").text
    cell = re.search(rf'data-day="{when:%Y-%m-%d}">(.*?)</td>', only_fb, re.S).group(1)  # type: ignore[union-attr]
    assert "<b>Facebook</b>" in cell and "<b>Trang web</b>" not in cell
    week = c.get(f"/lich?xem=tuan&ngay={when:%Y-%m-%d}").text
    assert f'data-article="{aid}"' in week
    other_topic = c.get(f"/lich?thang={when:%Y-%m}&chu-de=i").text
    assert f'data-article="{aid}"' not in other_topic


def test_every_page_renders_in_vietnamese(web: Web) -> None:
    _pending(web, title="Bài chờ duyệt đầu tiên")
    c = web.login("lan")
    expect = {
        "/lich": "Lịch đăng",
        "/cho-duyet": "Bài chờ duyệt đầu tiên",
        "/ke-hoach": "Chủ đề a)–i)",
        "/bao-cao": "Tải báo cáo Word",
        "/kenh": "Tạm dừng",
        "/nop-bai": "Nộp bài viết",
        "/bai-viet/999": "Không tìm thấy",
    }
    for path, text in expect.items():
        r = c.get(path)
        assert text in r.text, path
        assert r.status_code == (404 if path == "/bai-viet/999" else 200), path


def test_report_downloads_are_the_files_loa_report_writes(web: Web) -> None:
    c = web.login("xem")
    year = datetime.now(web.loa.settings.schedule.tz).year
    for fmt in ("docx", "xlsx"):
        r = c.get(f"/bao-cao/tai?ky={year}-Q1&dinh-dang={fmt}")
        assert r.status_code == 200 and r.content[:2] == b"PK"
        assert f"bao-cao-cchc-{year}-Q1.{fmt}" in r.headers["content-disposition"]
    assert c.get("/bao-cao?ky=khong-hop-le").status_code == 400


def test_admin_pauses_and_resumes_a_channel(web: Web) -> None:
    c = web.login("lan")
    page = c.get("/kenh").text
    assert "Tự gia hạn" in page and "chưa kiểm tra" in page  # Zalo renews its own token
    r = c.post("/kenh/facebook/tam-dung", data={"csrf": csrf_of(page)})
    assert r.status_code == 200 and 'id="confirm-pause"' in r.text  # asks first
    assert not web.loa.store.channel_status("facebook").paused
    r = c.post("/kenh/facebook/tam-dung", data={"csrf": csrf_of(page), "xac-nhan": "1"})
    assert r.status_code == 200 and web.loa.store.channel_status("facebook").paused
    assert "lan" in (web.loa.store.channel_status("facebook").paused_reason or "")
    c.post("/kenh/facebook/tiep-tuc", data={"csrf": csrf_of(page)})
    assert not web.loa.store.channel_status("facebook").paused


def test_editor_uploads_through_the_inbox_ingestion_and_a_viewer_cannot(web: Web) -> None:
    md = (
        "---\ntitle: Tiếp nhận hồ sơ trực tuyến toàn trình\ntopic: đ\n---\n"
        "Từ tháng 12, hồ sơ được tiếp nhận trực tuyến.\n"
    ).encode()
    c = web.login("mai")
    page = c.get("/nop-bai").text
    r = c.post(
        "/nop-bai", data={"csrf": csrf_of(page)}, files={"file": ("ho-so.md", md, "text/markdown")}
    )
    assert r.status_code == 200 and "đã nhận bài" in r.text
    pending = web.loa.store.list(["pending"])
    assert [a.title for a in pending] == ["Tiếp nhận hồ sơ trực tuyến toàn trình"]
    assert pending[0].submitted_by == "web:mai"
    r = c.post(
        "/nop-bai",
        data={"csrf": csrf_of(page)},
        files={"file": ("virus.exe", b"MZ", "application/octet-stream")},
    )
    assert r.status_code == 400 and "không đúng loại" in r.text
    r = c.post(
        "/nop-bai", data={"csrf": csrf_of(page)}, files={"file": ("rong.md", b"", "text/markdown")}
    )
    assert r.status_code == 422 and "không nhận" in r.text
    v = web.login("xem")
    r = v.post(
        "/nop-bai",
        data={"csrf": csrf_of(v.get("/lich").text)},
        files={"file": ("ho-so-2.md", md.replace(b"12", b"11"), "text/markdown")},
    )
    assert r.status_code == 403 and len(web.loa.store.list(["pending"])) == 1


def test_plan_page_follows_new_posts_and_reach(web: Web) -> None:
    from content_queue.store import ChannelPlan
    from content_queue.tables import reach_samples

    c = web.login("xem")
    assert "Trang web: " not in c.get("/ke-hoach").text  # no post yet (and the view is cached)
    store = web.loa.store
    aid = _pending(web)
    now = datetime.now(UTC)
    store.approve(aid, Actor("lan"), now, [ChannelPlan("website")])
    (d,) = store.claim_due("w", now + timedelta(seconds=1), limit=1, lease_seconds=60)
    store.record_sent(d.id, "w", remote_id="1", url="https://x.gov.vn/1")
    page = c.get("/ke-hoach").text
    # no reach sample yet: "no figure", as the report says, never a made-up 0
    assert "Trang web: không có số liệu" in page and "1/2" in page
    with store.tx() as conn:
        conn.execute(
            reach_samples.insert().values(
                delivery_id=d.id, metric="views", value=1234, available=True, collected_at=now
            )
        )
    assert "Trang web: 1.234" in c.get("/ke-hoach").text


def test_oversized_bodies_are_refused_before_parsing(web: Web) -> None:
    c = web.login("mai")
    page = c.get("/nop-bai").text
    big = b"x" * (int(web.loa.settings.queue.max_file_mb * 1024 * 1024) + 200_000)
    r = c.post(
        "/nop-bai", data={"csrf": csrf_of(page)}, files={"file": ("lon.md", big, "text/markdown")}
    )
    assert r.status_code == 413 and web.loa.store.list() == []
    r = c.post("/dang-xuat", data={"csrf": csrf_of(page), "pad": "y" * 100_000})
    assert r.status_code == 413
    assert c.get("/lich").status_code == 200  # still signed in


def test_preview_html_is_cleaned_by_the_page_itself(web: Web) -> None:
    from bot.web.previews import safe_html

    aid = _pending(web)
    article = web.loa.store.get(aid)
    dirty = (
        '<p onclick="x()">a</p><script>alert(1)</script><img src="/etc/x.png" '
        'onerror="alert(2)"><a href="javascript:alert(3)">b</a><iframe src="//e"></iframe>'
        '<style>body{}</style><svg onload="alert(4)"></svg>'
    )
    clean = safe_html(dirty, article, "")
    for bad in (
        "<script",
        "onclick",
        "onerror",
        "javascript:",
        "<iframe",
        "<style",
        "<svg",
        "onload",
    ):
        assert bad not in clean, bad
    assert "<p>a</p>" in clean and "<a" in clean


def test_cookies_are_secure_behind_https(workspace: Workspace) -> None:
    with workspace.config.open("a", encoding="utf-8") as f:
        f.write('\n[web]\nbase_url = "https://cchc.example.gov.vn/loa"\n')
    loa = workspace.loa()
    add_user(loa.store, "lan", "admin", hash_password(PASSWORD), Actor("test"))
    c = TestClient(build_app(loa), base_url="https://cchc.example.gov.vn", follow_redirects=False)
    page = c.get("/dang-nhap")
    assert "Secure" in page.headers["set-cookie"] and 'action="/loa/dang-nhap"' in page.text
    # The proxy strips /loa before the app; the browser, seeing /loa/…, sends the cookie back.
    c.cookies.clear()
    c.cookies.set("loa_login", re.search(r"loa_login=([^;]+)", page.headers["set-cookie"]).group(1))  # type: ignore[union-attr]
    r = c.post(
        "/dang-nhap",
        data={"username": "lan", "password": PASSWORD, "csrf": csrf_of(page.text)},
        headers={"origin": "https://cchc.example.gov.vn"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/loa/lich"
    cookie = r.headers["set-cookie"]
    assert "loa_session=" in cookie and "Secure" in cookie and "Path=/loa" in cookie
    loa.store.engine.dispose()


def test_the_timeline_speaks_vietnamese_and_names_people(web: Web) -> None:
    store = web.loa.store
    aid = store.submit(parsed_article("Bài nhật ký"), Actor("inbox", "inbox")).article.id
    store.record_event(Actor.service(), "followed_up", aid, channel="facebook")
    store.reject(aid, Actor("tg:111111111", "telegram"), "Thiếu số liệu.")
    page = web.login("lan").get(f"/bai-viet/{aid}").text
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', page, re.S).group(1)  # type: ignore[union-attr]
    for leftover in ("followed_up", "tg:", "(service)", "inbox", "root", ">loa<"):
        assert leftover not in timeline, leftover
    assert "Loa (tự động)" in timeline and "nhắc việc" in timeline and "Facebook" in timeline
    assert "người dùng Telegram" in timeline  # not in [telegram] admins/editors/names here
    assert 'id="rejection"' in page and "Thiếu số liệu." in page  # the reason, at the top
