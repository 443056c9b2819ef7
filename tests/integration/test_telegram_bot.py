"""The admin chat end to end: the real PTB application against the local Bot API sandbox.

The bot runs with ``run_bot`` in its own thread and event loop; the test plays the users through
the sandbox (messages, files, button presses) and reads what the bot sent, edited and answered.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from docx import Document

from bot.context import Loa
from bot.parsing import BUSY_VI
from bot.run import build_dispatcher
from bot.settings import load_settings
from bot.telegram import texts
from bot.telegram.app import run_bot
from channels.sandbox.telegram import TelegramSandbox
from channels.sandbox.wordpress import WordPressSandbox
from content_queue.models import Actor, ParsedArticle
from content_queue.tables import bot_cards

# No handler waits for the database on the bot's event loop (see tests/helpers/loop_guard.py).
pytestmark = pytest.mark.usefixtures("no_store_on_loop")

ADMIN, SECOND_ADMIN, EDITOR, STRANGER = 111, 333, 222, 999
CHAT = -100


def wait_until(condition: Callable[[], Any], *, limit: float = 30.0) -> Any:
    """Poll ``condition`` until it returns something truthy (a bounded wait, not a timing check)."""
    deadline = time.monotonic() + limit
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


class BotThread:
    """``run_bot`` in a thread with its own event loop, stopped through its ``stopping`` event."""

    def __init__(self, loa: Loa):
        self.loa = loa
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopping: asyncio.Event | None = None
        self.error: BaseException | None = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._main, name="loa-telegram", daemon=True)

    def _main(self) -> None:
        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            self.stopping = asyncio.Event()
            self.ready.set()
            await run_bot(self.loa, self.stopping, poll_timeout=1, card_interval=0.2)

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by stop()
            self.error = exc
            self.ready.set()

    def start(self) -> None:
        self.thread.start()
        assert self.ready.wait(10)

    def stop(self) -> None:
        if self.loop is not None and self.stopping is not None and self.loop.is_running():
            self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(15)
        assert not self.thread.is_alive(), "run_bot did not stop"
        if self.error is not None:
            raise self.error


@dataclass
class Chat:
    tg: TelegramSandbox
    wp: WordPressSandbox
    loa: Loa
    bot: BotThread

    def submit(self, title: str, body: str = "Người dân được phục vụ tốt hơn.") -> int:
        parsed = ParsedArticle(
            title=title,
            summary=f"Tóm tắt: {title}",
            body_html=f"<p>{body}</p>",
            body_text=body,
            topic="a",
            content_hash=hashlib.sha256(f"{title}\n{body}".encode()).hexdigest(),
        )
        return self.loa.store.articles.submit(parsed, Actor("ed", "cli")).article.id

    def card(self, article_id: int) -> dict[str, Any]:
        """The approval card the bot sent for the article (waits for it)."""

        def find() -> dict[str, Any] | None:
            for m in self.tg.sent:
                rows = (m.get("markup") or {}).get("inline_keyboard", [])
                datas = [b.get("callback_data", "") for row in rows for b in row]
                if any(d.startswith(f"ap:{article_id}:") for d in datas):
                    return m
            return None

        card = wait_until(find)

        def stored() -> bool:  # the bot records the card's message id right after sending it
            with self.loa.store.engine.connect() as conn:
                return (
                    conn.execute(
                        sa.select(bot_cards.c.message_id).where(
                            bot_cards.c.article_id == article_id
                        )
                    ).scalar()
                    == card["message_id"]
                )

        wait_until(stored)
        return card

    def answer_to(self, query_id: str) -> dict[str, Any]:
        return wait_until(
            lambda: next((a for a in self.tg.answers if a["callback_query_id"] == query_id), None)
        )

    def reply_after(self, count: int, needle: str = "") -> dict[str, Any]:
        """The first message sent after the first ``count`` ones that contains ``needle``."""
        return wait_until(
            lambda: next((m for m in self.tg.sent[count:] if needle in m.get("text", "")), None)
        )

    def audit(self, action: str) -> list[dict[str, Any]]:
        return [e for e in self.loa.store.audit.audit_entries() if e["action"] == action]


@pytest.fixture
def chat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Chat]:
    """The bot running against the sandbox; ``indirect`` parametrisation sets the answer timeout."""
    answer_timeout = getattr(request, "param", 300)
    for key in [k for k in os.environ if k.startswith("LOA_") and k != "LOA_SECRET_KEY"]:
        monkeypatch.delenv(key)
    tg, wp = TelegramSandbox(), WordPressSandbox()
    tg.start()
    wp.start()
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path / "loa.db"}"

[telegram]
api_url = "{tg.url}"
admins = [{ADMIN}, {SECOND_ADMIN}]
editors = [{EDITOR}]
chat_id = {CHAT}
answer_timeout_seconds = {answer_timeout}

[channels.website]
type = "wordpress"
url = "{wp.api_url}"
username = "{wp.USERNAME}"
timeout_seconds = 5
""",
        "utf-8",
    )
    monkeypatch.setenv("LOA_CHANNELS__WEBSITE__APP_PASSWORD", wp.APP_PASSWORD)
    monkeypatch.setenv("LOA_TELEGRAM__TOKEN", tg.TOKEN)
    loa = Loa(load_settings(cfg))
    runner = BotThread(loa)
    runner.start()
    try:
        yield Chat(tg, wp, loa, runner)
    finally:
        try:
            runner.stop()
        finally:
            tg.stop()
            wp.stop()
            loa.store.engine.dispose()


