"""The web page in a real browser: Debian's Chromium driven by Selenium, against the real
service (``loa run``'s Service with the web page, the dispatcher and the Telegram bot) and the
WordPress, Facebook, Zalo and Telegram sandboxes.

On failure, a screenshot of what each browser shows and of every page is written under the
test's tmp dir (the path is printed).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Workspace, parsed_article, sandbox_config
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By

from bot.approval import approve_article
from bot.context import Loa
from bot.run import build_service
from bot.service.loop import Service
from bot.web.passwords import hash_password
from channels.sandbox.telegram import TelegramSandbox
from content_queue.models import Actor

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    pytest.skip(
        "Debian chromium and chromium-driver are needed (.ci/run installs them)",
        allow_module_level=True,
    )

PASSWORD = "mat-khau-rat-dai-2026"
CHAT, TG_ADMIN = -100, 111
PAGES = ("/lich", "/cho-duyet", "/ke-hoach", "/bao-cao", "/kenh")
EVIL = (
    '<p>Bài có mã độc.</p><script>document.title="hacked";window.__pwned=1</script>'
    '<img src="x.png" onerror="document.title=\'hacked\';window.__pwned=2">'
    '<a href="javascript:window.__pwned=3" id="evil-link">liên kết</a>'
)


def wait_until(condition: Callable[[], Any], *, limit: float = 60.0) -> Any:
    """Poll ``condition`` until it returns something truthy (a bounded wait, not a timing check)."""
    deadline = time.monotonic() + limit
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServiceThread:
    """The real ``Service.run`` (web page, dispatcher, bot) on its own loop in a thread."""

    def __init__(self, loa: Loa):
        self.loa = loa
        self.loop: asyncio.AbstractEventLoop | None = None
        self.service: Service | None = None
        self.error: BaseException | None = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._main, name="loa-service", daemon=True)

    def _main(self) -> None:
        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            self.service = build_service(self.loa)
            self.ready.set()
            await self.service.run()

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by stop()
            self.error = exc
            self.ready.set()

    def start(self) -> None:
        self.thread.start()
        assert self.ready.wait(10)

    def stop(self) -> None:
        if self.loop is not None and self.service is not None and self.loop.is_running():
            self.loop.call_soon_threadsafe(self.service.stopping.set)
        self.thread.join(30)
        assert not self.thread.is_alive(), "the service did not stop"
        if self.error is not None:
            raise self.error


def new_browser(profile: Path) -> Any:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=ChromeService(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


@dataclass
class Site:
    ws: Workspace
    tg: TelegramSandbox
    loa: Loa
    url: str
    browsers: dict[str, Any]
    scheduled: int  # approved for a day in the calendar
    pending: int  # to approve from the web
    evil: int  # a script inside its body

    def browser(self, name: str) -> Any:
        """A browser of its own (own profile, own cookies) signed in as ``name``."""
        if name not in self.browsers:
            driver = new_browser(self.ws.dir / f"chromium-{name}")
            self.browsers[name] = driver
            driver.get(self.url + "/dang-nhap")
            driver.find_element(By.ID, "username").send_keys(name)
            driver.find_element(By.ID, "password").send_keys(PASSWORD)
            driver.find_element(By.ID, "login").click()
            wait_until(lambda: "/lich" in driver.current_url)
        return self.browsers[name]

    def text(self, driver: Any) -> str:
        return str(driver.find_element(By.TAG_NAME, "body").text)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    saved = {k: os.environ.pop(k) for k in [k for k in os.environ if k.startswith("LOA_")]}
    from channels.sandbox.facebook import FacebookSandbox
    from channels.sandbox.wordpress import WordPressSandbox
    from channels.sandbox.zalo import ZaloSandbox

    wp, fb, zalo, tg = WordPressSandbox(), FacebookSandbox(), ZaloSandbox(), TelegramSandbox()
    for sb in (wp, fb, zalo, tg):
        sb.start()
    directory = tmp_path_factory.mktemp("web-browser")
    port = free_port()
    config = sandbox_config(wp, fb, zalo).replace(
        "[schedule]\n", "[schedule]\ndispatch_interval_seconds = 0.5\n"
    )
    config += f"""
