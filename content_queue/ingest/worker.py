"""The worker-process boundary: each file is parsed in its own child process with limits.

``parse_isolated`` hands the file to a small fork server (a ``python`` running ``serve``,
started on first use, parsing modules preloaded). For each file
the server forks a child which caps its address space (``RLIMIT_AS``) and CPU time
(``RLIMIT_CPU``) before touching the file, runs ``pipeline.parse_file`` and writes one JSON
answer to a pipe; the server kills it at the timeout. Only JSON crosses the boundary (never a
pickle). A child that runs out of memory, CPU or time becomes the refusal "tệp vượt giới hạn xử
lý…"; the calling process, its event loop and the next file are never affected.

Forking from the server (single-threaded, small) instead of from the service (many threads)
keeps ``fork`` safe and costs a few milliseconds instead of a fresh interpreter per file. Each
server parses one file at a time; up to ``set_worker_servers(n)`` servers run side by side
(started on demand), so the inbox and the upload pool (``bot.parsing``) parse in parallel
when the machine has the cores.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import resource
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from content_queue.ingest.rules import MB, IngestLimits, IngestRefusal, printable_name
from content_queue.models import ParsedArticle, ParsedImage
from content_queue.topics import Topic

__all__ = [
    "WorkerUsage",
    "internal_refusal",
    "over_processing_limits",
    "parse_isolated",
    "set_worker_servers",
]

log = logging.getLogger(__name__)

_MAX_ANSWER_BYTES = 256 * MB
_SERVER_MAIN = (
    "import sys; from content_queue.ingest.worker import serve; "
    "serve(sys.stdin.buffer, sys.stdout.buffer)"
)


@dataclass(frozen=True)
class WorkerUsage:
    """What parsing one file cost its worker process."""

    max_rss_bytes: int
    cpu_seconds: float
    wall_seconds: float


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


# ----- JSON across the boundary --------------------------------------------------------------------
def _article_json(article: ParsedArticle) -> dict[str, Any]:
    data = asdict(article)
    data["publish_at"] = article.publish_at.isoformat() if article.publish_at else None
    return data


def _article_from_json(data: dict[str, Any]) -> ParsedArticle:
    data = dict(data)
    data["publish_at"] = datetime.fromisoformat(data["publish_at"]) if data["publish_at"] else None
    data["cover"] = ParsedImage(**data["cover"]) if data["cover"] else None
    data["images"] = tuple(ParsedImage(**i) for i in data["images"])
    data["channels"] = tuple(data["channels"])
    return ParsedArticle(**data)


def _request_json(
    path: Path,
    known_channels: Collection[str],
    topics: Mapping[str, Topic],
    limits: IngestLimits,
    now: datetime,
    tz: ZoneInfo,
    media_dir: Path,
    staging_dir: Path | None = None,
) -> bytes:
    request = {
        "path": os.fsencode(path).hex(),
        "known_channels": list(known_channels),
        "topics": {k: [t.key, t.label, list(t.keywords)] for k, t in topics.items()},
        "limits": asdict(limits),
        "now": now.isoformat(),
        "tz": tz.key,
        "media_dir": os.fsencode(media_dir).hex(),
        "staging_dir": os.fsencode(staging_dir).hex() if staging_dir is not None else None,
    }
    return json.dumps(request, ensure_ascii=True).encode("ascii") + b"\n"


# ----- inside the server and its children ----------------------------------------------------------
def _parse_request(request: dict[str, Any]) -> dict[str, Any]:
    """Runs in the forked child: the limits first, then the pipeline; the answer as a dict."""
    limits = IngestLimits(**request["limits"])
    os.nice(10)  # background work: the service's own threads always come first
    resource.setrlimit(resource.RLIMIT_AS, (limits.worker_memory_bytes, limits.worker_memory_bytes))
    cpu = max(1, int(limits.worker_cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    from content_queue.ingest.pipeline import parse_file

    try:
        article = parse_file(
            Path(os.fsdecode(bytes.fromhex(request["path"]))),
            known_channels=request["known_channels"],
            topics={
                k: Topic(key, label, tuple(words))
                for k, (key, label, words) in request["topics"].items()
            },
            limits=limits,
            now=datetime.fromisoformat(request["now"]),
            tz=ZoneInfo(request["tz"]),
            media_dir=Path(os.fsdecode(bytes.fromhex(request["media_dir"]))),
            staging_dir=(
                Path(os.fsdecode(bytes.fromhex(request["staging_dir"])))
                if request.get("staging_dir")
                else None
            ),
        )
        return {"article": _article_json(article)}
    except IngestRefusal as refusal:
        return {"refusal": [refusal.code, refusal.reason, refusal.hint]}
    except MemoryError:
        return {"limit": "memory"}
    except RecursionError:
        return {"limit": "recursion"}
    except Exception as exc:  # reported to the parent, which logs it under an error id
        return {
            "error": f"{type(exc).__name__}: {exc}"[:2000],
            "trace": traceback.format_exc()[-6000:],
        }


def _child(request: dict[str, Any], write_fd: int) -> None:
    """The forked child: never returns."""
    code = 0
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)  # stdout is the server's protocol channel
        answer = json.dumps(_parse_request(request), ensure_ascii=False)
        data = answer.encode("utf-8", "surrogatepass")
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view) :]
    except BaseException:
        code = 3
    finally:
        os._exit(code)


def _run_one(request: dict[str, Any]) -> dict[str, Any]:
    """Forks a child for one request and waits for its answer at most the timeout."""
    limits = request["limits"]
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(request, write_fd)
    os.close(write_fd)
    deadline = time.monotonic() + float(limits["worker_timeout_seconds"])
    chunks: list[bytes] = []
    size = 0
    timed_out = False
    with os.fdopen(read_fd, "rb", buffering=0) as pipe:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([pipe], [], [], left)
            if not ready:
                continue
            chunk = pipe.read(1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > _MAX_ANSWER_BYTES:
                timed_out = True
                break
            chunks.append(chunk)
    if timed_out:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _, status, usage = os.wait4(pid, 0)
    spent = {
        "usage": {"max_rss_kb": usage.ru_maxrss, "cpu_seconds": usage.ru_utime + usage.ru_stime}
    }
    if timed_out:
        return {"limit": "time", **spent}
    try:
        return {**json.loads(b"".join(chunks).decode("utf-8", "surrogatepass")), **spent}
    except ValueError:
        how = (
            f"signal {os.WTERMSIG(status)}"
            if os.WIFSIGNALED(status)
            else f"exit {os.WEXITSTATUS(status)}"
        )
        return {"limit": f"died ({how})", **spent}


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The fork server's loop: one JSON request per line in, one JSON answer per line out."""
    import content_queue.ingest.pipeline  # noqa: F401  preloaded: children start warm

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the service decides when we stop
    for line in requests:
        try:
            answer = _run_one(json.loads(line))
        except Exception as exc:
            answer = {
                "error": f"{type(exc).__name__}: {exc}"[:2000],
                "trace": traceback.format_exc()[-6000:],
            }
        answers.write(json.dumps(answer, ensure_ascii=True).encode("ascii") + b"\n")
        answers.flush()


