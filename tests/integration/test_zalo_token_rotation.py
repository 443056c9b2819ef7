"""Zalo refresh-token rotation over the real token store, on SQLite and PostgreSQL.

Refreshes run in real subprocesses (``tests/helpers/zalo_refresh_proc.py``) that are SIGKILLed at
each step; a fresh adapter over the same database must then publish — except after the one
unavoidable instant (Zalo rotated, its answer not yet committed by Loa), which must be detected
and reported with the reconnect instructions.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from conftest import serving

from channels.base import ArticleView, AuthError, ImageRef, Receipt, TransientError
from channels.sandbox.base import Request, Response, SandboxServer
from channels.sandbox.zalo import ZaloSandbox
from channels.zalo_oa import ZaloOAChannel, ZaloOASettings, consent_link, exchange_code
from channels.zalo_tokens import token_fingerprint
from content_queue.channel_tokens import DbTokenStore, advisory_key
from content_queue.db import create_engine_for, open_database
from content_queue.tables import channel_state

REPO = Path(__file__).resolve().parents[2]
HELPER = REPO / "tests" / "helpers" / "zalo_refresh_proc.py"
TOKEN_PATH = r"^/v4/oa/access_token$"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(200)
WEBSITE = "https://sngv.langson.gov.vn/tin-tuc/cai-cach-hanh-chinh-2026"
LOST = "Mất kết nối Zalo OA"
RECONNECT = "Chạy lệnh `loa channels connect zalo` và làm theo hướng dẫn để cấp quyền lại."


class MediaHost(SandboxServer):
    """The website's media folder, from which the Zalo sandbox fetches images."""

    name = "media"

    def __init__(self) -> None:
        super().__init__()
        self.route(
            "GET", r"/media/cover\.jpg", lambda _req: Response(200, JPEG, content_type="image/jpeg")
        )

    def not_found(self, req: Request) -> Response:
        return Response(404, "not found")


@pytest.fixture
def sb() -> Iterator[ZaloSandbox]:
    with serving(ZaloSandbox(verify_pending_calls=1)) as server:
        yield server


@pytest.fixture
def media() -> Iterator[MediaHost]:
    with serving(MediaHost()) as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, or a schema of its own on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'loa.db'}"
        open_database(url).dispose()
        yield url
        return
    base = os.environ.get("LOA_TEST_DATABASE_URL")
    if not base:
        pytest.skip(
            "PostgreSQL token tests need LOA_TEST_DATABASE_URL "
            "(e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
    schema = "t_" + secrets.token_hex(6)
    admin = create_engine_for(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    open_database(url).dispose()
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    eng = create_engine_for(db_url)
    yield eng
    eng.dispose()


def make_channel(sb: ZaloSandbox, engine: sa.Engine, **overrides: Any) -> ZaloOAChannel:
    raw: dict[str, Any] = {
        "type": "zalo_oa",
        "api_url": sb.url,
        "oauth_url": sb.url,
        "app_id": ZaloSandbox.APP_ID,
        "app_secret": ZaloSandbox.APP_SECRET,
        "refresh_token": ZaloSandbox.INITIAL_REFRESH_TOKEN,
        "after": "website",
        "verify_interval_seconds": 0,
        "timeout_seconds": 5,
    }
    raw.update(overrides)
    return ZaloOAChannel(
        "zalo", ZaloOASettings.model_validate(raw), token_store=DbTokenStore(engine, "zalo")
    )


def article(media: MediaHost) -> ArticleView:
    cover = ImageRef(
        "anh-bia.jpg", "image/jpeg", size_bytes=len(JPEG), public_url=f"{media.url}/media/cover.jpg"
    )
    return ArticleView(
        id=1,
        title="Sở Ngoại vụ Lạng Sơn đẩy mạnh cải cách hành chính năm 2026",
        summary="Tiếp nhận hồ sơ trực tuyến toàn trình.",
        body_html="<p>Nội dung bài.</p>",
        body_text="Nội dung bài.",
        topic="a",
        topic_label="Cải cách thể chế",
        cover=cover,
    )


def ok_refreshes(sb: ZaloSandbox) -> list[dict[str, Any]]:
    return [r for r in sb.records["refreshes"] if r["ok"]]


_started: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _no_stray_processes() -> Iterator[None]:
    """Kill (by pid) any helper a failed test left running: it could hold the refresh lock."""
    yield
    while _started:
        proc = _started.pop()
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


def start_refresh(db_url: str, sb: ZaloSandbox, **env: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(HELPER), db_url, sb.url],
        cwd=REPO,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **env},
    )
    _started.append(proc)
    return proc


