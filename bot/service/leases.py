"""Lease renewal: while a worker lives, the deliveries it holds stay its own.

A call may outlast ``lease_seconds`` (a slow platform, in-call retries). Without renewal another
worker would take the delivery for abandoned, find nothing on the platform yet, and post it a
second time; with it, a lease expires only when its worker has died or hangs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import timedelta

from content_queue.models import Delivery
from content_queue.store import Store, utcnow

__all__ = ["LeaseKeeper"]

log = logging.getLogger(__name__)


class LeaseKeeper:
    """Renews ``owner``'s leases on held deliveries every third of the lease, from a thread that
    runs only while something is held."""

    def __init__(self, store: Store, owner: str, lease_seconds: float):
        self.store, self.owner, self.lease_seconds = store, owner, lease_seconds
        self._held: set[int] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, leased: Iterable[Delivery]) -> None:
        """Keep renewing these deliveries' leases until :meth:`release`."""
        with self._lock:
            self._held.update(d.id for d in leased)
            if self._held and self._thread is None and not self._closed.is_set():
                self._thread = threading.Thread(target=self._run, name="loa-leases", daemon=True)
                self._thread.start()

    def release(self, delivery_id: int) -> None:
        """The delivery is recorded (or given up): its lease is no longer this worker's care."""
        with self._lock:
            self._held.discard(delivery_id)

    def close(self) -> None:
        self._closed.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            self._closed.wait(self.lease_seconds / 3)
            with self._lock:
                if not self._held or self._closed.is_set():
                    self._thread = None
                    return
                ids = list(self._held)
            try:
                kept = self.store.deliveries.renew_leases(
                    self.owner, ids, utcnow() + timedelta(seconds=self.lease_seconds)
                )
            except Exception:  # the database is away: the next round tries again
                log.exception("could not renew the leases of %s", self.owner)
                continue
            if kept < len(ids):  # recorded meanwhile, or (rarely) taken for abandoned
                log.debug(
                    "%d of %d leases of %s not renewed", len(ids) - kept, len(ids), self.owner
                )
