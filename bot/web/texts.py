"""Every sentence the web page says outside its templates, in Vietnamese, for review."""

from __future__ import annotations

BAD_CSRF = "Biểu mẫu đã hết hạn hoặc không hợp lệ (thiếu mã bảo vệ). Hãy tải lại trang rồi thử lại."
BAD_ORIGIN = "Yêu cầu không đến từ trang của Loa nên bị từ chối."
NOT_ADMIN = "Chỉ quản trị viên mới được thực hiện thao tác này."
NOT_EDITOR = "Chỉ biên tập viên hoặc quản trị viên mới được nộp bài."
LOGIN_FAILED = "Sai tên đăng nhập hoặc mật khẩu."
LOGIN_WAIT = (
    "Đã nhập sai mật khẩu nhiều lần; hãy chờ {wait} rồi thử lại, "
    "hoặc liên hệ quản trị viên nếu quên mật khẩu."
)
LOGIN_THROTTLED = "Có quá nhiều lần đăng nhập từ máy này; hãy thử lại sau {wait}."
BUSY = "Hệ thống đang bận, vui lòng thử lại sau."
LOGGED_OUT = "Đã đăng xuất."
NOT_FOUND = "Không tìm thấy trang hoặc bài viết này."
STALE_STATE = (
    "Trang này đã cũ: bài #{id} hiện {state}{by}. "
    "Thao tác của anh/chị không được thực hiện; hãy tải lại trang để xem tình trạng mới."
)
STALE_REVISION = (
    "Trang này đã cũ: bài #{id} vừa được thay bằng bản sửa (bản {revision}). "
    "Hãy xem lại bản mới trước khi quyết định."
)
BY = " (do {actor} xử lý lúc {at})"
NEED_REASON = "Cần ghi lý do từ chối."
NEED_TIME = "Hãy chọn ngày giờ đăng."
BAD_DELIVERY = "Lượt đăng này không thuộc bài #{id}."
UNKNOWN_CHANNEL = "Không có kênh “{name}”."
PAUSE_REASON = "Tạm dừng trên trang web bởi {actor}"
DONE = {
    "approved": "Đã duyệt bài; bài sẽ được đăng lúc {slot}.",
    "rejected": "Đã từ chối bài.",
    "withdrawn": "Đã rút bài; bài sẽ không được đăng.",
    "retracted": "Đã gỡ bài khỏi các kênh.",
    "retry": "Đã đưa lượt đăng vào hàng đợi đăng lại.",
    "confirmed": "Đã ghi nhận là bài đã lên kênh.",
    "notposted": "Đã ghi nhận là bài chưa lên kênh; Loa sẽ đăng lại.",
}
# Shown after the redirect that follows a done action (the page itself shows the details).
DONE_PAGE = {**DONE, "approved": "Đã duyệt bài; giờ đăng của từng kênh ở bên dưới."}
SKIPPED = " Không đăng lên: {channels}."
RETRACT_PROBLEMS = "Chưa gỡ được ở: {problems}. Hãy thử lại sau."
UPLOAD_NONE = "Hãy chọn một tệp bài viết hoặc một thư mục bài."
UPLOAD_TYPE = "Loa chỉ nhận tệp .docx, .md, .html hoặc .zip (tệp “{name}” không đúng loại)."
UPLOAD_TOO_BIG = "Tệp “{name}” lớn hơn {mb:g} MB nên không được nhận."
PERIOD_BAD = "Kỳ báo cáo không hợp lệ. Hãy chọn quý, 6 tháng hoặc cả năm."
BAD_DATE = "Ngày không hợp lệ: lịch chỉ hiển thị từ năm {first} đến năm {last}."
UPLOAD_BAD_NAME = "Tên tệp có ký tự không hợp lệ (ký tự điều khiển); hãy đổi tên tệp rồi gửi lại."
SERVER_ERROR = "Loa gặp lỗi khi mở trang này. Hãy thử lại sau hoặc báo quản trị viên."
