"""Every sentence the admin chat says, in Vietnamese, in one place for review."""

from __future__ import annotations

__all__ = [
    "ACTION_DONE",
    "ALREADY_DECIDED",
    "APPROVED_ANSWER",
    "ASK_REASON",
    "ASK_TIME",
    "BAD_DATA",
    "BAD_TIME",
    "BUTTON_APPROVE",
    "BUTTON_APPROVE_AT",
    "BUTTON_PREVIEW",
    "BUTTON_REJECT",
    "CARD_CHANNELS",
    "CARD_CHECK_FAIL",
    "CARD_CHECK_REFUSE",
    "CARD_CHECKS_OK",
    "CARD_DECIDED_APPROVED",
    "CARD_DECIDED_REJECTED",
    "CARD_HEADER",
    "CARD_SLOT",
    "CARD_SUGGESTED",
    "CARD_TOPIC",
    "CHANNEL_LINE",
    "CHANNELS_HEADER",
    "CLOSED_CARD",
    "DOC_DOWNLOAD_FAILED",
    "DOC_SIZE_UNKNOWN",
    "DOC_TOO_BIG",
    "DOC_NOT_ALLOWED",
    "DOC_RECEIVED",
    "DOC_UNSUPPORTED",
    "ERROR_GENERIC",
    "HELP",
    "NEED_ARTICLE_ID",
    "NEED_CHANNEL",
    "NOT_ADMIN",
    "PAUSED",
    "PREVIEW_HEADER",
    "PREVIEW_SENT",
    "QUEUE_EMPTY",
    "QUEUE_HEADER",
    "QUEUE_LINE",
    "REJECTED_ANSWER",
    "RESUMED",
    "SCHEDULED_EMPTY",
    "SCHEDULED_HEADER",
    "SCHEDULED_LINE",
    "SKIPPED_CHANNELS",
    "STALE_CARD",
    "START",
    "STATS",
    "STATS_CHANNEL_LINE",
    "STATS_NO_POSTS",
    "UNAUTHORISED",
    "UNKNOWN_CHANNEL",
    "WAITING_CANCELLED",
]

START = "Xin chào! Đây là Loa – trợ lý đăng bài cải cách hành chính.\nGõ /help để xem các lệnh."
HELP = (
    "Các lệnh của Loa:\n"
    "/queue – bài đang chờ duyệt\n"
    "/scheduled – bài đã duyệt, chờ đăng\n"
    "/stats – số bài tháng này so với chỉ tiêu, số lượt đăng theo kênh\n"
    "/channels – tình trạng các kênh\n"
    "/pause KÊNH, /resume KÊNH – tạm dừng / cho đăng lại một kênh\n"
    "/retry SỐ_BÀI [KÊNH] – đăng lại bài bị lỗi\n"
    "/withdraw SỐ_BÀI – rút bài đã duyệt (trước khi đăng)\n"
    "/confirm SỐ_BÀI [KÊNH] [URL] – xác nhận bài đã lên kênh (bài đăng thủ công: kèm URL)\n"
    "/notposted SỐ_BÀI [KÊNH] – xác nhận bài chưa lên kênh (Loa sẽ đăng lại)\n"
    "Có thể bỏ KÊNH khi bài chỉ có một lượt đăng cần xử lý.\n"
    "Biên tập viên gửi tệp .docx, .md hoặc .html vào đây để nộp bài."
)
UNAUTHORISED = (
    "Xin lỗi, anh/chị chưa có quyền dùng Loa. Vui lòng liên hệ quản trị viên để được cấp quyền."
)
NOT_ADMIN = "Chỉ quản trị viên mới được thực hiện thao tác này."
DOC_NOT_ALLOWED = "Chỉ biên tập viên hoặc quản trị viên mới được gửi bài."
DOC_UNSUPPORTED = "Loa chỉ nhận tệp .docx, .md hoặc .html (tệp “{name}” không đúng loại)."
DOC_SIZE_UNKNOWN = (
    "Telegram không cho biết dung lượng tệp “{name}” nên Loa không tải về; vui lòng gửi lại."
)
DOC_TOO_BIG = "Tệp “{name}” lớn hơn {mb:g} MB nên Loa không tải về."
DOC_DOWNLOAD_FAILED = "Không tải được tệp “{name}” từ Telegram; vui lòng gửi lại."
DOC_RECEIVED = "Đã nhận tệp “{name}”, đang đọc…"
ERROR_GENERIC = (
    "Có lỗi khi xử lý yêu cầu; quản trị viên đã được ghi nhận lỗi. Vui lòng thử lại sau."
)

