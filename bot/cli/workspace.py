"""``loa init``: a starter workspace (config, secrets template, a private ``.env``, inbox folders)."""

from __future__ import annotations

import os
from pathlib import Path

from content_queue.credential_cipher import ENV_VAR, generate_key

__all__ = ["ensure_secret_key", "write_workspace"]


def write_workspace(directory: Path) -> list[Path]:
    """Create config.toml, .env.example, .env (with a new key) and the queue folders.

    Existing files are kept; an existing ``.env`` without ``LOA_SECRET_KEY`` gets one.
    """
    directory.mkdir(parents=True, exist_ok=True)
    templates = Path(__file__).parent.parent / "templates"
    written = []
    for name, target in (("config.toml", "config.toml"), ("env.example", ".env.example")):
        path = directory / target
        if not path.exists():
            path.write_text((templates / name).read_text("utf-8"), "utf-8")
            written.append(path)
    if ensure_secret_key(directory / ".env"):
        written.append(directory / ".env")
    for folder in ("inbox", "processed", "rejected", "media"):
        path = directory / folder
        if not path.exists():
            path.mkdir()
            written.append(path)
    return written


def ensure_secret_key(env_file: Path) -> bool:
    """Give ``env_file`` a ``LOA_SECRET_KEY`` line unless it has one; the file is made 0600.

    Returns whether a key was written. The key is appended, never printed.
    """
    fd = os.open(env_file, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(os.dup(fd), "rb") as existing:
            text = existing.read().decode("utf-8", errors="replace")
        if any(
            line.strip().startswith(f"{ENV_VAR}=") and line.split("=", 1)[1].strip()
            for line in text.splitlines()
        ):
            return False
        prefix = "" if not text or text.endswith("\n") else "\n"
        line = (
            f"{prefix}# Encrypts the channel credentials stored in the database. Keep a copy "
            f"in a safe place:\n# without it they cannot be read. Rotation: see README.\n"
            f"{ENV_VAR}={generate_key()}\n"
        )
        os.write(fd, line.encode("utf-8"))
        return True
    finally:
        os.close(fd)