# ----- in the calling process ----------------------------------------------------------------------
class _ForkServer:
    """The running server process, started on first use and again if it ever died."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        atexit.register(self.close)

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _SERVER_MAIN],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                close_fds=True,
                cwd=str(Path(__file__).resolve().parents[2]),
                # Parsing needs no secret: the service's tokens stay out of the workers.
                env={k: v for k, v in os.environ.items() if not k.startswith("LOA_")},
            )
        return self._proc

    def ask(self, request: bytes, timeout: float) -> dict[str, Any] | None:
        """The server's answer, or None if it died or did not answer in ``timeout`` seconds."""
        with self._lock:
            proc = self._start()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(request)
                proc.stdin.flush()
                ready, _, _ = select.select([proc.stdout], [], [], timeout)
                line = proc.stdout.readline(_MAX_ANSWER_BYTES * 2) if ready else b""
            except OSError:
                line = b""
            if not line.endswith(b"\n"):  # dead or stuck: start afresh next time
                self._stop(proc)
                return None
            return dict(json.loads(line))

    def _stop(self, proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(OSError):
            proc.kill()
        proc.wait()
        if self._proc is proc:
            self._proc = None

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError):
                if proc.stdin:
                    proc.stdin.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class _ServerPool:
    """Up to ``limit`` fork servers; a request takes a free one (waiting when all are busy)."""

    def __init__(self, limit: int = 1) -> None:
        self._cond = threading.Condition()
        self._free: list[_ForkServer] = []
        self._made = 0
        self.limit = limit

    def ask(self, request: bytes, timeout: float) -> dict[str, Any] | None:
        with self._cond:
            while not self._free and self._made >= self.limit:
                self._cond.wait()
            if self._free:
                server = self._free.pop()
            else:
                server = _ForkServer()
                self._made += 1
        try:
            return server.ask(request, timeout)
        finally:
            with self._cond:
                if self._made > self.limit:  # the limit was lowered: this one goes
                    self._made -= 1
                    server.close()
                else:
                    self._free.append(server)
                self._cond.notify()

    def resize(self, limit: int) -> None:
        with self._cond:
            self.limit = max(1, limit)
            self._cond.notify_all()


