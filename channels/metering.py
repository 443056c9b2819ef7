"""Counting the platform calls Loa makes, by kind, for whatever is being metered on this thread.

Every :class:`~channels.http.HttpSession` sends through a :class:`CountingAdapter`, which adds
one to the counter of the current context (a ``contextvars`` variable) for each request it sends,
answered or not. The host opens a counter around the work it wants measured::

    with metering.metered() as calls:
        channel.publish(draft, key)
    calls.as_dict()   # {"POST /wp/v2/posts": 1, "POST /wp/v2/media": 2}

A kind is the method and the URL path with ids replaced by ``{id}`` (numbers, Graph ``page_post``
ids, long hex or token segments), never the query string, so it holds no secret and no content.
Counters nest: an inner counter also adds to the outer ones. Outside any counter nothing is kept.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest, Response

__all__ = ["CallCounter", "CountingAdapter", "call_kind", "count", "merge", "metered"]

# Numbers, Graph "page_post" ids, and any long segment (hex ids, tokens such as a bot token).
_ID_SEGMENT = re.compile(r"\d[\d_]*|[^/]{24,}")


class CallCounter:
    """Calls by kind; safe to add to from several threads."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, kind: str, n: int = 1) -> None:
        with self._lock:
            self._counts[kind] += n

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def __repr__(self) -> str:
        return f"CallCounter({self.as_dict()!r})"


_current: contextvars.ContextVar[tuple[CallCounter, ...]] = contextvars.ContextVar(
    "loa_call_counters", default=()
)


def call_kind(method: str, url: str) -> str:
    """``"POST /wp-json/wp/v2/posts/{id}"``: method and path, ids replaced, no query string."""
    path = urlsplit(url).path or "/"
    parts = ["{id}" if _ID_SEGMENT.fullmatch(p) else p for p in path.split("/")]
    return f"{method.upper()} {'/'.join(parts)}"


@contextlib.contextmanager
def metered() -> Iterator[CallCounter]:
    """Count the calls made in this context (this thread, or tasks copied from it) until exit."""
    counter = CallCounter()
    token = _current.set((*_current.get(), counter))
    try:
        yield counter
    finally:
        _current.reset(token)


def count(method: str, url: str) -> None:
    """Add one call to every open counter of this context."""
    counters = _current.get()
    if counters:
        kind = call_kind(method, url)
        for c in counters:
            c.add(kind)


def merge(*counts: Mapping[str, int] | None) -> dict[str, int]:
    """The sum of several ``{kind: count}`` mappings."""
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c or {})
    return dict(sorted(total.items()))


class CountingAdapter(HTTPAdapter):
    """requests' adapter that counts each request it sends (before sending: lost ones count)."""

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        count(request.method or "GET", request.url or "")
        return super().send(request, *args, **kwargs)
