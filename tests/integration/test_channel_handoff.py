"""The hand-off adapter: real package folders and a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import hashlib
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from PIL import Image

from channels.base import ArticleView, AuthError, ImageRef, RejectedError, TransientError
from channels.handoff import HandoffChannel, HandoffSettings

SINCE = datetime(2026, 1, 1, tzinfo=UTC)
KEY = "article-7:website"
WEBMASTER = "webmaster@songoaivu.langson.gov.vn"


class MailSink:
    """An SMTP handler that keeps every accepted message and refuses one address."""

    REFUSED = "khongton@tai.vn"

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address == self.REFUSED:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))  # type: ignore[arg-type]
        return "250 Message accepted"


class LocalController(Controller):
    """aiosmtpd's controller on a free port chosen by the OS (port 0)."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def smtp() -> Iterator[tuple[MailSink, int]]:
    sink = MailSink()
    controller = LocalController(sink, hostname="127.0.0.1", port=0)
    controller.start()
    yield sink, controller.port
    controller.stop()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def article(tmp_path: Path) -> ArticleView:
    Image.new("RGB", (64, 48), "red").save(tmp_path / "bìa.jpg")
    Image.new("RGB", (32, 32), "blue").save(tmp_path / "hinh-1.png")
    return ArticleView(
        id=7,
        title="Sở Ngoại vụ đẩy mạnh dịch vụ công trực tuyến",
        summary="Hồ sơ được giải quyết nhanh hơn.",
        body_html='<p>Nội dung chính.</p><p><img src="hinh-1.png" alt="Một cửa"></p><script>alert(1)</script>',
        body_text="",
        topic="đ",
        topic_label="Dịch vụ công trực tuyến",
        cover=ImageRef(str(tmp_path / "bìa.jpg"), "image/jpeg"),
        images=(ImageRef(str(tmp_path / "hinh-1.png"), "image/png"),),
    )


def make_channel(tmp_path: Path, port: int, **overrides: Any) -> HandoffChannel:
    values: dict[str, Any] = {
        "type": "handoff",
        "folder": str(tmp_path / "goi-bai"),
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "mail_from": "loa@songoaivu.langson.gov.vn",
        "mail_to": [WEBMASTER],
        "site_name": "Cổng thông tin Sở Ngoại vụ",
        "timeout_seconds": 5.0,
    }
    values.update(overrides)
    return HandoffChannel("website", HandoffSettings.model_validate(values))


def test_without_the_hosts_instructions_the_guide_invents_no_command(
    tmp_path: Path, smtp: tuple[MailSink, int], article: ArticleView
) -> None:
    channel = make_channel(tmp_path, smtp[1])
    receipt = channel.publish(channel.render(article, {}), KEY)
    guide = (Path(receipt.extra["package"]) / "HUONG-DAN.txt").read_text("utf-8")
    assert "Gửi địa chỉ đó cho quản trị viên Loa (mã bài 7, kênh website)" in guide
    assert "loa " not in guide and "/" + "confirm" not in guide


def attachments(msg: EmailMessage) -> dict[str, bytes]:
    return {part.get_filename(): part.get_payload(decode=True) for part in msg.iter_attachments()}


