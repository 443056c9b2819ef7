"""``loa users``: the real console script in a subprocess (password from stdin)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LOA = Path(sys.executable).with_name("loa")


def loa(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    return subprocess.run(
        [str(LOA), *args], capture_output=True, text=True, cwd=cwd, env=env, input=stdin, timeout=60
    )


def test_users_add_list_disable_passwd(tmp_path: Path) -> None:
    assert loa("init", str(tmp_path / "ws"), cwd=tmp_path).returncode == 0
    ws = tmp_path / "ws"
    res = loa(
        "users",
        "add",
        "lan",
        "--role",
        "admin",
        "--full-name",
        "Nguyễn Thị Lan",
        "--password-stdin",
        cwd=ws,
        stdin="mat-khau-rat-dai\n",
    )
    assert res.returncode == 0, res.stderr
    short = loa("users", "add", "an", "--password-stdin", cwd=ws, stdin="ngan\n")
    assert short.returncode == 1 and "ít nhất 10 ký tự" in short.stderr
    again = loa("users", "add", "lan", "--password-stdin", cwd=ws, stdin="mat-khau-khac-nua\n")
    assert again.returncode == 1 and "đã có" in again.stderr
    bad_role = loa(
        "users",
        "add",
        "binh",
        "--role",
        "boss",
        "--password-stdin",
        cwd=ws,
        stdin="mat-khau-rat-dai\n",
    )
    assert bad_role.returncode == 1 and "không hợp lệ" in bad_role.stderr
    listed = json.loads(loa("users", "list", "--json", cwd=ws).stdout)
    assert listed == [
        {
            "name": "lan",
            "full_name": "Nguyễn Thị Lan",
            "role": "admin",
            "disabled": False,
            "last_login_at": None,
        }
    ]
    assert "mat-khau" not in loa("users", "list", cwd=ws).stdout
    assert loa("users", "disable", "lan", cwd=ws).returncode == 0
    assert json.loads(loa("users", "list", "--json", cwd=ws).stdout)[0]["disabled"] is True
    assert (
        loa(
            "users", "passwd", "lan", "--password-stdin", cwd=ws, stdin="mat-khau-moi-2026\n"
        ).returncode
        == 0
    )
    missing = loa(
        "users", "passwd", "khong-co", "--password-stdin", cwd=ws, stdin="mat-khau-moi-2026\n"
    )
    assert missing.returncode == 1 and "Không có tài khoản" in missing.stderr
    db = (ws / "loa.db").read_bytes()
    assert b"mat-khau-rat-dai" not in db and b"$argon2id$" in db
