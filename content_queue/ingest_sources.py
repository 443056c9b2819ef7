"""Reading what an editor dropped: one file, a folder or a .zip, safely (sizes, zip bombs, paths)."""

from __future__ import annotations

import hashlib
import logging
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from content_queue.ingest_rules import MB, IngestLimits, IngestRefusal

__all__ = ["ARTICLE_SUFFIXES", "Source", "check_zip", "decode_text", "open_source"]

log = logging.getLogger(__name__)

ARTICLE_SUFFIXES = (".docx", ".md", ".markdown", ".html", ".htm")
_CHUNK = 64 * 1024
# Bytes that Windows-1258 uses for combining tone marks (grave, acute, hook, tilde, dot below).
_CP1258_TONES = frozenset(b"\xcc\xec\xd2\xde\xf2")


@dataclass(frozen=True)
class Source:
    """The article file to read, the folder its relative images live in, and the content hash."""

    article: Path
    base: Path
    content_hash: str


def _unsupported(name: str) -> IngestRefusal:
    return IngestRefusal(
        "unsupported_type",
        f"Loa không đọc được loại tệp “{name}”.",
        "Hãy gửi bài dạng .docx (Word), .md (Markdown) hoặc .html, hoặc một thư mục/tệp .zip "
        "chứa đúng một tệp bài như vậy cùng các ảnh.",
    )


def _too_large(name: str, size: int, limit: int) -> IngestRefusal:
    return IngestRefusal(
        "file_too_large",
        f"Tệp “{name}” nặng {size / MB:.1f} MB, vượt giới hạn {limit / MB:.0f} MB.",
        "Hãy nén hoặc thu nhỏ ảnh trong bài, hoặc tách bài thành nhiều tệp nhỏ hơn.",
    )


def _bomb(name: str) -> IngestRefusal:
    return IngestRefusal(
        "zip_bomb",
        f"Tệp “{name}” khi giải nén lớn bất thường (nghi là “bom nén”), Loa không mở tệp này.",
        "Hãy tạo lại tệp từ bản gốc (lưu lại bằng Word hoặc nén lại thư mục bài) rồi gửi lại.",
    )


def check_zip(zf: zipfile.ZipFile, name: str, limits: IngestLimits) -> dict[str, bytes]:
    """Every member's bytes, by name, after checking paths, declared sizes and actual sizes."""
    infos = [i for i in zf.infolist() if not i.is_dir()]
    declared = sum(i.file_size for i in infos)
    if declared > limits.max_unzipped_bytes:
        raise _bomb(name)
    for info in infos:
        parts = PurePosixPath(info.filename.replace("\\", "/")).parts
        if info.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise IngestRefusal(
                "zip_unsafe_path",
                f"Tệp “{name}” chứa đường dẫn không an toàn: “{info.filename}”.",
                "Hãy nén lại thư mục bài bằng công cụ nén thông thường, không dùng đường dẫn tuyệt đối "
                "hoặc “..”.",
            )
        if info.file_size > MB and info.file_size > limits.max_zip_ratio * max(info.compress_size, 1):
            raise _bomb(name)
    members: dict[str, bytes] = {}
    total = 0
    for info in infos:
        chunks = []
        # Declared sizes can lie: count what really comes out and stop at the limit.
        with zf.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                total += len(chunk)
                if total > limits.max_unzipped_bytes:
                    raise _bomb(name)
                chunks.append(chunk)
        members[info.filename] = b"".join(chunks)
    return members


def _skip(rel: PurePosixPath) -> bool:
    return any(p.startswith((".", "~$")) or p == "__MACOSX" for p in rel.parts)


def _pick_article(files: dict[str, Path], name: str) -> Path:
    found = [files[k] for k in sorted(files) if PurePosixPath(k).suffix.lower() in ARTICLE_SUFFIXES]
    if len(found) != 1:
        listed = ", ".join(p.name for p in found) or "không có"
        raise IngestRefusal(
            "folder_article_count",
            f"“{name}” phải chứa đúng một tệp bài (.docx, .md hoặc .html); tìm thấy: {listed}.",
            "Hãy để mỗi bài trong một thư mục/tệp .zip riêng, gồm một tệp bài và các ảnh của bài.",
        )
    return found[0]


def open_source(path: Path, limits: IngestLimits, workdir: Path) -> Source:
    """The article to read from ``path``; zips are checked and unpacked into ``workdir``."""
    name = path.name
    if path.is_dir():
        files = {
            f.relative_to(path).as_posix(): f
            for f in path.rglob("*")
            if f.is_file() and not _skip(PurePosixPath(f.relative_to(path).as_posix()))
        }
        size = sum(f.stat().st_size for f in files.values())
        if size > limits.max_file_bytes:
            raise _too_large(name, size, limits.max_file_bytes)
        article = _pick_article(files, name)
        digest = hashlib.sha256()
        for key in sorted(files):
            digest.update(files[key].read_bytes())
        return Source(article, article.parent, digest.hexdigest())
    size = path.stat().st_size
    suffix = path.suffix.lower()
    if suffix != ".zip" and suffix not in ARTICLE_SUFFIXES:
        raise _unsupported(name)
    if size > limits.max_file_bytes:
        raise _too_large(name, size, limits.max_file_bytes)
    if suffix != ".zip":
        return Source(path, path.parent, hashlib.sha256(path.read_bytes()).hexdigest())
    try:
        with zipfile.ZipFile(path) as zf:
            members = check_zip(zf, name, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, zlib.error) as exc:
        raise IngestRefusal(
            "zip_corrupt",
            f"Tệp “{name}” không phải tệp .zip hợp lệ (tệp hỏng hoặc chép chưa xong).",
            "Hãy nén lại thư mục bài và gửi lại.",
        ) from exc
    digest = hashlib.sha256()
    files: dict[str, Path] = {}
    root = workdir.resolve()
    for key in sorted(members):
        digest.update(members[key])
        rel = PurePosixPath(key.replace("\\", "/"))
        if _skip(rel):
            continue
        target = (root / rel).resolve()
        target.relative_to(root)  # check_zip already refused traversal; belt and braces
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(members[key])
        files[rel.as_posix()] = target
    article = _pick_article(files, name)
    return Source(article, article.parent, digest.hexdigest())


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text of an article file, or a refusal naming the legacy encoding it seems to use."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    high = [b for b in data if b >= 0x80]
    tones = sum(1 for b in high if b in _CP1258_TONES)
    if high and tones == 0:
        guess = "tệp có vẻ dùng bảng mã TCVN3 (ABC) (hoặc Windows-1258)"
    else:
        guess = "tệp có vẻ dùng bảng mã Windows-1258 (hoặc TCVN3)"
    raise IngestRefusal(
        "not_utf8",
        f"Tệp “{name}” không phải văn bản UTF-8: {guess}.",
        f"{guess[0].upper()}{guess[1:]}; hãy lưu lại dưới dạng UTF-8 "
        "(trong Notepad: Lưu thành… → Mã hóa: UTF-8) hoặc chuyển mã bằng Unikey rồi gửi lại.",
    )