def read_until(proc: subprocess.Popen[str], prefix: str) -> list[str]:
    """Lines of ``proc`` up to the first one starting with ``prefix`` (fails if it exits first)."""
    assert proc.stdout is not None
    lines = []
    while True:
        line = proc.stdout.readline()
        if not line:
            proc.wait()
            raise AssertionError(
                f"helper ended before {prefix!r}: {lines} {proc.stderr.read() if proc.stderr else ''}"
            )
        lines.append(line.strip())
        if line.startswith(prefix):
            return lines


def wait_for(proc: subprocess.Popen[str], condition: Callable[[], bool]) -> None:
    """Wait until the sandbox shows ``condition`` (a safety deadline only, not a timing check)."""
    deadline = time.monotonic() + 20
    while not condition():
        assert proc.poll() is None, "helper ended early"
        assert time.monotonic() < deadline, "sandbox never reached the expected state"
        time.sleep(0.01)


def lock_waiters(db_url: str, engine: sa.Engine) -> int:
    """How many requests wait for the channel's refresh lock (PostgreSQL pg_locks, Linux /proc/locks)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
            return conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                    "AND objsubid = 2 AND objid::bigint = (CAST(:key AS bigint) & 4294967295)"
                ),
                {"key": advisory_key(f"{schema}.zalo")},
            ).scalar_one()
    lock_file = Path(f"{engine.url.database}.zalo.lock")
    if not lock_file.exists():
        return 0
    inode = f":{lock_file.stat().st_ino} "
    return sum(
        1 for line in Path("/proc/locks").read_text().splitlines() if "->" in line and inode in line
    )


def kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


# ----- the store -----------------------------------------------------------------------------
def test_store_merges_removes_and_commits_credentials(engine: sa.Engine, db_url: str) -> None:
    store = DbTokenStore(engine, "zalo")
    assert store.load() == {}
    store.save(
        {
            "access_token": "a1",
            "refresh_token": "r1",
            "access_expires_at": "2026-03-01T01:00:00+00:00",
            "refresh_attempt": {"at": "x", "token_fingerprint": "abc"},
        }
    )
    store.save({"access_token": "a2", "refresh_attempt": None})
    other = create_engine_for(db_url)  # a second engine sees the commit: it is durable, not cached
    try:
        assert DbTokenStore(other, "zalo").load() == {
            "access_token": "a2",
            "refresh_token": "r1",
            "access_expires_at": "2026-03-01T01:00:00+00:00",
        }
        assert DbTokenStore(other, "facebook").load() == {}
        with other.connect() as conn:
            row = conn.execute(
                sa.select(channel_state).where(channel_state.c.channel == "zalo")
            ).one()
        assert row.token_expires_at == datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
        assert row.updated_at is not None and row.paused is False
    finally:
        other.dispose()


def test_store_repr_hides_credentials(engine: sa.Engine) -> None:
    store = DbTokenStore(engine, "zalo")
    store.save({"refresh_token": "very-secret-refresh"})
    assert "very-secret-refresh" not in repr(store)


# ----- crashes at every step -----------------------------------------------------------------
CRASHES = [
    # (where the refresh process dies, how the test gets it there, token lost?)
    ("before_intent", "checkpoint", False),
    ("intent_saved", "checkpoint", False),  # intent on record, nothing sent
    ("request_in_flight_before_zalo_acted", "timeout_before", False),
    ("zalo_rotated_answer_in_flight", "timeout_after", True),  # the unavoidable instant
    ("answered", "checkpoint", True),  # the new pair is only in the dying process's memory
    ("saved", "checkpoint", False),
]


@pytest.mark.parametrize(("crash_at", "how", "lost"), CRASHES, ids=[c[0] for c in CRASHES])
def test_refresh_killed_at_each_step_loses_nothing_or_reports_the_lost_rotation(
    db_url: str,
    engine: sa.Engine,
    sb: ZaloSandbox,
    media: MediaHost,
    crash_at: str,
    how: str,
    lost: bool,
) -> None:
    env = {}
    if how == "checkpoint":
        env["LOA_TEST_CRASH_AT"] = crash_at
    else:
        sb.inject(how, path=TOKEN_PATH, seconds=10)
    proc = start_refresh(db_url, sb, **env)
    if how == "checkpoint":
        read_until(proc, f"PAUSED {crash_at}")
    elif how == "timeout_before":  # the request reached Zalo, which has not acted yet
        wait_for(proc, lambda: any(p == "/v4/oa/access_token" for _, _, p in sb.request_log))
        assert ok_refreshes(sb) == []
    else:  # Zalo rotated the token; its answer is still on the way
        wait_for(proc, lambda: bool(ok_refreshes(sb)))
    kill(proc)

    ch = make_channel(sb, engine)
    draft = ch.render(article(media), {"website": WEBSITE})
    if lost:
        with pytest.raises(AuthError) as err:
            ch.publish(draft, "k-1")
        assert err.value.message.startswith(LOST) and err.value.message.endswith(RECONNECT)
        assert (
            err.value.refreshable is False
            and err.value.reconnect_hint == "loa channels connect zalo"
        )
        assert sb.records["articles"] == []
        assert sb.live_refresh_token != ch.store.load().get(
            "refresh_token", ZaloSandbox.INITIAL_REFRESH_TOKEN
        )
        return
    receipt = ch.publish(draft, "k-1")
    assert receipt.remote_id in sb.media
    stored = ch.store.load()
    assert stored["refresh_token"] == sb.live_refresh_token and "refresh_attempt" not in stored
    assert sb.valid_access_token(stored["access_token"])
    # One rotation in all: by the killed process ("saved") or by the fresh one (every other case).
    assert len(ok_refreshes(sb)) == 1


def test_rotation_dropped_in_flight_is_detected_and_reported(
    engine: sa.Engine, sb: ZaloSandbox
) -> None:
    ch = make_channel(sb, engine)
    sb.inject("rotate_then_drop")
    with pytest.raises(TransientError) as first:
        ch.check()
    assert first.value.may_have_posted is True
    assert (
        ok_refreshes(sb)[0]["refresh_token"] == ZaloSandbox.INITIAL_REFRESH_TOKEN
    )  # rotated server-side
    intent = ch.store.load()["refresh_attempt"]
    assert intent["token_fingerprint"] == token_fingerprint(ZaloSandbox.INITIAL_REFRESH_TOKEN)

    with pytest.raises(AuthError) as lost:
        ch.access_token()
    assert lost.value.message.startswith(LOST) and lost.value.message.endswith(RECONNECT)
    assert "hết hạn" not in lost.value.message and lost.value.refreshable is False
    health = ch.check()  # the health check reports it instead of raising
    assert health.ok is False and health.detail == lost.value.message
    assert ch.store.load()["refresh_attempt"] == intent  # kept: every later try says the same

    # The admin reconnects: the new pair replaces the lost one and clears the intent.
    redirect, verifier = _consent_code(sb)
    info = exchange_code(ch.settings, redirect, verifier, ch.store)
    assert info["ok"] is True and info["oa_name"] == ZaloSandbox.OA_NAME
    assert "refresh_attempt" not in ch.store.load() and ch.check().ok is True


def _consent_code(sb: ZaloSandbox) -> tuple[str, str]:
    settings = ZaloOASettings(
        app_id=ZaloSandbox.APP_ID, oauth_url=sb.url, redirect_uri="https://loa.local/zalo"
    )
    url, verifier, _state = consent_link(settings)
    location = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    return location, verifier


def test_expired_refresh_token_is_reported_differently_from_a_lost_rotation(
    engine: sa.Engine, sb: ZaloSandbox
) -> None:
    ch = make_channel(sb, engine)
    sb.expire_refresh_tokens()  # three months without a refresh
    with pytest.raises(AuthError) as err:
        ch.access_token()
    assert "hết hạn (quá 3 tháng" in err.value.message and not err.value.message.startswith(LOST)
    assert err.value.message.endswith(RECONNECT) and err.value.refreshable is False
    assert "refresh_attempt" not in ch.store.load()  # Zalo answered: no attempt left unresolved
    with pytest.raises(AuthError) as again:
        ch.access_token()
    assert again.value.message == err.value.message


def test_crash_after_intent_then_a_valid_token_is_not_mistaken_for_a_lost_rotation(
    db_url: str, engine: sa.Engine, sb: ZaloSandbox
) -> None:
    proc = start_refresh(db_url, sb, LOA_TEST_CRASH_AT="intent_saved")
    read_until(proc, "PAUSED intent_saved")
    kill(proc)
    assert DbTokenStore(engine, "zalo").load()["refresh_attempt"][
        "token_fingerprint"
    ] == token_fingerprint(ZaloSandbox.INITIAL_REFRESH_TOKEN)
    assert make_channel(sb, engine).check().ok is True


# ----- concurrency ---------------------------------------------------------------------------
def test_two_processes_refreshing_at_once_send_one_refresh_and_share_the_token(
    db_url: str, engine: sa.Engine, sb: ZaloSandbox, tmp_path: Path
) -> None:
    go_first, go_second = tmp_path / "go-1", tmp_path / "go-2"
    first = start_refresh(
        db_url, sb, LOA_TEST_PAUSE_AT="before_intent", LOA_TEST_GO_FILE=str(go_first)
    )
    second = start_refresh(
        db_url, sb, LOA_TEST_PAUSE_AT="before_lock", LOA_TEST_GO_FILE=str(go_second)
    )
    read_until(first, "PAUSED before_intent")  # holds the lock, has decided to refresh
    second_lines = read_until(second, "PAUSED before_lock")
    go_second.touch()
    wait_for(
        second, lambda: lock_waiters(db_url, engine) == 1
    )  # queued on the lock the first holds
    go_first.touch()
    first_lines = read_until(first, "RESULT")
    second_lines += read_until(second, "RESULT")
    assert first.wait() == 0 and second.wait() == 0
    assert "STEP answered" in first_lines
    assert "STEP before_intent" not in second_lines  # re-loaded inside the lock: nothing to do
    assert first_lines[-1] == second_lines[-1]
    assert len(sb.records["refreshes"]) == 1  # exactly one refresh request reached Zalo
    stored = DbTokenStore(engine, "zalo").load()
    assert first_lines[-1] == f"RESULT {token_fingerprint(stored['access_token'])}"
    assert (
        sb.valid_access_token(stored["access_token"])
        and stored["refresh_token"] == sb.live_refresh_token
    )


def test_threads_of_one_process_also_refresh_once(engine: sa.Engine, sb: ZaloSandbox) -> None:
    sb.latency = 0.05  # keep the first refresh in flight while the others queue on the lock
    channels = [make_channel(sb, engine) for _ in range(4)]
    tokens: list[str] = []
    threads = [
        threading.Thread(target=lambda c=c: tokens.append(c.access_token())) for c in channels
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(tokens)) == 1 and len(tokens) == 4
    assert len(sb.records["refreshes"]) == 1


# ----- refused access tokens -----------------------------------------------------------------
def test_refused_access_token_is_refreshed_once_and_the_call_retried(
    engine: sa.Engine, sb: ZaloSandbox, media: MediaHost
) -> None:
    ch = make_channel(sb, engine)
    ch.access_token()
    sb.expire_access_tokens()  # Zalo drops it although our clock says it has 25 hours left
    receipt = ch.publish(ch.render(article(media), {"website": WEBSITE}), "k-2")
    assert receipt.remote_id in sb.media
    assert len(ok_refreshes(sb)) == 2 and "refresh_attempt" not in ch.store.load()


def test_token_refused_twice_raises_a_non_refreshable_auth_error(
    engine: sa.Engine, sb: ZaloSandbox
) -> None:
    ch = make_channel(sb, engine)
    sb.inject("token_invalid", path="/v2.0/article/getslice", count=2)
    with pytest.raises(AuthError) as err:
        ch.fetch_reach([Receipt("abc", None)])
    assert err.value.code == -216 and err.value.refreshable is False
    assert err.value.reconnect_hint == "loa channels connect zalo"
    assert len(ok_refreshes(sb)) == 2  # the first token, then exactly one refresh after the refusal


def test_stale_token_already_replaced_by_another_process_is_not_refreshed_again(
    engine: sa.Engine, sb: ZaloSandbox
) -> None:
    ch = make_channel(sb, engine)
    current = ch.access_token()
    assert ch.refresh_access_token(stale="an-older-token") == current
    assert len(ok_refreshes(sb)) == 1
    renewed = ch.refresh_access_token(stale=current)
    assert renewed != current and len(ok_refreshes(sb)) == 2


def test_short_lived_access_tokens_are_refreshed_before_they_expire(
    engine: sa.Engine, sb: ZaloSandbox
) -> None:
    sb.access_ttl = 2
    ch = make_channel(sb, engine, refresh_margin_seconds=3600)
    first = ch.access_token()
    # The margin is capped at half the token's life, so a 2 s token is reused at once...
    assert ch.access_token() == first and len(ok_refreshes(sb)) == 1
    ch.store.save({"access_expires_at": datetime.now(UTC).isoformat()})
    # ...and replaced once inside its last second.
    assert ch.access_token() != first and len(ok_refreshes(sb)) == 2
