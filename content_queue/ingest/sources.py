"""Stage 1, open the source: one file, a folder or a .zip, read into memory within bounds.

Only regular files are read: a symlink, FIFO, device or socket is refused wherever it is (the
dropped entry itself, inside a folder, inside a zip), and files are opened with ``O_NOFOLLOW``
and ``O_NONBLOCK`` and checked again with ``fstat`` after opening, so a name swapped for a symlink
or a FIFO between looking and opening cannot be followed or block. Nothing is written to disk.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import posixpath
import stat
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from content_queue.ingest.rules import MB, IngestLimits, IngestRefusal, over_limit, printable_name

__all__ = [
    "ARTICLE_SUFFIXES",
    "ZIP_ERRORS",
    "Source",
    "decode_text",
    "open_source",
    "read_regular_file",
    "read_zip_members",
]

ARTICLE_SUFFIXES = (".docx", ".md", ".markdown", ".html", ".htm")
_CHUNK = 64 * 1024
# Bytes that Windows-1258 uses for combining tone marks (grave, acute, hook, tilde, dot below).
_CP1258_TONES = frozenset(b"\xcc\xec\xd2\xde\xf2")
_KIND_VI = {
    stat.S_IFLNK: "lối tắt (symlink)",
    stat.S_IFIFO: "ống dẫn (FIFO)",
    stat.S_IFCHR: "thiết bị",
    stat.S_IFBLK: "thiết bị",
    stat.S_IFSOCK: "socket",
}


@dataclass(frozen=True)
class Source:
    """What was dropped, read: the article file's bytes and every other member by relative path."""

    name: str  # the dropped entry's name, printable
    article_path: str  # relative POSIX path of the article file inside the source
    article: bytes
    files: Mapping[str, bytes] = field(default_factory=dict)
    content_hash: str = ""

    @property
    def article_name(self) -> str:
        return PurePosixPath(self.article_path).name


def _unsupported(name: str) -> IngestRefusal:
    return IngestRefusal(
        "unsupported_type",
        f"Loa không đọc được loại tệp “{name}”.",
        "Hãy gửi bài dạng .docx (Word), .md (Markdown) hoặc .html, hoặc một thư mục/tệp .zip "
        "chứa đúng một tệp bài như vậy cùng các ảnh.",
    )


def _too_large(name: str, size: int, limit: int) -> IngestRefusal:
    return over_limit(
        "file_too_large",
        f"Tệp “{name}” nặng",
        size,
        limit,
        "MB",
        "Hãy nén hoặc thu nhỏ ảnh trong bài, hoặc tách bài thành nhiều tệp nhỏ hơn.",
    )


def _bomb(name: str) -> IngestRefusal:
    return IngestRefusal(
        "zip_bomb",
        f"Tệp “{name}” khi giải nén lớn bất thường (nghi là “bom nén”), Loa không mở tệp này.",
        "Hãy tạo lại tệp từ bản gốc (lưu lại bằng Word hoặc nén lại thư mục bài) rồi gửi lại.",
    )


def _not_regular(where: str, kind: str) -> IngestRefusal:
    return IngestRefusal(
        "not_regular_file",
        f"“{where}” là {kind}, không phải tệp thông thường; Loa không đọc loại này.",
        "Hãy chép chính tệp bài (không phải lối tắt hay tệp đặc biệt) vào thư mục nhận bài.",
    )


def _kind(mode: int) -> str:
    return _KIND_VI.get(stat.S_IFMT(mode), "tệp đặc biệt")


def _unsafe_path(name: str, member: str) -> IngestRefusal:
    return IngestRefusal(
        "zip_unsafe_path",
        f"Tệp “{name}” chứa đường dẫn không an toàn: “{printable_name(member)}”.",
        "Hãy nén lại thư mục bài bằng công cụ nén thông thường, không dùng đường dẫn tuyệt đối, "
        "“.” hoặc “..”.",
    )


def read_regular_file(path: Path, limit: int, shown: str) -> bytes:
    """The bytes of ``path`` if it is a regular file (never through a symlink) of ≤ ``limit`` bytes."""
    try:
        fd = os.open(
            path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        )
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _not_regular(shown, _KIND_VI[stat.S_IFLNK]) from exc
        if exc.errno in (errno.ENXIO, errno.ENODEV):  # a socket, or a FIFO with no writer
            raise _not_regular(shown, "tệp đặc biệt") from exc
        raise
    with os.fdopen(fd, "rb", buffering=0) as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(shown, _kind(st.st_mode))
        if st.st_size > limit:
            raise _too_large(shown, st.st_size, limit)
        os.set_blocking(fd, True)
        data = fh.read(limit + 1)
    if len(data) > limit:  # grew while we read
        raise _too_large(shown, len(data), limit)
    return data