# ----- cards and decisions ---------------------------------------------------------------------------
def test_new_article_gets_a_card_and_an_admin_press_approves_it(chat: Chat) -> None:
    article_id = chat.submit("Cải cách <thủ tục> & dịch vụ công năm 2026")
    card = chat.card(article_id)
    assert "Cải cách <thủ tục> & dịch vụ công năm 2026" in card["text"]
    assert "&lt;thủ tục&gt; &amp; dịch vụ" in card["source"]  # escaped for HTML parse mode
    assert "Chủ đề: a)" in card["text"] and "Kênh đăng: website" in card["text"]
    assert "Giờ đăng dự kiến:" in card["text"] and "website" in card["text"]

    query = chat.tg.press_button(ADMIN, card["message_id"], f"ap:{article_id}:1")
    assert chat.answer_to(query)["text"].startswith(f"Đã duyệt bài #{article_id}")
    article = chat.loa.store.articles.get(article_id)
    assert article.state == "approved" and article.approved_by == f"tg:{ADMIN}"
    approvals = chat.audit("approved")
    assert [(e["actor"], e["via"], e["article_id"]) for e in approvals] == [
        (f"tg:{ADMIN}", "telegram", article_id)
    ]
    edited = wait_until(
        lambda: (
            "reply_markup" not in chat.tg.message(CHAT, card["message_id"])
            and chat.tg.message(CHAT, card["message_id"])
        )
    )
    assert f"Đã duyệt bởi tg:{ADMIN}" in edited["text"]
    assert len([m for m in chat.tg.sent if m.get("markup")]) == 1  # the card was sent once


def test_strangers_and_editors_cannot_decide_and_are_audited(chat: Chat) -> None:
    article_id = chat.submit("Tuyên truyền cải cách hành chính tại cơ sở")
    card = chat.card(article_id)
    stranger = chat.tg.press_button(STRANGER, card["message_id"], f"ap:{article_id}:1")
    assert chat.answer_to(stranger)["text"] == texts.UNAUTHORISED
    editor = chat.tg.press_button(EDITOR, card["message_id"], f"ap:{article_id}:1")
    assert chat.answer_to(editor)["text"] == texts.NOT_ADMIN
    before = len(chat.tg.sent)
    chat.tg.send_user_message(STRANGER, "/queue")  # answered once already: silence
    chat.tg.send_user_message(EDITOR, "/help")
    chat.reply_after(before, "Các lệnh của Loa")
    assert not [m for m in chat.tg.sent[before:] if "chưa có quyền" in m.get("text", "")]

    refused = chat.audit("unauthorised")
    assert [e["detail"]["user_id"] for e in refused] == [STRANGER, EDITOR]
    assert chat.loa.store.articles.get(article_id).state == "pending"
    assert "reply_markup" in chat.tg.message(CHAT, card["message_id"])


