"""The words people read, in one place for the CLI, the Telegram bot, the web page and reports.

Numbers in Vietnamese style (``63.206``, ``0,5``), delivery states from the one table in
``content_queue.workflow``, channels as the department calls them ("Trang web", "Facebook",
"Zalo OA"), audit actions and the people behind them ("Nguyễn Thị Lan", "Loa (tự động)"),
never ``tg:111111111``, ``root`` or ``followed_up``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from channels.render import vi_number
from content_queue.workflow import DELIVERY_STATE_VI, STATE_VI, DeliveryState

__all__ = [
    "AUDIT_VI",
    "CHANNEL_TYPE_VI",
    "action_vi",
    "article_state_vi",
    "channel_labels",
    "delivery_state_vi",
    "person_vi",
    "vi_number",
]

CHANNEL_TYPE_VI = {
    "wordpress": "Trang web",
    "handoff": "Trang web",
    "facebook_page": "Facebook",
    "zalo_oa": "Zalo OA",
}

AUDIT_VI = {
    "submitted": "nộp bài",
    "revised": "thay bằng bản sửa",
    "approved": "duyệt",
    "rejected": "từ chối",
    "withdrawn": "rút bài",
    "retracted": "gỡ bài",
    "sent": "đã đăng",
    "awaiting_url": "chờ ghi địa chỉ bài",
    "delivery_retry": "lỗi tạm thời, sẽ thử lại",
    "delivery_failed": "lỗi, đã dừng",
    "delivery_in_doubt": "chưa rõ đã đăng hay chưa",
    "delivery_retracted": "đã gỡ khỏi kênh",
    "retry_requested": "yêu cầu đăng lại",
    "confirmed_posted": "xác nhận đã đăng",
    "confirmed_not_posted": "xác nhận chưa đăng",
    "lease_expired": "tiến trình đăng bị ngắt",
    "topic_changed": "đổi chủ đề",
    "followed_up": "nhắc việc",
    "reconciled": "đối chiếu: bài đã có trên kênh",
    "reconciled_absent": "đối chiếu: bài chưa có trên kênh, sẽ đăng",
    "delivery_alert": "báo lỗi cho quản trị viên",
    "channel_paused": "tạm dừng kênh",
    "channel_resumed": "cho kênh đăng trở lại",
    "broadcast_proposed": "đề xuất gửi tin cho người quan tâm",
    "broadcast_confirmed": "duyệt gửi tin",
    "broadcast_sent": "đã gửi tin",
    "broadcast_failed": "gửi tin lỗi",
    "broadcast_in_doubt": "chưa rõ đã gửi tin hay chưa",
    "broadcast_not_sent": "không gửi tin",
    "broadcast_expired": "đề xuất gửi tin đã hết hạn",
    "unauthorised": "thao tác không được phép",
    "web_login": "đăng nhập trang web",
    "web_login_failed": "đăng nhập sai",
    "web_csrf_refused": "từ chối biểu mẫu thiếu mã bảo vệ",
}

_VIA_VI = {"cli": "dòng lệnh", "inbox": "thư mục nhận bài", "web": "trang web"}


def delivery_state_vi(state: str) -> str:
    """A delivery's state in words (the one table, ``workflow.DELIVERY_STATE_VI``)."""
    try:
        return DELIVERY_STATE_VI[DeliveryState(state)]
    except ValueError:
        return STATE_VI.get(state, state)  # "pending": an article not approved yet


def article_state_vi(state: str) -> str:
    return STATE_VI.get(state, state)


def action_vi(action: str) -> str:
    """An audit action in words; an unknown one still reads as words, not as an identifier."""
    return AUDIT_VI.get(action, action.replace("_", " "))


def channel_labels(channels: Mapping[str, Any]) -> dict[str, str]:
    """Each configured channel as people name it: its kind, and its name only when two share it.

    ``channels`` maps a channel name to its settings (anything with ``type`` and an optional
    ``label``): ``{"website": WordPressSettings, ...}`` → ``{"website": "Trang web", ...}``.
    """
    kinds = {n: CHANNEL_TYPE_VI.get(getattr(c, "type", ""), n) for n, c in channels.items()}
    out = {}
    for name, kind in kinds.items():
        label = getattr(channels[name], "label", None)
        shared = sum(1 for k in kinds.values() if k == kind) > 1
        out[name] = label or (f"{kind} ({name})" if shared else kind)
    return out


def person_vi(
    actor: str,
    via: str,
    *,
    telegram_names: Mapping[int, str] | None = None,
    admins: tuple[int, ...] | list[int] = (),
    editors: tuple[int, ...] | list[int] = (),
) -> str:
    """Who did something, as a colleague would name them."""
    if via == "service" or actor in ("loa", "(service)"):
        return "Loa (tự động)"
    if actor.startswith("web:"):
        return actor.removeprefix("web:")
    if actor.startswith("tg:"):
        try:
            uid = int(actor.removeprefix("tg:"))
        except ValueError:
            return "người dùng Telegram"
        name = (telegram_names or {}).get(uid)
        if name:
            return f"{name} (Telegram)"
        if uid in admins:
            return "quản trị viên qua Telegram"
        return "biên tập viên qua Telegram" if uid in editors else "người dùng Telegram"
    if actor in ("inbox", "root", "connect", "demo") or not actor:
        where = _VIA_VI.get(via, "hệ thống")
        return f"Loa, từ {where}" if via == "inbox" else f"quản trị hệ thống ({where})"
    return f"{actor} ({_VIA_VI.get(via, via)})"
