"""Pictures beside a Markdown or HTML file: gather them into a folder the pipeline reads.

Writing Markdown, an editor keeps ``bai.md`` and ``anh.png`` side by side and writes
``cover: anh.png`` or ``![Ảnh](anh.png)``. ``loa submit bai.md`` (a person naming a file on their
own disk) takes the pictures the file names from its folder; the inbox keeps refusing them for a
lone file, since its watcher takes each dropped entry on its own. The web page's folder upload
arrives as files with relative paths and is written to a folder with ``write_upload_folder``.

What is taken is bounded and plain: only names the article uses, relative, without ``..`` or an
absolute part, every part a real folder or a regular file (no link followed, ``O_NOFOLLOW``), an
image suffix, a picture by its content (PIL reads the header), within the file and picture
limits. Anything else is left out and the pipeline then says which picture it could not find.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import stat
from collections.abc import Iterable
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from content_queue.ingest.rules import IngestLimits, IngestRefusal, printable_name
from content_queue.ingest.sources import read_regular_file

__all__ = ["IMAGE_SUFFIXES", "gather_beside", "picture_names", "write_upload_folder"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp")
TEXT_SUFFIXES = (".md", ".markdown", ".html", ".htm")
_MD_IMAGE = re.compile(r"!\[[^\]\n]{0,500}\]\(\s*<?([^)\s>]{1,500})")
_HTML_IMAGE = re.compile(r"""<img\b[^>]{0,2000}?\bsrc\s*=\s*["']?([^"'\s>]{1,500})""", re.I)
_COVER = re.compile(
    r"^\s*(?:cover|ảnh bìa|anh-bia)\s*:\s*[\"']?([^\"'\n]{1,500}?)[\"']?\s*$", re.I | re.M
)
_FRONT_CHARS = 16_000  # the front matter is at the top; ``cover:`` is looked for there only


def picture_names(text: str) -> list[str]:
    """The local picture names the article uses (cover first), as written, without duplicates."""
    found = [m.group(1) for m in _COVER.finditer(text[:_FRONT_CHARS])]
    found += [m.group(1) for m in _MD_IMAGE.finditer(text)]
    found += [m.group(1) for m in _HTML_IMAGE.finditer(text)]
    out: list[str] = []
    for name in found:
        name = name.strip()
        if name and name not in out and "://" not in name and not name.startswith("//"):
            out.append(name)
    return out


def _safe_relative(name: str) -> str | None:
    """``name`` as a clean relative POSIX path, or None (absolute, ``..``, drive, NUL)."""
    raw = name.replace("\\", "/").split("#", 1)[0].split("?", 1)[0]
    if not raw or raw.startswith("/") or "\x00" in raw or ":" in raw.split("/", 1)[0]:
        return None
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def _plain_path(folder: Path, rel: str) -> Path | None:
    """``folder/rel`` if every part under ``folder`` is a real folder and the last a regular
    file (no symbolic link anywhere), else None."""
    current = folder
    parts = rel.split("/")
    for i, part in enumerate(parts):
        current = current / part
        try:
            st = os.lstat(current)
        except OSError:
            return None
        last = i == len(parts) - 1
        if (last and not stat.S_ISREG(st.st_mode)) or (not last and not stat.S_ISDIR(st.st_mode)):
            return None
    return current


def _is_picture(data: bytes) -> bool:
    import io

    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.format in ("JPEG", "PNG", "GIF", "WEBP")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return False


def gather_beside(article: Path, limits: IngestLimits, into: Path) -> Path | None:
    """A folder under ``into`` holding ``article`` and the pictures beside it that it uses, or
    None when it uses none (then the file is taken alone, as before)."""
    if article.suffix.lower() not in TEXT_SUFFIXES:
        return None
    data = read_regular_file(article, limits.max_file_bytes, printable_name(article.name))
    text = data.decode("utf-8", errors="replace")
    folder = article.parent
    room = limits.max_file_bytes - len(data)
    taken: dict[str, bytes] = {}
    for name in picture_names(text):
        rel = _safe_relative(name)
        if rel is None or rel in taken or not rel.lower().endswith(IMAGE_SUFFIXES):
            continue
        if len(taken) >= limits.max_images:
            break
        path = _plain_path(folder, rel)
        if path is None:
            continue
        try:
            picture = read_regular_file(path, min(room, limits.max_image_bytes), rel)
        except (IngestRefusal, OSError):
            continue  # too big or not plain: the pipeline names the picture it could not take
        if _is_picture(picture):
            taken[rel] = picture
            room -= len(picture)
    if not taken:
        return None
    target = into / (article.stem or "bai-viet")
    target.mkdir(parents=True)
    (target / article.name).write_bytes(data)
    for rel, picture in taken.items():
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(picture)
    return target


def write_upload_folder(
    files: Iterable[tuple[str, bytes]], limits: IngestLimits, into: Path, name: str
) -> Path:
    """The files of a folder upload (relative path, bytes) written under ``into/name``; refuses
    a path with ``..``, an absolute or empty part, too many files or too many bytes."""
    target = into / name
    target.mkdir(parents=True)
    total = count = 0
    try:
        for raw, data in files:
            count += 1
            total += len(data)
            if count > limits.max_zip_entries or total > limits.max_file_bytes:
                raise IngestRefusal(
                    "folder_too_large",
                    f"Thư mục “{printable_name(name)}” có quá nhiều tệp hoặc quá nặng.",
                    "Hãy chỉ để trong thư mục một tệp bài và các ảnh của bài.",
                )
            rel = _safe_relative(raw)
            if rel is None or posixpath.normpath(rel) != rel:
                raise IngestRefusal(
                    "folder_unsafe_path",
                    f"Thư mục tải lên có đường dẫn không an toàn: “{printable_name(raw)}”.",
                    "Hãy chọn thư mục bài bình thường, không dùng đường dẫn “..”.",
                )
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            with dest.open("wb") as out:
                out.write(data)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target