def test_forged_and_replayed_presses_are_refused(chat: Chat) -> None:
    first = chat.submit("Bài thứ nhất về chuyển đổi số")
    second = chat.submit("Bài thứ hai về dịch vụ công trực tuyến")
    card = chat.card(first)
    chat.card(second)
    other_article = chat.tg.press_button(ADMIN, card["message_id"], f"ap:{second}:1")
    assert chat.answer_to(other_article)["text"] == texts.BAD_DATA
    other_revision = chat.tg.press_button(ADMIN, card["message_id"], f"ap:{first}:2")
    assert chat.answer_to(other_revision)["text"] == texts.BAD_DATA
    garbage = chat.tg.press_button(ADMIN, card["message_id"], "ap:1;DROP TABLE")
    assert chat.answer_to(garbage)["text"] == texts.BAD_DATA
    assert {chat.loa.store.articles.get(i).state for i in (first, second)} == {"pending"}
    assert len(chat.audit("forged_callback")) == 3

    ok = chat.tg.press_button(ADMIN, card["message_id"], f"ap:{first}:1")
    assert chat.answer_to(ok)["text"].startswith("Đã duyệt")
    replay = chat.tg.press_button(ADMIN, card["message_id"], f"ap:{first}:1")
    assert "đã được xử lý" in chat.answer_to(replay)["text"]
    assert len(chat.audit("approved")) == 1


def test_a_card_of_an_older_revision_is_stale(chat: Chat) -> None:
    def version(body: str) -> ParsedArticle:
        return ParsedArticle(
            title="Bài có bản sửa",
            summary="Tóm tắt",
            body_html=f"<p>{body}</p>",
            body_text=body,
            topic="a",
            external_id="bai-sua",
            content_hash=hashlib.sha256(body.encode()).hexdigest(),
        )

    article_id = chat.loa.store.articles.submit(version("Bản đầu."), Actor("ed", "cli")).article.id
    old_card = chat.card(article_id)
    assert (
        chat.loa.store.articles.submit(version("Bản sửa."), Actor("ed", "cli")).outcome == "revised"
    )
    new_card = wait_until(
        lambda: next(
            (
                m
                for m in chat.tg.sent
                if (m.get("markup") or {}) and f"ap:{article_id}:2" in str(m["markup"])
            ),
            None,
        )
    )
    press = chat.tg.press_button(ADMIN, old_card["message_id"], f"ap:{article_id}:1")
    assert "bản 2" in chat.answer_to(press)["text"]
    assert chat.loa.store.articles.get(article_id).state == "pending"
    closed = wait_until(
        lambda: (
            "reply_markup" not in chat.tg.message(CHAT, old_card["message_id"])
            and chat.tg.message(CHAT, old_card["message_id"])
        )
    )
    assert "bản sửa (bản 2)" in closed["text"]
    assert new_card["message_id"] != old_card["message_id"]


def test_two_admins_pressing_at_once_make_exactly_one_decision(chat: Chat) -> None:
    article_id = chat.submit("Hai quản trị viên cùng bấm duyệt")
    card = chat.card(article_id)
    q1 = chat.tg.press_button(ADMIN, card["message_id"], f"ap:{article_id}:1")
    q2 = chat.tg.press_button(SECOND_ADMIN, card["message_id"], f"rj:{article_id}:1")
    q3 = chat.tg.press_button(SECOND_ADMIN, card["message_id"], f"ap:{article_id}:1")
    answers = [chat.answer_to(q)["text"] for q in (q1, q2, q3)]
    assert answers[0].startswith("Đã duyệt")
    assert "đã được xử lý" in answers[1] and "đã được xử lý" in answers[2]
    assert len(chat.audit("approved")) == 1 and not chat.audit("rejected")


