"""The real ``loa`` console script in a subprocess: init, submit, approve, queue, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app

LOA = Path(sys.executable).with_name("loa")
ARTICLE = """---
title: Sở Ngoại vụ triển khai Kế hoạch cải cách hành chính năm 2026
topic: a
summary: Hội nghị triển khai nhiệm vụ cải cách hành chính trọng tâm năm 2026.
---

Sáng nay, Sở Ngoại vụ tỉnh Lạng Sơn tổ chức hội nghị triển khai kế hoạch cải cách hành chính.

Các phòng chuyên môn được giao nhiệm vụ cụ thể, gắn với chỉ số hài lòng của người dân.
"""


def loa(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    return subprocess.run(
        [str(LOA), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=60
    )


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cli") / "loa"
    res = loa("init", str(directory))
    assert res.returncode == 0, res.stderr
    assert (directory / "config.toml").exists() and (directory / "inbox").is_dir()
    (directory / "bai-cchc.md").write_text(ARTICLE, "utf-8")
    return directory


def test_the_issue_flow(ws: Path) -> None:
    cfg = str(ws / "config.toml")
    res = loa("-c", cfg, "submit", str(ws / "bai-cchc.md"))
    assert res.returncode == 0, res.stderr
    assert "bài #1" in res.stdout

    res = loa("-c", cfg, "approve", "1", "--now", "--by", "quan-tri")
    assert res.returncode == 0, res.stderr
    assert "Đã duyệt bài #1" in res.stdout
    assert "Bỏ qua kênh zalo" in res.stdout  # no cover image: Zalo would refuse it

    res = loa("-c", cfg, "queue", "--json")
    assert res.returncode == 0, res.stderr
    (article,) = json.loads(res.stdout)
    assert article["state"] == "approved" and article["approved_by"] == "quan-tri"
    assert sorted(d["channel"] for d in article["deliveries"]) == ["facebook", "website"]
    assert {d["state"] for d in article["deliveries"]} == {"waiting"}

    res = loa("-c", cfg, "show", "1", "--json")
    assert res.returncode == 0, res.stderr
    shown = json.loads(res.stdout)
    assert isinstance(shown, dict) and shown["id"] == 1  # an object, not a one-element list
    assert [e["action"] for e in shown["audit"]] == ["submitted", "approved"]
    assert shown["audit"][1]["actor"] == "quan-tri"
    assert "zalo" in shown["audit"][1]["detail"]["skipped"]

    # an illegal transition: one readable line, exit 1, no traceback
    res = loa("-c", cfg, "approve", "1", "--now")
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi: Không thể duyệt bài #1")
    assert "Traceback" not in res.stderr + res.stdout

    res = loa("-c", cfg, "show", "99")
    assert res.returncode == 1 and res.stderr.startswith("Lỗi: Không có bài #99")


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["init"],
        ["check"],
        ["submit"],
        ["queue"],
        ["show"],
        ["approve"],
        ["reject"],
        ["withdraw"],
        ["retract"],
        ["retry"],
        ["confirm"],
        ["notposted"],
        ["dispatch"],
        ["run"],
        ["channels"],
        ["channels", "pause"],
        ["channels", "resume"],
        ["channels", "connect"],
        ["reach", "collect"],
        ["report"],
        ["sandbox"],
        ["demo"],
    ],
)
def test_help_works_for_every_command(command: list[str]) -> None:
    res = CliRunner().invoke(app, [*command, "--help"])
    assert res.exit_code == 0, res.output
    assert "Usage" in res.output


def test_the_console_script_shows_help() -> None:
    res = loa("--help")
    assert res.returncode == 0 and "Usage" in res.stdout


def test_config_errors_are_prefixed_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[schedule]\ndaily_cap = "hai"\n', "utf-8")
    res = loa("-c", str(tmp_path / "config.toml"), "queue")
    assert res.returncode == 2
    assert res.stderr.startswith("config: schedule.daily_cap:")
    assert "Traceback" not in res.stderr

    res = loa("-c", str(tmp_path / "missing.toml"), "queue")
    assert res.returncode == 2 and "loa init" in res.stderr


def test_sandbox_workspace_writes_a_config_and_env_that_work(tmp_path: Path) -> None:
    """`loa sandbox --workspace DIR` over `loa init DIR`: one [telegram] and one section per
    channel, the workspace's own LOA_SECRET_KEY kept (once), and `loa check` passes."""
    from bot.devtools.sandboxes import Sandboxes, write_sandbox_workspace

    directory = tmp_path / "ws"
    assert loa("init", str(directory)).returncode == 0
    key = [x for x in (directory / ".env").read_text().splitlines() if x.startswith("LOA_SECRET")]
    boxes = Sandboxes.start()
    try:
        for _ in range(2):  # run again: rewritten in place, nothing doubled
            write_sandbox_workspace(boxes, directory)
        config = (directory / "config.toml").read_text("utf-8")
        for header in ("[telegram]", "[channels.website]", "[channels.facebook]", "[agency]"):
            assert config.count(f"\n{header}") == 1, header
        env = (directory / ".env").read_text("utf-8").splitlines()
        assert [x for x in env if x.startswith("LOA_SECRET_KEY=")] == key
        assert sum(x.startswith("LOA_TELEGRAM__TOKEN=") for x in env) == 1
        assert (directory / ".env").stat().st_mode & 0o777 == 0o600
        res = loa("-c", str(directory / "config.toml"), "check")
        assert res.returncode == 0, res.stdout + res.stderr
        assert "✓ website" in res.stdout and "✓ zalo" in res.stdout
    finally:
        boxes.stop()
