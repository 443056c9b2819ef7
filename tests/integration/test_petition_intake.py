"""Comments and petitions through the citizens' intake: a signed ``feed`` webhook becomes a
comment (once), a petition message becomes a numbered case whose number and expected date reach
the citizen, a question's first reply offers the "Gửi phản ánh" command, and the answer to a
petition goes back through the channel."""

from __future__ import annotations

from typing import Any

from test_citizens import ACCENTED, CITIZEN, Desk, desk, make_desk  # noqa: F401 - fixtures

import bot.petition_intake  # noqa: F401 - registers the handlers
from bot.cases import move_petition
from channels.sandbox.facebook_comments import sign
from content_queue.models import Actor

ADMIN = Actor("web:Lan (lan)", "web")
PETITION = "Tôi xin phản ánh: hồ sơ cấp hộ chiếu của tôi bị trễ hẹn đã hai tuần."


def _feed(d: Desk, cid: str, verb: str = "add") -> int:
    fb = d.fb
    body = fb.comments.webhook_body([(fb.comments.items[cid], verb)])
    headers: dict[str, Any] = {
        "content-type": "application/json",
        "x-hub-signature-256": sign(fb.APP_SECRET, body),
    }
    return d.client.post("/hooks/facebook", content=body, headers=headers).status_code


def test_a_signed_feed_webhook_becomes_one_comment(desk: Desk) -> None:  # noqa: F811
    post = desk.fb.add_post("Bài trên Trang")
    cid = desk.fb.comments.add(post, "Cho hỏi lịch tiếp công dân?")
    assert _feed(desk, cid) == 200
    assert _feed(desk, cid) == 200  # the platform sends it again
    desk.run(2)
    (c,) = desk.loa.store.comments.listed()
    assert c.remote_id == cid and c.source == "webhook" and c.state == "new"
    body = desk.fb.comments.webhook_body([(desk.fb.comments.items[cid], "add")])
    forged = desk.client.post(
        "/hooks/facebook",
        content=body,
        headers={"content-type": "application/json", "x-hub-signature-256": "sha256=00"},
    )
    assert forged.status_code == 403


def test_a_petition_message_is_numbered_and_the_citizen_told_once(desk: Desk) -> None:  # noqa: F811
    assert desk.zalo_says(CITIZEN, PETITION, msg_id="msg-pa-1") == 200
    desk.run(3)
    (case,) = desk.loa.store.cases.listed()
    assert case.number.startswith("PA-") and case.number.endswith("-0001")
    (told,) = desk.zalo.inbox.received(CITIZEN)
    assert case.number in told["text"] and "Thời hạn trả lời dự kiến" in told["text"]
    assert case.citizen_told_at is not None
    ok, msg = move_petition(desk.loa, case.id, "answered", ADMIN, answer="Hộ chiếu đã có.")
    assert ok, msg
    answers = desk.zalo.inbox.received(CITIZEN)
    assert len(answers) == 2 and "Hộ chiếu đã có." in answers[-1]["text"]


def test_a_question_gets_its_answer_and_the_command_in_the_first_reply(desk: Desk) -> None:  # noqa: F811
    assert desk.zalo_says(CITIZEN, ACCENTED) == 200
    desk.run(3)
    (reply,) = desk.zalo.inbox.received(CITIZEN)
    assert "Gửi phản ánh" in reply["text"]
    assert desk.loa.store.cases.listed() == []


def test_an_admin_marks_a_question_as_a_petition_and_the_citizen_is_told(desk: Desk) -> None:  # noqa: F811
    from bot.petition_intake import petition_from_question

    assert desk.zalo_says(CITIZEN, "Cho hỏi giờ làm việc chiều thứ Bảy?") == 200
    desk.run(3)
    (q,) = desk.loa.store.citizens.questions()
    ok, msg = petition_from_question(desk.loa, q.id, ADMIN)
    assert ok, msg
    again, _ = petition_from_question(desk.loa, q.id, ADMIN)
    assert not again
    (case,) = desk.loa.store.cases.listed()
    told = desk.zalo.inbox.received(CITIZEN)
    assert case.number in told[-1]["text"] and case.citizen_told_at is not None