def test_reject_asks_for_a_reason_that_reaches_the_audit_log(chat: Chat) -> None:
    article_id = chat.submit("Bài cần từ chối")
    card = chat.card(article_id)
    before = len(chat.tg.sent)
    chat.tg.press_button(ADMIN, card["message_id"], f"rj:{article_id}:1")
    question = chat.reply_after(before, "lý do từ chối")
    chat.tg.send_user_message(
        ADMIN, "Số liệu ở đoạn 2 chưa khớp báo cáo quý.", reply_to_message_id=question["message_id"]
    )
    rejected = wait_until(lambda: chat.audit("rejected"))
    assert rejected[0]["detail"]["reason"] == "Số liệu ở đoạn 2 chưa khớp báo cáo quý."
    assert rejected[0]["actor"] == f"tg:{ADMIN}"
    assert chat.loa.store.articles.get(article_id).state == "rejected"
    edited = wait_until(
        lambda: (
            "reply_markup" not in chat.tg.message(CHAT, card["message_id"])
            and chat.tg.message(CHAT, card["message_id"])
        )
    )
    assert "Lý do: Số liệu ở đoạn 2" in edited["text"]


def test_approve_at_asks_for_a_time_and_validates_it(chat: Chat) -> None:
    article_id = chat.submit("Bài đăng theo giờ hẹn")
    card = chat.card(article_id)
    before = len(chat.tg.sent)
    chat.tg.press_button(ADMIN, card["message_id"], f"at:{article_id}:1")
    question = chat.reply_after(before, "YYYY-MM-DD HH:MM")["message_id"]
    before = len(chat.tg.sent)
    chat.tg.send_user_message(ADMIN, "ngày mai 8 giờ", reply_to_message_id=question)
    assert "không đúng dạng" in chat.reply_after(before, "Vui lòng nhập lại")["text"]
    when = (datetime.now(chat.loa.settings.schedule.tz) + timedelta(days=3)).replace(
        hour=9, minute=45, second=0, microsecond=0
    )
    chat.tg.send_user_message(ADMIN, when.strftime("%Y-%m-%d %H:%M"), reply_to_message_id=question)
    approved = wait_until(
        lambda: (
            chat.loa.store.articles.get(article_id).state == "approved"
            and chat.loa.store.articles.get(article_id)
        )
    )
    assert approved.scheduled_at == when
    assert approved.approved_by == f"tg:{ADMIN}"


def test_a_reason_counts_only_as_the_same_admins_reply_in_the_same_chat(chat: Chat) -> None:
    article_id = chat.submit("Bài chỉ từ chối khi trả lời đúng câu hỏi")
    card = chat.card(article_id)
    before = len(chat.tg.sent)
    chat.tg.press_button(ADMIN, card["message_id"], f"rj:{article_id}:1")
    question = chat.reply_after(before, "lý do từ chối")["message_id"]

    chat.tg.send_user_message(ADMIN, "Tin nhắn riêng không liên quan", chat_id=ADMIN)
    chat.tg.send_user_message(SECOND_ADMIN, "Lý do của người khác", reply_to_message_id=question)
    before = len(chat.tg.sent)
    chat.tg.send_user_message(ADMIN, "Nói chuyện trong nhóm, không trả lời câu hỏi")
    assert chat.reply_after(before, "Loa đang chờ")["text"] == texts.ANSWER_BY_REPLY.format(
        id=article_id
    )
    chat.tg.send_user_message(ADMIN, "Lần nữa, vẫn không trả lời câu hỏi")  # hinted once only
    chat.tg.send_user_message(ADMIN, "Tiêu đề chưa đúng thể thức.", reply_to_message_id=question)

    rejected = wait_until(lambda: chat.audit("rejected"))
    assert [e["detail"]["reason"] for e in rejected] == ["Tiêu đề chưa đúng thể thức."]
    assert rejected[0]["actor"] == f"tg:{ADMIN}"
    assert len([m for m in chat.tg.sent if "Loa đang chờ" in m.get("text", "")]) == 1


