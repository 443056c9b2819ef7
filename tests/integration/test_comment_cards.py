"""Comment and case cards through python-telegram-bot against the Bot API sandbox: a reply to
the card becomes the Page's reply, Xóa asks for a reason, two admins at once make one decision,
a stranger's press changes nothing, and the audit keeps who, what and why."""

from __future__ import annotations

from typing import Any

from test_citizens import Desk, make_desk  # noqa: F401 - fixture
from test_petition_intake import _feed
from test_telegram_bot import ADMIN, SECOND_ADMIN, STRANGER, wait_until

import bot.petition_intake  # noqa: F401 - registers the handlers


def _card(desk: Desk, needle: str) -> dict[str, Any]:
    assert desk.tg is not None
    tg = desk.tg
    return wait_until(  # type: ignore[no-any-return]
        lambda: next((m for m in reversed(tg.sent) if needle in str(m.get("text"))), None)
    )


def test_comment_cards_reply_delete_with_reason_one_decision_and_strangers(
    make_desk: Any,  # noqa: F811
) -> None:
    desk: Desk = make_desk(telegram=True)
    tg, fb, loa = desk.tg, desk.fb, desk.loa
    assert tg is not None
    post = fb.add_post("Bài trên Trang")
    ask = fb.comments.add(post, "Cho hỏi lệ phí hộ chiếu?")
    rude = fb.comments.add(post, "Đồ ngu, bit.ly/lua-dao")
    for cid in (ask, rude):
        assert _feed(desk, cid) == 200
    desk.run(2)
    a = loa.store.comments.by_remote("facebook", ask)
    r = loa.store.comments.by_remote("facebook", rude)
    assert a is not None and r is not None
    card_a = _card(desk, f"BL-{a.id}")
    card_r = _card(desk, f"BL-{r.id}")
    assert "xúc phạm" in card_r["text"] and "Bài trên Trang" not in card_a.get("source", "")
    # an admin's reply to the card is posted as the Page's reply, once
    tg.send_user_message(ADMIN, "Lệ phí 200.000 đồng.", reply_to_message_id=card_a["message_id"])
    wait_until(lambda: fb.records.get("comment_replies"))
    assert fb.records["comment_replies"][0]["message"] == "Lệ phí 200.000 đồng."
    # a stranger presses Xóa 20 times: nothing happens, one audit row (the strangers' limit)
    for _ in range(20):
        tg.press_button(STRANGER, card_r["message_id"], f"cm:d:{r.id}")
    # two admins press Xóa and both answer the question with a reason
    tg.press_button(ADMIN, card_r["message_id"], f"cm:d:{r.id}")
    tg.press_button(SECOND_ADMIN, card_r["message_id"], f"cm:d:{r.id}")
    questions = wait_until(
        lambda: (
            [m for m in tg.sent if f"#bl:d:{r.id}" in str(m.get("text"))][:2]
            if len([m for m in tg.sent if f"#bl:d:{r.id}" in str(m.get("text"))]) >= 2
            else None
        )
    )
    tg.send_user_message(ADMIN, "Xúc phạm, lừa đảo", reply_to_message_id=questions[0]["message_id"])
    tg.send_user_message(SECOND_ADMIN, "Spam", reply_to_message_id=questions[1]["message_id"])
    wait_until(lambda: (loa.store.comments.get(r.id) or r).state == "deleted")
    wait_until(lambda: len([m for m in tg.sent if "Không thể xóa" in str(m.get("text"))]) >= 1)
    assert len(fb.records["comment_deletes"]) == 1 and rude not in fb.comments.items
    done = [x for x in loa.store.comments.actions_of(r.id) if x.state == "done"]
    assert len(done) == 1 and done[0].reason in ("Xúc phạm, lừa đảo", "Spam")
    audit = [e for e in loa.store.audit.audit_entries() if e["action"] == "unauthorised"]
    assert len(audit) == 1 and f"cm:d:{r.id}" in str(audit[0]["detail"])


def test_a_takedown_from_a_card_and_a_private_reply_in_doubt_settled_by_a_person(
    make_desk: Any,  # noqa: F811
) -> None:
    desk: Desk = make_desk(telegram=True)
    tg, fb, loa = desk.tg, desk.fb, desk.loa
    assert tg is not None
    post = fb.add_post("Bài trên Trang")
    bad = fb.comments.add(post, "Tin đồn sai sự thật về lãnh đạo Sở")
    plea = fb.comments.add(post, "Cho tôi hỏi riêng về hồ sơ của tôi")
    for cid in (bad, plea):
        assert _feed(desk, cid) == 200
    desk.run(2)
    b = loa.store.comments.by_remote("facebook", bad)
    p = loa.store.comments.by_remote("facebook", plea)
    assert b is not None and p is not None
    card_b = _card(desk, f"BL-{b.id}")
    tg.press_button(ADMIN, card_b["message_id"], f"cm:t:{b.id}")
    q = _card(desk, f"#bl:t:{b.id}")
    tg.send_user_message(ADMIN, "Sở Khoa học và Công nghệ", reply_to_message_id=q["message_id"])
    case = wait_until(lambda: next(iter(loa.store.cases.listed(kind="takedown")), None))
    assert case.requester_kind == "authority"
    assert (case.due_at - case.received_at).total_seconds() == 24 * 3600
    case_card = wait_until(
        lambda: next((m for m in tg.sent if f"cs:h:{case.id}" in str(m.get("reply_markup"))), None)
    )
    tg.press_button(ADMIN, case_card["message_id"], f"cs:h:{case.id}")
    wait_until(lambda: fb.comments.items[bad]["is_hidden"])
    wait_until(lambda: (loa.store.cases.get(case.id) or case).state == "done")
    # a private reply whose answer was lost: a card asks a person; Loa never resends
    fb.inject("after:http_500", path=r"/messages$", method="POST")
    card_p = _card(desk, f"BL-{p.id}")
    tg.press_button(ADMIN, card_p["message_id"], f"cm:p:{p.id}")
    q = _card(desk, f"#bl:p:{p.id}")
    tg.send_user_message(ADMIN, "Mời anh gọi 0205.3.xxx", reply_to_message_id=q["message_id"])
    ask = _card(desk, f"Không rõ việc trả lời riêng bình luận BL-{p.id}")
    assert len(fb.records["private_replies"]) == 1
    tg.press_button(
        SECOND_ADMIN,
        ask["message_id"],
        f"ca:y:{wait_until(lambda: loa.store.comments.actions_in(('ask',)))[0].id}",
    )
    wait_until(lambda: (loa.store.comments.get(p.id) or p).state == "answered")
    assert len(fb.records["private_replies"]) == 1
