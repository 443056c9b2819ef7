"""Stage 4, collect media: every picture the article shows, checked and copied to its media folder.

Pictures come embedded in the .docx (handed over by the converter) or as members of the folder or
.zip next to the article. A picture on the web (``http(s)://``, ``//host``) is refused with a hint
to embed it: Loa publishes only pictures it holds, never a hotlink to someone else's server.
"""

from __future__ import annotations

import hashlib
import html
import io
import logging
import os
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote

from PIL import Image, UnidentifiedImageError

from content_queue.ingest.rules import IngestLimits, IngestRefusal, over_limit, printable_name
from content_queue.ingest.sources import Source, resolve_member
from content_queue.models import ParsedImage

__all__ = [
    "STAGING",
    "MediaCollector",
    "collect_images",
    "pick_cover",
    "promote_media",
    "sweep_media",
]

# Pictures of a file being parsed wait here (one folder per file) until its article is accepted.
STAGING = ".dang-xu-ly"

log = logging.getLogger(__name__)

_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}


class MediaCollector:
    """Checks images and copies the good ones for ``folder`` (one folder per article).

    With ``write_to`` the files are written there (a staging folder) while the article names
    their place in ``folder``: they are moved there only once the article is accepted
    (:func:`promote_media`), so a refused upload leaves nothing in the media folder."""

    def __init__(self, folder: Path, limits: IngestLimits, write_to: Path | None = None) -> None:
        self.folder = folder
        self.write_to = write_to or folder
        self.limits = limits
        self.images: list[ParsedImage] = []
        self._by_digest: dict[str, ParsedImage] = {}

    def paths(self) -> set[str]:
        return {image.path for image in self.images}

    def add(self, data: bytes, name: str, caption: str = "") -> ParsedImage:
        """The checked image written to the media folder; refuses anything that is not a good image."""
        name = printable_name(name)
        if len(data) > self.limits.max_image_bytes:
            raise over_limit(
                "image_too_large",
                f"Ảnh “{name}” nặng",
                len(data),
                self.limits.max_image_bytes,
                "MB",
                "Hãy nén ảnh hoặc giảm kích thước ảnh rồi gửi lại.",
            )
        digest = hashlib.sha256(data).hexdigest()
        if digest in self._by_digest:
            return self._by_digest[digest]
        if len(self.images) >= self.limits.max_images:
            raise over_limit(
                "too_many_images",
                "Bài có hơn",
                len(self.images),
                self.limits.max_images,
                "ảnh",
                "Hãy chọn những ảnh tiêu biểu nhất, bỏ bớt ảnh rồi gửi lại.",
            )
        fmt, width, height = self._inspect(data, name)
        mime, ext = _FORMATS[fmt]
        self.write_to.mkdir(parents=True, exist_ok=True)
        file_name = f"anh-{len(self.images) + 1:02d}.{ext}"
        (self.write_to / file_name).write_bytes(data)
        target = (self.folder / file_name).resolve()
        image = ParsedImage(str(target), mime, width, height, len(data), caption)
        self.images.append(image)
        self._by_digest[digest] = image
        return image

    def _inspect(self, data: bytes, name: str) -> tuple[str, int, int]:
        not_image = IngestRefusal(
            "not_image",
            f"Tệp “{name}” không phải là ảnh hợp lệ (nội dung không đọc được như ảnh).",
            "Hãy dùng ảnh JPG, PNG, GIF hoặc WEBP thật, không đổi đuôi tệp khác thành ảnh.",
        )

        def too_big(pixels: int) -> IngestRefusal:
            return over_limit(
                "image_too_many_pixels",
                f"Ảnh “{name}” có",
                pixels,
                self.limits.max_image_pixels,
                "điểm ảnh",
                "Hãy thu nhỏ ảnh (ví dụ về chiều rộng 2000 px) rồi gửi lại.",
            )

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data)) as img:
                    fmt, (width, height) = img.format, img.size
                    if width * height > self.limits.max_image_pixels:
                        raise too_big(width * height)
                    img.verify()
        except Image.DecompressionBombError as exc:
            raise too_big(self.limits.max_image_pixels + 1) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise not_image from exc
        if fmt not in _FORMATS:
            raise IngestRefusal(
                "image_type",
                f"Ảnh “{name}” có định dạng {fmt}, Loa chỉ nhận JPG, PNG, GIF và WEBP.",
                "Hãy chuyển ảnh sang JPG hoặc PNG rồi gửi lại.",
            )
        return fmt, width, height


def _remote(src: str) -> IngestRefusal:
    return IngestRefusal(
        "image_remote",
        f"Bài dùng ảnh lấy từ trang web khác: “{printable_name(src, 100)}”.",
        "Loa chỉ đăng ảnh nằm trong bài: hãy tải ảnh về, chèn vào tệp Word hoặc đặt ảnh cùng thư "
        "mục/tệp .zip với bài (ví dụ ![Ảnh](anh.jpg)) rồi gửi lại.",
    )


