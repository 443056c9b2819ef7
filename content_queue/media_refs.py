"""Which media folders the stored articles name (for the janitor that removes the others)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from content_queue.db import reader
from content_queue.tables import articles

__all__ = ["MediaRefs"]


class MediaRefs:
    """``store.media_refs``: the folders holding any article's pictures (every state: a
    rejected or retracted article's page still shows them)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def folders_in_use(self) -> set[Path]:
        folders: set[Path] = set()
        with reader(self.engine).connect() as conn:
            rows = conn.execute(sa.select(articles.c.images, articles.c.cover))
            for row in rows:
                images: Any = row.images
                cover: Any = row.cover
                named: list[Any] = list(images) if isinstance(images, list) else []
                if cover:
                    named.append(cover)
                for image in named:
                    path = image.get("path") if isinstance(image, dict) else None
                    if path:
                        folders.add(Path(path).parent)
        return folders
