"""Every sentence the admin chat says about citizens' questions (Hỏi đáp), in Vietnamese."""

from __future__ import annotations

CARD_HEADER = "❓ <b>Câu hỏi #{id} của người dân</b> ({channel}, {who}, lúc {at})"
CARD_QUESTION = "«{text}»"
CARD_GUESSES = "Trợ lý chưa chắc chắn. Gợi ý gần nhất:"
CARD_GUESS = "{n}. {title} — {url}"
CARD_NO_GUESS = "Trợ lý không tìm thấy nguồn phù hợp."
CARD_WINDOW = "Còn {left} để trả lời người dân."
CARD_WINDOW_CLOSED = "Đã hết thời hạn nền tảng cho phép trả lời người dân."
CARD_HOW = "Trả lời (reply) tin nhắn này để gửi câu trả lời cho người dân."
BUTTON_REPLY = "Trả lời"
BUTTON_SUGGEST = "Gửi gợi ý"
BUTTON_SAVE = "Lưu làm hỏi đáp"
BUTTON_SKIP = "Bỏ qua"
BUTTON_WAS_SENT = "Đã gửi"
BUTTON_NOT_SENT = "Chưa gửi"

ANSWERED = "✅ Câu hỏi #{id}: {actor} đã trả lời — «{text}» ({state})."
SKIPPED = "Câu hỏi #{id}: {actor} đã bỏ qua."
ALREADY = "Câu hỏi #{id} đã được xử lý ({state})."
STATE_VI = {
    "open": "đang chờ cán bộ",
    "answered": "cán bộ đã trả lời",
    "skipped": "đã bỏ qua",
    "handed_over": "đã chuyển cán bộ",
}
NO_SUGGESTION = "Câu hỏi #{id} không có gợi ý nào để gửi."
SAVED = "Đã lưu câu hỏi #{id} và câu trả lời vào kho hỏi đáp (#{qa})."
NOT_SAVED = "Chỉ lưu được sau khi câu trả lời của cán bộ đã gửi tới người dân (câu hỏi #{id})."
HOW_TO_REPLY = (
    "Hãy trả lời (reply) thẻ câu hỏi #{id}: nội dung bạn gửi sẽ được chuyển tới người dân."
)
NOT_ADMIN = "Chỉ quản trị viên mới xử lý được câu hỏi của người dân."
BAD_CARD = "Thẻ không hợp lệ."
REPLY_SENT = "đã gửi tới người dân"
REPLY_NOT_SENT = "chưa tới người dân: {error}"

CARD_IN_DOUBT = (
    "⚠️ <b>Không rõ câu trả lời cho câu hỏi #{question} đã tới người dân chưa</b> ({channel}).\n"
    "«{text}»\nLý do: {error}\nLoa sẽ không tự gửi lại. Hãy kiểm tra hộp thư của OA/Trang rồi chọn."
)
CONFIRMED = "Câu trả lời cho câu hỏi #{question}: {actor} xác nhận đã gửi."
NOT_SENT = (
    "Câu trả lời cho câu hỏi #{question}: {actor} xác nhận chưa gửi; hãy trả lời người dân "
    "trực tiếp trên OA/Trang nếu cần."
)
DOUBT_DECIDED = "Câu trả lời cho câu hỏi #{question} đã được xác nhận trước đó."