def test_publish_writes_the_package_and_mails_it(
    tmp_path: Path, smtp: tuple[MailSink, int], article: ArticleView
) -> None:
    sink, port = smtp
    channel = make_channel(tmp_path, port)
    channel.confirm_instructions = lambda article_id, name: [
        f"host command {article_id} {name} URL"
    ]
    receipt = channel.publish(channel.render(article, {}), KEY)

    package = Path(receipt.extra["package"])
    assert re.fullmatch(
        r"\d{4}-\d{2}-\d{2}-so-ngoai-vu-day-manh-dich-vu-cong-truc-tuyen", receipt.remote_id
    )
    assert (
        receipt.url is None
        and receipt.extra["awaiting_url"] is True
        and package.name == receipt.remote_id
    )
    assert sorted(p.name for p in package.iterdir()) == sorted(
        [
            ".loa-key",
            ".sent",
            "HUONG-DAN.txt",
            "bai-viet.html",
            "bai-viet.txt",
            "bia.jpg",
            "hinh-1.png",
        ]
    )
    page = (package / "bai-viet.html").read_text("utf-8")
    assert "<h1>Sở Ngoại vụ đẩy mạnh dịch vụ công trực tuyến</h1>" in page
    assert '<img src="hinh-1.png"' in page and "<script" not in page
    assert (package / "bai-viet.txt").read_text("utf-8").startswith("Sở Ngoại vụ đẩy mạnh")
    guide = (package / "HUONG-DAN.txt").read_text("utf-8")
    assert "   - host command 7 website URL" in guide and "ảnh đại diện: bia.jpg" in guide
    assert "/published" not in guide
    assert (package / ".loa-key").read_text("utf-8") == KEY
    assert (package / "bia.jpg").read_bytes() == Path(article.cover.path).read_bytes()  # type: ignore[union-attr]

    [msg] = sink.messages
    assert msg["To"] == WEBMASTER and "Sở Ngoại vụ đẩy mạnh" in msg["Subject"]
    assert "host command 7 website URL" in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    files = attachments(msg)
    assert sorted(files) == ["bai-viet.html", "bai-viet.txt", "bia.jpg", "hinh-1.png"]
    assert files["hinh-1.png"] == (package / "hinh-1.png").read_bytes()
    assert (
        files["bai-viet.html"].decode("utf-8").replace("\r\n", "\n") == page
    )  # text parts travel as CRLF
    assert channel.fetch_reach([receipt]) == {receipt.remote_id: {}}


def test_publish_again_returns_the_same_package_without_a_second_mail(
    tmp_path: Path, smtp: tuple[MailSink, int], article: ArticleView
) -> None:
    sink, port = smtp
    channel = make_channel(tmp_path, port)
    draft = channel.render(article, {})
    first = channel.publish(draft, KEY)
    assert channel.find_existing(draft, KEY, SINCE) == first
    assert channel.publish(draft, KEY) == first
    assert len(sink.messages) == 1 and len(list(Path(first.extra["package"]).parent.iterdir())) == 1
    assert channel.find_existing(draft, "article-8:website", SINCE) is None


def test_crash_before_mailing_is_finished_by_the_next_publish(
    tmp_path: Path, smtp: tuple[MailSink, int], article: ArticleView
) -> None:
    sink, port = smtp
    down = make_channel(tmp_path, closed_port())
    draft = down.render(article, {})
    with pytest.raises(TransientError):
        down.publish(draft, KEY)
    [package] = (tmp_path / "goi-bai").iterdir()
    assert (package / ".loa-key").exists() and not (package / ".sent").exists()
    up = make_channel(tmp_path, port)
    assert (
        up.find_existing(draft, KEY, SINCE) is None
    )  # built but not mailed: publish must finish it
    receipt = up.publish(draft, KEY)
    assert receipt.remote_id == package.name and receipt.extra["mailed"]
    assert [p.name for p in (tmp_path / "goi-bai").iterdir()] == [package.name]
    assert len(sink.messages) == 1
    assert up.find_existing(draft, KEY, SINCE) == receipt


def test_crash_while_writing_the_package_leaves_nothing_that_counts(
    tmp_path: Path, smtp: tuple[MailSink, int], article: ArticleView
) -> None:
    sink, port = smtp
    channel = make_channel(tmp_path, port)
    draft = channel.render(article, {})
    channel.publish(
        draft, "article-99:website"
    )  # creates the folder; then simulate a half-built package:
    half = tmp_path / "goi-bai" / f".tmp-{hashlib.sha256(KEY.encode()).hexdigest()[:16]}"
    half.mkdir()
    (half / "bai-viet.html").write_text("<p>nửa chừng", "utf-8")
    assert channel.find_existing(draft, KEY, SINCE) is None
    receipt = channel.publish(draft, KEY)
    assert not half.exists() and (Path(receipt.extra["package"]) / ".sent").exists()
    assert receipt.remote_id.endswith("-2")  # same day, same slug, another article: its own folder
    assert len(sink.messages) == 2


