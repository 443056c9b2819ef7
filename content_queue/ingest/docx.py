"""Stage 2, convert a Word (.docx) article to HTML with mammoth; embedded images are collected.

The package is checked as a zip first (entry count, sizes, ``word/document.xml`` bound), and
mammoth never reaches outside it (``external_file_access=False``): an image *linked* to a file or
a web address instead of embedded is refused with a hint to embed it.
"""

from __future__ import annotations

import io
import logging

import mammoth
from mammoth.docx.files import InvalidFileReferenceError

from content_queue.ingest.media import MediaCollector
from content_queue.ingest.rules import IngestLimits, IngestRefusal
from content_queue.ingest.sources import ZIP_ERRORS, read_zip_members

__all__ = ["docx_to_html"]

log = logging.getLogger(__name__)

# Word's "Title" style is the article title just like Heading 1.
_STYLE_MAP = "p[style-name='Title'] => h1:fresh\np[style-name='Subtitle'] => h2:fresh"
_DOCUMENT_XML = "word/document.xml"


def _corrupt(name: str) -> IngestRefusal:
    return IngestRefusal(
        "docx_corrupt",
        f"Tệp “{name}” không phải tệp Word (.docx) hợp lệ: tệp bị hỏng hoặc chép chưa xong.",
        "Hãy mở tệp bằng Word, chọn Lưu thành… → “Tài liệu Word (*.docx)” rồi gửi lại. "
        "Tệp .doc cũ cũng cần lưu lại thành .docx.",
    )


def _linked(name: str, target: str) -> IngestRefusal:
    return IngestRefusal(
        "image_linked",
        f"Tệp “{name}” có ảnh chỉ được liên kết tới “{target[:120]}”, không nằm trong tệp.",
        "Hãy chèn ảnh vào bài (Insert → Pictures → This Device), không dùng “Link to File” "
        "hay ảnh từ trang web, rồi lưu và gửi lại.",
    )


def docx_to_html(data: bytes, name: str, limits: IngestLimits, media: MediaCollector) -> str:
    """The document body as HTML; embedded images are checked and handed to ``media``."""
    try:
        members = read_zip_members(
            data,
            name,
            limits,
            member_limits={
                _DOCUMENT_XML: (
                    limits.max_docx_xml_bytes,
                    "docx_xml_too_large",
                    f"Nội dung chữ của tệp “{name}” (word/document.xml) khi giải nén nặng",
                )
            },
        )
    except ZIP_ERRORS as exc:
        raise _corrupt(name) from exc
    if _DOCUMENT_XML not in members:
        raise _corrupt(name)
    del members  # mammoth reads the (checked) package itself
    refusals: list[IngestRefusal] = []

    def convert_image(image: mammoth.documents.Image) -> dict[str, str]:
        alt = image.alt_text or ""
        try:
            with image.open() as fh:
                blob = fh.read(limits.max_image_bytes + 1)
        except InvalidFileReferenceError as exc:
            target = str(exc).split("'")[1] if "'" in str(exc) else "?"
            refusals.append(_linked(name, target))
            return {"src": "", "alt": alt}
        try:
            stored = media.add(blob, f"{alt or 'ảnh'} trong {name}", alt)
        except IngestRefusal as refusal:
            refusals.append(refusal)
            return {"src": "", "alt": alt}
        return {"src": stored.path, "alt": alt}

    try:
        result = mammoth.convert_to_html(
            io.BytesIO(data),
            convert_image=mammoth.images.img_element(convert_image),
            style_map=_STYLE_MAP,
            external_file_access=False,
        )
    except IngestRefusal:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # mammoth raises many kinds on a broken package
        log.warning("mammoth could not read %s: %s", name, type(exc).__name__)
        raise _corrupt(name) from exc
    if refusals:
        raise refusals[0]
    return str(result.value)