# ----- the approval card --------------------------------------------------------------------
CARD_HEADER = "📝 <b>Bài #{id} chờ duyệt</b> (bản {revision})\n<b>{title}</b>"
CARD_TOPIC = "Chủ đề: {key}) {label}"
CARD_SUGGESTED = "  (Loa tự gợi ý: {reason})"
CARD_CHANNELS = "Kênh đăng: {channels}"
CARD_SLOT = "Giờ đăng dự kiến: {slot}"
CARD_CHECKS_OK = "✅ {channel}: đạt mọi yêu cầu"
CARD_CHECK_FAIL = "⚠️ {channel}: {message}"
CARD_CHECK_REFUSE = "⛔ {channel} sẽ từ chối bài: {message}"
CARD_DECIDED_APPROVED = "✅ Đã duyệt bởi {actor} lúc {at}; đăng lúc {slot}."
CARD_DECIDED_REJECTED = "❌ Đã từ chối bởi {actor} lúc {at}. Lý do: {reason}"
CLOSED_CARD = "ℹ️ Bài hiện {state}."
BUTTON_APPROVE = "✅ Duyệt"
BUTTON_APPROVE_AT = "🕒 Duyệt, đăng lúc…"
BUTTON_REJECT = "❌ Từ chối"
BUTTON_PREVIEW = "👁 Xem trước"

# ----- answers to button presses -------------------------------------------------------------
APPROVED_ANSWER = "Đã duyệt bài #{id}; đăng lúc {slot}."
REJECTED_ANSWER = "Đã từ chối bài #{id}."
SKIPPED_CHANNELS = "Không đăng lên: {channels}."
ALREADY_DECIDED = "Bài #{id} đã được xử lý ({state})."
STALE_CARD = "Thẻ này đã cũ: bài #{id} đã có bản sửa (bản {revision}). Hãy dùng thẻ mới nhất."
BAD_DATA = "Nút bấm không hợp lệ."
ASK_TIME = (
    "Trả lời (reply) tin nhắn này bằng giờ đăng bài #{id} theo dạng YYYY-MM-DD HH:MM "
    "(giờ Việt Nam), ví dụ {example}, trong vòng {minutes} phút. Gõ /cancel để hủy."
)
BAD_TIME = "{error} Vui lòng nhập lại, ví dụ {example}."
ASK_REASON = (
    "Trả lời (reply) tin nhắn này bằng lý do từ chối bài #{id} (một tin nhắn), "
    "trong vòng {minutes} phút. Gõ /cancel để hủy."
)
QUESTION_ASKED = "Loa đã hỏi trong nhóm: hãy trả lời (reply) tin nhắn câu hỏi."
ANSWER_BY_REPLY = (
    "Loa đang chờ câu trả lời cho bài #{id}: hãy bấm “Trả lời” (reply) vào tin "
    "nhắn câu hỏi của Loa rồi gõ câu trả lời."
)
ANSWER_TIMED_OUT = (
    "Đã hết thời gian trả lời câu hỏi về bài #{id}; bấm lại nút trên thẻ bài nếu cần."
)
NOTHING_WAITING = "Không có câu hỏi nào đang chờ trả lời."
WAITING_CANCELLED = "Đã hủy thao tác đang chờ."
PREVIEW_HEADER = "👁 Bản xem trước cho kênh {channel}:"
PREVIEW_SENT = "Đã gửi bản xem trước."

