"""Image checks (real type by content, size and pixel limits) and the per-article media folder."""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from content_queue.ingest_rules import IngestLimits, IngestRefusal
from content_queue.models import ParsedImage

__all__ = ["MediaStore"]

log = logging.getLogger(__name__)

_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"),
            "GIF": ("image/gif", "gif"), "WEBP": ("image/webp", "webp")}


class MediaStore:
    """Checks images and copies the good ones into ``folder`` (one folder per article)."""

    def __init__(self, folder: Path, limits: IngestLimits) -> None:
        self.folder = folder
        self.limits = limits
        self.images: list[ParsedImage] = []
        self._by_digest: dict[str, ParsedImage] = {}

    def paths(self) -> set[str]:
        return {image.path for image in self.images}

    def add(self, data: bytes, name: str, caption: str = "") -> ParsedImage:
        """The checked image written to the media folder; refuses anything that is not a good image."""
        mb = self.limits.max_image_bytes / (1024 * 1024)
        if len(data) > self.limits.max_image_bytes:
            raise IngestRefusal(
                "image_too_large",
                f"Ảnh “{name}” nặng {len(data) / (1024 * 1024):.1f} MB, vượt giới hạn {mb:.0f} MB.",
                "Hãy nén ảnh hoặc giảm kích thước ảnh rồi gửi lại.",
            )
        digest = hashlib.sha256(data).hexdigest()
        if digest in self._by_digest:
            return self._by_digest[digest]
        fmt, width, height = self._inspect(data, name)
        mime, ext = _FORMATS[fmt]
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"anh-{len(self.images) + 1:02d}.{ext}"
        target.write_bytes(data)
        image = ParsedImage(str(target.resolve()), mime, width, height, len(data), caption)
        self.images.append(image)
        self._by_digest[digest] = image
        return image

    def _inspect(self, data: bytes, name: str) -> tuple[str, int, int]:
        not_image = IngestRefusal(
            "not_image",
            f"Tệp “{name}” không phải là ảnh hợp lệ (nội dung không đọc được như ảnh).",
            "Hãy dùng ảnh JPG, PNG, GIF hoặc WEBP thật, không đổi đuôi tệp khác thành ảnh.",
        )
        too_big = IngestRefusal(
            "image_too_many_pixels",
            f"Ảnh “{name}” có quá nhiều điểm ảnh (giới hạn {self.limits.max_image_pixels:,} điểm ảnh).",
            "Hãy thu nhỏ ảnh (ví dụ về chiều rộng 2000 px) rồi gửi lại.",
        )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data)) as img:
                    fmt, (width, height) = img.format, img.size
                    if width * height > self.limits.max_image_pixels:
                        raise too_big
                    img.verify()
        except Image.DecompressionBombError as exc:
            raise too_big from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise not_image from exc
        if fmt not in _FORMATS:
            raise IngestRefusal(
                "image_type",
                f"Ảnh “{name}” có định dạng {fmt}, Loa chỉ nhận JPG, PNG, GIF và WEBP.",
                "Hãy chuyển ảnh sang JPG hoặc PNG rồi gửi lại.",
            )
        return fmt, width, height