@pytest.mark.parametrize("chat", [1.0], indirect=True)
def test_a_question_not_answered_in_time_is_forgotten(chat: Chat) -> None:
    article_id = chat.submit("Bài có câu hỏi hết hạn")
    card = chat.card(article_id)
    before = len(chat.tg.sent)
    chat.tg.press_button(ADMIN, card["message_id"], f"rj:{article_id}:1")
    question = chat.reply_after(before, "lý do từ chối")["message_id"]
    timed_out = chat.reply_after(before, "hết thời gian")
    assert timed_out["text"] == texts.ANSWER_TIMED_OUT.format(id=article_id)

    chat.tg.send_user_message(ADMIN, "Lý do gửi quá muộn", reply_to_message_id=question)
    before = len(chat.tg.sent)
    chat.tg.send_user_message(ADMIN, "/queue")  # handled after the late reply: a sync point
    chat.reply_after(before, "chờ duyệt")
    assert chat.loa.store.articles.get(article_id).state == "pending" and not chat.audit("rejected")


def test_a_strangers_flood_gets_one_answer_and_one_short_audit_row(chat: Chat) -> None:
    before = len(chat.tg.sent)
    for i in range(50):
        chat.tg.send_user_message(STRANGER, f"{i:02d} " + "quảng cáo " * 300, chat_id=STRANGER)
    chat.tg.send_user_message(ADMIN, "/help")
    chat.reply_after(before, "Các lệnh của Loa")
    answers = [m for m in chat.tg.sent[before:] if m["chat"]["id"] == STRANGER]
    assert [m["text"] for m in answers] == [texts.UNAUTHORISED]
    (row,) = chat.audit("unauthorised")
    assert row["detail"]["user_id"] == STRANGER and row["detail"]["length"] > 3000
    assert len(row["detail"]["what"]) <= 81 and row["detail"]["what"].startswith("00 quảng cáo")


def test_preview_sends_the_exact_text_of_each_channel(chat: Chat) -> None:
    from bot.drafts import drafts_for

    article_id = chat.submit("Xem trước bài viết")
    card = chat.card(article_id)
    before = len(chat.tg.sent)
    query = chat.tg.press_button(ADMIN, card["message_id"], f"pv:{article_id}:1")
    assert chat.answer_to(query)["text"] == texts.PREVIEW_SENT
    expected = drafts_for(chat.loa, chat.loa.store.articles.get(article_id))["website"].text
    assert chat.reply_after(before, expected[:40])["text"] == expected


# ----- commands ----------------------------------------------------------------------------------------
def test_stats_and_queue_answer_with_real_numbers(chat: Chat) -> None:
    published = chat.submit("Bài đã đăng lên trang thông tin điện tử")
    chat.submit("Bài chờ duyệt số một")
    chat.submit("Bài chờ duyệt số hai")
    from bot.approval import approve_article

    approve_article(chat.loa, published, Actor("admin", "cli"), now=True)
    dispatcher = build_dispatcher(chat.loa)
    try:
        dispatcher.tick()
    finally:
        dispatcher.close()
    assert chat.loa.store.articles.get(published).state == "published"

    before = len(chat.tg.sent)
    chat.tg.send_user_message(ADMIN, "/stats")
    stats = chat.reply_after(before, "Tháng")["text"]
    assert "đã đăng 1 bài" in stats and "chỉ tiêu 2 bài/tháng" in stats
    assert "Trang web: 1 lượt đăng" in stats

    before = len(chat.tg.sent)
    chat.tg.send_user_message(EDITOR, "/queue@loa_sandbox_bot")
    queue = chat.reply_after(before, "Bài chờ duyệt (")["text"]  # not a card sent meanwhile
    assert queue.startswith("Bài chờ duyệt (2):")
    assert "Bài chờ duyệt số một" in queue and "Bài chờ duyệt số hai" in queue


