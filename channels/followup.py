"""The optional ``follow_up`` capability: reads that do not gate a post, done after it.

At the slot a lane should spend its time on posts. A read the next post does not need — the
Facebook permalink (the post id is known and ``https://www.facebook.com/{id}`` already leads to
the post), the Zalo article's ``link_view`` — is left to a follow-up: ``publish`` returns a receipt
whose ``extra[FOLLOW_UP]`` lists what is still to be read, the host records the post at once
(releasing whatever waited for it), and later calls::

    def follow_up(self, receipt: Receipt) -> Receipt: ...

which reads what is listed and returns the completed receipt (``extra`` without ``FOLLOW_UP``).
A failed follow-up raises the usual errors and is tried again; the post itself is never touched.
Reads that decide whether a post exists (Zalo's verify, which gives the article id every later
call needs) stay in ``publish``: they are part of exactly-once, not decoration.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from channels.base import Receipt

__all__ = ["FOLLOW_UP", "FollowsUp", "pending_reads"]

FOLLOW_UP = "follow_up"  # key of Receipt.extra: the reads still to do, e.g. ["permalink"]


def pending_reads(receipt: Receipt) -> list[str]:
    """What is still to be read for this receipt (empty: complete)."""
    value = receipt.extra.get(FOLLOW_UP)
    return [str(v) for v in value] if isinstance(value, list) else []


@runtime_checkable
class FollowsUp(Protocol):
    """An adapter whose ``publish`` may leave reads for later."""

    def follow_up(self, receipt: Receipt) -> Receipt: ...
