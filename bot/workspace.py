"""``loa init``: a starter workspace (config, secrets template, inbox folders)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_workspace"]


def write_workspace(directory: Path) -> list[Path]:
    """Create config.toml, .env.example and the queue folders; existing files are kept."""
    directory.mkdir(parents=True, exist_ok=True)
    templates = Path(__file__).with_name("templates")
    written = []
    for name, target in (("config.toml", "config.toml"), ("env.example", ".env.example")):
        path = directory / target
        if not path.exists():
            path.write_text((templates / name).read_text("utf-8"), "utf-8")
            written.append(path)
    for folder in ("inbox", "processed", "rejected", "media"):
        path = directory / folder
        if not path.exists():
            path.mkdir()
            written.append(path)
    return written
