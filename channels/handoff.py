"""Hand-off website channel: a ready-to-paste package for a webmaster whose CMS has no API.

``publish`` writes ``{folder}/{YYYY-MM-DD}-{slug}/`` (``bai-viet.html``, ``bai-viet.txt``, the
images, ``HUONG-DAN.txt``) and e-mails it to the webmaster; the delivery then waits in
``awaiting_url`` until a person records the public URL. The commands for that belong to the host,
not to this adapter: the host sets :attr:`HandoffChannel.confirm_instructions` (Loa's are
``loa confirm ID CHANNEL URL`` and ``/confirm ID CHANNEL URL``); without it the guide asks the
webmaster to send the address to Loa's administrators.

Never twice, in this order: the package is built in a hidden temporary folder whose last file is
``.loa-key`` (the idempotency key, written atomically), the folder is renamed into place in one
step, ``.sending`` is written, the mail is sent, and only after the SMTP server accepted it is
``.sent`` written. ``find_existing`` answers None for a package that was never handed to the mail
server (``publish`` then finishes the mailing without rebuilding it), and a receipt for one that
was mailed, or whose mail may have left (``.sending`` without ``.sent``: the connection dropped
after the message was sent, or the server did not answer in time; ``mailed: "maybe"``): the
webmaster is never sent the same package twice, and the package is in the shared folder either
way. A refusal by the mail server removes ``.sending``, so the package is mailed again later.
"""

from __future__ import annotations

import contextlib
import email.policy
import hashlib
import html
import logging
import mimetypes
import os
import shutil
import smtplib
import ssl
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path, PurePath
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import requests
from pydantic import SecretStr

from channels import render
from channels.base import (
    ArticleView,
    AuthError,
    BaseChannel,
    ChannelError,
    ChannelSettings,
    Check,
    Draft,
    Health,
    ImageRef,
    Receipt,
    RejectedError,
    TokenStore,
    TransientError,
)
from channels.wordpress import clean_html, replace_image_sources

__all__ = ["HandoffChannel", "HandoffSettings", "smtp_error"]

log = logging.getLogger(__name__)

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
KEY_FILE, SENT_FILE, RETRACT_FILE = ".loa-key", ".sent", ".retract-sent"
SENDING_FILE = ".sending"  # the mail may have left: written before sending, kept if unsure
HTML_FILE, TEXT_FILE, GUIDE_FILE, TAKEDOWN_FILE = (
    "bai-viet.html",
    "bai-viet.txt",
    "HUONG-DAN.txt",
    "GO-BAI.txt",
)
# Python's folding of long non-ASCII headers drops the space at a fold between encoded words
# ("Sở Ngoạivụ" in the webmaster's inbox); SMTP's own 998-character limit keeps a subject whole.
_MAIL_POLICY = email.policy.SMTP.clone(max_line_length=998)


class HandoffSettings(ChannelSettings):
    """``[channels.NAME]`` keys of a hand-off website channel."""

    type: str = "handoff"
    folder: str  # where packages are written (often a network share the webmaster can open)
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None  # LOA_CHANNELS__NAME__SMTP_PASSWORD
    mail_from: str = "loa@localhost"
    mail_to: list[str] = []  # the webmaster(s); empty = package only, no e-mail
    site_name: str = "trang thông tin điện tử"


