"""Broadcast cards in the admin chat: the real PTB application, the Bot API and Zalo sandboxes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import serving
from test_telegram_bot import ADMIN, CHAT, EDITOR, SECOND_ADMIN, STRANGER, BotThread, wait_until
from test_zalo_broadcast import at, publish

import bot.telegram.broadcast_texts as t
from bot.broadcasts import broadcast_tick
from bot.context import Loa
from bot.settings import load_settings
from channels.sandbox.telegram import TelegramSandbox
from channels.sandbox.zalo import ZaloSandbox


@dataclass
class Room:
    tg: TelegramSandbox
    zalo: ZaloSandbox
    loa: Loa

    def card(self, data: str) -> dict[str, Any]:
        """The message whose buttons include ``data`` (waits for it)."""

        def find() -> dict[str, Any] | None:
            for m in self.tg.sent:
                rows = (m.get("markup") or {}).get("inline_keyboard", [])
                if data in [b.get("callback_data") for row in rows for b in row]:
                    return m
            return None

        return wait_until(find)

    def answer_to(self, query_id: str) -> dict[str, Any]:
        return wait_until(
            lambda: next((a for a in self.tg.answers if a["callback_query_id"] == query_id), None)
        )

    def audit(self, prefix: str) -> list[dict[str, Any]]:
        return [e for e in self.loa.store.audit.audit_entries() if e["action"].startswith(prefix)]


@pytest.fixture
def room(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Room]:
    for key in [k for k in os.environ if k.startswith("LOA_") and k != "LOA_SECRET_KEY"]:
        monkeypatch.delenv(key)
    with serving(TelegramSandbox()) as tg, serving(ZaloSandbox()) as zalo:
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

[channels.zalo]
type = "zalo_oa"
api_url = "{zalo.url}"
oauth_url = "{zalo.url}"
app_id = "{zalo.APP_ID}"
timeout_seconds = 5
broadcast = "each"
""",
            "utf-8",
        )
        monkeypatch.setenv("LOA_TELEGRAM__TOKEN", tg.TOKEN)
        monkeypatch.setenv("LOA_CHANNELS__ZALO__APP_SECRET", zalo.APP_SECRET)
        monkeypatch.setenv("LOA_CHANNELS__ZALO__REFRESH_TOKEN", zalo.INITIAL_REFRESH_TOKEN)
        loa = Loa(load_settings(cfg))
        runner = BotThread(loa)
        runner.start()
        try:
            yield Room(tg, zalo, loa)
        finally:
            runner.stop()
            loa.store.engine.dispose()


def test_broadcast_card_is_approved_once_and_sent_once(room: Room) -> None:
    now = datetime.now(UTC)
    article = publish(
        room.loa, room.zalo, "Kết quả cải cách hành chính tháng 12", now - timedelta(hours=1)
    )
    (proposal,) = broadcast_tick(room.loa, now)
    card = room.card(f"bc:a:{proposal.id}")
    assert "Gửi tin truyền thông tới 1.234 người theo dõi" in card["text"]
    assert (
        "Kết quả cải cách hành chính tháng 12" in card["text"] and f"bài #{article}" in card["text"]
    )
    assert "đã dùng 1/4 lượt (tính cả tin này), còn lại 3 lượt" in card["text"]

    stranger = room.tg.press_button(STRANGER, card["message_id"], f"bc:a:{proposal.id}")
    editor = room.tg.press_button(EDITOR, card["message_id"], f"bc:a:{proposal.id}")
    first = room.tg.press_button(ADMIN, card["message_id"], f"bc:a:{proposal.id}")
    second = room.tg.press_button(SECOND_ADMIN, card["message_id"], f"bc:r:{proposal.id}")
    assert "Chỉ quản trị viên" in room.answer_to(stranger)["text"]
    assert "Chỉ quản trị viên" in room.answer_to(editor)["text"]
    assert room.answer_to(first)["text"].startswith(f"✅ Đã gửi tin truyền thông #{proposal.id}")
    assert "đã được xử lý: đã gửi" in room.answer_to(second)["text"]
    assert len(room.zalo.records["broadcasts"]) == 1
    b = room.loa.store.broadcasts.get(proposal.id)
    assert b is not None and b.state == "sent" and b.decided_by == f"tg:{ADMIN}"
    assert b.moderation_state == "reviewing"
    assert [e["action"] for e in room.audit("broadcast_")] == [
        "broadcast_proposed",
        "broadcast_approved",
        "broadcast_sent",
    ]
    assert len(room.audit("unauthorised")) == 2
    edited = wait_until(
        lambda: (
            "reply_markup" not in room.tg.message(CHAT, card["message_id"])
            and room.tg.message(CHAT, card["message_id"])
        )
    )
    assert "Zalo báo trạng thái «reviewing»" in edited["text"] and "Còn lại 3/4" in edited["text"]


