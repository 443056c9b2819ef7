"""Citizens in (issue 23): webhooks verified and stored before 200, questions answered once with
their source, replies never twice under each fault class, hand-over through Telegram.

Real parts: the Starlette app (TestClient), the Zalo and Facebook sandboxes over HTTP, the store
on SQLite and PostgreSQL, the PTB application against the Bot API sandbox.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from test_telegram_bot import ADMIN, CHAT, SECOND_ADMIN, STRANGER, BotThread, wait_until

import bot
from bot.citizens import CitizenJob, answer_handover, purge_citizens
from bot.context import Loa
from bot.settings import load_settings
from bot.web.app import build_app
from channels.sandbox.facebook import FacebookSandbox
from channels.sandbox.telegram import TelegramSandbox
from channels.sandbox.zalo import ZaloSandbox
from content_queue.knowledge import read_catalogue
from content_queue.models import Actor
from content_queue.tables import citizen_questions

SAMPLE = Path(bot.__file__).parent / "demo_articles" / "thu_tuc_mau.json"
ACCENTED = "Thủ tục hợp pháp hóa lãnh sự cần giấy tờ gì?"
UNACCENTED = "thu tuc hop phap hoa lanh su can giay to gi?"
OUT_OF_SCOPE = "Giá vàng hôm nay bao nhiêu?"
VERIFY_TOKEN = "verify-token-for-tests"
CITIZEN = "8400000000000001"


@dataclass
class Desk:
    loa: Loa
    zalo: ZaloSandbox
    fb: FacebookSandbox
    tg: TelegramSandbox | None
    client: TestClient
    job: CitizenJob

    def zalo_says(self, user: str, text: str | None, **kw: Any) -> int:
        body, headers = self.zalo.inbox.signed(user, text, **kw)
        return self.client.post("/hooks/zalo", content=body, headers=headers).status_code

    def fb_says(self, psid: str, text: str | None, **kw: Any) -> int:
        body, headers = self.fb.inbox.signed(psid, text, **kw)
        return self.client.post("/hooks/facebook", content=body, headers=headers).status_code

    def run(self, times: int = 1) -> None:
        for _ in range(times):
            self.job.tick()


def _config(tmp: Path, db: str, zalo: ZaloSandbox, fb: FacebookSandbox, tg: Any) -> str:
    telegram = (
        f"""
[telegram]
api_url = "{tg.url}"
admins = [{ADMIN}, {SECOND_ADMIN}]
chat_id = {CHAT}
"""
        if tg is not None
        else ""
    )
    return f"""
[database]
url = "{db}"
{telegram}
[web]
base_url = "https://loa.example.gov.vn"

[assistant]
enabled = true
channels = ["zalo", "facebook"]

[channels.facebook]
type = "facebook_page"
page_id = "{fb.PAGE_ID}"
graph_url = "{fb.url}"
api_version = "{fb.LATEST_VERSION}"
timeout_seconds = 5

