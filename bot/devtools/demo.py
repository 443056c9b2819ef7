"""``loa demo``: the whole flow on local sandboxes, in a fresh workspace, in under a minute.

It is also a smoke test: it exits non-zero if any step did not do what it says.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageDraw
from rich.console import Console
from rich.table import Table

from bot.broadcasts import broadcast_tick
from bot.context import Loa
from bot.devtools.demo_cases import demo_cases
from bot.devtools.demo_citizens import demo_citizens
from bot.devtools.sandboxes import Sandboxes
from bot.followers import collect_followers
from bot.reports.files import kpis_for, write_report
from bot.reports.kpis import month_status
from bot.run import build_service
from bot.service.covers import ensure_default_covers
from bot.service.loop import Service
from bot.service.reach import collect_reach
from bot.settings import load_settings
from bot.web.passwords import hash_password
from channels.capabilities import UsesDefaultCover
from channels.sandbox.telegram import TelegramSandbox
from content_queue.models import Actor, Article
from content_queue.workflow import ArticleState

__all__ = ["STEPS", "Demo", "run_demo"]

REJECT_REASON = "Lịch chưa được lãnh đạo ký duyệt, chưa đăng."
WEB_USER, WEB_PASSWORD = "quantri", "loa-demo-2026"  # a local demo account, printed on start


def _wait(condition: Callable[[], bool], limit: float) -> bool:
    """Poll ``condition`` for at most ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def _wait_cards(tg: TelegramSandbox, ids: list[int]) -> dict[int, int]:
    """The message id of each article's approval card, once the bot has sent them."""
    cards: dict[int, int] = {}

    def seen() -> bool:
        for m in tg.sent:
            for row in (m.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    parts = str(button.get("callback_data", "")).split(":")
                    if parts[0] == "ap" and int(parts[1]) in ids:
                        cards[int(parts[1])] = m["message_id"]
        return len(cards) == len(ids)

    _wait(seen, 15)
    return cards


_MD_ONLINE = """---
title: Người dân Lạng Sơn nộp hồ sơ lãnh sự trực tuyến toàn trình
topic: đ
---
Từ tháng 11/2026, các thủ tục cấp công hàm đề nghị cấp thị thực và hợp pháp hóa lãnh sự tại Sở Ngoại vụ
tỉnh Lạng Sơn được cung cấp dưới dạng dịch vụ công trực tuyến toàn trình trên Cổng dịch vụ công quốc gia.

Người dân và doanh nghiệp không cần đến trụ sở Sở: hồ sơ được nộp, theo dõi và nhận kết quả hoàn toàn
qua mạng, không phụ thuộc vào địa giới hành chính.

![Bộ phận một cửa](anh-mot-cua.png)
"""

_HTML_INITIATIVE = """<!doctype html><html><head><title>Sáng kiến “Một lần đến, trọn vẹn thủ tục”</title></head>
<body><h1>Sáng kiến “Một lần đến, trọn vẹn thủ tục” tại Bộ phận một cửa</h1>
<p>Năm 2026, Sở Ngoại vụ ghi nhận sáng kiến của công chức Bộ phận một cửa: mỗi hồ sơ được kiểm tra đầy đủ
ngay lần tiếp nhận đầu tiên, giúp người dân không phải đi lại nhiều lần.</p>
<p>Đây là một trong những cách làm hay được biểu dương trong công tác cải cách hành chính của tỉnh.</p>
<script>alert('không được lọt lên website')</script>
</body></html>"""

_MD_UNTITLED = """---
topic: h
---
"""

_DOCX_PARAS = [
    ("Title", "Sở Ngoại vụ rà soát, cắt giảm thủ tục hành chính năm 2026"),
    (None, "Chủ đề: e"),
    (
        None,
        "Thực hiện Nghị quyết số 66/NQ-CP của Chính phủ, Sở Ngoại vụ tỉnh Lạng Sơn đã rà soát "
        "toàn bộ thủ tục hành chính thuộc thẩm quyền giải quyết, đề xuất cắt giảm, đơn giản hóa "
        "thành phần hồ sơ và rút ngắn thời gian giải quyết.",
    ),
    (
        None,
        "Kết quả, thời gian giải quyết bình quân giảm 30%, nhiều thủ tục không còn yêu cầu "
        "bản sao giấy tờ đã có trong cơ sở dữ liệu quốc gia.",
    ),
]

_MD_REJECTED_ONE = """---
title: Thông báo lịch tiếp công dân tháng 12
topic: i
---
Bản nháp lịch tiếp công dân tháng 12/2026 (chưa được lãnh đạo ký duyệt).
"""


def _png(text: str, color: str) -> bytes:
    img = Image.new("RGB", (640, 360), color)
    ImageDraw.Draw(img).text((24, 160), text, fill="white")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _write_articles(staging: Path) -> list[Path]:
    """The sample articles, written for the project (covering topics đ, e, i)."""
    import docx

    staging.mkdir(parents=True, exist_ok=True)
    folder = staging / "dich-vu-cong-truc-tuyen"
    folder.mkdir()
    (folder / "bai.md").write_text(_MD_ONLINE, "utf-8")
    (folder / "anh-mot-cua.png").write_bytes(_png("Bo phan mot cua", "#1f5fa8"))
    d = docx.Document()
    for style, text in _DOCX_PARAS:
        d.add_paragraph(text, style=style) if style else d.add_paragraph(text)
    d.add_picture(io.BytesIO(_png("Cat giam TTHC 2026", "#a81f1f")))
    d.save(str(staging / "cat-giam-tthc.docx"))
    (staging / "sang-kien-mot-cua.html").write_text(_HTML_INITIATIVE, "utf-8")
    (staging / "lich-tiep-cong-dan.md").write_text(_MD_REJECTED_ONE, "utf-8")
    (staging / "bai-thieu-tieu-de.md").write_text(_MD_UNTITLED, "utf-8")
    return sorted(staging.iterdir())


def _web_port(preferred: int = 8080) -> int:
    """8080 when it is free, else any free port (the demo must not fail on a busy machine)."""
    import socket

    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise OSError("no free port for the web page")


def _check_pages(loa: Loa, checks: _Checks, article_id: int) -> None:
    """Sign in to the demo's web page and open every page: 200 and the text that matters."""
    import requests

    base = loa.settings.web.base_url
    http = requests.Session()
    page = http.get(f"{base}/dang-nhap", timeout=10)
    token = page.text.split('name="csrf" value="', 1)[-1].split('"', 1)[0]
    r = http.post(
        f"{base}/dang-nhap",
        data={"username": WEB_USER, "password": WEB_PASSWORD, "csrf": token},
        timeout=10,
    )
    expect = {
        "/lich": "Lịch đăng",
        "/cho-duyet": "Bài chờ duyệt",
        "/ke-hoach": "Chủ đề a)–i)",
        "/bao-cao": "Tải báo cáo Word",
        "/kenh": "Các kênh đăng bài",
        f"/bai-viet/{article_id}": "Bản xem trước theo kênh",
    }
    bad = []
    for path, text in expect.items():
        got = http.get(base + path, timeout=30)
        if got.status_code != 200 or text not in got.text or "Đăng xuất" not in got.text:
            bad.append(f"{path} ({got.status_code})")
    checks.step(
        r.status_code == 200 and not bad,
        f"Trang web {base}: đăng nhập và mở {len(expect)} trang"
        + (f" — lỗi: {', '.join(bad)}" if bad else ""),
    )


def _config(boxes: Sandboxes, web_port: int) -> str:
    return f"""# Demo workspace: every channel points at a local sandbox.
[database]
url = "sqlite:///loa.db"
[queue]
poll_seconds = 0.5
[schedule]
slot_interval_seconds = 3      # time compressed: a posting slot every 3 seconds
dispatch_interval_seconds = 0.5
retry_base_seconds = 1
reconcile_after_seconds = 1
max_attempts = 5
[reach]
fresh_interval_minutes = 0.05
collect_interval_minutes = 0.05
[web]
listen = "127.0.0.1:{web_port}"
base_url = "http://127.0.0.1:{web_port}"
{boxes.channels_toml()}default_cover = "anh-bia-mac-dinh.png"  # text-only articles reach Zalo too
broadcast = "each"                    # each article posted on Zalo is proposed to followers
[assistant]                           # citizens' questions on Zalo and Messenger (Hỏi đáp)
enabled = true
"""


class _Checks:
    def __init__(self, console: Console):
        self.console = console
        self.failed: list[str] = []

    def step(self, ok: bool, text: str) -> None:
        self.console.print(f"{'[green]✓[/]' if ok else '[red]✗[/]'} {text}")
        if not ok:
            self.failed.append(text)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file only its owner may read (0600, also when it already existed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


@dataclass
class Demo:
    """What the demo's steps share: the workspace, the sandboxes, Loa, the running service."""

    console: Console
    work: Path
    boxes: Sandboxes
    checks: _Checks
    serve: bool
    started: float = field(default_factory=time.monotonic)
    loa: Loa = field(init=False)
    service: Service = field(init=False)
    loop: asyncio.AbstractEventLoop = field(init=False)
    thread: threading.Thread = field(init=False)
    arts: list[Article] = field(default_factory=list)
    published: list[Article] = field(default_factory=list)
    report_path: Path | None = None

    def step(self, ok: bool, text: str) -> None:
        self.checks.step(ok, text)


def set_up_workspace(demo: Demo) -> None:
    """A fresh workspace on the sandboxes: config, .env, the default cover, a web account."""
    boxes, work = demo.boxes, demo.work
    demo.console.rule("[bold]Loa demo")
    (work / "config.toml").write_text(_config(boxes, _web_port()), "utf-8")
    write_private(work / ".env", boxes.env_text())  # secrets: 0600, as `loa init` does
    (work / "anh-bia-mac-dinh.png").write_bytes(_png("So Ngoai vu Lang Son - CCHC", "#0b6e4f"))
    loa = demo.loa = Loa(load_settings(work / "config.toml"))
    cover_problems = ensure_default_covers(loa)  # as `loa check` does: uploaded once
    zalo = loa.channel("zalo")  # it knows its default cover
    url = zalo.default_cover_url() if isinstance(zalo, UsesDefaultCover) else None
    demo.step(
        not cover_problems and bool(url),
        f"Ảnh bìa mặc định của Zalo đã tải lên website: {url or cover_problems}",
    )
    loa.store.users.add_user(
        WEB_USER,
        "admin",
        hash_password(WEB_PASSWORD),
        Actor("demo"),
        full_name="Quản trị thử",
    )
    demo.console.print(
        f"Workspace: {work}\nSandboxes: website {boxes.website.url}, "
        f"facebook {boxes.facebook.url}, zalo {boxes.zalo.url}"
    )


def drop_articles(demo: Demo) -> None:
    """Sample articles (and files that are refused) dropped into the inbox."""
    loa = demo.loa
    inbox = loa.settings.path(loa.settings.queue.inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    for p in _write_articles(demo.work / "staging"):
        shutil.move(str(p), str(inbox / p.name))
    demo.console.print(f"Đã thả {len(list(inbox.iterdir()))} bài mẫu vào hộp thư {inbox}")


def start_service(demo: Demo) -> None:
    """The real service (with its bot and web page), in a thread of its own."""
    demo.service = build_service(demo.loa)
    demo.loop = asyncio.new_event_loop()
    demo.thread = threading.Thread(
        target=lambda: demo.loop.run_until_complete(demo.service.run()),
        name="loa-run",
        daemon=True,
    )
    demo.thread.start()


def inbox_intake(demo: Demo) -> None:
    """The inbox is polled by the service: wait for 4 articles and 1 refusal."""
    loa = demo.loa
    rejected_dir = loa.settings.path(loa.settings.queue.rejected)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if len(loa.store.articles.list()) >= 4 and list(rejected_dir.glob("*.loi.txt")):
            break
        time.sleep(0.2)
    demo.arts = arts = loa.store.articles.list()
    demo.step(len(arts) == 4, f"Hộp thư: nhận {len(arts)} bài")
    notes = list(rejected_dir.glob("*.loi.txt"))
    if notes:
        reason = notes[0].read_text("utf-8").split("Lỗi: ", 1)[-1].splitlines()[0]
        demo.console.print(f"  bị trả lại: {notes[0].name[:-8]} — {reason}")
    demo.step(len(notes) == 1, "Một tệp bị trả lại, kèm lý do trong tệp .loi.txt")


def telegram_decisions(demo: Demo) -> None:
    """A simulated admin presses the cards' buttons in the sandbox Telegram."""
    loa, boxes, arts, console = demo.loa, demo.boxes, demo.arts, demo.console
    tg = boxes.telegram
    cards = _wait_cards(tg, [a.id for a in arts])
    demo.step(len(cards) == len(arts), f"Telegram: {len(cards)} thẻ duyệt bài đã gửi cho quản trị")
    to_reject = next((a for a in arts if a.title.startswith("Thông báo lịch")), None)
    boxes.facebook.inject("http_500", count=1, path="/feed")
    console.print("  (đã cài một lỗi 500 của Facebook để thấy Loa thử lại)")
    for a in arts:
        if a.id not in cards:
            continue
        if a is to_reject:
            tg.press_button(Sandboxes.ADMIN_ID, cards[a.id], f"rj:{a.id}:{a.revision}")
            _wait(lambda: any("lý do" in m["text"].lower() for m in tg.sent[-3:]), 10)
            question = next(m for m in reversed(tg.sent) if "lý do" in m.get("text", "").lower())
            # The reason counts only as a reply to the bot's question.
            tg.send_user_message(
                Sandboxes.ADMIN_ID, REJECT_REASON, reply_to_message_id=question["message_id"]
            )
        else:
            tg.press_button(Sandboxes.ADMIN_ID, cards[a.id], f"ap:{a.id}:{a.revision}")
    _wait(lambda: not loa.store.articles.list([ArticleState.PENDING]), 15)
    for a in loa.store.articles.list():
        if a.state == ArticleState.REJECTED:
            console.print(f"⛔ Từ chối bài #{a.id} qua Telegram: {a.reject_reason}")
        elif a.scheduled_at:
            when = a.scheduled_at.astimezone(loa.settings.schedule.tz)
            chans = ", ".join(d.channel for d in a.deliveries)
            console.print(
                f"✓ Duyệt bài #{a.id} qua Telegram “{a.title[:50]}” — "
                f"đăng lúc {when:%H:%M:%S} ({chans})"
            )
    rejected = [a for a in loa.store.articles.list([ArticleState.REJECTED])]
    demo.step(
        len(rejected) == 1
        and rejected[0].reject_reason == REJECT_REASON
        and len(loa.store.articles.list([ArticleState.APPROVED]))
        + len(loa.store.articles.list([ArticleState.PUBLISHED]))
        == 3,
        "Quản trị duyệt 3 bài và từ chối 1 bài (kèm lý do) bằng nút bấm Telegram",
    )


def publishing(demo: Demo) -> None:
    """The scheduler publishes at the slots; wait until every approved article is done."""
    loa, boxes = demo.loa, demo.boxes
    deadline = time.monotonic() + 30
    seen: set[tuple[int, str, bool]] = set()
    while time.monotonic() < deadline:
        pending = False
        for a in loa.store.articles.list(
            [ArticleState.APPROVED, ArticleState.PUBLISHED, ArticleState.PARTIAL]
        ):
            for d in a.deliveries:
                if d.state == "sent" and (a.id, d.channel, bool(d.url)) not in seen:
                    seen.add((a.id, d.channel, bool(d.url)))
                    link = d.url or "đã đăng, đang lấy liên kết"
                    demo.console.print(f"  → bài #{a.id} lên {d.channel}: {link}", markup=False)
            pending |= a.state == ArticleState.APPROVED
        if not pending:
            break
        time.sleep(0.3)
    received = boxes.received()
    demo.step(
        all(received[c] >= 1 for c in ("website", "facebook", "zalo")),
        f"Đã đăng: website {received['website']}, facebook {received['facebook']}, "
        f"zalo {received['zalo']}",
    )
    demo.published = published = loa.store.articles.list(
        [ArticleState.PUBLISHED, ArticleState.PARTIAL]
    )
    fb_sent = [
        d for a in published for d in a.deliveries if d.channel == "facebook" and d.state == "sent"
    ]
    feed_calls = [
        r for r in boxes.facebook.request_log if r[1] == "POST" and r[2].endswith("/feed")
    ]
    demo.step(
        len(boxes.facebook.records.get("posts", [])) == len(fb_sent)
        and len(feed_calls) == len(fb_sent) + 1,
        "Lỗi 500 của Facebook được khắc phục bằng thử lại, không đăng trùng",
    )


def reach(demo: Demo) -> None:
    """Reach figures set on the sandboxes, collected."""
    boxes = demo.boxes
    for post in boxes.facebook.records.get("posts", []):
        boxes.facebook.set_reach(post["id"], "post_total_media_view_unique", 120)
    for art in boxes.zalo.records.get("articles", []):
        if art.get("id"):
            boxes.zalo.set_stats(str(art["id"]), views=80, shares=5)
    collect_reach(demo.loa, datetime.now(UTC))
    # The service's own reach job (every 3 s here) may have sampled the posts first.
    n = demo.loa.store.reach.count_reach_samples()
    demo.step(n > 0, f"Thu thập {n} số liệu tiếp cận")


def followers(demo: Demo) -> None:
    """Followers reached: a broadcast card, approved in Telegram, sent to Zalo followers; then
    the daily follower sample."""
    _demo_broadcast(demo.loa, demo.boxes, demo.checks, demo.console)
    demo.boxes.facebook.set_followers(5235, 4990)
    demo.boxes.zalo.set_followers(1260)
    stored = collect_followers(demo.loa, datetime.now(UTC), force=True)  # the daily sample
    demo.step(stored >= 3, f"Lấy mẫu số người theo dõi: {stored} số liệu")


def citizens(demo: Demo) -> None:
    """Hỏi đáp: citizens write to the OA and the Page; answers with their link, a hand-over."""
    demo_cases(demo.loa, demo.boxes, demo.checks.step, demo.console)  # comments, a petition
    demo_citizens(demo.loa, demo.boxes, demo.checks, demo.console)


def web_pages(demo: Demo) -> None:
    """The web page, served by the same service (which then stops, unless it keeps serving)."""
    _check_pages(demo.loa, demo.checks, demo.published[0].id if demo.published else 1)
    if not demo.serve:
        _stop(demo, 10)


def report(demo: Demo) -> None:
    """The DOCX report, with its follower growth table."""
    loa = demo.loa
    period = datetime.now(loa.settings.schedule.tz).strftime("%Y-%m")
    report_path, _ = write_report(loa, period, "docx", demo.work / f"bao-cao-{period}.docx")
    demo.report_path = report_path
    import docx

    ok = (
        report_path is not None
        and report_path.exists()
        and any("BÁO CÁO" in p.text for p in docx.Document(str(report_path)).paragraphs)
    )
    demo.step(ok, f"Báo cáo: {report_path}")
    growth = kpis_for(loa, period).followers
    gt = Table(
        "Kênh",
        "Chỉ số",
        "API",
        "Đầu kỳ",
        "Cuối kỳ",
        "Tăng/giảm",
        title="Báo cáo — người theo dõi các kênh",
    )
    for g in growth:
        gt.add_row(
            g.channel,
            g.label,
            g.metric,
            *(str(v) if v is not None else "—" for v in (g.start, g.end, g.growth)),
        )
    demo.console.print(gt)
    demo.step(
        any(g.growth for g in growth), "Báo cáo có bảng tăng trưởng người theo dõi (và biểu đồ)"
    )


def summary(demo: Demo) -> None:
    """Every article's state, the month's target, the open alerts."""
    loa, console = demo.loa, demo.console
    now_local = datetime.now(loa.settings.schedule.tz)
    ms = month_status(
        loa.store,
        now_local.year,
        now_local.month,
        monthly_minimum=loa.settings.plan.monthly_website_minimum,
        website_channels=loa.settings.plan.website_channels,
        tz=loa.settings.schedule.timezone,
    )
    t = Table("Bài", "Trạng thái", "website", "facebook", "zalo", title="Tóm tắt")
    for a in loa.store.articles.list():
        by = {d.channel: d.state for d in a.deliveries}
        t.add_row(
            f"#{a.id} {a.title[:40]}",
            a.state,
            by.get("website", "—"),
            by.get("facebook", "—"),
            by.get("zalo", "—"),
        )
    console.print(t)
    console.print(
        f"Chỉ tiêu tháng {now_local:%m/%Y}: {ms.published}/{ms.minimum} bài trên "
        f"website ({'đạt' if ms.published >= ms.minimum else 'chưa đạt'})."
    )
    for al in loa.notifier.open_alerts():
        console.print(f"  cảnh báo: {al['message']}")
    console.print(
        f"Workspace: {demo.work}\nReport: {demo.report_path}\n"
        f"Time: {time.monotonic() - demo.started:.1f} s"
    )


def keep_serving(demo: Demo) -> None:
    """With ``--serve``: the sandboxes and the service keep running until Ctrl-C."""
    if not demo.serve:
        return
    loa = demo.loa
    demo.console.print(
        f"[bold]Trang web: {loa.settings.web.base_url}[/] — đăng nhập "
        f"{WEB_USER} / {WEB_PASSWORD}. Sandbox: {demo.boxes.website.url}/_sandbox/records"
        " … Nhấn Ctrl-C để dừng."
    )
    try:
        while demo.thread.is_alive():
            demo.thread.join(timeout=1)
    except KeyboardInterrupt:
        demo.console.print("Đang dừng…")
    _stop(demo, 15)


def _stop(demo: Demo, timeout: float) -> None:
    demo.loop.call_soon_threadsafe(demo.service.stopping.set)
    demo.thread.join(timeout=timeout)


# The demo, step by step: a new step is one function taking the Demo and one line here.
STEPS: list[Callable[[Demo], None]] = [
    set_up_workspace,
    drop_articles,
    start_service,
    inbox_intake,
    telegram_decisions,
    publishing,
    reach,
    followers,
    citizens,
    web_pages,
    report,
    summary,
    keep_serving,
]


def run_demo(
    console: Console, directory: Path | None = None, *, timeout: float = 45, serve: bool = False
) -> int:
    """Run the demo; 0 when every step did what it says. With ``serve``, the sandboxes and the
    service (with its web page) keep running afterwards until Ctrl-C."""
    work = directory or Path(tempfile.mkdtemp(prefix="loa-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    checks = _Checks(console)
    demo = Demo(console, work, Sandboxes.start(), checks, serve)
    try:
        for step in STEPS:
            step(demo)
    finally:
        demo.boxes.stop()
    if checks.failed:
        console.print(f"[red]Demo failed: {len(checks.failed)} step(s) did not work.[/]")
        return 1
    console.print("[green]Demo finished: every step worked.[/]")
    return 0


def _demo_broadcast(loa: Loa, boxes: Sandboxes, checks: _Checks, console: Console) -> None:
    """The service's broadcast job proposes; the admin approves the card; Zalo receives it."""
    tg = boxes.telegram
    proposals = broadcast_tick(loa, datetime.now(UTC))
    checks.step(len(proposals) == 1, f"Đề xuất {len(proposals)} tin truyền thông Zalo")
    if not proposals:
        return
    proposal = proposals[0]
    card: dict[str, object] = {}

    def card_sent() -> bool:
        for m in tg.sent:
            for row in (m.get("reply_markup") or {}).get("inline_keyboard", []):
                if any(b.get("callback_data") == f"bc:a:{proposal.id}" for b in row):
                    card.update(m)
                    return True
        return False

    _wait(card_sent, 15)
    text = str(card.get("text", ""))
    console.print("  thẻ: " + " / ".join(line for line in text.splitlines()[:2]))
    checks.step("Gửi tin truyền thông tới" in text, "Telegram: thẻ đề xuất gửi tin truyền thông")
    if not card:
        return
    tg.press_button(Sandboxes.ADMIN_ID, int(card["message_id"]), f"bc:a:{proposal.id}")  # type: ignore[call-overload]
    broadcasts = loa.store.broadcasts
    _wait(
        lambda: (
            (broadcasts.get(proposal.id) or proposal).state
            not in ("proposed", "approved", "sending")
        ),
        15,
    )
    done = broadcasts.get(proposal.id)
    sent = boxes.zalo.records.get("broadcasts", [])
    checks.step(
        done is not None and done.state == "sent" and len(sent) == 1,
        f"Quản trị duyệt; Zalo nhận tin truyền thông gồm {len(done.article_ids) if done else 0} "
        f"bài, tới {sent[0]['recipients'] if sent else 0} người theo dõi "
        f"(trạng thái: {done.moderation_state if done else '—'})",
    )
