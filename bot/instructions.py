"""Every command Loa tells a person to type, built in one place (so a help text cannot lie)."""

from __future__ import annotations

from typing import Literal

__all__ = ["instruction"]

Surface = Literal["cli", "telegram"]


def instruction(action: str, article_id: int, channel: str | None = None, *,
                url: str | None = None, surface: Surface = "cli") -> str:
    """The command for ``action`` on article ``article_id`` (and ``channel``) on ``surface``."""
    parts = [str(article_id)] + ([channel] if channel else []) + ([url] if url else [])
    prefix = "loa " if surface == "cli" else "/"
    return prefix + " ".join([action, *parts])
