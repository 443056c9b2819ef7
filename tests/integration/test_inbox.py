"""The inbox: only fully copied files are handed over, once; moves never overwrite or delete."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from content_queue.ingest import IngestRefusal
from content_queue.ingest.inbox import InboxPoller

NOW = datetime(2026, 5, 31, 18, 30, tzinfo=UTC)  # 01:30 on 1 June in Vietnam


def poller(tmp_path: Path) -> InboxPoller:
    (tmp_path / "inbox").mkdir()
    return InboxPoller(tmp_path / "inbox", tmp_path / "processed", tmp_path / "rejected")


def test_file_returned_after_two_equal_looks_and_only_once(tmp_path: Path) -> None:
    p = poller(tmp_path)
    f = tmp_path / "inbox" / "bai.md"
    f.write_text("# T\n", encoding="utf-8")
    assert p.stable_files() == []
    assert p.stable_files() == [f]
    assert p.stable_files() == [f]  # handed over again until processed
    p.taken(f)
    assert p.stable_files() == []
    f.write_text("# T đã sửa\n", encoding="utf-8")  # changed again: settles, then returned again
    assert p.stable_files() == []
    assert p.stable_files() == [f]


def test_hidden_and_temporary_files_ignored(tmp_path: Path) -> None:
    p = poller(tmp_path)
    for name in ("~$bai.docx", ".an.md", "bai.docx.part", "tai.tmp"):
        (tmp_path / "inbox" / name).write_bytes(b"x")
    folder = tmp_path / "inbox" / "bai-anh"
    folder.mkdir()
    (folder / "bai.md").write_text("# T\n", encoding="utf-8")
    p.stable_files()
    assert p.stable_files() == [folder]


def test_slow_copy_is_returned_only_when_whole(tmp_path: Path) -> None:
    p = poller(tmp_path)
    target = tmp_path / "inbox" / "lon.docx"
    chunk, chunks = b"\x01" * 256 * 1024, 20
    written, polled, done = threading.Event(), threading.Event(), threading.Event()

    def copy_slowly() -> None:
        with target.open("ab") as fh:
            for _ in range(chunks):
                fh.write(chunk)
                fh.flush()
                written.set()
                polled.wait(5)  # the next chunk only after the poller looked at this one
                polled.clear()
        done.set()
        written.set()

    writer = threading.Thread(target=copy_slowly)
    writer.start()
    returned: list[tuple[Path, int]] = []
    for _ in range(chunks * 3 + 10):  # bounded: the writer needs `chunks` rounds
        written.wait(5)
        written.clear()
        for f in p.stable_files():
            returned.append((f, f.stat().st_size))
            p.taken(f)
        polled.set()
        if done.is_set() and returned:
            break
    writer.join(5)
    for _ in range(3):  # a few more looks must not hand it over twice
        for f in p.stable_files():
            returned.append((f, f.stat().st_size))
            p.taken(f)
    assert done.is_set()
    assert returned == [(target, len(chunk) * chunks)]


def test_move_processed_by_local_month_never_overwrites(tmp_path: Path) -> None:
    p = poller(tmp_path)
    first = tmp_path / "inbox" / "bai.md"
    first.write_text("một", encoding="utf-8")
    moved1 = p.move_processed(first, NOW)
    first.write_text("hai", encoding="utf-8")
    moved2 = p.move_processed(first, NOW)
    assert moved1 == tmp_path / "processed" / "2026-06" / "bai.md"
    assert moved2 == tmp_path / "processed" / "2026-06" / "bai-1.md"
    assert moved1.read_text("utf-8") == "một" and moved2.read_text("utf-8") == "hai"


def test_move_rejected_writes_reason_in_vietnamese(tmp_path: Path) -> None:
    p = poller(tmp_path)
    folder = tmp_path / "inbox" / "bai"
    folder.mkdir()
    (folder / "anh.png").write_bytes(b"x")
    refusal = IngestRefusal(
        "no_title", "Không tìm thấy tiêu đề trong “bai”.", "Hãy đặt tiêu đề ở dòng đầu."
    )
    moved = p.move_rejected(folder, refusal, NOW)
    assert moved == tmp_path / "rejected" / "bai" and (moved / "anh.png").is_file()
    note = (tmp_path / "rejected" / "bai.loi.txt").read_text("utf-8")
    for part in (
        "Tệp: bai",
        "01/06/2026 01:30",
        "Lỗi: Không tìm thấy tiêu đề",
        "Cách sửa: Hãy đặt tiêu đề ở dòng đầu.",
    ):
        assert part in note
    folder.mkdir()
    again = p.move_rejected(folder, refusal, NOW)
    assert again.name == "bai-1" and (tmp_path / "rejected" / "bai-1.loi.txt").is_file()
    assert (tmp_path / "rejected" / "bai.loi.txt").read_text("utf-8") == note


def test_special_entries_are_looked_at_without_being_opened_or_followed(tmp_path: Path) -> None:
    """A FIFO (opening it would block), a symlink loop (ELOOP when followed) and a link to a
    secret are handed over like files, by lstat; the good file beside them too."""
    import os

    p = poller(tmp_path)
    inbox = tmp_path / "inbox"
    os.mkfifo(inbox / "ong-dan.md")
    (inbox / "vong.md").symlink_to("vong.md")
    (tmp_path / ".env").write_text("LOA_TELEGRAM__TOKEN=1:bi-mat\n", encoding="utf-8")
    (inbox / "bi-mat.md").symlink_to(tmp_path / ".env")
    (inbox / "bai.md").write_text("# T\n", encoding="utf-8")
    assert p.stable_files() == []
    ready = p.stable_files()
    assert sorted(f.name for f in ready) == ["bai.md", "bi-mat.md", "ong-dan.md", "vong.md"]
    refusal = IngestRefusal("not_regular_file", "“vong.md” là lối tắt (symlink).", "Hãy chép tệp.")
    moved = p.move_rejected(inbox / "vong.md", refusal, NOW)
    assert moved.is_symlink() and os.readlink(moved) == "vong.md"  # the link itself, untouched
    moved = p.move_rejected(inbox / "bi-mat.md", refusal, NOW)
    assert moved.is_symlink() and (tmp_path / ".env").read_text("utf-8").startswith("LOA_")
    assert "1:bi-mat" not in (tmp_path / "rejected" / "bi-mat.md.loi.txt").read_text("utf-8")
