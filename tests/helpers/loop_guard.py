"""A slow store that must never be waited for on an event loop, watched at the database level.

Every SQL statement any engine runs passes a ``before_cursor_execute`` listener: it sleeps a
little (a slow database, so a handler that blocks its loop holds every other update up), and
records the statement when the calling thread is running an asyncio event loop and a coroutine
of Loa's ``bot`` package is on the stack (a test's own set-up inside an async test is not the
service's doing), with the Loa frames that led there. A coroutine reaches the store only through the bounded pool
(``await asyncio.to_thread(...)``), whose threads run no loop, so the record stays empty.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

__all__ = ["StatementsOnLoop", "store_off_loop"]


class StatementsOnLoop:
    """What ran on a loop: one line per statement, the innermost Loa frames and the SQL."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self._lock = threading.Lock()

    def add(self, statement: str) -> None:
        frames: list[str] = []
        in_a_coroutine = False
        frame = sys._getframe(1)
        while frame is not None:
            code = frame.f_code
            if "/bot/" in code.co_filename or "/content_queue/" in code.co_filename:
                where = "/".join(code.co_filename.rsplit("/", 2)[-2:])
                frames.append(f"{where}:{frame.f_lineno} {code.co_name}")
                if "/bot/" in code.co_filename and code.co_flags & inspect.CO_COROUTINE:
                    in_a_coroutine = True
            frame = frame.f_back  # type: ignore[assignment]
        if not in_a_coroutine:
            return  # e.g. a test's own set-up inside an async test
        with self._lock:
            self.found.append(f"{' < '.join(frames[:6])}: {statement[:60]}")


def _on_a_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@contextmanager
def store_off_loop(slow_seconds: float = 0.002) -> Iterator[StatementsOnLoop]:
    """Watch every engine while the block runs; each statement takes ``slow_seconds`` more."""
    seen = StatementsOnLoop()

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if _on_a_loop():
            seen.add(statement)
        if slow_seconds:
            time.sleep(slow_seconds)

    sa.event.listen(sa.Engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", before)
