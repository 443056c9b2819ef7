"""Parsing uploads has its own bounded pool: the web page and the bot's buttons never wait
behind it.

A file sent on the web page or in the chat is parsed (in a worker process) by one of this pool's
threads; the request that sent it awaits the result without holding any shared thread. The pool
takes at most ``workers + queue`` files at once, and at most ``per_user`` from one person;
beyond that the sender is told at once that Loa is busy (:class:`ParseBusy`), instead of every
page and button queueing behind one editor's sixty uploads.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

__all__ = ["BUSY_VI", "ParseBusy", "ParsePool", "auto_workers"]

T = TypeVar("T")

BUSY_VI = "Hệ thống đang bận, vui lòng thử lại sau."


class ParseBusy(Exception):
    """The pool is full, or the sender already has ``per_user`` files in it."""

    def __init__(self, mine: bool) -> None:
        super().__init__(BUSY_VI)
        self.mine = mine


def auto_workers() -> int:
    """Parsing threads (and so worker processes) when not configured: one per core, up to 4."""
    return max(1, min(4, os.cpu_count() or 1))


class ParsePool:
    """A thread pool with a bounded queue and a per-sender limit."""

    def __init__(self, workers: int, queue: int, per_user: int) -> None:
        self.workers = workers
        self.capacity = workers + queue
        self.per_user = per_user
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="loa-parse")
        self._lock = threading.Lock()
        self._by_user: Counter[str] = Counter()
        self._total = 0

    def submit(self, user: str, fn: Callable[..., T], *args: object, **kwargs: object) -> Future[T]:
        """``fn(*args, **kwargs)`` on a parsing thread, or :class:`ParseBusy` at once."""
        with self._lock:
            if self._by_user[user] >= self.per_user:
                raise ParseBusy(mine=True)
            if self._total >= self.capacity:
                raise ParseBusy(mine=False)
            self._by_user[user] += 1
            self._total += 1
        try:
            future = self._executor.submit(fn, *args, **kwargs)
        except BaseException:
            self._done(user)
            raise
        future.add_done_callback(lambda _: self._done(user))
        return future

    def _done(self, user: str) -> None:
        with self._lock:
            self._total -= 1
            self._by_user[user] -= 1
            if self._by_user[user] <= 0:
                del self._by_user[user]

    def has_room(self, user: str) -> bool:
        """Whether ``submit`` would take a file of ``user`` now (checked before a download)."""
        with self._lock:
            return self._by_user[user] < self.per_user and self._total < self.capacity

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._total

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
