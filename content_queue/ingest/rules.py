"""What ingestion refuses and the bounds it enforces (shared by every stage of the pipeline)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from channels.render import vi_number

__all__ = ["MB", "IngestLimits", "IngestRefusal", "over_limit", "printable_name"]

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
    """Bounds on what one article may hold and on the worker process that parses it.

    Every bound is named, with its value, in the refusal an editor reads (``over_limit``).
    ``title_max`` is Zalo OA's title limit.
    """

    max_file_bytes: int = 20 * MB
    max_image_bytes: int = 5 * MB
    max_image_pixels: int = 40_000_000
    max_unzipped_bytes: int = 100 * MB
    max_zip_ratio: int = 100  # uncompressed/compressed, checked for members over 1 MB
    max_zip_entries: int = 500
    max_docx_xml_bytes: int = 10 * MB  # word/document.xml, uncompressed
    max_body_chars: int = 200_000
    # The article's HTML as stored and rendered (text counts only words: markup and long
    # attributes could make a small text a huge page).
    max_body_html_bytes: int = 2 * MB
    max_link_chars: int = 2048  # one href; a longer "link" is not an address anyone follows
    max_alt_chars: int = 300  # a picture's description; longer ones are cut
    max_images: int = 30
    max_front_matter_bytes: int = 16 * 1024
    title_max: int = 150
    title_max_channel: str = "Zalo OA"
    summary_max: int = 300
    # The worker process that parses one file (content_queue.ingest.worker).
    worker_memory_bytes: int = 1024 * MB
    worker_cpu_seconds: int = 30
    worker_timeout_seconds: float = 60.0


def _amount(value: int, unit: str) -> str:
    if unit == "MB":
        return f"{vi_number(value / MB)} MB"
    return f"{vi_number(value)} {unit}"


def over_limit(
    code: str, what: str, value: int, limit: int, unit: str, hint: str, note: str = ""
) -> IngestRefusal:
    """A refusal naming the bound and the value found, e.g. "… 250.000 ký tự, vượt giới hạn …"."""
    return IngestRefusal(
        code,
        f"{what} {_amount(value, unit)}, vượt giới hạn {_amount(limit, unit)}{note}.",
        hint,
    )


def printable_name(name: str, limit: int = 120) -> str:
    """A file name safe to show: control and format characters as ``\\xNN``/``\\uNNNN``, NFC."""
    out = []
    for ch in unicodedata.normalize("NFC", name):
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"):
            code = ord(ch)
            if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
                code -= 0xDC00
            out.append(
                f"\\x{code:02x}"
                if code < 0x100
                else f"\\u{code:04x}"
                if code < 0x10000
                else f"\\U{code:08x}"
            )
        else:
            out.append(ch)
    shown = "".join(out)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
