"""Stored credentials are encrypted, the SQLite files are private, and the key is handled by the CLI."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import Workspace

from bot.cli.workspace import write_workspace
from content_queue.channel_tokens import DbTokenStore, handled_secret_values
from content_queue.credential_cipher import (
    CredentialCipher,
    SecretKeyError,
    generate_key,
    is_encrypted,
)
from content_queue.db import open_database
from content_queue.store import Store
from content_queue.tables import channel_state

LOA = Path(sys.executable).with_name("loa")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _raw_row(engine: sa.Engine, channel: str) -> dict[str, object]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                sa.select(channel_state.c.credentials).where(channel_state.c.channel == channel)
            ).scalar_one()
            or {}
        )


def test_database_files_are_private_and_hold_no_token_in_clear(workspace: Workspace) -> None:
    loa = workspace.loa()
    health = loa.channel("zalo").check()  # the sandbox hands out a new token pair: stored
    assert health.ok, health.detail
    loa.token_store("facebook").save({"page_token": workspace.fb.PAGE_TOKEN})
    zalo = loa.token_store("zalo").load()
    tokens = [zalo["access_token"], zalo["refresh_token"], workspace.fb.PAGE_TOKEN]
    assert all(len(t) >= 8 for t in tokens)

    files = [workspace.dir / name for name in ("loa.db", "loa.db-wal", "loa.db-shm")]
    assert all(p.exists() for p in files)
    assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    content = b"".join(p.read_bytes() for p in files)
    for token in tokens:
        assert token.encode() not in content
    assert is_encrypted(_raw_row(loa.store.engine, "zalo"))
    loa.store.engine.dispose()


def test_an_old_world_readable_database_is_made_private(tmp_path: Path) -> None:
    db = tmp_path / "loa.db"
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    engine.dispose()
    db.chmod(0o644)
    open_database(f"sqlite:///{db}").dispose()
    assert _mode(db) == 0o600


def test_a_plaintext_row_of_an_older_version_is_read_then_encrypted(db_url: str) -> None:
    engine = open_database(db_url)
    try:
        with engine.begin() as conn:  # what an older Loa wrote
            conn.execute(
                channel_state.insert().values(
                    channel="zalo",
                    credentials={"refresh_token": "old-plain-refresh-token"},
                    updated_at=sa.func.now(),
                )
            )
        store = DbTokenStore(engine, "zalo")
        assert store.load() == {"refresh_token": "old-plain-refresh-token"}
        store.save({"access_token": "new-access-token-1"})
        raw = _raw_row(engine, "zalo")
        assert is_encrypted(raw) and "old-plain-refresh-token" not in str(raw)
        assert store.load() == {
            "refresh_token": "old-plain-refresh-token",
            "access_token": "new-access-token-1",
        }
    finally:
        engine.dispose()


def test_rotation_reencrypts_every_row_with_the_new_key(db_url: str, secret_key: str) -> None:
    engine = open_database(db_url)
    try:
        DbTokenStore(engine, "zalo").save({"refresh_token": "refresh-under-old-key"})
        with engine.begin() as conn:
            conn.execute(
                channel_state.insert().values(
                    channel="facebook",
                    credentials={"page_token": "plain-page-token"},
                    updated_at=sa.func.now(),
                )
            )
        new = generate_key()
        both = CredentialCipher(f"{new},{secret_key}")
        assert sorted(Store(engine).tokens.reseal_credentials(both)) == ["facebook", "zalo"]
        assert Store(engine).tokens.reseal_credentials(both) == []  # nothing left to do
        only_new = CredentialCipher(new)
        assert DbTokenStore(engine, "zalo", only_new).load() == {
            "refresh_token": "refresh-under-old-key"
        }
        assert DbTokenStore(engine, "facebook", only_new).load() == {
            "page_token": "plain-page-token"
        }
        with pytest.raises(SecretKeyError, match="không mở được"):
            DbTokenStore(engine, "zalo", CredentialCipher(secret_key)).load()
    finally:
        engine.dispose()


def test_without_a_key_nothing_is_stored_in_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOA_SECRET_KEY")
    engine = open_database(f"sqlite:///{tmp_path / 'loa.db'}")
    try:
        with pytest.raises(SecretKeyError, match="LOA_SECRET_KEY"):
            DbTokenStore(engine, "zalo").save({"refresh_token": "must-not-be-written"})
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(channel_state)).scalar() == 0
    finally:
        engine.dispose()


def test_a_malformed_key_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SecretKeyError, match="Khóa thứ 2"):
        CredentialCipher(f"{generate_key()},not-a-key")


def test_tokens_handled_by_the_store_are_remembered_for_the_log_mask(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'loa.db'}")
    try:
        DbTokenStore(engine, "zalo").save(
            {
                "access_token": "remember-me-access-token",
                "access_expires_at": "2026-12-01T00:00:00+00:00",
            }
        )
        assert "remember-me-access-token" in handled_secret_values()
        assert "2026-12-01T00:00:00+00:00" not in handled_secret_values()
    finally:
        engine.dispose()


# ----- the key through the command line ---------------------------------------------------------
def _loa(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    return subprocess.run(
        [str(LOA), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=60
    )


def _env_key(env_file: Path) -> str:
    (line,) = [
        x for x in env_file.read_text("utf-8").splitlines() if x.startswith("LOA_SECRET_KEY=")
    ]
    return line.split("=", 1)[1]


def test_init_writes_a_private_env_with_a_key_and_keeps_an_existing_one(tmp_path: Path) -> None:
    res = _loa("init", str(tmp_path / "ws"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    env_file = tmp_path / "ws" / ".env"
    assert _mode(env_file) == 0o600
    key = _env_key(env_file)
    CredentialCipher(key)  # a valid Fernet key
    assert key not in res.stdout + res.stderr
    write_workspace(tmp_path / "ws")
    assert _env_key(env_file) == key

    older = tmp_path / "older"  # a workspace from before keys: its .env gets one appended
    older.mkdir()
    (older / ".env").write_text("LOA_TELEGRAM__TOKEN=123:abc", "utf-8")
    (older / ".env").chmod(0o644)
    write_workspace(older)
    text = (older / ".env").read_text("utf-8")
    assert text.startswith("LOA_TELEGRAM__TOKEN=123:abc\n") and _env_key(older / ".env")
    assert _mode(older / ".env") == 0o600


def test_check_says_when_the_key_is_missing_or_wrong_and_rotate_moves_to_the_new_key(
    tmp_path: Path,
) -> None:
    ws = tmp_path / "ws"
    assert _loa("init", str(ws), cwd=tmp_path).returncode == 0
    cfg = str(ws / "config.toml")
    old = _env_key(ws / ".env")
    env_lines = (ws / ".env").read_text("utf-8")
    db = open_database(f"sqlite:///{ws / 'loa.db'}")
    DbTokenStore(db, "zalo", CredentialCipher(old)).save({"refresh_token": "stored-refresh-token"})

    (ws / ".env").write_text(env_lines.replace(old, generate_key()), "utf-8")
    res = _loa("-c", cfg, "check", cwd=ws)
    assert res.returncode == 1
    assert "LOA_SECRET_KEY is wrong" in res.stderr and "không mở được" in res.stderr
    assert "Traceback" not in res.stderr

    (ws / ".env").write_text(env_lines.replace(f"LOA_SECRET_KEY={old}", ""), "utf-8")
    res = _loa("-c", cfg, "check", cwd=ws)
    assert res.returncode == 1 and "LOA_SECRET_KEY is missing" in res.stderr
    res = _loa("-c", cfg, "dispatch", "--once", cwd=ws)
    assert res.returncode == 2 and res.stderr.startswith("config: secret_key:")

    new = _loa("secrets", "new-key", cwd=ws).stdout.strip()
    (ws / ".env").write_text(env_lines.replace(old, f"{new},{old}"), "utf-8")
    res = _loa("-c", cfg, "secrets", "rotate", cwd=ws)
    assert res.returncode == 0, res.stderr
    assert "zalo" in res.stdout
    assert DbTokenStore(db, "zalo", CredentialCipher(new)).load() == {
        "refresh_token": "stored-refresh-token"
    }
    db.dispose()
