"""Hostile files (issue 14, items 1-8): each is refused with a reason or cleaned, in a worker
process with limits; the inbox goes on after each one; the service's loop never stalls."""

from __future__ import annotations

import asyncio
import http.server
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers.hostile_corpus import (
    CORPUS_LIMITS,
    SECRET,
    Case,
    build_corpus,
    good_article,
    png_bytes,
)

from bot.context import Loa
from bot.intake import inbox_poller, ingest_limits, ingest_path, poll_inbox, upload_name
from bot.run import build_service
from bot.settings import load_settings
from content_queue.ingest import IngestLimits, IngestRefusal, parse_isolated, printable_name
from content_queue.ingest.frontmatter import split_front_matter
from content_queue.models import Actor, ParsedArticle
from content_queue.topics import default_topics

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CONFIG = """
[database]
url = "{db}"
[queue]
poll_seconds = {poll}
[schedule]
dispatch_interval_seconds = 0.5
[ingest]
max_body_chars = 50000
max_docx_xml_mb = 2
max_zip_entries = 50
max_unzipped_mb = 20
max_images = 5
worker_memory_mb = 512
worker_cpu_seconds = 2
worker_timeout_seconds = 10
"""


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        self.hits.append(self.path)
        body = png_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def picture_server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 serving a picture and counting every request."""
    hits: list[str] = []
    handler = type("Handler", (_CountingHandler,), {"hits": hits})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/anh.png", hits
    finally:
        server.shutdown()
        server.server_close()


def parse(path: Path, tmp_path: Path, limits: IngestLimits = CORPUS_LIMITS) -> ParsedArticle:
    return parse_isolated(
        path,
        known_channels=("website", "facebook"),
        topics=default_topics(),
        limits=limits,
        now=datetime.now(UTC),
        tz=TZ,
        media_dir=tmp_path / "media",
    )


def outcome(case: Case, tmp_path: Path) -> tuple[str, object]:
    try:
        return "ok", parse(case.path, tmp_path)
    except IngestRefusal as refusal:
        return refusal.code, refusal


@pytest.fixture(autouse=True)
def _no_loa_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("LOA_") and k != "LOA_TEST_DATABASE_URL"]:
        monkeypatch.delenv(key)


def workspace(tmp_path: Path, db_url: str, poll: float = 30.0) -> Loa:
    (tmp_path / "config.toml").write_text(CONFIG.format(db=db_url, poll=poll), "utf-8")
    loa = Loa(load_settings(tmp_path / "config.toml"))
    loa.settings.path(loa.settings.queue.inbox).mkdir(parents=True, exist_ok=True)
    return loa


def test_every_hostile_file_is_refused_with_a_reason_or_cleaned(
    tmp_path: Path, picture_server: tuple[str, list[str]]
) -> None:
    url, hits = picture_server
    cases = build_corpus(tmp_path / "corpus", http_url=url)
    assert {c.item for c in cases} == set(range(1, 9))
    wrong = []
    for case in cases:
        got, result = outcome(case, tmp_path)
        if got != case.expect:
            wrong.append(
                f"{case.name}: expected {case.expect}, got {got} ({getattr(result, 'reason', '')})"
            )
            continue
        if isinstance(result, IngestRefusal):
            shown = result.reason + result.hint
            assert result.reason and result.hint, case.name
            assert shown.isprintable(), (case.name, shown)
            assert "hostile-corpus-secret" not in shown
        else:
            assert isinstance(result, ParsedArticle)
            assert "hostile-corpus-secret" not in result.body_html + result.body_text
        if case.check:
            case.check(result)
    assert not wrong, "\n".join(wrong)
    assert hits == []  # a linked picture was never fetched
    assert SECRET not in "".join(
        p.read_text("utf-8", "replace") for p in (tmp_path / "media").rglob("*") if p.is_file()
    )


def test_inbox_goes_on_after_each_bad_file(tmp_path: Path, db_url: str) -> None:
    loa = workspace(tmp_path, db_url)
    assert ingest_limits(loa) == CORPUS_LIMITS
    inbox = loa.settings.path(loa.settings.queue.inbox)
    cases = build_corpus(inbox, heavy=False)
    goods = {}
    for n, case in enumerate(cases):  # a good file sorted right after each entry
        goods[n] = good_article(inbox / f"{case.path.name}-tot.md", n)
    poller = inbox_poller(loa)
    assert poll_inbox(loa, poller) == []  # first look: nothing has settled yet
    results = poll_inbox(loa, poller)
    assert len(results) == len(cases) + len(goods)
    titles = {a.title for a in loa.store.articles.list()}
    assert {f"Bài tốt số {n}" for n in goods} <= titles
    assert os.listdir(inbox) == []  # every entry was processed and moved
    rejected = loa.settings.path(loa.settings.queue.rejected)
    for case in cases:
        if case.expect == "ok":
            continue
        moved = rejected / case.path.name
        assert os.path.lexists(moved), case.name
        note = (rejected / f"{case.path.name}.loi.txt").read_text("utf-8")
        assert f"(mã lỗi: {case.expect})" in note, (case.name, note)
        assert note.isprintable() or all(line.isprintable() for line in note.splitlines())
    assert poll_inbox(loa, poller) == []  # nothing is taken twice


def test_a_file_gone_before_parsing_is_a_generic_refusal_with_an_error_id_in_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loa = workspace(tmp_path, f"sqlite:///{tmp_path / 'loa.db'}")
    poller = inbox_poller(loa)
    gone = loa.settings.path(loa.settings.queue.inbox) / "da-bi-chuyen-di.md"
    nxt = good_article(tmp_path / "tiep-theo.md", 1)
    with caplog.at_level(logging.ERROR):
        result = ingest_path(loa, gone, Actor("inbox", "inbox"), move=True, poller=poller)
    assert not result.ok and result.refusal is not None
    assert result.refusal.code == "internal_error"
    error_id = result.refusal.reason.split("mã lỗi ")[1].rstrip(").")
    assert len(error_id) == 8 and error_id in caplog.text
    assert "FileNotFoundError" in caplog.text
    assert ingest_path(loa, nxt, Actor("cli", "cli"), move=False).ok  # the next one goes on


def test_service_loop_never_stalls_while_pathological_files_are_ingested(tmp_path: Path) -> None:
    """``loa run``'s own loop, in-process, with a heartbeat task beside the service's jobs."""
    loa = workspace(tmp_path, f"sqlite:///{tmp_path / 'loa.db'}", poll=0.2)
    inbox = loa.settings.path(loa.settings.queue.inbox)
    staging = tmp_path / "staging"
    heavy = [c for c in build_corpus(staging) if c.item in (1, 3)]
    assert any(c.expect == "processing_limits" for c in heavy)
    for case in heavy:
        shutil.move(str(case.path), str(inbox / case.path.name))
    good_article(inbox / "zz-bai-tot.md", 1)
    rejected = loa.settings.path(loa.settings.queue.rejected)
    expected_rejected = {c.path.name for c in heavy if c.expect != "ok"}

    async def scenario() -> float:
        service = build_service(loa)
        run = asyncio.create_task(service.run())
        worst, last = 0.0, time.monotonic()
        deadline = last + 90
        while time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            now = time.monotonic()
            worst, last = max(worst, now - last), now
            done = {p.name for p in rejected.glob("*")} if rejected.exists() else set()
            if expected_rejected <= done and not os.listdir(inbox):
                break
        service.stopping.set()
        await run
        return worst

    worst = asyncio.run(scenario())
    assert not os.listdir(inbox)
    for name in expected_rejected:
        note = (rejected / f"{name}.loi.txt").read_text("utf-8")
        if "hai-trieu-doan" in name or "dinh-dang-long" in name:
            assert "tệp vượt giới hạn xử lý" in note
    assert "Bài tốt số 1" in {a.title for a in loa.store.articles.list()}
    assert worst < 0.2, f"the event loop stalled for {worst * 1000:.0f} ms"


def test_front_matter_subset_accepts_scalars_lists_and_nulls() -> None:
    text = (
        "---\ntitle: 'Tiêu đề: có dấu hai chấm'\ntopic: dd\nchannels: [website, zalo]\n"
        "summary:\nid: 7\nauthor: Phòng CCHC\n---\nThân bài.\n"
    )
    meta, body = split_front_matter(text, "bai.md", IngestLimits())
    assert meta == {
        "title": "Tiêu đề: có dấu hai chấm",
        "topic": "dd",
        "channels": ["website", "zalo"],
        "summary": None,
        "id": "7",
    }
    assert body == "Thân bài.\n"
    assert split_front_matter("---\n\nKhông có dòng đóng.\n", "a.md", IngestLimits())[0] == {}


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("bai\x1b[2J.md", "bai\\x1b[2J.md"),
        ("bai\u202emd.exe", "bai\\u202emd.exe"),
        (os.fsdecode(b"bai-\xff.md"), "bai-\\xff.md"),
        ("Bài viết.docx", "Bài viết.docx"),
    ],
)
def test_file_names_are_shown_without_control_characters(raw: str, shown: str) -> None:
    assert printable_name(raw) == shown


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..", "bai-viet"),
        (".", "bai-viet"),
        (None, "bai-viet"),
        ("a\x00b.md", "ab.md"),
        ("C:\\Users\\bai.docx", "bai.docx"),
        ("x" * 300 + ".docx", "x" * 115 + ".docx"),
    ],
)
def test_uploaded_file_names_are_made_safe(given: str | None, safe: str) -> None:
    assert upload_name(given) == safe


def test_the_bot_answers_other_messages_while_an_upload_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real PTB application on the local Bot API: a pathological upload is parsed off the
    event loop, so ``/queue`` sent after it is answered first and the loop never stalls."""
    from bot.telegram.app import run_bot
    from channels.sandbox.telegram import TelegramSandbox

    editor = 222
    tg = TelegramSandbox()
    tg.start()
    try:
        (tmp_path / "config.toml").write_text(
            CONFIG.format(db=f"sqlite:///{tmp_path / 'loa.db'}", poll=30)
            + f'[telegram]\napi_url = "{tg.url}"\neditors = [{editor}]\nchat_id = -100\n',
            "utf-8",
        )
        monkeypatch.setenv("LOA_TELEGRAM__TOKEN", tg.TOKEN)
        loa = Loa(load_settings(tmp_path / "config.toml"))
        heavy = next(
            c
            for c in build_corpus(tmp_path / "corpus")
            if c.expect == "processing_limits" and c.path.suffix == ".html"
        )

        def reply_containing(needle: str) -> int | None:
            return next((i for i, m in enumerate(tg.sent) if needle in m.get("text", "")), None)

        async def scenario() -> float:
            stopping = asyncio.Event()
            bot = asyncio.create_task(run_bot(loa, stopping, poll_timeout=1, card_interval=0.2))
            await asyncio.sleep(0.5)
            tg.send_user_document(editor, heavy.path.name, heavy.path.read_bytes())
            tg.send_user_message(editor, "/queue")
            worst, last = 0.0, time.monotonic()
            deadline = last + 60
            while time.monotonic() < deadline and reply_containing("vượt giới hạn xử lý") is None:
                await asyncio.sleep(0.02)
                now = time.monotonic()
                worst, last = max(worst, now - last), now
            stopping.set()
            await bot
            return worst

        worst = asyncio.run(scenario())
        refused = reply_containing("tệp vượt giới hạn xử lý")
        queue = reply_containing("Không có bài nào chờ duyệt.")
        assert refused is not None and queue is not None
        assert queue < refused  # answered while the file was still being parsed
        assert worst < 0.2, f"the event loop stalled for {worst * 1000:.0f} ms"
    finally:
        tg.stop()
