"""The inbox folder: files handed over once fully copied, then moved to processed/ or rejected/.

Nothing is ever deleted: a name already taken gets a ``-1``, ``-2``… suffix.
"""

from __future__ import annotations

import logging
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from content_queue.ingest_rules import IngestRefusal

__all__ = ["InboxPoller"]

log = logging.getLogger(__name__)

_LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_TEMP_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".download", ".swp", ".loi.txt")

Signature = tuple[tuple[str, int, int], ...]


def _signature(path: Path) -> Signature:
    """Size and mtime of a file, or of every file in a folder (plus the folder itself)."""
    stat = path.stat()
    own = ("", stat.st_size if path.is_file() else 0, stat.st_mtime_ns)
    if path.is_file():
        return (own,)
    inner = []
    for f in sorted(path.rglob("*")):
        s = f.stat()
        inner.append((f.relative_to(path).as_posix(), s.st_size, s.st_mtime_ns))
    return (own, *inner)


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    if not target.exists() and not (folder / f"{name}.loi.txt").exists():
        return target
    stem, ext = Path(name).stem, Path(name).suffix
    n = 1
    while True:
        candidate = folder / f"{stem}-{n}{ext}"
        if not candidate.exists() and not (folder / f"{candidate.name}.loi.txt").exists():
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

    @staticmethod
    def is_ignored(path: Path) -> bool:
        """Hidden files, Office lock files (``~$x.docx``) and partial downloads are never read."""
        name = path.name.lower()
        return name.startswith((".", "~$", "~")) or name.endswith(_TEMP_SUFFIXES)

    def stable_files(self) -> list[Path]:
        """Entries whose size and mtime were equal on this call and the previous one.

        A half-copied file keeps changing, so it is never returned; an entry is returned once,
        and again only if it changes and settles again.
        """
        self.inbox.mkdir(parents=True, exist_ok=True)
        current: dict[Path, Signature] = {}
        for entry in sorted(self.inbox.iterdir()):
            if self.is_ignored(entry):
                continue
            try:
                current[entry] = _signature(entry)
            except FileNotFoundError:  # moved away while we looked
                continue
        ready = [
            path for path, sig in current.items()
            if self._last_seen.get(path) == sig and self._handed_over.get(path) != sig
        ]
        for path in ready:
            self._handed_over[path] = current[path]
        self._last_seen = current
        self._handed_over = {p: s for p, s in self._handed_over.items() if p in current}
        return ready

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
        log.info("inbox: %s moved to %s", path.name, target)
        return target

    def move_rejected(
        self, path: Path, refusal: IngestRefusal, now: datetime | None = None
    ) -> Path:
        """``path`` moved into ``rejected/`` with ``<name>.loi.txt`` beside it saying why and how to fix."""
        when = (now or datetime.now(_LOCAL_TZ)).astimezone(_LOCAL_TZ)
        self.rejected.mkdir(parents=True, exist_ok=True)
        target = _free_name(self.rejected, path.name)
        shutil.move(str(path), str(target))
        self._forget(path)
        note = target.with_name(f"{target.name}.loi.txt")
        note.write_text(
            "Loa không nhận bài này.\n\n"
            f"Tệp: {path.name}\n"
            f"Thời điểm: {when.strftime('%d/%m/%Y %H:%M')} (giờ Việt Nam)\n\n"
            f"Lỗi: {refusal.reason}\n"
            f"Cách sửa: {refusal.hint}\n\n"
            "Sau khi sửa, hãy chép lại tệp vào thư mục nhận bài.\n"
            f"(mã lỗi: {refusal.code})\n",
            encoding="utf-8",
        )
        log.info("inbox: %s rejected (%s), moved to %s", path.name, refusal.code, target)
        return target
