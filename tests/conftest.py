"""Shared fixtures: a database URL for SQLite and PostgreSQL, a store, a sandboxed workspace.

Three tiers, one folder each (``make check`` runs the first, ``make test`` all three):

* ``unit/``: pure functions (decisions, rendering, parsing, settings); milliseconds, no server;
* ``integration/``: adapters against the sandboxes over real HTTP, storage on SQLite and
  PostgreSQL, the Telegram bot against the Bot API sandbox, the CLI and the web app;
* ``e2e/``: the whole service: the demo, SIGKILL crash recovery, the fault soak, two workers,
  the web page in Chromium.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from bot.context import Loa
from bot.settings import Settings, load_settings
from channels.sandbox.base import SandboxServer
from channels.sandbox.facebook import FacebookSandbox
from channels.sandbox.wordpress import WordPressSandbox
from channels.sandbox.zalo import ZaloSandbox
from content_queue.credential_cipher import generate_key
from content_queue.db import normalise_url
from content_queue.models import ParsedArticle, ParsedImage
from content_queue.store import Store

PG_SKIP = "PostgreSQL tests need LOA_TEST_DATABASE_URL (set by .ci/run)"


# One key for the whole session, as one deployment has: a service started by a module-scoped
# fixture keeps working while later tests run (tests of a wrong or rotated key set their own).
SESSION_KEY = generate_key()


@pytest.fixture(autouse=True)
def secret_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs like a deployment made by ``loa init``: with a credentials key."""
    monkeypatch.setenv("LOA_SECRET_KEY", SESSION_KEY)
    return SESSION_KEY


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards (skips without a server)."""
    base = os.environ.get("LOA_TEST_DATABASE_URL")
    if not base:
        pytest.skip(PG_SKIP)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin_url = normalise_url(base)
    admin = sa.create_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in admin_url else "?"
    try:
        yield f"{admin_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL: a SQLite file, or a throw-away schema on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'loa.db'}"
        return
    with postgres_schema() as url:
        yield url


@contextmanager
def serving(server: SandboxServer) -> Iterator[Any]:
    """Run a sandbox server for the duration of the block."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A throw-away PostgreSQL schema only (for the concurrency cases)."""
    with postgres_schema() as url:
        yield url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    try:
        yield s
    finally:
        s.engine.dispose()


def parsed_article(
    title: str = "Hội nghị triển khai cải cách hành chính năm 2026",
    *,
    topic: str = "a",
    body: str | None = None,
    cover: ParsedImage | None = None,
    external_id: str | None = None,
    source_name: str | None = None,
    channels: tuple[str, ...] = (),
) -> ParsedArticle:
    """A cleaned article as ingestion would produce it; the content hash follows the text."""
    body = body if body is not None else f"Nội dung bài “{title}”: người dân được phục vụ tốt hơn."
    return ParsedArticle(
        title=title,
        summary=f"Tóm tắt: {title}.",
        body_html=f"<p>{body}</p>",
        body_text=body,
        topic=topic,
        channels=channels,
        cover=cover,
        external_id=external_id,
        source_name=source_name,
        content_hash=hashlib.sha256(f"{title}\n{body}".encode()).hexdigest(),
    )


def make_cover(path: Path, size: tuple[int, int] = (800, 450)) -> ParsedImage:
    """A real JPEG written with Pillow, described as ingestion would describe it."""
    Image.new("RGB", size, (200, 30, 40)).save(path, "JPEG", quality=80)
    return ParsedImage(
        path=str(path),
        mime_type="image/jpeg",
        width=size[0],
        height=size[1],
        size_bytes=path.stat().st_size,
        caption="Ảnh bìa",
    )


def sandbox_config(
    wp: WordPressSandbox,
    fb: FacebookSandbox,
    zalo: ZaloSandbox,
    db: str = "sqlite:///loa.db",
    *,
    website_timeout: float = 1.0,
) -> str:
    """A config.toml pointing every channel at a local sandbox (no secret in it)."""
    return f"""
[database]
url = "{db}"

[schedule]
retry_base_seconds = 1
reconcile_after_seconds = 1

[channels.website]
type = "wordpress"
url = "{wp.api_url}"
username = "{wp.USERNAME}"
timeout_seconds = {website_timeout}

[channels.facebook]
type = "facebook_page"
page_id = "{fb.PAGE_ID}"
graph_url = "{fb.url}"
api_version = "{fb.LATEST_VERSION}"
after = "website"
hashtags = ["CCHC", "LangSon"]
timeout_seconds = 5

[channels.zalo]
type = "zalo_oa"
api_url = "{zalo.url}"
oauth_url = "{zalo.url}"
app_id = "{zalo.APP_ID}"
after = "website"
verify_interval_seconds = 0
timeout_seconds = 5
"""


@dataclass
class Workspace:
    """A config.toml beside running sandboxes, and ways to build Loa from it."""

    dir: Path
    config: Path
    wp: WordPressSandbox
    fb: FacebookSandbox
    zalo: ZaloSandbox

    def settings(self) -> Settings:
        return load_settings(self.config)

    def loa(self) -> Loa:
        return Loa(self.settings())

    def cover(self, name: str = "anh-bia.jpg") -> ParsedImage:
        return make_cover(self.dir / name)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """WordPress, Facebook and Zalo sandboxes, and a config.toml (secrets in the environment)."""
    for key in [
        k
        for k in os.environ
        if k.startswith("LOA_") and k not in ("LOA_TEST_DATABASE_URL", "LOA_SECRET_KEY")
    ]:
        monkeypatch.delenv(key)
    wp, fb, zalo = WordPressSandbox(), FacebookSandbox(), ZaloSandbox()
    for sb in (wp, fb, zalo):
        sb.start()
    try:
        cfg = tmp_path / "config.toml"
        cfg.write_text(sandbox_config(wp, fb, zalo), "utf-8")
        monkeypatch.setenv("LOA_CHANNELS__WEBSITE__APP_PASSWORD", wp.APP_PASSWORD)
        monkeypatch.setenv("LOA_CHANNELS__FACEBOOK__PAGE_TOKEN", fb.PAGE_TOKEN)
        monkeypatch.setenv("LOA_CHANNELS__ZALO__APP_SECRET", zalo.APP_SECRET)
        monkeypatch.setenv("LOA_CHANNELS__ZALO__REFRESH_TOKEN", zalo.INITIAL_REFRESH_TOKEN)
        yield Workspace(tmp_path, cfg, wp, fb, zalo)
    finally:
        for sb in (wp, fb, zalo):
            sb.stop()


def wait_for(
    condition: Callable[[], bool], step: Callable[[], object], *, limit: float = 15.0
) -> None:
    """Run ``step`` until ``condition`` holds (a bounded wait, not a speed assertion)."""
    deadline = time.monotonic() + limit
    while True:
        step()
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier (its folder), so ``-m unit`` etc. select a tier."""
    for item in items:
        for tier in ("unit", "integration", "e2e"):
            if f"/tests/{tier}/" in str(item.path):
                item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture
def no_store_on_loop() -> Iterator[None]:
    """Fail the test if any SQL statement ran on an event loop's thread (a coroutine waited for
    the database instead of handing the call to the pool); every statement is made slow too."""
    from helpers.loop_guard import store_off_loop

    with store_off_loop() as seen:
        yield
    if seen.found:
        pytest.fail(
            f"{len(seen.found)} statement(s) ran on the event loop:\n"
            + "\n".join(sorted(set(seen.found)))
        )