# ----- commands ------------------------------------------------------------------------------
QUEUE_EMPTY = "Không có bài nào chờ duyệt."
QUEUE_HEADER = "Bài chờ duyệt ({count}):"
QUEUE_LINE = "#{id} · {title} · chủ đề {topic} · nộp lúc {at}"
SCHEDULED_EMPTY = "Không có bài nào đang chờ đăng."
SCHEDULED_HEADER = "Bài đã duyệt, chờ đăng ({count}):"
SCHEDULED_LINE = "#{id} · {title} · đăng lúc {at} · {deliveries}"
STATS = (
    "Tháng {month}/{year}: đã đăng {published} bài lên trang thông tin điện tử "
    "(chỉ tiêu {minimum} bài/tháng), {scheduled} bài đã lên lịch trong tháng.{behind}"
)
STATS_BEHIND = " ⚠️ Có nguy cơ không đạt chỉ tiêu."
STATS_CHANNEL_LINE = "• {channel}: {count} lượt đăng"
STATS_NO_POSTS = "Chưa có lượt đăng nào trong tháng."
CHANNELS_HEADER = "Tình trạng các kênh:"
CHANNEL_LINE = "• {channel} ({type}): {status}"
CHANNEL_OK = "đang hoạt động"
CHANNEL_PAUSED = "đang tạm dừng ({reason})"
CHANNEL_REAUTH = "cần kết nối lại tài khoản"
CHANNEL_LAST_CHECK = "; kiểm tra gần nhất: {result}"
NEED_CHANNEL = "Hãy ghi tên kênh, ví dụ {example}. Các kênh: {channels}."
UNKNOWN_CHANNEL = "Không có kênh “{name}”. Các kênh: {channels}."
PAUSED = "Đã tạm dừng kênh {channel}."
PAUSE_REASON = "Tạm dừng qua Telegram"
RESUMED = "Đã cho kênh {channel} đăng trở lại."
NEED_ARTICLE_ID = "Hãy ghi số bài, ví dụ {example}."
ACTION_DONE = "{what}: bài #{id}, kênh {channels}."
RETRY_DONE = "Đã đưa vào hàng đợi đăng lại"
CONFIRM_DONE = "Đã ghi nhận là đã đăng"
NOTPOSTED_DONE = "Đã ghi nhận là chưa đăng, Loa sẽ đăng lại"
WITHDRAWN = "Đã rút bài #{id}; bài sẽ không được đăng."

__all__ += [
    "CHANNEL_LAST_CHECK",
    "CHANNEL_OK",
    "CHANNEL_PAUSED",
    "CHANNEL_REAUTH",
    "CONFIRM_DONE",
    "NOTPOSTED_DONE",
    "PAUSE_REASON",
    "RETRY_DONE",
    "STATS_BEHIND",
    "WITHDRAWN",
]
SUPERSEDED = "ℹ️ Thẻ này đã cũ: bài đã có bản sửa (bản {revision}), xem thẻ mới."
__all__ += [
    "ANSWER_BY_REPLY",
    "ANSWER_TIMED_OUT",
    "NOTHING_WAITING",
    "QUESTION_ASKED",
    "SUPERSEDED",
]

REPORT_USAGE = (
    "Cú pháp: /report KỲ — ví dụ /report 2026-03 (tháng), /report 2026-Q1 (quý), "
    "/report 2026-H1 (6 tháng), /report 2026 (năm)."
)
REPORT_CAPTION = "Báo cáo kết quả thông tin, tuyên truyền CCHC kỳ {period}."

# A decision taken on the web page (the actor is the web account's name).
CARD_DECIDED_APPROVED_WEB = "✅ Đã duyệt trên web bởi {actor} lúc {at}; đăng lúc {slot}."
CARD_DECIDED_REJECTED_WEB = "❌ Đã từ chối trên web bởi {actor} lúc {at}. Lý do: {reason}"
__all__ += ["CARD_DECIDED_APPROVED_WEB", "CARD_DECIDED_REJECTED_WEB"]

CARD_NOT_PREPARED = "⚠️ {channel}: chưa chuẩn bị được trước giờ đăng — {error}"
__all__ += ["CARD_NOT_PREPARED"]
