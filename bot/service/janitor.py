"""The janitor (hourly): pictures no article shows, and login counters that expired."""

from __future__ import annotations

import logging

from bot.context import Loa
from content_queue.ingest.media import sweep_media

__all__ = ["JANITOR_INTERVAL_MINUTES", "MEDIA_GRACE_SECONDS", "sweep"]

log = logging.getLogger(__name__)

JANITOR_INTERVAL_MINUTES = 60
# A folder is an orphan only after a day untouched: a file being parsed, or an article being
# stored, is never in the middle of its work for that long.
MEDIA_GRACE_SECONDS = 24 * 3600.0


def sweep(loa: Loa) -> None:
    """Remove orphaned pictures (refused uploads left by a stopped process, replaced revisions)
    and expired login counters; blocking, run from the service's job pool."""
    media_dir = loa.settings.path(loa.settings.queue.media)
    removed = sweep_media(
        media_dir, loa.store.media_refs.folders_in_use, older_than=MEDIA_GRACE_SECONDS
    )
    if removed:
        log.info("janitor: removed %d media folder(s) no article shows", len(removed))
    loa.store.login_attempts.sweep()
