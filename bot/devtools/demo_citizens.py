"""Demo step "Hỏi đáp": citizens write to the Zalo OA sandbox (signed webhooks to the running
service); two questions (accented, unaccented) are answered with their source link, an
out-of-scope one is handed over to the admins' Telegram chat and the admin's reply reaches the
citizen."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

import bot
from bot.context import Loa
from content_queue.knowledge import read_catalogue
from content_queue.models import Actor

__all__ = ["demo_citizens"]

SAMPLE = Path(bot.__file__).parent / "demo_articles" / "thu_tuc_mau.json"
LINK = "https://example.gov.vn/thu-tuc-hanh-chinh/9.999002"
ADMIN_ANSWER = (
    "Giá vàng do các ngân hàng và doanh nghiệp kinh doanh vàng công bố; Sở Ngoại vụ không "
    "cung cấp thông tin này. Trân trọng."
)


def _wait(condition: Callable[[], Any], limit: float = 15.0) -> Any:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    return condition()


def demo_citizens(loa: Loa, boxes: Any, checks: Any, console: Console) -> None:
    """Run the Hỏi đáp step of ``make demo`` (``checks.step(ok, text)`` records each check)."""
    loa.store.knowledge.import_procedures(read_catalogue(SAMPLE), Actor("demo"))
    url = f"http://{loa.settings.web.listen}/hooks/zalo"
    inbox = boxes.zalo.inbox
    for user, text in (
        ("8400000000000011", "Thủ tục hợp pháp hóa lãnh sự cần giấy tờ gì?"),
        ("8400000000000012", "thu tuc hop phap hoa lanh su can giay to gi?"),
    ):
        status = inbox.citizen_writes(url, user, text).status
        got = _wait(lambda: inbox.received(user))  # noqa: B023 - waited on at once
        reply = got[0]["text"] if got else ""
        console.print(f"  người dân hỏi: «{text}» (webhook {status})")
        if reply:
            console.print("  trợ lý trả lời: " + reply.replace("\n", " ")[:160] + "…")
        checks.step(
            status == 200 and LINK in reply,
            f"Hỏi đáp: câu hỏi {'có' if text[0] == 'T' else 'không'} dấu được trả lời kèm "
            "đường dẫn nguồn",
        )
    citizen, question = "8400000000000013", "Giá vàng hôm nay bao nhiêu?"
    inbox.citizen_writes(url, citizen, question)
    tg = boxes.telegram
    card = _wait(
        lambda: next(
            (m for m in tg.sent if "Câu hỏi #" in m.get("text", "") and question in m["text"]),
            None,
        )
    )
    notice = _wait(lambda: inbox.received(citizen))
    checks.step(
        bool(card) and bool(notice),
        "Hỏi đáp: câu hỏi ngoài phạm vi được chuyển vào nhóm Telegram của quản trị; người dân "
        "được báo cán bộ sẽ trả lời",
    )
    if not card:
        return
    tg.send_user_message(boxes.ADMIN_ID, ADMIN_ANSWER, reply_to_message_id=card["message_id"])
    answered = _wait(lambda: len(inbox.received(citizen)) >= 2)
    last = inbox.received(citizen)[-1]["text"] if answered else ""
    checks.step(
        last == ADMIN_ANSWER,
        "Hỏi đáp: câu trả lời của quản trị (trả lời thẻ trong Telegram) đã tới người dân",
    )
