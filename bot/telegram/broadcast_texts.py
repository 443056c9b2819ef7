"""Every sentence the admin chat says about broadcasts to followers, in Vietnamese, for review.

(Kept beside :mod:`bot.telegram.texts` while that module is being reworked; the two may be merged.)
"""

from __future__ import annotations

__all__ = [
    "ALREADY_DECIDED",
    "BUTTON_NOT_SENT",
    "BUTTON_REJECT",
    "BUTTON_SEND",
    "BUTTON_WAS_SENT",
    "CARD_ARTICLE",
    "CARD_HEADER",
    "CARD_IN_DOUBT",
    "CARD_QUOTA",
    "CARD_RECIPIENTS",
    "CARD_RECIPIENTS_UNKNOWN",
    "CARD_REVIEW",
    "CONFIRMED",
    "FAILED",
    "NOT_ADMIN",
    "NOT_SENT",
    "REJECTED",
    "SENT",
    "STATE_VI",
]

CARD_HEADER = "📣 <b>Đề xuất gửi tin truyền thông #{id}</b> ({channel}, {kind})"
CARD_RECIPIENTS = "Gửi tin truyền thông tới {count} người theo dõi"
CARD_RECIPIENTS_UNKNOWN = "Gửi tin truyền thông tới người theo dõi (chưa rõ số người)"
CARD_ARTICLE = "{n}. {title} (bài #{id})"
CARD_QUOTA = (
    "Hạn mức tháng {month}: đã dùng {used}/{quota} lượt (tính cả tin này), "
    "còn lại {remaining} lượt."
)
CARD_REVIEW = "Zalo có thể xét duyệt tin khoảng 30 phút trước khi gửi tới điện thoại người dân."
CARD_IN_DOUBT = (
    "⚠️ <b>Tin truyền thông #{id}</b> ({channel}): không rõ đã gửi tới người theo dõi "
    "hay chưa — {error}\nLoa sẽ không tự gửi lại. Hãy xem mục tin truyền thông trên "
    "trang quản lý Zalo OA rồi cho biết kết quả."
)
KIND_VI = {"each": "từng bài", "digest": "tin tổng hợp tuần"}

BUTTON_SEND = "✅ Gửi"
BUTTON_REJECT = "❌ Không gửi"
BUTTON_WAS_SENT = "Đã gửi"
BUTTON_NOT_SENT = "Chưa gửi"

SENT = (
    "✅ Đã gửi tin truyền thông #{id} lúc {at} ({actor} duyệt); Zalo báo trạng thái «{state}». "
    "Còn lại {remaining}/{quota} lượt tháng này."
)
REJECTED = "❌ {actor} đã quyết định không gửi tin truyền thông #{id}."
FAILED = "⛔ Zalo không nhận tin truyền thông #{id}: {error} Các bài sẽ được đề xuất lại lần sau."
NOT_SENT = (
    "Đã ghi nhận: tin truyền thông #{id} chưa được gửi ({actor}). Các bài sẽ được đề xuất lại."
)
CONFIRMED = "Đã ghi nhận: tin truyền thông #{id} đã được gửi ({actor})."
ALREADY_DECIDED = "Tin truyền thông #{id} đã được xử lý: {state}."
NOT_ADMIN = "Chỉ quản trị viên mới được quyết định gửi tin truyền thông."

STATE_VI = {
    "proposed": "đang chờ duyệt",
    "approved": "đã duyệt, đang gửi",
    "sending": "đang gửi",
    "sent": "đã gửi",
    "failed": "Zalo không nhận",
    "rejected": "không gửi",
    "in_doubt": "không rõ đã gửi hay chưa",
    "not_sent": "chưa gửi",
    "expired": "hết hạn (đã sang tháng mới mà chưa duyệt)",
}
