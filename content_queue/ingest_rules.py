"""What ingestion refuses and the limits it enforces (shared by every ingest module)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["IngestLimits", "IngestRefusal"]

MB = 1024 * 1024


class IngestRefusal(Exception):
    """An article file Loa will not take: ``reason`` says what is wrong, ``hint`` how to fix it.

    Both are Vietnamese sentences meant for the editor; ``code`` is a short English id.
    """

    def __init__(self, code: str, reason: str, hint: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.hint = hint


@dataclass(frozen=True)
class IngestLimits:
    """Size limits for files, images and text (title_max is Zalo OA's title limit)."""

    max_file_bytes: int = 20 * MB
    max_image_bytes: int = 5 * MB
    max_image_pixels: int = 40_000_000
    max_unzipped_bytes: int = 100 * MB
    max_zip_ratio: int = 100  # uncompressed/compressed, checked for members over 1 MB
    title_max: int = 150
    title_max_channel: str = "Zalo OA"
    summary_max: int = 300
