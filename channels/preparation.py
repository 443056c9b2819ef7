"""The optional ``prepare`` capability: what an adapter readies before the slot.

At the slot only the posts should be sent. Whatever publishes nothing is done as soon as an
article is approved (and again on a new revision, on service start and shortly before its slot):
terms resolved or created (WordPress), the access token refreshed if it would expire near the slot
(Zalo), images uploaded ahead where the channel is configured to (``prepare_media_ahead``).

An adapter that has something to prepare defines::

    def prepare(self, draft: Draft, *, due_at: datetime | None, known: Mapping[str, Any],
                previous: Mapping[str, Any]) -> Prepared: ...

``known`` holds the channel's facts the host kept (``Prepared.facts`` of earlier preparations),
``previous`` the ``Prepared.data`` of this article's last preparation with the same draft
fingerprint (so nothing already done is done again). The adapter keeps what its ``publish`` needs
in its own process too, so the host hands the stored facts back simply by calling ``prepare`` again
(on start, before the slot): with everything known it makes no call that creates anything.
``prepare`` raises the usual :mod:`channels.base` errors; the host shows them on the article's card
and alerts admins, before the slot. Adapters without ``prepare`` need nothing ahead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from channels.base import Draft

__all__ = ["Preparer", "Prepared"]


@dataclass(frozen=True)
class Prepared:
    """The outcome of one preparation."""

    data: Mapping[str, Any] = field(default_factory=dict)  # this article's, reused by publish
    facts: Mapping[str, Any] = field(default_factory=dict)  # the channel's, kept across restarts
    notes: tuple[str, ...] = ()  # what was done, in Vietnamese (shown by `loa show`)


@runtime_checkable
class Preparer(Protocol):
    """An adapter with something to do before the slot."""

    def prepare(
        self,
        draft: Draft,
        *,
        due_at: datetime | None,
        known: Mapping[str, Any],
        previous: Mapping[str, Any],
    ) -> Prepared: ...