def test_report_sends_the_word_document(chat: Chat) -> None:
    before = len(chat.tg.sent)
    chat.tg.send_user_message(ADMIN, "/report 2026-Q4")
    deadline = time.monotonic() + 20
    docs: list[dict] = []
    while not docs and time.monotonic() < deadline:
        docs = [m for m in chat.tg.sent[before:] if "document" in m]
        time.sleep(0.1)
    assert docs and docs[0]["document"]["file_name"] == "bao-cao-cchc-2026-Q4.docx"
    before = len(chat.tg.sent)
    chat.tg.send_user_message(ADMIN, "/report 2026-Q5")
    assert "quý" in chat.reply_after(before, "")["text"].lower()


def test_pause_and_resume_a_channel(chat: Chat) -> None:
    before = len(chat.tg.sent)
    chat.tg.send_user_message(ADMIN, "/pause website")
    chat.reply_after(before, "Đã tạm dừng kênh website")
    assert chat.loa.store.channels.channel_status("website").paused
    before = len(chat.tg.sent)
    chat.tg.send_user_message(EDITOR, "/resume website")
    chat.reply_after(before, texts.NOT_ADMIN)
    assert chat.loa.store.channels.channel_status("website").paused
    before = len(chat.tg.sent)
    chat.tg.send_user_message(ADMIN, "/resume website")
    chat.reply_after(before, "đăng trở lại")
    assert not chat.loa.store.channels.channel_status("website").paused


# ----- files -------------------------------------------------------------------------------------------
def test_an_editors_markdown_and_docx_become_pending_articles(chat: Chat) -> None:
    md = (
        "# Lạng Sơn đẩy mạnh dịch vụ công trực tuyến\n\n"
        "Năm 2026, tỉnh đẩy mạnh dịch vụ công trực tuyến toàn trình. Người dân nộp hồ sơ "
        "trên cổng dịch vụ công, tỷ lệ hồ sơ trực tuyến tăng mạnh.\n"
    )
    before = len(chat.tg.sent)
    chat.tg.send_user_document(EDITOR, "dich-vu-cong.md", md.encode())
    reply = chat.reply_after(before, "dich-vu-cong.md")["text"]
    assert "bài #" in reply
    pending = wait_until(lambda: chat.loa.store.articles.list(["pending"]))
    assert pending[0].title == "Lạng Sơn đẩy mạnh dịch vụ công trực tuyến"
    assert pending[0].submitted_by == f"tg:{EDITOR}"
    chat.card(pending[0].id)  # and it gets its approval card

    doc = Document()
    doc.add_heading("Hội nghị tổng kết công tác cải cách hành chính", level=1)
    doc.add_paragraph(
        "Sở tổ chức hội nghị tổng kết công tác cải cách hành chính năm 2026, "
        "đánh giá kết quả thực hiện các nhiệm vụ trọng tâm."
    )
    buf = io.BytesIO()
    doc.save(buf)
    before = len(chat.tg.sent)
    chat.tg.send_user_document(EDITOR, "tong-ket.docx", buf.getvalue())
    assert "bài #" in chat.reply_after(before, "tong-ket.docx")["text"]
    titles = wait_until(
        lambda: (
            len(chat.loa.store.articles.list(["pending"])) == 2
            and [a.title for a in chat.loa.store.articles.list(["pending"])]
        )
    )
    assert "Hội nghị tổng kết công tác cải cách hành chính" in titles

    before = len(chat.tg.sent)
    chat.tg.send_user_document(STRANGER, "la.md", md.encode())
    assert chat.reply_after(before, "chưa có quyền")["text"] == texts.UNAUTHORISED
    assert len(chat.loa.store.articles.list(["pending"])) == 2


