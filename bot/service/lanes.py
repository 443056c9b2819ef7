"""The dispatcher's lanes: pool workers that post, record and claim the next due delivery
themselves, as many at once as the platforms' latency calls for."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from content_queue.models import Delivery

__all__ = ["FAST_DELIVERY", "Lanes"]

# Lanes follow the platforms' latency: a delivery done faster than FAST_DELIVERY lets its lane
# close while another lane is free to go on (parallel lanes would only contend for the
# interpreter); while every open lane is in a call longer than SLOW_DELIVERY, another lane opens
# for the backlog, up to ``max_workers``, so due posts never wait behind a platform that hangs.
FAST_DELIVERY = 0.02
SLOW_DELIVERY = 0.1
PROBE_PAUSE = 1.0  # after a lane opened for stuck ones found nothing due


class Lanes:
    """The lanes of one tick on the worker pool: at most ``limit`` open; ``join`` waits for all."""

    def __init__(
        self,
        pool: ThreadPoolExecutor,
        limit: int,
        run: Callable[[Lanes, Delivery | None], tuple[int, bool]],
    ):
        self._pool, self._limit, self._run = pool, limit, run
        self._cond = threading.Condition()
        self._open = 0
        self._done = 0
        self._errors: list[BaseException] = []
        self._busy_since: dict[int, float] = {}  # lane thread → when its current delivery began
        self._probe_after = 0.0  # no new lane for stuck ones before this (one found nothing due)

    def open(self, first: Delivery | None) -> bool:
        """Start a lane with ``first`` (None: it claims its own); False when all are open."""
        with self._cond:
            if self._open >= self._limit:
                return False
            self._open += 1
        self._pool.submit(self._lane, first)
        return True

    def busy(self, delivering: bool) -> None:
        """The calling lane starts (True) or ends (False) a delivery."""
        with self._cond:
            if delivering:
                self._busy_since[threading.get_ident()] = time.monotonic()
            else:
                self._busy_since.pop(threading.get_ident(), None)

    def _stuck(self) -> int:
        """Lanes (other than the caller) in a delivery that has lasted over SLOW_DELIVERY."""
        now, me = time.monotonic(), threading.get_ident()
        return sum(
            1
            for lane, since in self._busy_since.items()
            if lane != me and now - since > SLOW_DELIVERY
        )

    def retire(self) -> bool:
        """Close the calling lane (its run must then return) if another open lane can go on."""
        with self._cond:
            if self._open - 1 - self._stuck() < 1:
                return False
            self._open -= 1
            return True

    def _lane(self, first: Delivery | None) -> None:
        done, retired = 0, False
        try:
            done, retired = self._run(self, first)
        except BaseException as exc:  # handed to join(): a bug is reported, not swallowed
            with self._cond:
                self._errors.append(exc)
        finally:
            with self._cond:
                self._open -= 0 if retired else 1
                self._done += done
                if first is None and done == 0:  # nothing was due: do not ask again at once
                    self._probe_after = time.monotonic() + PROBE_PAUSE
                self._cond.notify_all()

    def join(self) -> int:
        """Wait until every lane has ended, opening a lane whenever all open ones are stuck in
        slow calls; the number of deliveries they processed."""
        with self._cond:
            while self._open:
                self._cond.wait(timeout=SLOW_DELIVERY / 2)
                if (
                    0 < self._open < self._limit
                    and self._stuck() == self._open
                    and time.monotonic() >= self._probe_after
                ):
                    self.open(None)  # it claims the next due delivery, if any
        if self._errors:
            raise self._errors[0]
        return self._done
