"""Someone who is neither admin nor editor: answered once, then silence; the audit log stays small.

A stranger (or a bot flooding the chat) gets one polite refusal and one audit row per
``window_seconds``; further messages in the window are counted, not answered and not written,
and the count goes into the next audit row. What the stranger wrote is kept as a short prefix
with control characters removed. Memory is bounded: at most ``max_tracked`` people are
remembered, the longest-quiet forgotten first.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["AUDIT_PREFIX_CHARS", "StrangerGate", "Verdict", "audit_prefix"]

AUDIT_PREFIX_CHARS = 80


def audit_prefix(text: str, limit: int = AUDIT_PREFIX_CHARS) -> str:
    """At most ``limit`` characters of ``text``, control characters replaced, "…" if cut."""
    head = "".join("�" if unicodedata.category(c) in ("Cc", "Cf") else c for c in text[: limit + 1])
    return head if len(head) <= limit else head[:limit] + "…"


@dataclass(frozen=True)
class Verdict:
    """What to do with one stranger's message."""

    answer: bool  # send the refusal
    audit: bool  # write an audit row
    suppressed: int  # messages left unanswered since the last audit row


@dataclass
class _Seen:
    window_start: float
    suppressed: int = 0


class StrangerGate:
    """Per-person rate limit for refusals (thread-safe; clock injectable for tests of policy)."""

    def __init__(self, window_seconds: float = 3600.0, max_tracked: int = 10_000):
        self.window_seconds = window_seconds
        self.max_tracked = max_tracked
        self._seen: OrderedDict[int, _Seen] = OrderedDict()
        self._lock = threading.Lock()

    def admit(self, user_id: int, now: float | None = None) -> Verdict:
        """Record one message of ``user_id`` and say whether to answer and audit it."""
        now = time.monotonic() if now is None else now
        with self._lock:
            seen = self._seen.get(user_id)
            if seen is not None and now - seen.window_start < self.window_seconds:
                seen.suppressed += 1
                self._seen.move_to_end(user_id)
                return Verdict(answer=False, audit=False, suppressed=seen.suppressed)
            suppressed = seen.suppressed if seen is not None else 0
            self._seen[user_id] = _Seen(window_start=now)
            self._seen.move_to_end(user_id)
            while len(self._seen) > self.max_tracked:
                self._seen.popitem(last=False)
            return Verdict(answer=True, audit=True, suppressed=suppressed)
