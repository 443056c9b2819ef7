"""The demo is also a smoke test of the whole product."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from bot.devtools.demo import run_demo


def test_demo_runs_the_whole_flow_and_every_step_works(tmp_path: Path) -> None:
    out = io.StringIO()
    code = run_demo(Console(file=out, width=120), tmp_path / "ws")
    text = out.getvalue()
    assert code == 0, text
    assert "Demo finished" in text
    assert list((tmp_path / "ws").glob("bao-cao-*.docx"))
    assert list((tmp_path / "ws" / "rejected").glob("*.loi.txt"))