def test_a_lost_answer_asks_the_admins_and_is_never_resent(room: Room) -> None:
    later = at(room.zalo, datetime.now(UTC) + timedelta(days=8))
    publish(room.loa, room.zalo, "Bài tuần này", later - timedelta(hours=1))
    (proposal,) = broadcast_tick(room.loa, later)
    card = room.card(f"bc:a:{proposal.id}")
    room.loa.channel("zalo").access_token()  # type: ignore[attr-defined]
    room.zalo.inject("drop_after", path=r"^/v2.0/oa/message$")
    press = room.tg.press_button(ADMIN, card["message_id"], f"bc:a:{proposal.id}")
    assert "không rõ đã gửi hay chưa" in room.answer_to(press)["text"]
    doubt = room.card(f"bc:n:{proposal.id}")  # a fresh card asks whether it went out
    assert "Loa sẽ không tự gửi lại" in doubt["text"]
    for _ in range(3):
        broadcast_tick(room.loa, later + timedelta(minutes=30))
    assert len(room.zalo.records["broadcasts"]) == 1  # Zalo acted once; Loa never resent
    answer = room.tg.press_button(SECOND_ADMIN, doubt["message_id"], f"bc:n:{proposal.id}")
    assert "chưa được gửi" in room.answer_to(answer)["text"]
    again = room.tg.press_button(ADMIN, doubt["message_id"], f"bc:y:{proposal.id}")
    assert "đã được xử lý: chưa gửi" in room.answer_to(again)["text"]
    b = room.loa.store.broadcasts.get(proposal.id)
    assert b is not None and b.state == "not_sent"


def test_a_forged_button_is_refused_and_audited(room: Room) -> None:
    now = datetime.now(UTC)
    publish(room.loa, room.zalo, "Bài", now - timedelta(hours=1))
    (proposal,) = broadcast_tick(room.loa, now)
    room.card(f"bc:a:{proposal.id}")
    forged = room.tg.press_button(ADMIN, 999999, f"bc:a:{proposal.id}")
    assert "thẻ không hợp lệ" in room.answer_to(forged)["text"]
    assert room.zalo.records["broadcasts"] == [] and len(room.audit("forged_callback")) == 1
    assert room.loa.store.broadcasts.get(proposal.id).state == "proposed"  # type: ignore[union-attr]


def test_stats_adds_this_months_follower_growth_and_broadcasts_left(room: Room) -> None:
    from bot.followers import collect_followers

    start = datetime.now(UTC) - timedelta(hours=22)
    assert collect_followers(room.loa, start) == 1
    assert collect_followers(room.loa, start + timedelta(hours=1)) == 0  # once a day
    room.zalo.set_followers(1300)
    assert collect_followers(room.loa, start + timedelta(hours=21)) == 1
    before = len(room.tg.sent)
    room.tg.send_user_message(EDITOR, "/stats")
    reply = wait_until(
        lambda: next(
            (m for m in room.tg.sent[before:] if "Người theo dõi các kênh" in m.get("text", "")),
            None,
        )
    )
    assert "zalo — Người quan tâm OA (followers): 1.300 (+66 so với đầu tháng)" in reply["text"]
    assert "đã dùng 0/4 lượt gửi tin truyền thông, còn lại 4 lượt" in reply["text"]


def test_a_strangers_button_flood_gets_one_answer_and_one_audit_row(room: Room) -> None:
    now = datetime.now(UTC)
    publish(room.loa, room.zalo, "Kết quả cải cách hành chính tháng 11", now - timedelta(hours=1))
    (proposal,) = broadcast_tick(room.loa, now)
    card = room.card(f"bc:a:{proposal.id}")
    presses = [
        room.tg.press_button(STRANGER, card["message_id"], f"bc:a:{proposal.id}") for _ in range(40)
    ]
    answers = [room.answer_to(p) for p in presses]
    assert [a.get("text") for a in answers if a.get("text")] == [t.NOT_ADMIN]
    assert len(room.audit("unauthorised")) == 1
    assert room.loa.store.broadcasts.get(proposal.id).state == "proposed"  # type: ignore[union-attr]
