"""The words people read: numbers, states, channels and people (bot.wording)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.wording import channel_labels, delivery_state_vi, person_vi, vi_number
from content_queue.workflow import DELIVERY_STATE_VI, DeliveryState


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (63206, "63.206"),
        (0.5, "0,5"),
        (1234567, "1.234.567"),
        (2.0, "2"),
        (12.25, "12,2"),
        (None, "không có số liệu"),
    ],
)
def test_numbers_read_as_vietnamese_write_them(n: float | None, shown: str) -> None:
    assert vi_number(n) == shown


def test_every_delivery_state_has_its_one_label() -> None:
    assert {delivery_state_vi(s.value) for s in DeliveryState} == set(DELIVERY_STATE_VI.values())
    assert delivery_state_vi("pending") == "chờ duyệt"


def test_channels_are_named_as_the_department_calls_them() -> None:
    chans = {
        "website": SimpleNamespace(type="wordpress", label=None),
        "facebook": SimpleNamespace(type="facebook_page", label=None),
        "zalo": SimpleNamespace(type="zalo_oa", label=None),
        "zalo2": SimpleNamespace(type="zalo_oa", label="Zalo Sở Nội vụ"),
    }
    assert channel_labels(chans) == {
        "website": "Trang web",
        "facebook": "Facebook",
        "zalo": "Zalo OA (zalo)",
        "zalo2": "Zalo Sở Nội vụ",
    }


@pytest.mark.parametrize(
    ("actor", "via", "shown"),
    [
        ("web:Nguyễn Thị Lan (lan)", "web", "Nguyễn Thị Lan (lan)"),
        ("tg:111111111", "telegram", "Chị Lan (Telegram)"),
        ("tg:222", "telegram", "quản trị viên qua Telegram"),
        ("loa", "service", "Loa (tự động)"),
        ("inbox", "inbox", "Loa, từ thư mục nhận bài"),
        ("root", "cli", "quản trị hệ thống (dòng lệnh)"),
        ("hung", "cli", "hung (dòng lệnh)"),
    ],
)
def test_people_are_named(actor: str, via: str, shown: str) -> None:
    assert person_vi(actor, via, telegram_names={111111111: "Chị Lan"}, admins=[222]) == shown