def test_retract_asks_the_webmaster_once(
    tmp_path: Path, smtp: tuple[MailSink, int], article: ArticleView
) -> None:
    sink, port = smtp
    channel = make_channel(tmp_path, port)
    receipt = channel.publish(channel.render(article, {}), KEY)
    confirmed = type(receipt)(
        receipt.remote_id, "https://songoaivu.langson.gov.vn/tin/123", receipt.extra
    )
    channel.retract(confirmed)
    channel.retract(confirmed)
    note = (Path(receipt.extra["package"]) / "GO-BAI.txt").read_text("utf-8")
    assert "ĐỀ NGHỊ GỠ BÀI" in note and "https://songoaivu.langson.gov.vn/tin/123" in note
    assert len(sink.messages) == 2
    mail = sink.messages[1]
    assert mail["Subject"].startswith("[Loa] Đề nghị gỡ bài: Sở Ngoại vụ") and list(
        attachments(mail)
    ) == ["GO-BAI.txt"]


def test_update_rewrites_the_package_and_mails_the_correction(
    tmp_path: Path, smtp: tuple[MailSink, int], article: ArticleView
) -> None:
    sink, port = smtp
    channel = make_channel(tmp_path, port)
    receipt = channel.publish(channel.render(article, {}), KEY)
    fixed = ArticleView(**{**article.__dict__, "body_html": "<p>Nội dung đã sửa.</p>"})
    updated = channel.update(receipt, channel.render(fixed, {}))
    assert updated.remote_id == receipt.remote_id
    assert "Nội dung đã sửa." in (Path(receipt.extra["package"]) / "bai-viet.html").read_text(
        "utf-8"
    )
    assert "BẢN SỬA ĐỔI" in (Path(receipt.extra["package"]) / "HUONG-DAN.txt").read_text("utf-8")
    assert sink.messages[-1]["Subject"].startswith("[Loa] Bài đã sửa") and len(sink.messages) == 2


SMTP_FAILURES = [
    # (case, settings overrides given the sink's port, expected error)
    ("server down", lambda port: {"smtp_port": closed_port()}, TransientError),
    ("recipient refused 550", lambda port: {"mail_to": [MailSink.REFUSED]}, RejectedError),
    ("STARTTLS not offered", lambda port: {"smtp_starttls": True}, AuthError),
]


@pytest.mark.parametrize(
    ("case", "overrides", "error"), SMTP_FAILURES, ids=[c[0] for c in SMTP_FAILURES]
)
def test_mail_failures_map_to_errors_and_leave_the_package_unmailed(
    tmp_path: Path,
    smtp: tuple[MailSink, int],
    article: ArticleView,
    case: str,
    overrides: Any,
    error: type[Exception],
) -> None:
    sink, port = smtp
    channel = make_channel(tmp_path, port, **overrides(port))
    with pytest.raises(error) as caught:
        channel.publish(channel.render(article, {}), KEY)
    assert type(caught.value) is error and not caught.value.message.isascii()  # type: ignore[attr-defined]
    [package] = (tmp_path / "goi-bai").iterdir()
    assert not (package / ".sent").exists() and sink.messages == []


def test_check_reports_folder_and_mail_server(tmp_path: Path, smtp: tuple[MailSink, int]) -> None:
    _, port = smtp
    assert make_channel(tmp_path, port).check().ok
    down = make_channel(tmp_path, closed_port()).check()
    assert not down.ok and "máy chủ thư" in down.detail
    (tmp_path / "la-tep").write_text("x")
    blocked = make_channel(tmp_path, port, folder=str(tmp_path / "la-tep" / "goi")).check()
    assert not blocked.ok and "không ghi được vào thư mục" in blocked.detail


def test_without_recipients_the_package_is_written_but_not_mailed(
    tmp_path: Path, smtp: tuple[MailSink, int], article: ArticleView
) -> None:
    sink, port = smtp
    channel = make_channel(tmp_path, port, mail_to=[])
    receipt = channel.publish(channel.render(article, {}), KEY)
    assert (Path(receipt.extra["package"]) / "bai-viet.html").exists() and sink.messages == []
    assert channel.check().ok
