"""The worker-process boundary: each file is parsed in its own child process with limits.

``parse_isolated`` forks a child from a ``multiprocessing`` fork server that has the parsing
modules preloaded (a few milliseconds, not a fresh interpreter), the child caps its address
space (``RLIMIT_AS``) and CPU time (``RLIMIT_CPU``) before touching the file, runs
``pipeline.parse_file`` and sends back JSON (never a pickle: the parent does not unpickle
anything a hostile file could have influenced). The parent waits at most the timeout, then kills
the child. A child that runs out of memory, CPU or time becomes a refusal, "tệp vượt giới hạn xử
lý…"; the caller's process, its event loop and the next file are never affected.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import resource
import signal
import threading
import time
import traceback
import uuid
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from content_queue.ingest.rules import MB, IngestLimits, IngestRefusal, printable_name
from content_queue.models import ParsedArticle, ParsedImage
from content_queue.topics import Topic

__all__ = ["internal_refusal", "over_processing_limits", "parse_isolated"]

log = logging.getLogger(__name__)

_MAX_ANSWER_BYTES = 256 * MB
_context_lock = threading.Lock()
_context: Any = None


@dataclass(frozen=True)
class _Request:
    path: str
    known_channels: tuple[str, ...]
    topics: dict[str, Topic]
    limits: IngestLimits
    now: datetime
    tz: str
    media_dir: str


def over_processing_limits(name: str, limits: IngestLimits) -> IngestRefusal:
    """The refusal for a file whose parsing ran out of time, CPU or memory."""
    return IngestRefusal(
        "processing_limits",
        f"“{name}”: tệp vượt giới hạn xử lý của Loa (tối đa {limits.worker_cpu_seconds} giây "
        f"tính toán, {limits.worker_timeout_seconds:g} giây chờ và "
        f"{limits.worker_memory_bytes // MB} MB bộ nhớ).",
        "Hãy mở tệp bằng Word và lưu lại (Lưu thành… → .docx), bỏ bớt định dạng phức tạp, "
        "hoặc tách bài thành nhiều tệp nhỏ hơn rồi gửi lại.",
    )


def internal_refusal(name: str, error_id: str) -> IngestRefusal:
    """The generic refusal for an unexpected failure; the details are in the log under ``error_id``."""
    return IngestRefusal(
        "internal_error",
        f"Loa gặp lỗi khi đọc “{name}” (mã lỗi {error_id}).",
        f"Hãy báo quản trị viên mã lỗi {error_id}; trong lúc chờ, có thể thử lưu lại tệp bằng "
        "Word hoặc gửi bài dưới dạng khác (.docx, .md, .html).",
    )


def _image_json(image: ParsedImage | None) -> dict[str, Any] | None:
    return None if image is None else asdict(image)


def _article_json(article: ParsedArticle) -> dict[str, Any]:
    data = asdict(article)
    data["publish_at"] = article.publish_at.isoformat() if article.publish_at else None
    data["cover"] = _image_json(article.cover)
    data["images"] = [_image_json(i) for i in article.images]
    return data


def _article_from_json(data: dict[str, Any]) -> ParsedArticle:
    data = dict(data)
    data["publish_at"] = datetime.fromisoformat(data["publish_at"]) if data["publish_at"] else None
    data["cover"] = ParsedImage(**data["cover"]) if data["cover"] else None
    data["images"] = tuple(ParsedImage(**i) for i in data["images"])
    data["channels"] = tuple(data["channels"])
    return ParsedArticle(**data)


def _limit_resources(limits: IngestLimits) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limits.worker_memory_bytes, limits.worker_memory_bytes))
    cpu = max(1, int(limits.worker_cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _child(conn: Connection, request: _Request) -> None:
    """Runs in the worker process: limits first, then the pipeline; one JSON answer."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the service decides when we stop
    try:
        _limit_resources(request.limits)
        from content_queue.ingest.pipeline import parse_file

        article = parse_file(Path(request.path), known_channels=request.known_channels,
                             topics=request.topics, limits=request.limits, now=request.now,
                             tz=ZoneInfo(request.tz), media_dir=Path(request.media_dir))
        answer: dict[str, Any] = {"article": _article_json(article)}
    except IngestRefusal as refusal:
        answer = {"refusal": [refusal.code, refusal.reason, refusal.hint]}
    except MemoryError:
        answer = {"limit": "memory"}
    except RecursionError:
        answer = {"limit": "recursion"}
    except BaseException as exc:  # reported to the parent, which logs it under an error id
        answer = {"error": f"{type(exc).__name__}: {exc}"[:2000],
                  "trace": traceback.format_exc()[-6000:]}
    try:
        conn.send_bytes(json.dumps(answer, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    except BaseException:
        os._exit(3)
    finally:
        conn.close()


def _mp_context() -> Any:
    global _context
    with _context_lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["content_queue.ingest.pipeline"])
            _context = ctx
        return _context


def parse_isolated(
    path: Path,
    *,
    known_channels: Collection[str],
    topics: Mapping[str, Topic],
    limits: IngestLimits,
    now: datetime,
    tz: ZoneInfo,
    media_dir: Path,
) -> ParsedArticle:
    """``pipeline.parse_file`` run in a limited child process; blocks the calling thread only."""
    name = printable_name(path.name)
    ctx = _mp_context()
    receiver, sender = ctx.Pipe(duplex=False)
    request = _Request(str(path), tuple(known_channels), dict(topics), limits, now, tz.key,
                       str(media_dir))
    child = ctx.Process(target=_child, args=(sender, request), daemon=True,
                        name=f"loa-ingest-{name[:40]}")
    started = time.monotonic()
    child.start()
    sender.close()
    raw: bytes | None = None
    try:
        if receiver.poll(limits.worker_timeout_seconds):
            raw = receiver.recv_bytes(_MAX_ANSWER_BYTES)
    except (EOFError, OSError):
        raw = None
    finally:
        receiver.close()
        child.join(max(0.0, min(5.0, limits.worker_timeout_seconds - (time.monotonic() - started))))
        if child.is_alive():
            child.kill()
            child.join()
    elapsed = time.monotonic() - started
    if raw is None:
        log.warning("ingest worker for %s gave no answer after %.1f s (exit code %s): over limits",
                    name, elapsed, child.exitcode)
        raise over_processing_limits(name, limits)
    answer = json.loads(raw.decode("utf-8", "surrogatepass"))
    if "article" in answer:
        return _article_from_json(answer["article"])
    if "refusal" in answer:
        code, reason, hint = answer["refusal"]
        raise IngestRefusal(code, reason, hint)
    if "limit" in answer:
        log.warning("ingest worker for %s hit its %s limit", name, answer["limit"])
        raise over_processing_limits(name, limits)
    error_id = uuid.uuid4().hex[:8]
    log.error("ingest error %s while reading %s: %s\n%s", error_id, name, answer.get("error"),
              answer.get("trace", ""))
    raise internal_refusal(name, error_id)
