"""What every subject of the store shares: a write transaction and a read snapshot."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from sqlalchemy.engine import Connection

__all__ = ["Connections"]


class Connections(Protocol):
    """The store's two ways into the database (implemented by :class:`content_queue.store.Store`)."""

    def tx(self) -> AbstractContextManager[Connection]: ...

    def read(self) -> AbstractContextManager[Connection]: ...