def smtp_error(exc: BaseException, *, sending: bool) -> ChannelError:
    """The Loa error for an SMTP failure (``sending``: the message may have been transmitted)."""
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return AuthError(
            f"Máy chủ thư từ chối đăng nhập (mã {code}): kiểm tra smtp_username và smtp_password.",
            code=code,
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return AuthError(
            "Máy chủ thư không hỗ trợ STARTTLS hoặc đăng nhập như cấu hình yêu cầu.",
            code="smtp_not_supported",
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in exc.recipients.values()]
        if codes and all(c >= 500 for c in codes):
            return RejectedError(
                "Máy chủ thư từ chối địa chỉ người nhận: " + ", ".join(exc.recipients) + ".",
                code=codes[0],
            )
        return TransientError(
            "Máy chủ thư tạm thời chưa nhận người nhận.", code=codes[0] if codes else None
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        if exc.smtp_code >= 500:
            return RejectedError(
                f"Máy chủ thư từ chối thư (mã {exc.smtp_code}).", code=exc.smtp_code
            )
        return TransientError(
            f"Máy chủ thư tạm thời từ chối (mã {exc.smtp_code}).", code=exc.smtp_code
        )
    return TransientError(
        "Không gửi được thư: mất kết nối tới máy chủ thư.", may_have_posted=sending
    )


def _write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``path`` so that it either exists complete or not at all."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    os.replace(tmp, path)


def _image_names(images: Sequence[ImageRef]) -> dict[str, str]:
    """A readable, unique file name in the package for each image path."""
    names: dict[str, str] = {}
    for img in images:
        stem, suffix = (
            render.slugify(PurePath(img.path).stem) or "anh",
            PurePath(img.path).suffix.lower(),
        )
        name, n = stem + suffix, 2
        while name in names.values():
            name, n = f"{stem}-{n}{suffix}", n + 1
        names[img.path] = name
    return names


class HandoffChannel(BaseChannel[HandoffSettings]):
    """A website without API: folder + e-mail to the webmaster, URL recorded by a person."""

    Settings: ClassVar[type[HandoffSettings]] = HandoffSettings
    label: ClassVar[str] = "trang web"

    def __init__(
        self,
        name: str,
        settings: HandoffSettings,
        *,
        token_store: TokenStore | None = None,
        session: requests.Session | None = None,
    ):
        super().__init__(name, settings, token_store=token_store, session=session)
        self.folder = Path(settings.folder)
        # Set by the host: (article id, channel name) -> the lines telling a person how to record
        # the URL ("on the server: …", "in the chat: …"). This adapter never invents a command.
        self.confirm_instructions: Callable[[str, str], Sequence[str]] | None = None

    # ----- rendering ------------------------------------------------------------------------
    def render(self, article: ArticleView, links: Mapping[str, str]) -> Draft:
        """The package's content; image references point at the files beside ``bai-viet.html``."""
        title = " ".join(render.nfc(article.title).split())
        summary = " ".join(render.nfc(article.summary).split())
        images: list[ImageRef] = []
        for img in ((article.cover,) if article.cover else ()) + tuple(article.images):
            if all(img.path != seen.path for seen in images):
                images.append(img)
        names = _image_names(images)
        body = replace_image_sources(clean_html(article.body_html), images, names)
        text = render.html_to_text(body)
        checks = [
            Check("title", bool(title), "Tiêu đề trống." if not title else "Tiêu đề hợp lệ."),
            Check(
                "content",
                bool(text) or "<img" in body,
                "Nội dung bài trống sau khi làm sạch HTML."
                if not (text or "<img" in body)
                else "Nội dung hợp lệ.",
            ),
        ]
        slug = render.slugify(article.slug_hint or title) or f"bai-viet-{article.id}"
        return Draft(
            channel=self.name,
            title=title,
            text="\n\n".join(p for p in (title, summary, text) if p),
            html=body,
            images=tuple(images),
            checks=tuple(checks),
            payload={
                "slug": slug,
                "summary": summary,
                "article_id": article.id,
                "image_names": names,
                "topic_label": article.topic_label,
            },
            fingerprint=render.fingerprint(title, slug),
        )

    # ----- the package ----------------------------------------------------------------------
    def _find_package(self, key: str) -> Path | None:
        if not self.folder.is_dir():
            return None
        for path in sorted(self.folder.iterdir()):
            marker = path / KEY_FILE
            if (
                not path.name.startswith(".")
                and marker.is_file()
                and marker.read_text("utf-8") == key
            ):
                return path
        return None

    def _write_files(self, target: Path, draft: Draft, note: str = "") -> None:
        names: Mapping[str, str] = draft.payload.get("image_names", {})
        for img in draft.images:
            try:
                shutil.copyfile(img.path, target / names[img.path])
            except OSError as exc:
                raise RejectedError(f"Không đọc được tệp ảnh {PurePath(img.path).name}.") from exc
        summary = draft.payload.get("summary", "")
        page = (
            f'<!doctype html>\n<html lang="vi"><head><meta charset="utf-8"><title>{html.escape(draft.title)}'
            f"</title></head>\n<body>\n<h1>{html.escape(draft.title)}</h1>\n"
            + (f"<p><strong>{html.escape(summary)}</strong></p>\n" if summary else "")
            + draft.html
            + "\n</body></html>\n"
        )
        _write_atomic(target / HTML_FILE, page)
        _write_atomic(target / TEXT_FILE, draft.text + "\n")
        _write_atomic(target / GUIDE_FILE, self._guide(draft, note))

    def _guide(self, draft: Draft, note: str) -> str:
        article_id = draft.payload.get("article_id", "ID")
        cover = (
            draft.payload.get("image_names", {}).get(draft.images[0].path) if draft.images else None
        )
        lines = [
            f"HƯỚNG DẪN ĐĂNG BÀI LÊN {self.settings.site_name.upper()}",
            "",
            f"Bài: {draft.title}",
            f"Mã bài trong Loa: {article_id}",
            "",
        ]
        if note:
            lines += [note, ""]
        lines += [
            "1. Mở tệp bai-viet.html bằng trình duyệt (hoặc bai-viet.txt nếu trình soạn thảo chỉ nhận văn bản).",
            "2. Tạo bài mới trong trang quản trị, dán tiêu đề, phần tóm tắt (in đậm) và nội dung.",
            "3. Tải các ảnh trong thư mục này lên và chèn vào đúng vị trí"
            + (f"; ảnh đại diện: {cover}." if cover else "."),
            "4. Đăng bài và sao chép địa chỉ công khai (URL) của bài.",
            *self._confirm_steps(str(article_id)),
            "",
            "Khi chưa ghi nhận địa chỉ, Loa chưa đăng bài lên Facebook và Zalo vì các kênh này cần liên kết về trang.",
        ]
        return "\n".join(lines) + "\n"

    def _confirm_steps(self, article_id: str) -> list[str]:
        if self.confirm_instructions is None:
            return [
                f"5. Gửi địa chỉ đó cho quản trị viên Loa (mã bài {article_id}, kênh {self.name})."
            ]
        ways = list(self.confirm_instructions(article_id, self.name))
        return [
            "5. Ghi nhận địa chỉ vào Loa (thay URL bằng địa chỉ của bài) bằng một trong các cách:",
            *(f"   - {way}" for way in ways),
        ]

    def _build_package(self, draft: Draft, key: str) -> Path:
        """Write the package in a hidden folder, then move it into place in one step."""
        key_hash = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
        tmp = self.folder / f".tmp-{key_hash}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if tmp.exists():  # left by a crash before the rename: start again
                shutil.rmtree(tmp)
            tmp.mkdir()
            self._write_files(tmp, draft)
            _write_atomic(tmp / KEY_FILE, key)  # last: a package with a key is complete
            base = f"{datetime.now(LOCAL_TZ):%Y-%m-%d}-{draft.payload['slug']}"
            final, n = self.folder / base, 2
            while final.exists():
                final, n = self.folder / f"{base}-{n}", n + 1
            os.rename(tmp, final)
        except ChannelError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        except OSError as exc:
            raise TransientError(f"Không ghi được gói bài vào thư mục {self.folder}.") from exc
        log.info("handoff package %s written", final.name)
        return final

    # ----- mail -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _smtp(self, *, sending: bool = False) -> Iterator[smtplib.SMTP]:
        s = self.settings
        ready = False  # until the session is open, nothing can have been sent
        try:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.timeout_seconds)
            try:
                smtp.ehlo()
                if s.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if s.smtp_username:
                    password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                    smtp.login(s.smtp_username, password)
                ready = True
                yield smtp
            finally:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    smtp.quit()
        except (smtplib.SMTPException, OSError) as exc:
            log.warning(
                "handoff smtp %s:%s failed: %s", s.smtp_host, s.smtp_port, type(exc).__name__
            )
            raise smtp_error(exc, sending=sending and ready) from exc

    def _mail(self, package: Path, subject: str, body: str, key: str, files: Sequence[str]) -> None:
        """Send ``files`` of ``package`` to the webmaster (nothing when no one is configured)."""
        if not self.settings.mail_to:
            log.info("handoff %s: no mail_to, package only", package.name)
            return
        msg = EmailMessage(policy=_MAIL_POLICY)
        msg["Subject"] = subject
        msg["From"] = self.settings.mail_from
        msg["To"] = ", ".join(self.settings.mail_to)
        msg["Date"] = formatdate(localtime=True)
        domain = self.settings.mail_from.rpartition("@")[2] or "loa.local"
        msg["Message-ID"] = f"<loa-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:24]}@{domain}>"
        msg.set_content(body)
        for name in files:
            data = (package / name).read_bytes()
            if name.endswith((".html", ".txt")):
                msg.add_attachment(
                    data.decode("utf-8"),
                    subtype="html" if name.endswith(".html") else "plain",
                    filename=name,
                )
            else:
                main, _, sub = (
                    mimetypes.guess_type(name)[0] or "application/octet-stream"
                ).partition("/")
                msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
        with self._smtp(sending=True) as smtp:
            refused = smtp.send_message(msg)
        if refused:
            log.warning("handoff mail refused for %s", ", ".join(refused))

    def _receipt(self, package: Path, url: str | None = None) -> Receipt:
        return Receipt(
            remote_id=package.name,
            url=url,
            extra={
                "awaiting_url": url is None,
                "package": str(package),
                "mailed": True if (package / SENT_FILE).exists() else "maybe",
            },
        )

    def _send_package(
        self, package: Path, draft: Draft, key: str, *, subject: str, intro: str
    ) -> None:
        names = list(draft.payload.get("image_names", {}).values())
        body = (
            f"Kính gửi quản trị {self.settings.site_name},\n\n{intro}\n\n{draft.title}\n\n"
            + (package / GUIDE_FILE).read_text("utf-8")
            + f"\nGói bài cũng nằm trong thư mục: {package}\n\nTrân trọng,\nLoa\n"
        )
        _write_atomic(package / SENDING_FILE, datetime.now(LOCAL_TZ).isoformat())
        try:
            self._mail(package, subject, body, key, [HTML_FILE, TEXT_FILE, *names])
        except ChannelError as exc:
            if not exc.may_have_posted:  # the server said no: nothing left, send it again later
                (package / SENDING_FILE).unlink(missing_ok=True)
            raise
        _write_atomic(package / SENT_FILE, datetime.now(LOCAL_TZ).isoformat())
        (package / SENDING_FILE).unlink(missing_ok=True)

    # ----- the protocol ---------------------------------------------------------------------
    def publish(self, draft: Draft, idempotency_key: str) -> Receipt:
        """Write the package (once) and mail it (until the mail server accepted it)."""
        package = self._find_package(idempotency_key) or self._build_package(draft, idempotency_key)
        if not (package / SENT_FILE).exists():
            self._send_package(
                package,
                draft,
                idempotency_key,
                subject=f"[Loa] Bài cần đăng lên {self.settings.site_name}: {draft.title}",
                intro="Loa gửi bài đã được lãnh đạo duyệt, đề nghị đăng lên trang:",
            )
        return self._receipt(package)

    def find_existing(self, draft: Draft, idempotency_key: str, since: datetime) -> Receipt | None:
        """The receipt of a package built *and* mailed for this key; None otherwise."""
        package = self._find_package(idempotency_key)
        if package is None:
            return None
        if not (package / SENT_FILE).exists() and not (package / SENDING_FILE).exists():
            return None  # built, never mailed: publish finishes it
        return self._receipt(package)

    def _package_of(self, receipt: Receipt) -> Path:
        return Path(receipt.extra.get("package") or self.folder / receipt.remote_id)

    def update(self, receipt: Receipt, draft: Draft) -> Receipt:
        """Rewrite the package in place and ask the webmaster to correct the published article."""
        package = self._package_of(receipt)
        key = (
            (package / KEY_FILE).read_text("utf-8")
            if (package / KEY_FILE).exists()
            else receipt.remote_id
        )
        stamp = f"{datetime.now(LOCAL_TZ):%H:%M %d/%m/%Y}"
        try:
            package.mkdir(parents=True, exist_ok=True)
            self._write_files(
                package,
                draft,
                note=f"BẢN SỬA ĐỔI lúc {stamp}: đề nghị cập nhật bài đã đăng"
                + (f" tại {receipt.url}." if receipt.url else "."),
            )
        except OSError as exc:
            raise TransientError(f"Không ghi được gói bài vào thư mục {package}.") from exc
        self._send_package(
            package,
            draft,
            key + f"#update-{stamp}",
            subject=f"[Loa] Bài đã sửa, đề nghị cập nhật: {draft.title}",
            intro="Bài đã đăng có bản sửa đổi, đề nghị cập nhật trên trang:",
        )
        return self._receipt(package, receipt.url)

    def retract(self, receipt: Receipt) -> None:
        """Ask the webmaster, by file and e-mail, to take the article down (once)."""
        package = self._package_of(receipt)
        if (package / RETRACT_FILE).exists():
            return
        text_file = package / TEXT_FILE
        title = (
            text_file.read_text("utf-8").split("\n", 1)[0]
            if text_file.exists()
            else receipt.remote_id
        )
        where = receipt.url or "(địa chỉ chưa được ghi nhận trong Loa)"
        note = (
            f"ĐỀ NGHỊ GỠ BÀI KHỎI {self.settings.site_name.upper()}\n\nBài: {title}\nĐịa chỉ: {where}\n\n"
            "Lãnh đạo đã quyết định gỡ bài này. Đề nghị gỡ bài (chuyển về bản nháp hoặc xoá) trên trang "
            "và các trang liên kết, sau đó báo lại cho bộ phận phụ trách.\n"
        )
        try:
            package.mkdir(parents=True, exist_ok=True)
            _write_atomic(package / TAKEDOWN_FILE, note)
        except OSError as exc:
            raise TransientError(f"Không ghi được tệp đề nghị gỡ bài vào {package}.") from exc
        self._mail(
            package,
            f"[Loa] Đề nghị gỡ bài: {title}",
            f"Kính gửi quản trị {self.settings.site_name},\n\n{note}\nTrân trọng,\nLoa\n",
            f"{receipt.remote_id}#retract",
            [TAKEDOWN_FILE],
        )
        _write_atomic(package / RETRACT_FILE, datetime.now(LOCAL_TZ).isoformat())

    def fetch_reach(self, receipts: Sequence[Receipt]) -> dict[str, dict[str, Any]]:
        """No metric: a site without API serves no counts (unavailable, never zero)."""
        return {r.remote_id: {} for r in receipts}

    def check(self) -> Health:
        """Whether the package folder is writable and the mail server answers."""
        problems = []
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe = self.folder / f".loa-check-{os.getpid()}"
            probe.write_text("ok", "utf-8")
            probe.unlink()
        except OSError:
            problems.append(f"không ghi được vào thư mục {self.folder}")
        if self.settings.mail_to:
            try:
                with self._smtp() as smtp:
                    smtp.noop()
            except ChannelError as exc:
                problems.append(exc.message.rstrip("."))
        if problems:
            return Health(ok=False, detail="Kênh bàn giao: " + "; ".join(problems) + ".")
        mail = (
            f"máy chủ thư {self.settings.smtp_host} trả lời"
            if self.settings.mail_to
            else "chưa cấu hình người nhận (mail_to) nên chỉ ghi thư mục, không gửi thư"
        )
        return Health(
            ok=True,
            detail=f"Thư mục {self.folder} ghi được; {mail}.",
            account=", ".join(self.settings.mail_to) or None,
        )
