"""The web page over real HTTP requests (Starlette's TestClient): roles, CSRF, forged and stale
POSTs, sessions, login throttling, the CSP, sanitised previews, uploads and every page."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from conftest import Workspace, parsed_article
from starlette.testclient import TestClient

from bot.context import Loa
from bot.web.app import build_app
from bot.web.passwords import hash_password
from content_queue.models import Actor

PASSWORD = "mat-khau-rat-dai-2026"


@dataclass
class Web:
    loa: Loa
    app: object

    def client(self, address: str = "testclient") -> TestClient:
        return TestClient(
            self.app,
            base_url="http://127.0.0.1:8080",  # type: ignore[arg-type]
            follow_redirects=False,
            client=(address, 50000),
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
            "login_free_attempts = 3\nlogin_address_limit = 10\nlogin_hash_slots = 16\n"
            "login_hash_wait_seconds = 0.2\n"
            "[ingest]\nparse_workers = 2\nparse_queue = 0\nparse_per_user = 1\n"
        )
    loa = workspace.loa()
    for name, role, full in (
        ("lan", "admin", "Nguyễn Thị Lan"),
        ("hung", "admin", ""),
        ("mai", "editor", ""),
        ("tuan", "editor", ""),
        ("xem", "viewer", ""),
    ):
        loa.store.users.add_user(name, role, hash_password(PASSWORD), Actor("test"), full_name=full)
    yield Web(loa, build_app(loa))
    loa.store.engine.dispose()


def _pending(web: Web, title: str = "Hội nghị cải cách hành chính", **kw: object) -> int:
    return web.loa.store.articles.submit(
        parsed_article(title, **kw), Actor("mai", "web")
    ).article.id  # type: ignore[arg-type]


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


def test_wrong_passwords_delay_that_address_only_and_never_reveal_the_account(web: Web) -> None:
    c = web.client("10.0.0.9")
    for name in ("lan", "khong-co"):
        for n in range(3):
            r = login(c, name, f"sai-mat-khau-{n}")
            assert r.status_code == 401 and "Sai tên đăng nhập" in r.text  # type: ignore[attr-defined]
    # The fourth wrong try of a real and of an unknown name gets the same delayed answer.
    known, unknown = login(c, "lan", PASSWORD), login(c, "khong-co", PASSWORD)
    assert known.status_code == unknown.status_code == 429  # type: ignore[attr-defined]
    same = re.compile(r'name="csrf" value="[^"]+"|chờ \d+ giây')  # the token; seconds tick
    assert same.sub("", known.text) == same.sub("", unknown.text)  # type: ignore[attr-defined]
    wait = re.search(r"hãy chờ (\d+) giây", known.text)  # type: ignore[attr-defined]
    assert wait and 25 <= int(wait.group(1)) <= 30
    assert known.headers["retry-after"] == wait.group(1)  # type: ignore[attr-defined]
    # A stranger's wrong guesses do not lock the owner out: from her own address she signs in.
    assert login(web.client("10.0.0.7"), "lan", PASSWORD).status_code == 303  # type: ignore[attr-defined]
    actions = [e["action"] for e in web.loa.store.audit.audit_entries()]
    assert actions.count("web_login_failed") == 3  # audited for the real account only


def _burst(web: Web, tries: list[tuple[str, str, str]]) -> list[int]:
    """Every (address, name, password) posted at the same moment, each from its own client."""
    ready = []
    for address, name, password in tries:
        c = web.client(address)
        token = csrf_of(c.get("/dang-nhap").text)
        ready.append((c, {"username": name, "password": password, "csrf": token}))
    gate = threading.Barrier(len(ready))

    def post(item: tuple[TestClient, dict[str, str]]) -> int:
        gate.wait()
        return item[0].post("/dang-nhap", data=item[1]).status_code

    with ThreadPoolExecutor(len(ready)) as pool:
        return list(pool.map(post, ready))


def test_a_burst_of_guesses_gets_no_more_checks_than_configured(web: Web) -> None:
    # 39 wrong passwords and the right one for one account, all at once from one address.
    tries = [("10.1.1.1", "lan", f"sai-mat-khau-{n}") for n in range(39)]
    codes = _burst(web, [*tries, ("10.1.1.1", "lan", PASSWORD)])
    actions = [e["action"] for e in web.loa.store.audit.audit_entries()]
    checked = actions.count("web_login_failed") + actions.count("web_login")
    assert checked <= 3 and codes.count(401) + codes.count(303) == checked, codes
    assert set(codes) <= {401, 303, 429}
    # 40 names sprayed from one address at once: at most the address limit (10) get checked.
    codes = _burst(web, [("10.2.2.2", f"ten-{n}", "sai-mat-khau") for n in range(40)])
    assert codes.count(401) <= 10 and codes.count(429) >= 30, codes


def test_password_checks_beyond_the_slots_are_refused_busy(web: Web) -> None:
    site = web.app.state.site  # type: ignore[attr-defined]
    for _ in range(16):
        site.hash_slots.acquire()
    try:
        r = login(web.client(), "lan", PASSWORD)
        assert r.status_code == 429 and "Hệ thống đang bận" in r.text  # type: ignore[attr-defined]
    finally:
        for _ in range(16):
            site.hash_slots.release()
    assert login(web.client(), "lan", PASSWORD).status_code == 303  # type: ignore[attr-defined]


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
    web.loa.store.users.set_disabled("xem", True, Actor("test"))
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
    article = web.loa.store.articles.get(aid)
    assert article.state == "approved"
    assert article.approved_by == "web:Nguyễn Thị Lan (lan)"
    approved = [e for e in web.loa.store.audit.audit_entries(aid) if e["action"] == "approved"]
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
    assert web.loa.store.articles.get(aid).state == "approved"
    assert (
        sum(e["action"] in ("approved", "rejected") for e in web.loa.store.audit.audit_entries(aid))
        == 1
    )


def test_a_page_of_an_older_revision_is_refused(web: Web) -> None:
    aid = _pending(web, source_name="bai.md")
    c = web.login("lan")
    page = c.get(f"/bai-viet/{aid}").text
    web.loa.store.articles.submit(
        parsed_article("Hội nghị cải cách hành chính", body="Bản sửa.", source_name="bai.md"),
        Actor("mai"),
    )
    assert web.loa.store.articles.get(aid).revision == 2
    r = c.post(
        f"/bai-viet/{aid}/duyet", data={**_form(page, f"/bai-viet/{aid}/duyet"), "mode": "now"}
    )
    assert r.status_code == 409 and "bản sửa (bản 2)" in r.text
    assert web.loa.store.articles.get(aid).state == "pending"


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
    assert web.loa.store.articles.get(aid).state == "pending"
    assert any(
        e["action"] == "unauthorised" and e["actor"] == "web:xem"
        for e in web.loa.store.audit.audit_entries()
    )
    r = c.post("/kenh/facebook/tam-dung", data={"csrf": csrf_of(page)})
    assert r.status_code == 403 and not web.loa.store.channels.channel_status("facebook").paused


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
    assert web.loa.store.articles.get(aid).state == "pending"
    assert any(e["action"] == "web_csrf_refused" for e in web.loa.store.audit.audit_entries())


def test_reject_needs_a_reason_and_then_rejects(web: Web) -> None:
    aid = _pending(web)
    c = web.login("hung")
    page = c.get(f"/bai-viet/{aid}").text
    fields = _form(page, f"/bai-viet/{aid}/tu-choi")
    r = c.post(f"/bai-viet/{aid}/tu-choi", data={**fields, "reason": "   "})
    assert r.status_code == 400 and "lý do" in r.text
    r = c.post(f"/bai-viet/{aid}/tu-choi", data={**fields, "reason": "Thiếu số liệu quý."})
    assert r.status_code == 303
    art = web.loa.store.articles.get(aid)
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
    assert web.loa.store.articles.get(aid).scheduled_at == when.astimezone(UTC)


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
    assert not web.loa.store.channels.channel_status("facebook").paused
    r = c.post("/kenh/facebook/tam-dung", data={"csrf": csrf_of(page), "xac-nhan": "1"})
    assert r.status_code == 200 and web.loa.store.channels.channel_status("facebook").paused
    assert "lan" in (web.loa.store.channels.channel_status("facebook").paused_reason or "")
    c.post("/kenh/facebook/tiep-tuc", data={"csrf": csrf_of(page)})
    assert not web.loa.store.channels.channel_status("facebook").paused


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
    pending = web.loa.store.articles.list(["pending"])
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
    assert r.status_code == 403 and len(web.loa.store.articles.list(["pending"])) == 1


def test_plan_page_follows_new_posts_and_reach(web: Web) -> None:
    from content_queue.store import ChannelPlan
    from content_queue.tables import reach_samples

    c = web.login("xem")
    assert "Trang web: " not in c.get("/ke-hoach").text  # no post yet (and the view is cached)
    store = web.loa.store
    aid = _pending(web)
    now = datetime.now(UTC)
    store.articles.approve(aid, Actor("lan"), now, [ChannelPlan("website")])
    (d,) = store.deliveries.claim_due("w", now + timedelta(seconds=1), limit=1, lease_seconds=60)
    store.deliveries.record_sent(d.id, "w", remote_id="1", url="https://x.gov.vn/1")
    page = c.get("/ke-hoach").text
    # no reach sample yet: "no figure", as the report says, never a made-up 0
    assert "Trang web: không có số liệu" in page and "1/2" in page
    with store.engine.begin() as conn:
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
    assert r.status_code == 413 and web.loa.store.articles.list() == []
    r = c.post("/dang-xuat", data={"csrf": csrf_of(page), "pad": "y" * 100_000})
    assert r.status_code == 413
    assert c.get("/lich").status_code == 200  # still signed in


def test_preview_html_is_cleaned_by_the_page_itself(web: Web) -> None:
    from bot.web.previews import safe_html

    aid = _pending(web)
    article = web.loa.store.articles.get(aid)
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
    loa.store.users.add_user("lan", "admin", hash_password(PASSWORD), Actor("test"))
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


def test_hostile_addresses_get_400_or_404_with_the_csp_never_a_500(web: Web) -> None:
    c = web.login("mai")
    answers = {
        "/lich?xem=tuan&ngay=0001-01-01": 400,
        "/lich?xem=tuan&ngay=9999-12-31": 400,
        "/lich?ngay=9999-12-31": 200,  # the month view ignores ngay
        "/bai-viet/12345678901234567890123": 404,
        "/bai-viet/12345678901234567890123/anh/0": 404,
    }
    for path, status in answers.items():
        r = c.get(path)
        assert r.status_code == status, (path, r.status_code)
        assert r.headers["content-security-policy"].startswith("default-src 'none'"), path
    page = c.get("/nop-bai").text
    body = (
        b'--xx\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n'
        + csrf_of(page).encode()
        + b'\r\n--xx\r\nContent-Disposition: form-data; name="file"; filename="bai\x00.md"\r\n'
        b"Content-Type: text/markdown\r\n\r\n# T\n\nN\n\r\n--xx--\r\n"
    )
    r = c.post(
        "/nop-bai", content=body, headers={"content-type": "multipart/form-data; boundary=xx"}
    )
    assert r.status_code == 400 and "ký tự điều khiển" in r.text
    assert "content-security-policy" in r.headers


def test_a_failing_route_answers_500_with_the_csp(web: Web) -> None:
    from starlette.routing import Route

    async def boom(request: object) -> None:
        raise RuntimeError("hỏng")

    web.app.router.routes.append(Route("/hong", boom))  # type: ignore[attr-defined]
    c = TestClient(web.app, raise_server_exceptions=False)  # type: ignore[arg-type]
    r = c.get("/hong")
    assert r.status_code == 500 and "Loa gặp lỗi" in r.text
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert r.headers["x-frame-options"] == "DENY"


def _upload(c: TestClient, name: str, md: str) -> object:
    page = c.get("/nop-bai").text
    return c.post(
        "/nop-bai",
        data={"csrf": csrf_of(page)},
        files={"file": (name, md.encode(), "text/markdown")},
    )


def test_parsing_has_its_own_bounded_pool_and_pages_never_wait(web: Web) -> None:
    md = "---\ntitle: Hồ sơ trực tuyến toàn trình\ntopic: đ\n---\nNội dung {n}.\n"
    mai, hung = web.login("mai"), web.login("hung")
    mai_id = web.loa.store.users.find_user("mai").id  # type: ignore[union-attr]
    gate = threading.Event()
    pool = web.loa.parsing
    held = pool.submit(f"web:{mai_id}", gate.wait, 30)  # mai has a file being parsed
    try:
        r = _upload(mai, "a.md", md.format(n=1))  # her limit is one at a time
        assert r.status_code == 429 and "Hệ thống đang bận" in r.text  # type: ignore[attr-defined]
        assert _upload(hung, "b.md", md.format(n=2)).status_code == 200  # type: ignore[attr-defined]
        other = pool.submit("web:0", gate.wait, 30)  # both workers busy, no queue left
        r = _upload(hung, "c.md", md.format(n=3))
        assert r.status_code == 429 and r.headers["retry-after"] == "30"  # type: ignore[attr-defined]
        # Pages and buttons do not wait behind parsing.
        assert hung.get("/lich").status_code == 200 and hung.get("/cho-duyet").status_code == 200
    finally:
        gate.set()
    held.result(5), other.result(5)
    assert _upload(mai, "a.md", md.format(n=1)).status_code == 200  # type: ignore[attr-defined]


def test_an_editor_cannot_replace_another_editors_pending_article(web: Web) -> None:
    md = "---\ntitle: {title}\ntopic: đ\nid: KH-01\n---\nNội dung {n}.\n"
    r = _upload(web.login("mai"), "kh.md", md.format(title="Bài của Mai", n=1))
    assert r.status_code == 200  # type: ignore[attr-defined]
    r = _upload(web.login("tuan"), "kh.md", md.format(title="Bài thay thế", n=2))
    assert r.status_code == 422 and "bài của người khác" in r.text  # type: ignore[attr-defined]
    (article,) = web.loa.store.articles.list(["pending"])
    assert (article.title, article.revision) == ("Bài của Mai", 1)
    r = _upload(web.login("lan"), "kh.md", md.format(title="Bản sửa của quản trị", n=3))
    assert r.status_code == 200  # type: ignore[attr-defined]
    (article,) = web.loa.store.articles.list(["pending"])
    assert (article.title, article.revision) == ("Bản sửa của quản trị", 2)
    r = _upload(web.login("mai"), "kh.md", md.format(title="Mai sửa lại", n=4))
    assert r.status_code == 200  # type: ignore[attr-defined]  # she sent it: she may revise it


def test_the_timeline_speaks_vietnamese_and_names_people(web: Web) -> None:
    store = web.loa.store
    aid = store.articles.submit(parsed_article("Bài nhật ký"), Actor("inbox", "inbox")).article.id
    store.audit.record_event(Actor.service(), "followed_up", aid, channel="facebook")
    store.articles.reject(aid, Actor("tg:111111111", "telegram"), "Thiếu số liệu.")
    page = web.login("lan").get(f"/bai-viet/{aid}").text
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', page, re.S).group(1)  # type: ignore[union-attr]
    for leftover in ("followed_up", "tg:", "(service)", "inbox", "root", ">loa<"):
        assert leftover not in timeline, leftover
    assert "Loa (tự động)" in timeline and "nhắc việc" in timeline and "Facebook" in timeline
    assert "người dùng Telegram" in timeline  # not in [telegram] admins/editors/names here
    assert 'id="rejection"' in page and "Thiếu số liệu." in page  # the reason, at the top
