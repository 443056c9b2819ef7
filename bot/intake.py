"""Ingestion wired to the store: a file in, an article (or a clear refusal) out.

Parsing runs in a worker process with limits (``content_queue.ingest.parse_isolated``); these
functions block their thread, so the service calls them from its job pool and the bot through
``asyncio.to_thread``. Each inbox entry is processed inside its own guard: whatever goes wrong
with one file, it is moved to rejected/ (or left in place if even that fails) and the next goes on.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.context import Loa
from content_queue.articles import NotYourArticle
from content_queue.ingest import (
    IngestLimits,
    IngestRefusal,
    internal_refusal,
    parse_isolated,
    printable_name,
)
from content_queue.ingest.beside import gather_beside, write_upload_folder
from content_queue.ingest.inbox import InboxPoller
from content_queue.ingest.media import STAGING, promote_media
from content_queue.models import Actor, Article
from content_queue.workflow import IllegalTransition

__all__ = [
    "ingest_folder_upload",
    "ingest_with_pictures",
    "IntakeResult",
    "inbox_poller",
    "ingest_limits",
    "ingest_path",
    "ingest_upload",
    "poll_inbox",
    "upload_name",
]

log = logging.getLogger(__name__)

_OUTCOME_VI = {
    "created": "đã nhận",
    "revised": "đã thay bằng bản sửa",
    "duplicate": "đã có từ trước",
}
_MB = 1024 * 1024


@dataclass(frozen=True)
class IntakeResult:
    ok: bool
    message: str
    article: Article | None = None
    outcome: str | None = None
    refusal: IngestRefusal | None = None


def ingest_limits(loa: Loa) -> IngestLimits:
    """The configured bounds (``[queue] max_file_mb`` and ``[ingest]``)."""
    q, i = loa.settings.queue, loa.settings.ingest
    return IngestLimits(
        max_file_bytes=int(q.max_file_mb * _MB),
        max_image_bytes=int(i.max_image_mb * _MB),
        max_image_pixels=int(i.max_image_megapixels * 1_000_000),
        max_unzipped_bytes=int(i.max_unzipped_mb * _MB),
        max_zip_entries=i.max_zip_entries,
        max_docx_xml_bytes=int(i.max_docx_xml_mb * _MB),
        max_body_chars=i.max_body_chars,
        max_body_html_bytes=int(i.max_body_html_kb * 1024),
        max_link_chars=i.max_link_chars,
        max_alt_chars=i.max_alt_chars,
        max_images=i.max_images,
        max_front_matter_bytes=int(i.max_front_matter_kb * 1024),
        worker_memory_bytes=i.worker_memory_mb * _MB,
        worker_cpu_seconds=i.worker_cpu_seconds,
        worker_timeout_seconds=i.worker_timeout_seconds,
    )


def inbox_poller(loa: Loa) -> InboxPoller:
    q = loa.settings.queue
    return InboxPoller(
        loa.settings.path(q.inbox), loa.settings.path(q.processed), loa.settings.path(q.rejected)
    )


def _refused(name: str, refusal: IngestRefusal) -> IntakeResult:
    return IntakeResult(
        False, f"{name}: không nhận — {refusal.reason} {refusal.hint}", refusal=refusal
    )


def _ingest(
    loa: Loa,
    path: Path,
    actor: Actor,
    *,
    move: bool,
    poller: InboxPoller | None,
    replace_others: bool = False,
) -> IntakeResult:
    """Parse (in a worker process) and store one file; with ``move`` it goes to processed/ or
    rejected/. Raises only on an unexpected failure (``ingest_path`` guards it)."""
    now = datetime.now(UTC)
    name = printable_name(path.name)
    media_dir = loa.settings.path(loa.settings.queue.media)
    # Pictures wait in a staging folder of their own; only an accepted article's are moved into
    # the media folder. A refusal (or a crash: see the janitor) leaves nothing behind.
    staging = media_dir / STAGING / uuid.uuid4().hex
    try:
        parsed = parse_isolated(
            path,
            known_channels=list(loa.settings.enabled_channels()),
            topics=loa.topics,
            limits=ingest_limits(loa),
            now=now,
            tz=loa.settings.schedule.tz,
            media_dir=media_dir,
            staging_dir=staging,
        )
        res = loa.store.articles.submit(parsed, actor, replace_others=replace_others)
        if res.outcome != "duplicate":
            promote_media(staging, media_dir)
    except IngestRefusal as refusal:
        if move and poller:
            poller.move_rejected(path, refusal, now)
        return _refused(name, refusal)
    except NotYourArticle as exc:
        theirs = IngestRefusal(
            "not_owner",
            str(exc),
            "Hãy đổi “Mã bài” (hoặc bỏ dòng này) để gửi thành bài mới, hoặc nhờ người đã gửi "
            "bài hay quản trị viên gửi bản sửa.",
        )
        if move and poller:
            poller.move_rejected(path, theirs, now)
        return _refused(name, theirs)
    except IllegalTransition as exc:
        changed = IngestRefusal(
            "changed_after_approval",
            str(exc),
            "Bài đã duyệt không sửa được qua hộp thư; hãy liên hệ quản trị.",
        )
        if move and poller:
            poller.move_rejected(path, changed, now)
        return _refused(name, changed)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if move and poller:
        poller.move_processed(path, now)
    a = res.article
    return IntakeResult(
        True,
        f"{name}: {_OUTCOME_VI[res.outcome]} bài #{a.id} “{a.title}” (chủ đề {a.topic})",
        a,
        res.outcome,
    )


def ingest_path(
    loa: Loa,
    path: Path,
    actor: Actor,
    *,
    move: bool,
    poller: InboxPoller | None = None,
    replace_others: bool = False,
) -> IntakeResult:
    """One file parsed (in a worker process) and stored; never raises: an unexpected failure is logged under an error id and
    becomes a generic Vietnamese refusal (the file moved to rejected/ when ``move``)."""
    name = printable_name(path.name)
    try:
        return _ingest(loa, path, actor, move=move, poller=poller, replace_others=replace_others)
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("ingest error %s while taking %s", error_id, name)
        refusal = internal_refusal(name, error_id)
        if move and poller:
            try:
                poller.move_rejected(path, refusal)
            except Exception:
                log.exception("ingest error %s: could not move %s to rejected/", error_id, name)
        return _refused(name, refusal)


def ingest_with_pictures(loa: Loa, path: Path, actor: Actor) -> IntakeResult:
    """``loa submit``: a lone Markdown/HTML file with the pictures beside it that it uses (see
    ``content_queue.ingest.beside``), else the path as the inbox would take it."""
    with tempfile.TemporaryDirectory(prefix="loa-submit-") as tmp:
        try:
            folder = gather_beside(path, ingest_limits(loa), Path(tmp))
        except IngestRefusal as refusal:
            return _refused(printable_name(path.name), refusal)
        except OSError:
            folder = None  # unreadable here: the pipeline says why, as for any file
        return ingest_path(loa, folder or path, actor, move=False)


def ingest_folder_upload(
    loa: Loa, files: list[tuple[str, bytes]], name: str, actor: Actor
) -> IntakeResult:
    """A folder uploaded from the web page (relative paths and bytes), ingested as a folder.

    Blocking (disk and the worker process): call it from a thread, never on the event loop.
    """
    with tempfile.TemporaryDirectory(prefix="loa-web-dir-") as tmp:
        try:
            folder = write_upload_folder(files, ingest_limits(loa), Path(tmp), upload_name(name))
        except IngestRefusal as refusal:
            return _refused(printable_name(name), refusal)
        return ingest_path(loa, folder, actor, move=False)


def upload_name(file_name: str | None) -> str:
    """A safe local name for an uploaded file: its last path part, no control characters, no
    ``.``/``..``, at most 120 characters with the extension kept."""
    raw = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in raw if ch.isprintable()).strip()
    if name in ("", ".", ".."):
        name = "bai-viet"
    stem, dot, suffix = name.rpartition(".")
    if dot and len(suffix) <= 10 and stem:
        return f"{stem[: 120 - len(suffix) - 1]}.{suffix}"
    return name[:120]


def ingest_upload(
    loa: Loa,
    file_name: str | None,
    content: bytes,
    actor: Actor,
    *,
    replace_others: bool = False,
) -> IntakeResult:
    """A file received in the chat, written to a private temporary folder and ingested.

    Blocking (disk and the worker process): call it from a thread, never on the event loop.
    """
    with tempfile.TemporaryDirectory(prefix="loa-tg-") as folder:
        path = Path(folder) / upload_name(file_name)
        path.write_bytes(content)
        return ingest_path(loa, path, actor, move=False, replace_others=replace_others)


def poll_inbox(loa: Loa, poller: InboxPoller) -> list[IntakeResult]:
    """Ingest every inbox entry that stopped changing since the previous poll, each in its guard."""
    results = []
    for path in poller.stable_files():
        try:
            res = ingest_path(loa, path, Actor("inbox", "inbox"), move=True, poller=poller)
        finally:
            poller.taken(path)  # processed (or failed for good): not retried until it changes
        log.info("inbox: %s", res.message)
        results.append(res)
    return results