[channels.zalo]
type = "zalo_oa"
api_url = "{zalo.url}"
oauth_url = "{zalo.url}"
app_id = "{zalo.APP_ID}"
timeout_seconds = 5
"""


@pytest.fixture
def make_desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key in [
        k
        for k in os.environ
        if k.startswith("LOA_") and k not in ("LOA_SECRET_KEY", "LOA_TEST_DATABASE_URL")
    ]:
        monkeypatch.delenv(key)
    cleanup: list[Any] = []

    def make(db: str | None = None, *, telegram: bool = False) -> Desk:
        zalo, fb = ZaloSandbox(), FacebookSandbox()
        zalo.start()
        fb.start()
        cleanup.extend([zalo.stop, fb.stop])
        tg = None
        if telegram:
            tg = TelegramSandbox()
            tg.start()
            cleanup.append(tg.stop)
        cfg = tmp_path / "config.toml"
        url = db or f"sqlite:///{tmp_path / 'loa.db'}"
        cfg.write_text(_config(tmp_path, url, zalo, fb, tg), "utf-8")
        monkeypatch.setenv("LOA_CHANNELS__ZALO__APP_SECRET", zalo.APP_SECRET)
        monkeypatch.setenv("LOA_CHANNELS__ZALO__REFRESH_TOKEN", zalo.INITIAL_REFRESH_TOKEN)
        monkeypatch.setenv("LOA_CHANNELS__ZALO__OA_SECRET_KEY", zalo.inbox.OA_SECRET_KEY)
        monkeypatch.setenv("LOA_CHANNELS__FACEBOOK__PAGE_TOKEN", fb.PAGE_TOKEN)
        monkeypatch.setenv("LOA_CHANNELS__FACEBOOK__APP_SECRET", fb.APP_SECRET)
        monkeypatch.setenv("LOA_CHANNELS__FACEBOOK__VERIFY_TOKEN", VERIFY_TOKEN)
        if tg is not None:
            monkeypatch.setenv("LOA_TELEGRAM__TOKEN", tg.TOKEN)
        loa = Loa(load_settings(cfg))
        loa.store.knowledge.import_procedures(read_catalogue(SAMPLE), Actor("test"))
        client = TestClient(build_app(loa), base_url="https://loa.example.gov.vn")
        cleanup.append(loa.store.engine.dispose)
        if tg is not None:
            runner = BotThread(loa)
            runner.start()
            cleanup.insert(0, runner.stop)
        return Desk(loa, zalo, fb, tg, client, CitizenJob(loa, owner="test-a"))

    yield make
    for fn in cleanup:
        fn()


@pytest.fixture
def desk(make_desk: Any) -> Desk:
    return make_desk()  # type: ignore[no-any-return]


def stored(desk: Desk) -> int:
    return len(desk.loa.store.citizens.events())


# ----- intake ------------------------------------------------------------------------------------
def test_forged_unsigned_stale_oversized_and_malformed_webhooks_are_refused(desk: Desk) -> None:
    body, headers = desk.zalo.inbox.signed(CITIZEN, ACCENTED)
    post = desk.client.post
    assert post("/hooks/zalo", content=body).status_code == 403  # unsigned
    forged = {"X-ZEvent-Signature": "mac=" + "0" * 64}
    assert post("/hooks/zalo", content=body, headers=forged).status_code == 403
    wrong_key = desk.zalo.inbox.signed(CITIZEN, ACCENTED, secret="not-the-key")
    assert post("/hooks/zalo", content=wrong_key[0], headers=wrong_key[1]).status_code == 403
    tampered = body.replace("giấy tờ".encode(), "tiền".encode())
    assert post("/hooks/zalo", content=tampered, headers=headers).status_code == 403
    old = int((time.time() - 3600) * 1000)
    stale = desk.zalo.inbox.signed(CITIZEN, ACCENTED, timestamp_ms=old)
    assert post("/hooks/zalo", content=stale[0], headers=stale[1]).status_code == 403
    big = desk.zalo.inbox.signed(CITIZEN, "x" * 70_000)
    assert post("/hooks/zalo", content=big[0], headers=big[1]).status_code == 413
    junk = b"{not json"
    sig = desk.zalo.inbox.sign(junk, "1")
    assert post("/hooks/zalo", content=junk, headers={"X-ZEvent-Signature": sig}).status_code in (
        400,
        403,
    )
    fb_body, fb_headers = desk.fb.inbox.signed("psid-1", ACCENTED)
    assert post("/hooks/facebook", content=fb_body).status_code == 403
    bad = {"X-Hub-Signature-256": "sha256=" + "f" * 64}
    assert post("/hooks/facebook", content=fb_body, headers=bad).status_code == 403
    fb_stale = desk.fb.inbox.signed("psid-1", ACCENTED, timestamp_ms=old - 86400_000 * 2)
    assert post("/hooks/facebook", content=fb_stale[0], headers=fb_stale[1]).status_code == 403
    not_page = json.dumps({"object": "user", "entry": []}).encode()
    signed = {"X-Hub-Signature-256": desk.fb.inbox.sign(not_page)}
    assert post("/hooks/facebook", content=not_page, headers=signed).status_code == 400
    assert stored(desk) == 0  # nothing refused was stored
    assert post("/hooks/zalo", content=body, headers=headers).status_code == 200
    assert stored(desk) == 1


def test_a_replayed_event_is_stored_once_and_echoes_are_ignored(desk: Desk) -> None:
    body, headers = desk.zalo.inbox.signed(CITIZEN, ACCENTED, msg_id="msg-replayed")
    for _ in range(3):
        assert desk.client.post("/hooks/zalo", content=body, headers=headers).status_code == 200
    assert desk.zalo_says(CITIZEN, "tin của OA", event_name="oa_send_text") == 200
    assert desk.fb_says("psid-2", "Page's own words", is_echo=True) == 200
    assert stored(desk) == 1
    desk.run(2)
    assert len(desk.zalo.records["replies"]) == 1


def test_meta_verify_handshake(desk: Desk) -> None:
    ok = desk.client.get(
        "/hooks/facebook",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"},
    )
    assert ok.status_code == 200 and ok.text == "42"
    bad = desk.client.get(
        "/hooks/facebook",
        params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "42"},
    )
    assert bad.status_code == 403


def test_webhook_answers_503_in_bounded_time_while_the_database_is_locked(desk: Desk) -> None:
    path = desk.loa.store.engine.url.database
    assert path
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        locked.set()
        release.wait(5)
        conn.execute("ROLLBACK")
        conn.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(5)
    body, headers = desk.zalo.inbox.signed(CITIZEN, ACCENTED, msg_id="msg-locked")
    start = time.monotonic()
    resp = desk.client.post("/hooks/zalo", content=body, headers=headers)
    took = time.monotonic() - start
    release.set()
    holder.join()
    assert resp.status_code == 503 and took < 4.0  # bounded: Zalo waits about 2 s
    assert stored(desk) == 0
    # Zalo sends it again: stored once now.
    assert desk.client.post("/hooks/zalo", content=body, headers=headers).status_code == 200
    assert stored(desk) == 1


# ----- answering ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [ACCENTED, UNACCENTED])
def test_a_question_is_answered_once_with_its_source_link(desk: Desk, text: str) -> None:
    assert desk.zalo_says(CITIZEN, text, msg_id="msg-q1") == 200
    desk.run(3)
    (reply,) = desk.zalo.inbox.received(CITIZEN)
    assert "https://example.gov.vn/thu-tuc-hanh-chinh/9.999002" in reply["text"]
    assert "trợ lý tự động" in reply["text"].lower()  # first contact says it is automatic
    assert reply.get("quote_message_id") == "msg-q1"
    (q,) = desk.loa.store.citizens.questions()
    assert q.state == "answered" and q.handover is None


def test_messenger_question_is_answered_as_a_response(desk: Desk) -> None:
    assert desk.fb_says("psid-9", UNACCENTED) == 200
    desk.run()
    (sent,) = desk.fb.records["replies"]
    assert sent["messaging_type"] == "RESPONSE" and "9.999002" in sent["text"]


# ----- never twice -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fault", ["after:http_500", "drop_after", "after:html_502", "after:truncated"]
)
def test_a_reply_whose_answer_was_lost_is_in_doubt_and_never_resent(desk: Desk, fault: str) -> None:
    desk.zalo.inject(fault, path=r"^/v3.0/oa/message/cs$")
    desk.zalo_says(CITIZEN, ACCENTED)
    desk.run(3)
    assert len(desk.zalo.records["replies"]) == 1  # the sandbox acted once
    (r,) = desk.loa.store.citizens.replies()
    assert r.state == "in_doubt"
    desk.run(3)
    assert len(desk.zalo.records["replies"]) == 1  # never resent


def test_a_timeout_after_sending_is_in_doubt(make_desk: Any) -> None:
    desk: Desk = make_desk()
    desk.fb.inject("timeout_after", path=r"/messages$", seconds=7)
    desk.fb_says("psid-3", ACCENTED)
    desk.run(2)
    (r,) = desk.loa.store.citizens.replies()
    assert r.state == "in_doubt" and len(desk.fb.records["replies"]) == 1


@pytest.mark.parametrize(
    ("fault", "line"),
    [
        ("error:-230", "không nhắn tin cho OA trong 7 ngày qua"),
        ("error:-213", "chưa quan tâm"),
        ("quota", "hết hạn mức"),
    ],
)
def test_a_zalo_refusal_reaches_the_admins_as_one_line(desk: Desk, fault: str, line: str) -> None:
    desk.zalo.inject(fault, path=r"^/v3.0/oa/message/cs$")
    desk.zalo_says(CITIZEN, ACCENTED)
    desk.run(2)
    (r,) = desk.loa.store.citizens.replies()
    assert r.state == "failed" and line in (r.error or "")
    alerts = desk.loa.store.alerts.open_alerts()
    assert any(line in a["message"] for a in alerts)


def test_outside_the_window_nothing_is_sent(desk: Desk) -> None:
    desk.fb_says("psid-4", OUT_OF_SCOPE)
    desk.run()
    (q,) = desk.loa.store.citizens.questions()
    assert q.handover == "open"
    # The person wrote 25 h ago (the question's time is what Loa's window runs from).
    with desk.loa.store.engine.begin() as conn:
        conn.execute(
            citizen_questions.update().values(asked_at=datetime.now(UTC) - timedelta(hours=25))
        )
    before = len(desk.fb.records["replies"])
    r = answer_handover(desk.loa, q.id, Actor("admin"), "Cán bộ trả lời")
    assert r is not None and r.state == "failed" and "24 giờ" in (r.error or "")
    assert len(desk.fb.records["replies"]) == before  # no call at all


def test_meta_outside_window_refusal_is_one_vietnamese_line(desk: Desk) -> None:
    desk.fb.inject("error:10:2018278", path=r"/messages$")
    desk.fb_says("psid-5", ACCENTED)
    desk.run()
    (r,) = desk.loa.store.citizens.replies()
    assert r.state == "failed" and "quá 24 giờ" in (r.error or "")


# ----- two workers, retention --------------------------------------------------------------------
def test_two_workers_answer_each_question_once(make_desk: Any, db_url: str) -> None:
    desk: Desk = make_desk(db_url)
    for i in range(12):
        assert desk.zalo_says(f"84000000000001{i:02d}", ACCENTED) == 200
    other = CitizenJob(Loa(desk.loa.settings), owner="test-b")
    threads = [
        threading.Thread(target=lambda j=j: [j.tick() for _ in range(4)]) for j in (desk.job, other)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    desk.run()
    assert len(desk.zalo.records["replies"]) == 12
    assert {r["user_id"] for r in desk.zalo.records["replies"]} == {
        f"84000000000001{i:02d}" for i in range(12)
    }


def test_retention_and_forget_delete_a_citizens_data(desk: Desk) -> None:
    desk.zalo_says(CITIZEN, ACCENTED)
    desk.zalo_says("8400000000000002", ACCENTED)
    desk.run()
    data = desk.loa.store.citizens
    assert purge_citizens(desk.loa) == 0
    assert purge_citizens(desk.loa, datetime.now(UTC) + timedelta(days=366)) > 0
    assert data.questions() == [] and data.events() == [] and data.replies() == []
    desk.zalo_says(CITIZEN, UNACCENTED)
    desk.zalo_says("8400000000000002", UNACCENTED)
    desk.run()
    assert data.forget(CITIZEN, Actor("test")) == 3
    assert [q.citizen_id for q in data.questions()] == ["8400000000000002"]
    forgotten = [
        e for e in desk.loa.store.audit.audit_entries() if e["action"] == "citizen_forgotten"
    ]
    assert CITIZEN not in json.dumps(forgotten, default=str)


# ----- hand-over through Telegram ----------------------------------------------------------------
def test_an_out_of_scope_question_is_handed_over_and_an_admins_reply_reaches_the_citizen(
    make_desk: Any,
) -> None:
    desk: Desk = make_desk(telegram=True)
    tg = desk.tg
    assert tg is not None
    desk.zalo_says(CITIZEN, OUT_OF_SCOPE)
    desk.run()
    (notice,) = desk.zalo.inbox.received(CITIZEN)
    assert "cán bộ" in notice["text"]
    (q,) = desk.loa.store.citizens.questions()
    card = wait_until(
        lambda: next((m for m in tg.sent if f"Câu hỏi #{q.id}" in m.get("text", "")), None)
    )
    assert OUT_OF_SCOPE in card["text"] and CITIZEN not in card["text"] and "…0001" in card["text"]
    assert "Còn 47 giờ" in card["text"]
    tg.send_user_message(STRANGER, "Tôi trả lời", reply_to_message_id=card["message_id"])
    tg.send_user_message(
        ADMIN, "Giá vàng do ngân hàng công bố.", reply_to_message_id=card["message_id"]
    )
    wait_until(lambda: len(desk.zalo.inbox.received(CITIZEN)) == 2)
    tg.send_user_message(SECOND_ADMIN, "Trả lời khác", reply_to_message_id=card["message_id"])
    wait_until(
        lambda: any("đã được xử lý" in m.get("text", "") for m in tg.sent),
    )
    received = desk.zalo.inbox.received(CITIZEN)
    assert [r["text"] for r in received][1:] == ["Giá vàng do ngân hàng công bố."]
    q2 = desk.loa.store.citizens.question(q.id)
    assert q2 is not None and q2.handover == "answered" and q2.handover_by == f"tg:{ADMIN}"
    press = tg.press_button(ADMIN, card["message_id"], f"cq:v:{q.id}")
    answer = wait_until(
        lambda: next((a for a in tg.answers if a["callback_query_id"] == press), None)
    )
    assert "Đã lưu" in answer["text"]
    saved = desk.loa.store.knowledge.saved_qas()
    assert [s.question for s in saved] == [OUT_OF_SCOPE]


def test_suggestion_and_in_doubt_cards(make_desk: Any) -> None:
    desk: Desk = make_desk(telegram=True)
    tg = desk.tg
    assert tg is not None
    desk.zalo_says(CITIZEN, "lãnh sự quán Trung Quốc ở đâu")  # near the catalogue, not in it
    desk.run()
    (q,) = desk.loa.store.citizens.questions()
    assert q.handover == "open" and q.hits
    card = wait_until(
        lambda: next((m for m in tg.sent if f"Câu hỏi #{q.id}" in m.get("text", "")), None)
    )
    desk.zalo.inject("drop_after", path=r"^/v3.0/oa/message/cs$")
    press = tg.press_button(ADMIN, card["message_id"], f"cq:s:{q.id}")
    wait_until(lambda: next((a for a in tg.answers if a["callback_query_id"] == press), None))
    (human,) = [r for r in desk.loa.store.citizens.replies() if r.kind == "human"]
    assert human.state == "in_doubt"
    doubt = wait_until(
        lambda: next((m for m in tg.sent if f"cr:n:{human.id}" in json.dumps(m)), None)
    )
    tg.press_button(ADMIN, doubt["message_id"], f"cr:y:{human.id}")
    wait_until(lambda: desk.loa.store.citizens.reply(human.id).state == "sent")  # type: ignore[union-attr]
    desk.run(2)
    assert len([r for r in desk.zalo.records["replies"] if r["text"] == human.text]) == 1


# ----- report ------------------------------------------------------------------------------------
def test_the_report_counts_questions_and_suggests_articles_without_naming_anyone(
    desk: Desk, tmp_path: Path
) -> None:
    from docx import Document
    from openpyxl import load_workbook

    from bot.reports.files import write_report

    desk.zalo_says(CITIZEN, ACCENTED)
    desk.zalo_says("8400000000000002", UNACCENTED)
    desk.zalo_says("8400000000000003", OUT_OF_SCOPE)
    desk.zalo_says("8400000000000004", "Giá vàng tuần này thế nào?")
    desk.run()
    handed = [q for q in desk.loa.store.citizens.questions() if q.handover == "open"]
    assert len(handed) == 2
    answer_handover(desk.loa, handed[0].id, Actor("admin"), "Mời xem website ngân hàng.")
    now = datetime.now(UTC).astimezone(desk.loa.settings.schedule.tz)
    period = f"{now.year}-Q{(now.month - 1) // 3 + 1}"
    docx_path, _ = write_report(desk.loa, period, "docx", tmp_path / "r.docx")
    xlsx_path, _ = write_report(desk.loa, period, "xlsx", tmp_path / "r.xlsx")
    assert docx_path is not None and xlsx_path is not None
    text = "\n".join(p.text for p in Document(str(docx_path)).paragraphs)
    assert "đã nhận 4 câu hỏi" in text and "tự động trả lời (kèm đường dẫn nguồn) 2 câu" in text
    assert "chuyển cán bộ 2 câu, trong đó đã trả lời 1 câu" in text
    assert "chưa trả lời 1 câu" in text
    assert "Đề xuất viết tin, bài về «giá vàng» (2 câu hỏi chưa có nguồn phù hợp)." in text
    sheet = load_workbook(xlsx_path)["Hỏi đáp"]
    values = {r[0]: r[1] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["Câu hỏi nhận được"] == 4 and values["Chuyển cán bộ"] == 2
    for secret in (CITIZEN, "8400000000000004", "tuần này"):
        assert secret not in text
        assert all(secret not in str(v) for row in sheet.iter_rows(values_only=True) for v in row)


# ----- the web page ------------------------------------------------------------------------------
def test_the_hoi_dap_page_answers_a_hand_over_and_tries_questions(desk: Desk) -> None:
    import re

    from bot.web.passwords import hash_password

    desk.loa.store.users.add_user(
        "lan", "admin", hash_password("mat-khau-rat-dai-2026"), Actor("t")
    )
    c = TestClient(
        build_app(desk.loa), base_url="https://loa.example.gov.vn", follow_redirects=False
    )
    page = c.get("/dang-nhap")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = c.post(
        "/dang-nhap", data={"username": "lan", "password": "mat-khau-rat-dai-2026", "csrf": token}
    )
    assert r.status_code == 303
    desk.zalo_says(CITIZEN, OUT_OF_SCOPE)
    desk.run()
    (q,) = desk.loa.store.citizens.questions()
    html = c.get("/hoi-dap").text
    assert OUT_OF_SCOPE in html and "…0001" in html and CITIZEN not in html
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    origin = {"Origin": "https://loa.example.gov.vn"}
    refused = c.post(f"/hoi-dap/{q.id}/tra-loi", data={"text": "x", "csrf": "sai"}, headers=origin)
    assert refused.status_code == 403
    done = c.post(
        f"/hoi-dap/{q.id}/tra-loi",
        data={"text": "Cán bộ trả lời từ trang web.", "csrf": csrf},
        headers=origin,
    )
    assert done.status_code == 303, done.text
    assert desk.zalo.inbox.received(CITIZEN)[-1]["text"] == "Cán bộ trả lời từ trang web."
    again = c.post(
        f"/hoi-dap/{q.id}/tra-loi", data={"text": "Lần hai", "csrf": csrf}, headers=origin
    )
    assert "đã được người khác xử lý" in again.text
    trial = c.get("/hoi-dap", params={"q": UNACCENTED}).text
    assert 'id="trial"' in trial and "9.999002" in trial


# ----- the switch --------------------------------------------------------------------------------
def test_check_names_what_the_assistant_still_needs(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.citizens import assistant_problems, webhook_urls

    assert assistant_problems(desk.loa) == []
    assert webhook_urls(desk.loa) == {
        "zalo": "https://loa.example.gov.vn/hooks/zalo",
        "facebook": "https://loa.example.gov.vn/hooks/facebook",
    }
    monkeypatch.delenv("LOA_CHANNELS__ZALO__OA_SECRET_KEY")
    monkeypatch.delenv("LOA_CHANNELS__FACEBOOK__VERIFY_TOKEN")
    monkeypatch.setenv("LOA_WEB__BASE_URL", "http://127.0.0.1:8080")
    loa = Loa(load_settings(desk.loa.settings.base_dir / "config.toml"))
    problems = "\n".join(assistant_problems(loa))
    assert "LOA_CHANNELS__ZALO__OA_SECRET_KEY" in problems
    assert "LOA_CHANNELS__FACEBOOK__VERIFY_TOKEN" in problems
    assert "public https address" in problems
    # Without its secret the web hook refuses everything rather than trusting anyone.
    client = TestClient(build_app(loa))
    body, headers = desk.zalo.inbox.signed(CITIZEN, ACCENTED)
    assert client.post("/hooks/zalo", content=body, headers=headers).status_code == 403


def test_zalo_domain_verification_meta_tag_is_on_the_public_pages(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOA_CHANNELS__ZALO__SITE_VERIFICATION", "ABC123xyz")
    loa = Loa(load_settings(desk.loa.settings.base_dir / "config.toml"))
    page = TestClient(build_app(loa)).get("/dang-nhap").text
    assert '<meta name="zalo-platform-site-verification" content="ABC123xyz">' in page


def test_a_reply_in_doubt_is_settled_from_the_page(desk: Desk) -> None:
    import re

    from bot.web.passwords import hash_password

    desk.loa.store.users.add_user(
        "lan", "admin", hash_password("mat-khau-rat-dai-2026"), Actor("t")
    )
    c = TestClient(
        build_app(desk.loa), base_url="https://loa.example.gov.vn", follow_redirects=False
    )
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/dang-nhap").text).group(1)  # type: ignore[union-attr]
    c.post(
        "/dang-nhap", data={"username": "lan", "password": "mat-khau-rat-dai-2026", "csrf": token}
    )
    desk.zalo.inject("drop_after", path=r"^/v3.0/oa/message/cs$")
    desk.zalo_says(CITIZEN, ACCENTED)
    desk.run()
    (r,) = desk.loa.store.citizens.replies()
    assert r.state == "in_doubt"
    html = c.get("/hoi-dap").text
    assert f'id="da-gui-{r.id}"' in html
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    origin = {"Origin": "https://loa.example.gov.vn"}
    wrong = c.post(f"/hoi-dap/{r.question_id}/da-gui", data={"csrf": csrf}, headers=origin)
    assert wrong.status_code == 404
    done = c.post(f"/hoi-dap/tra-loi/{r.id}/chua-gui", data={"csrf": csrf}, headers=origin)
    assert done.status_code == 303
    assert desk.loa.store.citizens.reply(r.id).state == "not_sent"  # type: ignore[union-attr]
    desk.run(2)
    assert len(desk.zalo.records["replies"]) == 1  # "not sent" is the person's word: no resend


def test_loa_citizens_forget_deletes_one_persons_data(desk: Desk) -> None:
    from typer.testing import CliRunner

    from bot.cli.main import app

    desk.zalo_says(CITIZEN, ACCENTED)
    desk.zalo_says("8400000000000002", ACCENTED)
    desk.run()
    config = str(desk.loa.settings.base_dir / "config.toml")
    result = CliRunner().invoke(app, ["--config", config, "citizens", "forget", CITIZEN])
    assert result.exit_code == 0, result.output
    assert "Đã xoá 3 bản ghi" in result.output
    assert [q.citizen_id for q in desk.loa.store.citizens.questions()] == ["8400000000000002"]
