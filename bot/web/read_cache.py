"""Views computed once per change of the data: a small LRU keyed by the store's change mark.

The calendar and plan pages aggregate thousands of rows; people open them far more often than
the data changes (a post, a decision, a reach collection every few minutes). Each view asks the
store's change mark (two primary-key look-ups, ``content_queue.plan_reads.change_mark``) and
recomputes only when it moved, so a page never shows figures older than the last change.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from content_queue.store import Store

__all__ = ["ReadCache"]

T = TypeVar("T")


class ReadCache:
    """Remembers up to ``size`` computed views, each valid while the change mark stays put."""

    def __init__(self, store: Store, size: int = 32):
        self.store = store
        self.size = size
        self._items: OrderedDict[Hashable, tuple[tuple[int, int], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        mark = self.store.reads.change_mark()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] == mark:
                self._items.move_to_end(key)
                return hit[1]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            self._items[key] = (mark, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value
