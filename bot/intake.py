"""Ingestion wired to the store: a file in, an article (or a clear refusal) out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.context import Loa
from content_queue.ingest import parse_file
from content_queue.ingest_inbox import InboxPoller
from content_queue.ingest_rules import IngestLimits, IngestRefusal
from content_queue.models import Actor, Article
from content_queue.workflow import IllegalTransition

__all__ = ["IntakeResult", "ingest_path", "inbox_poller", "poll_inbox"]

log = logging.getLogger(__name__)

_OUTCOME_VI = {"created": "đã nhận", "revised": "đã thay bằng bản sửa", "duplicate": "đã có từ trước"}


@dataclass(frozen=True)
class IntakeResult:
    ok: bool
    message: str
    article: Article | None = None
    outcome: str | None = None
    refusal: IngestRefusal | None = None


def _limits(loa: Loa) -> IngestLimits:
    return IngestLimits(max_file_bytes=int(loa.settings.queue.max_file_mb * 1024 * 1024))


def inbox_poller(loa: Loa) -> InboxPoller:
    q = loa.settings.queue
    return InboxPoller(loa.settings.path(q.inbox), loa.settings.path(q.processed),
                       loa.settings.path(q.rejected))


def ingest_path(loa: Loa, path: Path, actor: Actor, *, move: bool,
                poller: InboxPoller | None = None) -> IntakeResult:
    """Parse and store one file; with ``move`` the file goes to processed/ or rejected/."""
    now = datetime.now(UTC)
    try:
        parsed = parse_file(path, known_channels=list(loa.settings.enabled_channels()),
                            topics=loa.topics, limits=_limits(loa), now=now,
                            tz=loa.settings.schedule.tz,
                            media_dir=loa.settings.path(loa.settings.queue.media))
        res = loa.store.submit(parsed, actor)
    except IngestRefusal as refusal:
        if move and poller:
            poller.move_rejected(path, refusal, now)
        return IntakeResult(False, f"{path.name}: không nhận — {refusal.reason} {refusal.hint}",
                            refusal=refusal)
    except IllegalTransition as exc:
        refusal = IngestRefusal("changed_after_approval", str(exc),
                                "Bài đã duyệt không sửa được qua hộp thư; hãy liên hệ quản trị.")
        if move and poller:
            poller.move_rejected(path, refusal, now)
        return IntakeResult(False, f"{path.name}: không nhận — {exc}", refusal=refusal)
    if move and poller:
        poller.move_processed(path, now)
    a = res.article
    return IntakeResult(True, f"{path.name}: {_OUTCOME_VI[res.outcome]} bài #{a.id} “{a.title}” "
                              f"(chủ đề {a.topic})", a, res.outcome)


def poll_inbox(loa: Loa, poller: InboxPoller) -> list[IntakeResult]:
    """Ingest every inbox entry that stopped changing since the previous poll."""
    results = []
    for path in poller.stable_files():
        res = ingest_path(loa, path, Actor("inbox", "inbox"), move=True, poller=poller)
        log.info("inbox: %s", res.message)
        results.append(res)
    return results
