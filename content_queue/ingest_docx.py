"""Word (.docx) to HTML with mammoth; embedded images go through the media checks."""

from __future__ import annotations

import io
import logging
import zipfile
import zlib
from pathlib import Path

import mammoth

from content_queue.ingest_media import MediaStore
from content_queue.ingest_rules import IngestLimits, IngestRefusal
from content_queue.ingest_sources import check_zip

__all__ = ["docx_to_html"]

log = logging.getLogger(__name__)

# Word's "Title" style is the article title just like Heading 1.
_STYLE_MAP = "p[style-name='Title'] => h1:fresh\np[style-name='Subtitle'] => h2:fresh"


def _corrupt(name: str) -> IngestRefusal:
    return IngestRefusal(
        "docx_corrupt",
        f"Tệp “{name}” không phải tệp Word (.docx) hợp lệ: tệp bị hỏng hoặc chép chưa xong.",
        "Hãy mở tệp bằng Word, chọn Lưu thành… → “Tài liệu Word (*.docx)” rồi gửi lại. "
        "Tệp .doc cũ cũng cần lưu lại thành .docx.",
    )


def docx_to_html(path: Path, limits: IngestLimits, media: MediaStore) -> str:
    """The document body as HTML; images are checked and written to ``media``."""
    name = path.name
    try:
        with zipfile.ZipFile(path) as zf:
            members = check_zip(zf, name, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, zlib.error) as exc:
        raise _corrupt(name) from exc
    if "word/document.xml" not in members:
        raise _corrupt(name)
    refusals: list[IngestRefusal] = []

    def convert_image(image: mammoth.documents.Image) -> dict[str, str]:
        alt = image.alt_text or ""
        with image.open() as fh:
            data = fh.read()
        try:
            stored = media.add(data, f"{alt or 'ảnh'} trong {name}", alt)
        except IngestRefusal as refusal:
            refusals.append(refusal)
            return {"src": "", "alt": alt}
        return {"src": stored.path, "alt": alt}

    try:
        result = mammoth.convert_to_html(
            io.BytesIO(path.read_bytes()),
            convert_image=mammoth.images.img_element(convert_image),
            style_map=_STYLE_MAP,
        )
    except IngestRefusal:
        raise
    except Exception as exc:  # mammoth raises many kinds on a broken package
        log.warning("mammoth could not read %s: %s", name, exc)
        raise _corrupt(name) from exc
    if refusals:
        raise refusals[0]
    return result.value
