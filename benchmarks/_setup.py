"""Shared set-up for the dispatcher benchmarks: a workspace on the sandboxes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bot.context import Loa
from bot.devtools.sandboxes import Sandboxes
from bot.settings import load_settings


def workspace(db_url: str | None = None) -> tuple[Loa, Sandboxes, Path]:
    """A Loa configured against freshly started sandboxes (secrets through the environment)."""
    boxes = Sandboxes.start()
    work = Path(tempfile.mkdtemp(prefix="loa-bench-"))
    url = db_url or "sqlite:///loa.db"
    (work / "config.toml").write_text(
        f'[database]\nurl = "{url}"\n[schedule]\nretry_base_seconds = 1\n' + boxes.channels_toml(),
        "utf-8",
    )
    for line in boxes.env_text().splitlines():
        k, v = line.split("=", 1)
        os.environ[k] = v
    return Loa(load_settings(work / "config.toml")), boxes, work
