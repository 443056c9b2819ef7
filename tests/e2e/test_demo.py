"""The demo is also a smoke test of the whole product."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from bot.devtools.demo import run_demo, write_private


def test_demo_runs_the_whole_flow_and_every_step_works(tmp_path: Path) -> None:
    out = io.StringIO()
    code = run_demo(Console(file=out, width=120), tmp_path / "ws")
    text = out.getvalue()
    assert code == 0, text
    assert "Demo finished" in text
    assert list((tmp_path / "ws").glob("bao-cao-*.docx"))
    assert list((tmp_path / "ws" / "rejected").glob("*.loi.txt"))
    assert (tmp_path / "ws" / ".env").stat().st_mode & 0o777 == 0o600  # it holds the secrets


def test_the_demos_env_file_is_private_even_when_it_existed(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("OLD=1\n")
    env.chmod(0o644)
    write_private(env, "LOA_TELEGRAM__TOKEN=123:abc\n")
    assert (
        env.stat().st_mode & 0o777 == 0o600 and env.read_text() == "LOA_TELEGRAM__TOKEN=123:abc\n"
    )