# ----- a flaky Bot API -----------------------------------------------------------------------------------
def test_the_bot_keeps_working_through_429_5xx_and_dropped_polls(chat: Chat) -> None:
    polls = len([r for r in chat.tg.request_log if r[2].endswith("/getUpdates")])
    for kind in ("throttle", "http_500", "drop_before"):
        chat.tg.inject(kind, path="/getUpdates$")
    before = len(chat.tg.sent)
    chat.tg.send_user_message(ADMIN, "/help")
    assert chat.reply_after(before, "Các lệnh của Loa")["text"] == texts.HELP
    assert len([r for r in chat.tg.request_log if r[2].endswith("/getUpdates")]) >= polls + 4


# ----- the sandbox itself --------------------------------------------------------------------------------
def test_sandbox_refuses_a_wrong_token_and_acknowledges_by_offset() -> None:
    with TelegramSandbox() as tg:
        r = requests.post(f"{tg.url}/bot123:wrong/getMe", timeout=5)
        assert r.status_code == 401
        assert r.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        api = f"{tg.url}/bot{tg.TOKEN}"
        tg.send_user_message(ADMIN, "/queue")
        tg.send_user_message(ADMIN, "xin chào")
        got = requests.post(f"{api}/getUpdates", json={"timeout": 0}, timeout=5).json()["result"]
        assert [u["message"]["text"] for u in got] == ["/queue", "xin chào"]
        assert got[0]["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
        nxt = got[0]["update_id"] + 1
        got = requests.post(
            f"{api}/getUpdates", data={"offset": nxt, "timeout": 0}, timeout=5
        ).json()["result"]
        assert [u["message"]["text"] for u in got] == ["xin chào"]
        bad = requests.post(
            f"{api}/sendMessage",
            json={"chat_id": CHAT, "text": "<b>x", "parse_mode": "HTML"},
            timeout=5,
        ).json()
        assert (
            bad["ok"] is False
            and bad["error_code"] == 400
            and bad["description"] == ('Bad Request: can\'t parse entities: Unclosed start tag "b"')
        )
        tg.inject("throttle", path="sendMessage")
        throttled = requests.post(
            f"{api}/sendMessage", json={"chat_id": CHAT, "text": "x"}, timeout=5
        )
        assert throttled.status_code == 429
        assert throttled.json()["parameters"] == {"retry_after": 1}


def test_a_document_announced_too_big_is_never_downloaded(chat: Chat) -> None:
    downloads, before = len(chat.tg.downloads), len(chat.tg.sent)
    # A self-hosted Bot API serves files up to 2 GB: the size is read before any download.
    chat.tg.send_user_document(EDITOR, "rat-lon.md", b"# T\n\nN\n", declared_size=2 * 1024**3)
    assert "lớn hơn 20 MB" in chat.reply_after(before, "rat-lon.md")["text"]
    chat.tg.send_user_document(EDITOR, "vua.md", "# Bài vừa\n\nNội dung bài.\n".encode())
    assert "bài #" in chat.reply_after(before, "vua.md")["text"]
    assert len(chat.tg.downloads) == downloads + 1 and chat.tg.downloads[-1].endswith(".md")


def test_buttons_answer_while_parsing_is_full_and_uploads_are_told_busy(chat: Chat) -> None:
    article_id = chat.submit("Bài chờ duyệt khi hệ thống đang đọc tệp")
    card = chat.card(article_id)
    pool = chat.loa.parsing
    gate = threading.Event()
    held = [pool.submit(f"tg:{-n}", gate.wait, 30) for n in range(pool.capacity)]
    try:
        before = len(chat.tg.sent)
        chat.tg.send_user_document(EDITOR, "bai-moi.md", "# Bài mới\n\nNội dung.\n".encode())
        assert chat.reply_after(before, "Hệ thống đang bận")["text"] == BUSY_VI
        press = chat.tg.press_button(ADMIN, card["message_id"], f"ap:{article_id}:1")
        assert chat.answer_to(press)["text"]  # answered while every parsing place is taken
        assert wait_until(lambda: chat.loa.store.articles.get(article_id).state == "approved")
    finally:
        gate.set()
    for f in held:
        f.result(5)