[telegram]
api_url = "{tg.url}"
admins = [{TG_ADMIN}]
chat_id = {CHAT}

[web]
listen = "127.0.0.1:{port}"
base_url = "http://127.0.0.1:{port}"
"""
    (directory / "config.toml").write_text(config, "utf-8")
    os.environ.update(
        {
            "LOA_CHANNELS__WEBSITE__APP_PASSWORD": wp.APP_PASSWORD,
            "LOA_CHANNELS__FACEBOOK__PAGE_TOKEN": fb.PAGE_TOKEN,
            "LOA_CHANNELS__ZALO__APP_SECRET": zalo.APP_SECRET,
            "LOA_CHANNELS__ZALO__REFRESH_TOKEN": zalo.INITIAL_REFRESH_TOKEN,
            "LOA_TELEGRAM__TOKEN": tg.TOKEN,
        }
    )
    ws = Workspace(directory, directory / "config.toml", wp, fb, zalo)
    loa = ws.loa()
    for name, role, full in (
        ("lan", "admin", "Nguyễn Thị Lan"),
        ("hung", "admin", ""),
        ("xem", "viewer", ""),
    ):
        loa.store.users.add_user(name, role, hash_password(PASSWORD), Actor("test"), full_name=full)
    editor = Actor("bien-tap", "inbox")
    scheduled = loa.store.articles.submit(
        parsed_article("Lịch tiếp công dân định kỳ", topic="b", cover=ws.cover("bia-1.jpg")), editor
    ).article.id
    when = (datetime.now(loa.settings.schedule.tz) + timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    approve_article(loa, scheduled, Actor("tg:111", "telegram"), at=when.strftime("%Y-%m-%d %H:%M"))
    pending = loa.store.articles.submit(
        parsed_article(
            "Một cửa điện tử rút ngắn thời gian giải quyết", topic="đ", cover=ws.cover("bia-2.jpg")
        ),
        editor,
    ).article.id
    evil = loa.store.articles.submit(parsed_article("Bài thử mã độc", body=EVIL), editor).article.id
    assert (
        "<script>" in loa.store.articles.get(evil).body_html
    )  # stored as is: the page must defend
    runner = ServiceThread(loa)
    runner.start()
    url = f"http://127.0.0.1:{port}"
    import requests

    wait_until(lambda: _answers(requests, url + "/dang-nhap"))
    s = Site(ws, tg, loa, url, {}, scheduled, pending, evil)
    try:
        yield s
    finally:
        for driver in s.browsers.values():
            with contextlib.suppress(WebDriverException):
                driver.quit()
        try:
            runner.stop()
        finally:
            for sb in (wp, fb, zalo, tg):
                sb.stop()
            loa.store.engine.dispose()
            os.environ.update(saved)
            for k in (
                "LOA_CHANNELS__WEBSITE__APP_PASSWORD",
                "LOA_CHANNELS__FACEBOOK__PAGE_TOKEN",
                "LOA_CHANNELS__ZALO__APP_SECRET",
                "LOA_CHANNELS__ZALO__REFRESH_TOKEN",
                "LOA_TELEGRAM__TOKEN",
            ):
                if k not in saved:
                    os.environ.pop(k, None)


def _answers(requests: Any, url: str) -> bool:
    try:
        return bool(requests.get(url, timeout=2).status_code == 200)
    except requests.RequestException:
        return False


@pytest.fixture(autouse=True)
def screenshots(site: Site, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    """On failure: what each browser shows now, then every page, as PNG files."""
    failed_before = request.session.testsfailed
    yield
    if request.session.testsfailed == failed_before:
        return
    folder = tmp_path / "screenshots"
    folder.mkdir(exist_ok=True)
    for name, driver in site.browsers.items():
        try:
            driver.save_screenshot(str(folder / f"{name}-now.png"))
            for path in (*PAGES, f"/bai-viet/{site.pending}", f"/bai-viet/{site.evil}"):
                driver.get(site.url + path)
                driver.save_screenshot(str(folder / f"{name}{path.replace('/', '-')}.png"))
        except WebDriverException:
            continue
    print(f"screenshots written to {folder}")


def test_login_and_the_scheduled_article_on_its_day(site: Site) -> None:
    driver = site.browser("lan")
    assert "Nguyễn Thị Lan" in site.text(driver)
    when = site.loa.store.articles.get(site.scheduled).scheduled_at.astimezone(  # type: ignore[union-attr]
        site.loa.settings.schedule.tz
    )
    driver.get(f"{site.url}/lich?thang={when:%Y-%m}")
    cell = driver.find_element(By.CSS_SELECTOR, f'td[data-day="{when:%Y-%m-%d}"]')
    (card,) = cell.find_elements(By.CSS_SELECTOR, f'a.post[data-article="{site.scheduled}"]')
    chips = card.find_elements(By.CSS_SELECTOR, ".chip")
    assert {c.find_element(By.TAG_NAME, "b").text for c in chips} == {
        "Trang web",
        "Facebook",
        "Zalo OA",
    }
    assert all("st-waiting" in c.get_attribute("class") for c in chips)
    assert all("chờ đến giờ" in c.text for c in chips)
    card.click()
    assert "Lịch tiếp công dân định kỳ" in driver.find_element(By.TAG_NAME, "h1").text


def test_approve_from_the_article_page_posts_and_updates_the_telegram_card(site: Site) -> None:
    aid = site.pending
    card = wait_until(
        lambda: next(
            (
                m
                for m in site.tg.sent
                if any(
                    b.get("callback_data", "").startswith(f"ap:{aid}:")
                    for row in (m.get("markup") or m.get("reply_markup") or {}).get(
                        "inline_keyboard", []
                    )
                    for b in row
                )
            ),
            None,
        )
    )
    stale = site.browser("hung")  # the second admin opens the page before the decision
    stale.get(f"{site.url}/bai-viet/{aid}")
    driver = site.browser("lan")
    driver.get(f"{site.url}/bai-viet/{aid}")
    previews = {
        p.get_attribute("data-channel")
        for p in driver.find_elements(By.CSS_SELECTOR, "section.preview")
    }
    assert previews == {"website", "facebook", "zalo"}
    driver.find_element(By.ID, "approve-now").click()
    assert "Đã duyệt bài" in driver.find_element(By.ID, "message").text
    wait_until(
        lambda: (
            len(site.ws.wp.posts) == 1
            and len(site.ws.fb.posts) == 1
            and len(site.ws.zalo.media) == 1
        )
    )
    wait_until(lambda: site.loa.store.articles.get(aid).state == "published")
    driver.refresh()
    assert driver.find_element(By.ID, "article-state").text == "đã đăng"
    text = wait_until(
        lambda: (t := site.tg.message(CHAT, card["message_id"])["text"]) and "trên web" in t and t
    )
    assert "Đã duyệt trên web bởi Nguyễn Thị Lan (lan)" in text
    assert any(
        e["action"] == "approved" and e["actor"] == "web:Nguyễn Thị Lan (lan)"
        for e in site.loa.store.audit.audit_entries(aid)
    )

    # the second admin's page is stale now: a clear refusal, nothing changes
    stale.find_element(By.ID, "reject-reason").send_keys("Chưa đủ số liệu.")
    stale.find_element(By.ID, "reject").click()
    refusal = stale.find_element(By.ID, "message").text
    assert "Trang này đã cũ" in refusal and "Nguyễn Thị Lan" in refusal
    assert site.loa.store.articles.get(aid).state == "published"


def test_a_viewer_sees_no_action_and_a_forged_post_is_refused(site: Site) -> None:
    driver = site.browser("xem")
    driver.get(f"{site.url}/bai-viet/{site.evil}")
    assert not driver.find_elements(By.ID, "actions")
    assert not driver.find_elements(By.ID, "approve-now")
    # forge the admin's form in the viewer's own session (valid CSRF token, wrong role)
    driver.execute_script(
        """
        const f = document.createElement('form');
        f.method = 'post'; f.action = arguments[0];
        for (const [k, v] of Object.entries({csrf: document.querySelector('input[name=csrf]').value,
                                             revision: '1', state: 'pending', mode: 'now'})) {
          const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v;
          f.appendChild(i);
        }
        document.body.appendChild(f); f.submit();""",
        f"/bai-viet/{site.evil}/duyet",
    )
    refusal = wait_until(lambda: driver.find_elements(By.ID, "refusal"))
    assert "Chỉ quản trị viên" in refusal[0].text
    assert site.loa.store.articles.get(site.evil).state == "pending"


def test_a_post_without_the_csrf_token_is_refused(site: Site) -> None:
    driver = site.browser("lan")
    driver.get(f"{site.url}/bai-viet/{site.evil}")
    driver.execute_script("""
        document.querySelectorAll('form input[name=csrf]').forEach(i => i.remove());""")
    driver.find_element(By.ID, "approve-now").click()
    refusal = wait_until(lambda: driver.find_elements(By.ID, "refusal"))
    assert "mã bảo vệ" in refusal[0].text
    assert site.loa.store.articles.get(site.evil).state == "pending"


def test_a_script_inside_an_article_does_not_run_in_the_preview(site: Site) -> None:
    driver = site.browser("lan")
    driver.get(f"{site.url}/bai-viet/{site.evil}")
    wait_until(lambda: driver.execute_script("return document.readyState") == "complete")
    assert "Bài có mã độc." in site.text(driver)  # the article's text is shown
    assert driver.title != "hacked"
    assert driver.execute_script("return window.__pwned") is None
    assert not driver.find_elements(By.ID, "evil-link") or "javascript:" not in (
        driver.find_element(By.ID, "evil-link").get_attribute("href") or ""
    )
    assert not driver.find_elements(By.CSS_SELECTOR, ".preview script, .preview [onerror]")
    # The page's CSP is the last wall: even markup slipped into the page cannot run a handler.
    driver.execute_script("""document.body.insertAdjacentHTML('beforeend',
        '<img id="slipped" src="data:," onload="window.__pwned=4" onerror="window.__pwned=5">');""")
    wait_until(lambda: driver.execute_script("return document.getElementById('slipped').complete"))
    time.sleep(0.3)  # give a (forbidden) handler the chance to run
    assert driver.execute_script("return window.__pwned") is None


def test_every_page_opens_in_the_browser(site: Site) -> None:
    driver = site.browser("lan")
    expect = {
        "/lich": "Lịch đăng",
        "/cho-duyet": "Bài chờ duyệt",
        "/ke-hoach": "Kế hoạch",
        "/bao-cao": "Báo cáo",
        "/kenh": "Các kênh",
    }
    for path, title in expect.items():
        driver.get(site.url + path)
        assert title in driver.find_element(By.TAG_NAME, "h1").text, path
    driver.get(site.url + "/ke-hoach")
    assert driver.find_elements(By.CSS_SELECTOR, "#chart-website svg rect.bar")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#chart-topics rect.heat")) == 12 * 10


def test_phone_width_shows_the_calendar_as_a_list(site: Site) -> None:
    """The month's calendar becomes a list of days at 390 px, today's weekday named."""
    driver = site.browser("lan")
    driver.set_window_size(390, 844)
    try:
        driver.get(site.url + "/lich")
        table_width = driver.execute_script(
            "return document.querySelector('table.calendar').getBoundingClientRect().width"
        )
        assert table_width <= 390
        assert driver.find_element(By.CSS_SELECTOR, "td.today .wd").is_displayed()
    finally:
        driver.set_window_size(1280, 1000)


def _every_page(site: Site) -> list[str]:
    return [
        *PAGES,
        f"/lich?xem=tuan&ngay={site.loa.store.articles.get(site.scheduled).scheduled_at:%Y-%m-%d}",
        "/nop-bai",
        "/hoi-dap",
        "/tiep-nhan",
        f"/bai-viet/{site.scheduled}",
        f"/bai-viet/{site.pending}",
        f"/bai-viet/{site.evil}",
        "/bai-viet/999999",
    ]


LONG_URL = "https://thutuchanhchinh.langson.gov.vn/" + "thu-tuc-cap-phep-" * 12 + "chi-tiet"


@pytest.mark.parametrize("width", [360, 390])
def test_no_page_scrolls_sideways_on_a_phone(site: Site, width: int) -> None:
    loa = site.loa
    long = loa.store.articles.submit(
        parsed_article(f"Bài {width} có địa chỉ rất dài {LONG_URL}"), Actor("bien-tap", "inbox")
    ).article.id
    loa.store.articles.reject(long, Actor("tg:111", "telegram"), f"Xem hướng dẫn tại {LONG_URL}")
    driver = site.browser("lan")
    driver.set_window_size(width, 844)
    try:
        driver.get(f"{site.url}/bai-viet/{long}")
        assert LONG_URL in driver.find_element(By.ID, "rejection").text  # the reason, on top
        for path in [*_every_page(site), f"/bai-viet/{long}"]:
            driver.get(site.url + path)
            inner, scroll = driver.execute_script(
                "return [window.innerWidth, document.documentElement.scrollWidth]"
            )
            assert scroll <= inner, f"{path} scrolls sideways at {width} px: {scroll} > {inner}"
    finally:
        driver.set_window_size(1280, 1000)


def test_chart_labels_stay_readable_on_a_phone(site: Site) -> None:
    """Every label of every chart is drawn at 11 px or more at 390 px (and on a laptop)."""
    driver = site.browser("lan")
    smallest = """
        let least = 1e9;
        for (const t of document.querySelectorAll('figure.chart svg text')) {
          const px = parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement.getScreenCTM().a;
          least = Math.min(least, px);
        }
        return least;"""
    for width in (390, 1280):
        driver.set_window_size(width, 900)
        try:
            driver.get(site.url + "/ke-hoach")
            assert driver.find_elements(By.CSS_SELECTOR, "figure.chart svg text")
            assert driver.execute_script(smallest) >= 11, width
        finally:
            driver.set_window_size(1280, 1000)
    legend = driver.find_element(By.CSS_SELECTOR, "#chart-failures .legend").text
    assert "Lỗi chưa khắc phục" in legend and "Lỗi đã khắc phục" in legend


def _facebook_preview(driver: Any) -> tuple[str, str]:
    box = driver.find_element(By.CSS_SELECTOR, 'section.preview[data-channel="facebook"] .fb-text')
    return str(box.get_attribute("textContent")), str(box.get_attribute("data-placeholder"))


def test_the_facebook_preview_is_the_message_facebook_receives(site: Site) -> None:
    """Pending: the preview's message, with the website's real address in place of the stand-in,
    is what Facebook receives; posted: the preview shows exactly that message."""
    loa = site.loa
    aid = loa.store.articles.submit(
        parsed_article("Xem trước đúng như bài đăng", topic="c", cover=site.ws.cover("bia-3.jpg")),
        Actor("bien-tap", "inbox"),
    ).article.id
    driver = site.browser("lan")
    driver.get(f"{site.url}/bai-viet/{aid}")
    pending, placeholder = _facebook_preview(driver)
    assert placeholder and f"Xem chi tiết: {placeholder}" in pending
    assert "không kèm liên kết" not in site.text(driver)
    before = set(site.ws.fb.posts)
    driver.find_element(By.ID, "approve-now").click()
    wait_until(lambda: set(site.ws.fb.posts) - before)
    (new,) = set(site.ws.fb.posts) - before
    received = site.ws.fb.posts[new]["message"]
    website = next(
        d.url for d in loa.store.articles.get(aid).deliveries if d.channel == "website" and d.url
    )
    assert pending.replace(placeholder, website) == received
    driver.get(f"{site.url}/bai-viet/{aid}")
    posted, placeholder = _facebook_preview(driver)
    assert placeholder == "" and posted == received