def _missing(src: str, source: Source) -> IngestRefusal:
    where = (
        "Hãy đặt ảnh cùng thư mục với tệp bài (hoặc trong tệp .zip) và ghi đúng tên ảnh."
        if source.files
        else "Một tệp bài lẻ không mang theo ảnh: hãy gửi thư mục hoặc tệp .zip gồm tệp bài và "
        "các ảnh, hoặc chèn ảnh vào tệp Word."
    )
    return IngestRefusal(
        "image_missing",
        f"Không tìm thấy ảnh “{printable_name(src, 100)}” được dùng trong bài.",
        where,
    )


def _is_remote(src: str) -> bool:
    lowered = src.strip().lower()
    return lowered.startswith(("http://", "https://", "//", "\\\\", "/\\", "\\/"))


def _img_tags(body: str) -> Iterator[tuple[int, int, dict[str, str]]]:
    """(start, end, attributes) of each ``<img>`` in sanitised HTML, in one pass over ``body``.

    nh3's output is canonical (lower-case names, values in double quotes with ``"`` escaped), so
    a tag ends at the first ``>`` outside quotes.
    """
    pos = 0
    while (start := body.find("<img", pos)) >= 0:
        i = start + 4
        attrs: dict[str, str] = {}
        n = len(body)
        while i < n and body[i] != ">":
            if body[i] in " /\t\n":
                i += 1
                continue
            eq = i
            while eq < n and body[eq] not in "=> \t\n/":
                eq += 1
            if eq == i:  # a stray "=" or quote: step over it
                i += 1
                continue
            key = body[i:eq]
            if eq < n and body[eq] == "=" and eq + 1 < n and body[eq + 1] == '"':
                close = body.find('"', eq + 2)
                if close < 0:
                    close = n
                attrs[key] = html.unescape(body[eq + 2 : close])
                i = close + 1
            else:
                attrs.setdefault(key, "")
                i = eq
        end = min(i + 1, n)
        yield start, end, attrs
        pos = end


def _image_for(src: str, caption: str, source: Source, media: MediaCollector) -> ParsedImage:
    by_path = {image.path: image for image in media.images}
    if src in by_path:
        return by_path[src]
    if _is_remote(src):
        raise _remote(src)
    member = resolve_member(source, unquote(src))
    if member is None:
        raise _missing(src, source)
    return media.add(source.files[member], member, caption)


def collect_images(body: str, source: Source, media: MediaCollector) -> str:
    """``body`` with every picture checked and pointing at its copy in the media folder."""
    out: list[str] = []
    pos = 0
    for start, end, attrs in _img_tags(body):
        out.append(body[pos:start])
        pos = end
        src = attrs.get("src", "").strip()
        alt = attrs.get("alt", "")
        if not src:
            continue  # the sanitiser removed a src it did not allow (data:, javascript:…)
        image = _image_for(src, alt, source, media)
        out.append(
            f'<img src="{html.escape(image.path, quote=True)}" '
            f'alt="{html.escape(alt, quote=True)}">'
        )
    out.append(body[pos:])
    return "".join(out)


def pick_cover(value: object, source: Source, media: MediaCollector) -> ParsedImage | None:
    """The front matter's ``cover`` (a picture of the source), else the first picture."""
    if value:
        return _image_for(str(value).strip(), "", source, media)
    return media.images[0] if media.images else None


def promote_media(staging: Path, media_dir: Path) -> int:
    """Move each article folder of ``staging`` into ``media_dir`` (its pictures replace any
    stale copy), then remove ``staging``; how many pictures moved."""
    moved = 0
    if staging.is_dir():
        for folder in staging.iterdir():
            if not folder.is_dir() or folder.is_symlink():
                continue
            final = media_dir / folder.name
            final.mkdir(parents=True, exist_ok=True)
            for picture in folder.iterdir():
                if picture.is_file() and not picture.is_symlink():
                    os.replace(picture, final / picture.name)
                    moved += 1
    shutil.rmtree(staging, ignore_errors=True)
    return moved


def sweep_media(
    media_dir: Path, in_use: Callable[[], set[Path]], *, older_than: float, now: float | None = None
) -> list[Path]:
    """Remove what no article shows: staging folders left by a stopped process, and article
    folders no article names (e.g. a replaced revision), once untouched for ``older_than``
    seconds. ``in_use`` gives the folders the articles name; it is read after the listing, so
    a folder promoted meanwhile is never taken for an orphan. Returns what was removed."""
    if not media_dir.is_dir():
        return []
    now = time.time() if now is None else now

    def old(path: Path) -> bool:
        try:
            return now - path.lstat().st_mtime > older_than
        except OSError:
            return False

    staging = media_dir / STAGING
    candidates = [p for p in staging.iterdir() if old(p)] if staging.is_dir() else []
    folders = [
        p for p in media_dir.iterdir() if p.name != STAGING and p.is_dir() and not p.is_symlink()
    ]
    # Matched by folder name (the content hash): a workspace moved elsewhere keeps its pictures.
    used = {p.name for p in in_use()}
    candidates += [p for p in folders if p.name not in used and old(p)]
    for path in candidates:
        shutil.rmtree(path, ignore_errors=True)
    return candidates