def _member_path(name: str, member: str) -> str:
    """The member's normalised relative path; refuses absolute, ``.``/``..``, empty or drive parts."""
    raw = member.replace("\\", "/")
    parts = raw.split("/")
    if raw.endswith("/"):
        parts = parts[:-1]
    if (
        not parts
        or raw.startswith("/")
        or any(p in ("", ".", "..") for p in parts)
        or ":" in parts[0]
        or any("\x00" in p for p in parts)
    ):
        raise _unsafe_path(name, member)
    return "/".join(parts)


# What reading a damaged, encrypted, truncated or hostile zip (a .zip or a .docx) can raise.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    zlib.error,
    NotImplementedError,
    RuntimeError,
    ValueError,
)


def read_zip_members(
    data: bytes,
    name: str,
    limits: IngestLimits,
    *,
    member_limits: Mapping[str, tuple[int, str, str]] | None = None,
) -> dict[str, bytes]:
    """Every file member's bytes by normalised path, after checking count, paths, types and sizes.

    ``member_limits`` maps a member path to (limit, what, hint) for a tighter per-member bound
    (a .docx's ``word/document.xml``). Raises ``zipfile.BadZipFile`` and friends on a broken file.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        if len(infos) > limits.max_zip_entries:
            raise over_limit(
                "zip_entries",
                f"Tệp “{name}” chứa",
                len(infos),
                limits.max_zip_entries,
                "mục",
                "Hãy chỉ nén thư mục bài (một tệp bài và các ảnh của bài).",
            )
        files: list[tuple[str, zipfile.ZipInfo]] = []
        seen: set[str] = set()
        for info in infos:
            path = _member_path(name, info.filename)
            mode = info.external_attr >> 16
            if info.create_system == 3 and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise _not_regular(f"{name}/{printable_name(path)}", _kind(mode))
            if info.is_dir():
                continue
            if path.casefold() in seen:
                raise IngestRefusal(
                    "zip_duplicate",
                    f"Tệp “{name}” chứa hai mục cùng tên “{printable_name(path)}”.",
                    "Hãy nén lại thư mục bài bằng công cụ nén thông thường.",
                )
            seen.add(path.casefold())
            files.append((path, info))
        declared = sum(i.file_size for _, i in files)
        if declared > limits.max_unzipped_bytes:
            raise over_limit(
                "zip_bomb",
                f"Tệp “{name}” khi giải nén nặng",
                declared,
                limits.max_unzipped_bytes,
                "MB",
                "Hãy tạo lại tệp từ bản gốc (lưu lại bằng Word hoặc nén lại thư mục "
                "bài), thu nhỏ ảnh hoặc tách bài rồi gửi lại.",
                " (nghi là “bom nén”)",
            )
        members: dict[str, bytes] = {}
        total = 0
        for path, info in files:
            own = (member_limits or {}).get(path)
            if own and info.file_size > own[0]:
                raise over_limit(
                    f"{own[1]}",
                    own[2],
                    info.file_size,
                    own[0],
                    "MB",
                    "Hãy tách bài thành nhiều tệp nhỏ hơn hoặc bỏ bớt nội dung thừa.",
                )
            if info.file_size > MB and info.file_size > limits.max_zip_ratio * max(
                info.compress_size, 1
            ):
                raise _bomb(name)
            chunks: list[bytes] = []
            size = 0
            # Declared sizes can lie: count what really comes out and stop at the limits.
            with zf.open(info) as fh:
                while chunk := fh.read(_CHUNK):
                    size += len(chunk)
                    total += len(chunk)
                    if total > limits.max_unzipped_bytes or size > info.file_size:
                        raise _bomb(name)
                    if own and size > own[0]:
                        raise over_limit(
                            own[1],
                            own[2],
                            size,
                            own[0],
                            "MB",
                            "Hãy tách bài thành nhiều tệp nhỏ hơn.",
                        )
                    chunks.append(chunk)
            members[path] = b"".join(chunks)
    return members


def _skip(rel: str) -> bool:
    return any(p.startswith((".", "~$")) or p == "__MACOSX" for p in rel.split("/"))


def _pick_article(files: Mapping[str, bytes], name: str) -> str:
    found = [
        k
        for k in sorted(files)
        if PurePosixPath(k).suffix.lower() in ARTICLE_SUFFIXES and not _skip(k)
    ]
    if len(found) != 1:
        listed = ", ".join(printable_name(PurePosixPath(p).name) for p in found) or "không có"
        raise IngestRefusal(
            "folder_article_count",
            f"“{name}” phải chứa đúng một tệp bài (.docx, .md hoặc .html); tìm thấy: {listed}.",
            "Hãy để mỗi bài trong một thư mục/tệp .zip riêng, gồm một tệp bài và các ảnh của bài.",
        )
    return found[0]


def _walk_folder(root: Path, name: str, limits: IngestLimits) -> dict[str, bytes]:
    """Regular files under ``root`` by relative path; never follows a link, refuses special files."""
    found: list[tuple[str, Path, int]] = []
    count = 0
    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        folder, rel = stack.pop()
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                count += 1
                if count > limits.max_zip_entries:
                    raise over_limit(
                        "folder_entries",
                        f"Thư mục “{name}” chứa hơn",
                        count - 1,
                        limits.max_zip_entries,
                        "mục",
                        "Hãy chỉ để trong thư mục một tệp bài và các ảnh của bài.",
                    )
                child = f"{rel}{entry.name}"
                if _skip(child):
                    continue
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    stack.append((Path(entry.path), child + "/"))
                elif stat.S_ISREG(st.st_mode):
                    found.append((child, Path(entry.path), st.st_size))
                else:
                    raise _not_regular(f"{name}/{printable_name(child)}", _kind(st.st_mode))
    total = sum(size for _, _, size in found)
    if total > limits.max_file_bytes:
        raise _too_large(name, total, limits.max_file_bytes)
    files: dict[str, bytes] = {}
    room = limits.max_file_bytes
    for child, path, _ in found:
        files[child] = read_regular_file(path, room, f"{name}/{printable_name(child)}")
        room -= len(files[child])
    return files


def open_source(path: Path, limits: IngestLimits) -> Source:
    """The article and its media read from ``path`` (a file, a folder or a .zip), within bounds."""
    name = printable_name(path.name)
    st = os.lstat(path)
    if stat.S_ISDIR(st.st_mode):
        files = _walk_folder(path, name, limits)
        article = _pick_article(files, name)
        digest = hashlib.sha256()
        for key in sorted(files):
            digest.update(files[key])
        return Source(name, article, files[article], files, digest.hexdigest())
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(name, _kind(st.st_mode))
    suffix = path.suffix.lower()
    if suffix != ".zip" and suffix not in ARTICLE_SUFFIXES:
        raise _unsupported(name)
    data = read_regular_file(path, limits.max_file_bytes, name)
    if suffix != ".zip":
        return Source(name, path.name, data, {}, hashlib.sha256(data).hexdigest())
    try:
        members = read_zip_members(data, name, limits)
    except ZIP_ERRORS as exc:
        raise IngestRefusal(
            "zip_corrupt",
            f"Tệp “{name}” không phải tệp .zip hợp lệ (tệp hỏng, có mật khẩu hoặc chép chưa xong).",
            "Hãy nén lại thư mục bài (không đặt mật khẩu) và gửi lại.",
        ) from exc
    digest = hashlib.sha256()
    for key in sorted(members):
        digest.update(members[key])
    files = {k: v for k, v in members.items() if not _skip(k)}
    article = _pick_article(files, name)
    return Source(name, article, files[article], files, digest.hexdigest())


def resolve_member(source: Source, src: str) -> str | None:
    """The member path a relative ``src`` in the article points at, or None (outside, missing)."""
    base = posixpath.dirname(source.article_path)
    target = posixpath.normpath(posixpath.join(base, src.replace("\\", "/")))
    if target.startswith(("../", "/")) or target in ("..", "."):
        return None
    return target if target in source.files else None


def decode_text(data: bytes, name: str) -> str:
    """The text of an article file (UTF-8, or UTF-16 with its BOM), or a refusal naming the
    legacy encoding it seems to use."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    else:
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
