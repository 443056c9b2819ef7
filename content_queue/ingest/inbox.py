"""The inbox folder watcher: entries handed over once fully copied, then moved to processed/ or
rejected/. It never opens an article (parsing is the pipeline's job, in a worker process).

Looking never follows a link (``lstat``; a folder is walked with ``os.scandir`` without following
symlinks), so a symlink loop or a FIFO costs one ``lstat`` and is handed over like any entry, to
be refused by the pipeline. An ``OSError`` on one entry skips that entry only. An entry is marked
taken only when the caller says it was processed (``taken``). Nothing is ever deleted: a name
already used gets a ``-1``, ``-2``… suffix.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from content_queue.ingest.rules import IngestRefusal, printable_name

__all__ = ["InboxPoller"]

log = logging.getLogger(__name__)

_LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_TEMP_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".download", ".swp", ".loi.txt")
# Looking at a dropped folder stops after this many entries (the pipeline refuses it anyway).
_MAX_SIGNATURE_ENTRIES = 10_000

Signature = tuple[tuple[str, int, int, int], ...]


def _signature(path: Path) -> Signature:
    """Type, size and mtime of an entry, or of every entry in a folder; never follows a link."""
    st = os.lstat(path)
    own = (
        "",
        stat.S_IFMT(st.st_mode),
        st.st_size if stat.S_ISREG(st.st_mode) else 0,
        st.st_mtime_ns,
    )
    if not stat.S_ISDIR(st.st_mode):
        return (own,)
    inner: list[tuple[str, int, int, int]] = []
    stack = [(path, "")]
    while stack and len(inner) < _MAX_SIGNATURE_ENTRIES:
        folder, rel = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                s = entry.stat(follow_symlinks=False)
                name = f"{rel}{entry.name}"
                inner.append((name, stat.S_IFMT(s.st_mode), s.st_size, s.st_mtime_ns))
                if stat.S_ISDIR(s.st_mode):
                    stack.append((Path(entry.path), name + "/"))
    return (own, *sorted(inner))


def _exists(path: Path) -> bool:
    return os.path.lexists(path)


def _short(name: str, limit: int = 200) -> str:
    """``name`` cut (extension kept) so that ``name-NN.loi.txt`` still fits a file-name limit."""
    if len(os.fsencode(name)) <= limit:
        return name
    stem, ext = Path(name).stem, Path(name).suffix
    ext = ext if len(os.fsencode(ext)) <= 16 else ""
    while stem and len(os.fsencode(stem + "…" + ext)) > limit:
        stem = stem[: len(stem) * 3 // 4]
    return f"{stem}…{ext}"


def _free_name(folder: Path, name: str) -> Path:
    name = _short(name)
    target = folder / name
    if not _exists(target) and not _exists(folder / f"{name}.loi.txt"):
        return target
    stem, ext = Path(name).stem, Path(name).suffix
    n = 1
    while True:
        candidate = folder / f"{stem}-{n}{ext}"
        if not _exists(candidate) and not _exists(folder / f"{candidate.name}.loi.txt"):
            return candidate
        n += 1


class InboxPoller:
    """Watches ``inbox`` and hands over each file or folder once it stopped changing."""

    def __init__(self, inbox: Path, processed: Path, rejected: Path) -> None:
        self.inbox = inbox
        self.processed = processed
        self.rejected = rejected
        self._last_seen: dict[Path, Signature] = {}
        self._handed_over: dict[Path, Signature] = {}
        self._unreadable: set[Path] = set()

    @staticmethod
    def is_ignored(path: Path) -> bool:
        """Hidden files, Office lock files (``~$x.docx``) and partial downloads are never read."""
        name = path.name.lower()
        return name.startswith((".", "~$", "~")) or name.endswith(_TEMP_SUFFIXES)

    def stable_files(self) -> list[Path]:
        """Entries whose type, size and mtime were equal on this call and the previous one.

        A half-copied file keeps changing, so it is never returned; an entry is returned again on
        later calls until ``taken`` (or a move) says it was processed, and again after that only
        if it changes and settles again.
        """
        try:
            self.inbox.mkdir(parents=True, exist_ok=True)
            names = sorted(os.listdir(self.inbox))
        except OSError as exc:
            log.warning("inbox: cannot list %s: %s", self.inbox, exc.strerror or exc)
            return []
        current: dict[Path, Signature] = {}
        for name in names:
            entry = self.inbox / name
            if self.is_ignored(entry):
                continue
            try:
                current[entry] = _signature(entry)
            except FileNotFoundError:  # moved away while we looked
                continue
            except OSError as exc:  # this entry only: the others go on
                if entry not in self._unreadable:
                    log.warning(
                        "inbox: cannot look at %s: %s",
                        printable_name(name),
                        exc.strerror or type(exc).__name__,
                    )
                    self._unreadable.add(entry)
                continue
        ready = [
            path
            for path, sig in current.items()
            if self._last_seen.get(path) == sig and self._handed_over.get(path) != sig
        ]
        self._last_seen = current
        self._handed_over = {p: s for p, s in self._handed_over.items() if p in current}
        self._unreadable = {p for p in self._unreadable if _exists(p)}
        return ready

    def taken(self, path: Path) -> None:
        """``path`` was processed: not handed over again unless it changes."""
        if path in self._last_seen:
            self._handed_over[path] = self._last_seen[path]

    def _forget(self, path: Path) -> None:
        self._last_seen.pop(path, None)
        self._handed_over.pop(path, None)

    def move_processed(self, path: Path, now: datetime) -> Path:
        """``path`` moved into ``processed/YYYY-MM/`` (local month of ``now``), never overwriting."""
        folder = self.processed / now.astimezone(_LOCAL_TZ).strftime("%Y-%m")
        folder.mkdir(parents=True, exist_ok=True)
        target = _free_name(folder, path.name)
        shutil.move(str(path), str(target))
        self._forget(path)
        log.info("inbox: %s moved to %s", printable_name(path.name), printable_name(str(target)))
        return target

    def move_rejected(
        self, path: Path, refusal: IngestRefusal, now: datetime | None = None
    ) -> Path:
        """``path`` moved into ``rejected/`` with ``<name>.loi.txt`` beside it saying why and how to fix."""
        when = (now or datetime.now(_LOCAL_TZ)).astimezone(_LOCAL_TZ)
        self.rejected.mkdir(parents=True, exist_ok=True)
        target = _free_name(self.rejected, path.name)
        if _same_device(path, self.rejected):
            os.rename(path, target)
        else:
            shutil.move(str(path), str(target))
        self._forget(path)
        note = target.with_name(f"{target.name}.loi.txt")
        note.write_text(
            "Loa không nhận bài này.\n\n"
            f"Tệp: {printable_name(path.name)}\n"
            f"Thời điểm: {when.strftime('%d/%m/%Y %H:%M')} (giờ Việt Nam)\n\n"
            f"Lỗi: {refusal.reason}\n"
            f"Cách sửa: {refusal.hint}\n\n"
            "Sau khi sửa, hãy chép lại tệp vào thư mục nhận bài.\n"
            f"(mã lỗi: {refusal.code})\n",
            encoding="utf-8",
        )
        log.info(
            "inbox: %s rejected (%s), moved to %s",
            printable_name(path.name),
            refusal.code,
            printable_name(str(target)),
        )
        return target


def _same_device(path: Path, folder: Path) -> bool:
    """A rename keeps a symlink, FIFO or device a link/FIFO/device and never reads it."""
    try:
        return os.lstat(path).st_dev == os.stat(folder).st_dev
    except OSError:
        return False