_server = _ServerPool()


def set_worker_servers(limit: int) -> None:
    """How many fork servers may parse at the same time (each one file at a time)."""
    _server.resize(limit)


def parse_isolated(
    path: Path,
    *,
    known_channels: Collection[str],
    topics: Mapping[str, Topic],
    limits: IngestLimits,
    now: datetime,
    tz: ZoneInfo,
    media_dir: Path,
    staging_dir: Path | None = None,
    on_usage: Callable[[WorkerUsage], None] | None = None,
) -> ParsedArticle:
    """``pipeline.parse_file`` run in a limited child process; blocks the calling thread only.

    ``on_usage`` receives what the worker cost (peak memory, CPU, wall time), for benchmarks.
    """
    name = printable_name(path.name)
    started = time.monotonic()
    request = _request_json(
        path.absolute(),
        known_channels,
        topics,
        limits,
        now,
        tz,
        media_dir.absolute(),
        staging_dir.absolute() if staging_dir is not None else None,
    )
    answer = _server.ask(request, limits.worker_timeout_seconds + 10.0)
    if answer is not None and on_usage is not None and "usage" in answer:
        on_usage(
            WorkerUsage(
                int(answer["usage"]["max_rss_kb"]) * 1024,
                float(answer["usage"]["cpu_seconds"]),
                time.monotonic() - started,
            )
        )
    if answer is None:
        error_id = uuid.uuid4().hex[:8]
        log.error("ingest error %s: the worker server gave no answer for %s", error_id, name)
        raise internal_refusal(name, error_id)
    if "article" in answer:
        return _article_from_json(answer["article"])
    if "refusal" in answer:
        code, reason, hint = answer["refusal"]
        raise IngestRefusal(code, reason, hint)
    if "limit" in answer:
        log.warning(
            "ingest worker for %s stopped after %.1f s: %s limit",
            name,
            time.monotonic() - started,
            answer["limit"],
        )
        raise over_processing_limits(name, limits)
    error_id = uuid.uuid4().hex[:8]
    log.error(
        "ingest error %s while reading %s: %s\n%s",
        error_id,
        name,
        answer.get("error"),
        answer.get("trace", ""),
    )
    raise internal_refusal(name, error_id)
