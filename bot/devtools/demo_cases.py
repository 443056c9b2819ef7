"""Demo steps of the citizens' register: a comment answered from Telegram, one hidden with a
reason, and a petition numbered, answered and counted in the report."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from bot.comments import catch_up_comments, handle_feed_change
from bot.context import Loa
from bot.devtools.sandboxes import Sandboxes
from bot.reports.files import kpis_for

__all__ = ["demo_cases"]

Step = Callable[[bool, str], None]


def _wait(condition: Callable[[], bool], limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def _message(tg: Any, needle: str) -> dict[str, Any] | None:
    for m in reversed(tg.sent):
        if needle in str(m.get("text", "")):
            return dict(m)
    return None


def _feed(boxes: Sandboxes, cid: str) -> dict[str, Any]:
    c = boxes.facebook.comments.items[cid]
    return {
        "item": "comment",
        "verb": "add",
        "comment_id": cid,
        "post_id": c["post_id"],
        "parent_id": c["post_id"],
        "from": {"id": c["from"][0], "name": c["from"][1]},
        "message": c["message"],
        "created_time": int(c["created"]),
    }


def _answer(tg: Any, question_needle: str, text: str) -> bool:
    """The admin answers the bot's question (a reply to it, as Telegram requires)."""
    if not _wait(lambda: _message(tg, question_needle) is not None, 10):
        return False
    q = _message(tg, question_needle)
    assert q is not None
    tg.send_user_message(Sandboxes.ADMIN_ID, text, reply_to_message_id=q["message_id"])
    return True


def demo_cases(loa: Loa, boxes: Sandboxes, step: Step, console: Console) -> None:
    """Comments and a petition, through the running service's Telegram cards."""
    tg = boxes.telegram
    fb = boxes.facebook
    posts = loa.store.comments.posts_of("facebook", datetime(2000, 1, 1, tzinfo=UTC))
    if not posts:
        step(False, "Bình luận: không có bài Facebook nào để bình luận")
        return
    post = posts[0].remote_id
    ask = fb.comments.add(
        post, "Cho hỏi làm hộ chiếu mất bao lâu ạ?", author=("3001", "Lê Thị Hoa")
    )
    spam = fb.comments.add(
        post, "Vay tiền nhanh lãi suất thấp, liên hệ 0912 345 678", author=("3002", "Tín dụng 24h")
    )
    plea = fb.comments.add(
        post,
        "Tôi xin phản ánh: hồ sơ của tôi nộp ở bộ phận một cửa đã trễ hẹn 2 tuần.",
        author=("3003", "Phạm Văn Nam"),
    )
    handle_feed_change(loa, "facebook", _feed(boxes, ask))  # arrived by webhook
    found = catch_up_comments(loa)  # the others: as after a webhook outage
    step(
        found.get("facebook") == 2,
        f"Bình luận: 1 qua webhook, {found.get('facebook')} tìm lại bằng lượt đọc bù",
    )
    ids = {cid: loa.store.comments.by_remote("facebook", cid) for cid in (ask, spam, plea)}
    if any(c is None for c in ids.values()):
        step(False, "Bình luận chưa được lưu")
        return
    a, s, p = (ids[x] for x in (ask, spam, plea))
    assert a is not None and s is not None and p is not None
    cards = _wait(lambda: all(_message(tg, f"BL-{c.id}") for c in (a, s, p)), 15)
    card_s = _message(tg, f"BL-{s.id}")
    step(
        cards and card_s is not None and "nghi lừa đảo" in str(card_s.get("text")),
        "Telegram: mỗi bình luận một thẻ; bình luận vay tiền bị gắn cờ «nghi lừa đảo»",
    )
    if not cards:
        return
    # 1. a reply to the card is posted as the Page's reply
    card_a = _message(tg, f"BL-{a.id}")
    assert card_a is not None
    tg.send_user_message(
        Sandboxes.ADMIN_ID,
        "Chào chị, hộ chiếu được trả sau 8 ngày làm việc.",
        reply_to_message_id=card_a["message_id"],
    )
    _wait(lambda: (loa.store.comments.get(a.id) or a).state == "answered", 10)
    replies = fb.records.get("comment_replies", [])
    step(
        len(replies) == 1 and replies[0]["parent"] == ask,
        "Trả lời bình luận từ Telegram: lên Facebook đúng một lần",
    )
    console.print(f"  trả lời trên Trang: {replies[0]['message'] if replies else '—'}")
    # 2. hidden with a reason
    tg.press_button(Sandboxes.ADMIN_ID, int(card_s["message_id"]), f"cm:h:{s.id}")  # type: ignore[index]
    _answer(tg, f"#bl:h:{s.id}", "Quảng cáo cho vay, nghi lừa đảo")
    _wait(lambda: (loa.store.comments.get(s.id) or s).state == "hidden", 10)
    hidden = fb.comments.items[spam]["is_hidden"]
    why = [
        x.reason
        for x in loa.store.comments.actions_of(s.id)
        if x.kind == "hide" and x.state == "done"
    ]
    step(hidden and why == ["Quảng cáo cho vay, nghi lừa đảo"], f"Ẩn bình luận kèm lý do: {why}")
    # 3. a petition: numbered, the citizen told, answered, counted
    card_p = _message(tg, f"BL-{p.id}")
    assert card_p is not None
    tg.press_button(Sandboxes.ADMIN_ID, int(card_p["message_id"]), f"cm:c:{p.id}")
    _wait(lambda: (loa.store.comments.get(p.id) or p).case_id is not None, 10)
    fresh = loa.store.comments.get(p.id)
    case = loa.store.cases.get(fresh.case_id) if fresh and fresh.case_id else None
    told = fb.records.get("private_replies", [])
    step(
        case is not None and bool(told) and case.number in told[-1]["text"],
        f"Phản ánh {case.number if case else '—'}: người dân nhận số và hạn trả lời qua tin nhắn",
    )
    if case is None:
        return
    _wait(
        lambda: (
            _message(tg, case.number) is not None and "Phản ánh" in str(_message(tg, case.number))
        ),
        10,
    )
    case_card = next(
        (
            m
            for m in tg.sent
            if f"{case.number}</b>" in str(m.get("text"))
            or (case.number in str(m.get("text")) and "cs:a:" in str(m.get("reply_markup")))
        ),
        None,
    )
    if case_card is not None:
        tg.press_button(Sandboxes.ADMIN_ID, int(case_card["message_id"]), f"cs:a:{case.id}")
        _answer(tg, f"#pa:a:{case.id}", "Hồ sơ của ông đã có kết quả, mời ông đến nhận.")
    _wait(lambda: (loa.store.cases.get(case.id) or case).state == "answered", 10)
    done = loa.store.cases.get(case.id)
    step(
        done is not None and done.state == "answered", f"Trả lời phản ánh {case.number} từ Telegram"
    )
    period = datetime.now(loa.settings.schedule.tz).strftime("%Y-%m")
    figures = kpis_for(loa, period).intake
    step(
        figures is not None and figures.petitions.closed >= 1 and figures.comments.hidden >= 1,
        "Báo cáo đếm: bình luận "
        f"{figures.comments.received if figures else 0} (trả lời {figures.comments.answered if figures else 0},"
        f" ẩn {figures.comments.hidden if figures else 0}); phản ánh {figures.petitions.received if figures else 0}"
        f" (đúng hạn {figures.petitions.on_time if figures else 0})",
    )
