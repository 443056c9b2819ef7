"""Every sentence the admins' chat says about comments, petitions and takedowns (Vietnamese)."""

from __future__ import annotations

COMMENT_CARD = (
    "💬 <b>Bình luận mới BL-{id}</b> · {channel}\n"
    "Bài: {post}\n"
    "Người viết: {author} · {when}\n"
    "«{message}»"
)
COMMENT_FLAGS = "⚠️ Cảnh báo: {flags} (Loa chỉ gắn cờ; người quản trị quyết định)."
COMMENT_EDITED = "✏️ (đã sửa)"
COMMENT_STATE = "Trạng thái: {state}"
COMMENT_OTHER_POST = "bài đăng trên Trang ({link})"

BUTTON_REPLY = "Trả lời"
BUTTON_HIDE = "Ẩn"
BUTTON_UNHIDE = "Hiện"
BUTTON_DELETE = "Xóa"
BUTTON_PRIVATE = "Trả lời riêng"
BUTTON_SEEN = "Đã xem"
BUTTON_PETITION = "Chuyển thành phản ánh"
BUTTON_TAKEDOWN = "Yêu cầu gỡ"
BUTTON_WAS_SENT = "Đã gửi"
BUTTON_NOT_SENT = "Chưa gửi"

ASK_REPLY = "Nhập nội dung trả lời công khai cho bình luận BL-{id} (trả lời tin nhắn này)."
ASK_PRIVATE = "Nhập tin nhắn riêng gửi người viết bình luận BL-{id} (trả lời tin nhắn này)."
ASK_DELETE = "Ghi lý do xóa bình luận BL-{id} (trả lời tin nhắn này)."
ASK_HIDE = "Ghi lý do ẩn bình luận BL-{id} (trả lời tin nhắn này)."
ASK_TAKEDOWN = (
    "Ai yêu cầu gỡ bình luận BL-{id}? Ghi tên cơ quan (ví dụ «Sở Khoa học và Công nghệ») hoặc "
    "«người dân» (trả lời tin nhắn này)."
)
ASK_CASE_ANSWER = "Nhập nội dung trả lời phản ánh {number} gửi người dân (trả lời tin nhắn này)."
ASK_CASE_TRANSFER = "Chuyển phản ánh {number} tới cơ quan nào? (trả lời tin nhắn này)."
ASK_CASE_SCOPE = "Ghi lý do phản ánh {number} không thuộc thẩm quyền (trả lời tin nhắn này)."
ASK_CASE_DECLINE = "Ghi lý do không gỡ theo yêu cầu {number} (trả lời tin nhắn này)."
ASKED = "Đã hỏi nội dung; hãy trả lời tin nhắn của Loa."

ACTION_IN_DOUBT = (
    "❓ <b>Không rõ việc {what} bình luận BL-{id} đã thực hiện chưa</b>\n"
    "Người yêu cầu: {actor}\nLỗi: {error}\n"
    "Loa không tự làm lại (Facebook không cho kiểm tra). Hãy xem trên Trang rồi chọn."
)
ACTION_RESOLVED = "Đã ghi: {what} bình luận BL-{id} — {outcome} (theo {actor})."

CASE_CARD = (
    "📋 <b>{kind} {number}</b> · {state}\n"
    "Nhận lúc {received} · hạn {due}{overdue}\n"
    "{who}\n"
    "«{subject}»"
)
KIND_PETITION = "Phản ánh"
KIND_TAKEDOWN = "Yêu cầu gỡ"
OVERDUE_MARK = " · ⛔ QUÁ HẠN"
BUTTON_TAKE = "Nhận xử lý"
BUTTON_ANSWER = "Trả lời"
BUTTON_TRANSFER = "Chuyển cơ quan khác"
BUTTON_SCOPE = "Không thuộc thẩm quyền"
BUTTON_RETRACT = "Gỡ bài"
BUTTON_MANUAL = "Đã gỡ thủ công"
BUTTON_DECLINE = "Không gỡ"

PETITION_USAGE = (
    "Dùng /phananh SỐ_CÂU_HỎI, hoặc trả lời thẻ câu hỏi của người dân bằng /phananh, để chuyển "
    "tin nhắn đó thành phản ánh."
)
NOT_ADMIN = "Chỉ quản trị viên mới xử lý được bình luận và phản ánh."
STALE = "Thẻ này không còn hợp lệ."
DONE_BY = "{result}\n— {actor}, {at}"
