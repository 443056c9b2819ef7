"""The default cover: text-only articles reach Zalo; ``loa check`` refuses an unusable cover."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Workspace, parsed_article, serving, wait_for
from PIL import Image
from test_channel_zalo import GIF, JPEG, MediaHost
from typer.testing import CliRunner

from bot.approval import approve_article
from bot.cli.main import app
from bot.context import Loa
from bot.run import build_dispatcher
from bot.service.covers import ensure_default_covers
from bot.settings import load_settings
from channels.sandbox.zalo import ZaloSandbox
from content_queue.models import Actor

EDITOR, ADMIN = Actor("bien-tap", "cli"), Actor("quan-tri", "cli")


@pytest.fixture
def media() -> Iterator[MediaHost]:
    with serving(MediaHost()) as server:
        yield server


@pytest.fixture
def zalo_only(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    media: MediaHost,
) -> Iterator[tuple[Path, ZaloSandbox]]:
    """A Zalo-only configuration (no website) whose default cover is served by ``media``."""
    for key in [
        k
        for k in os.environ
        if k.startswith("LOA_") and k not in ("LOA_TEST_DATABASE_URL", "LOA_SECRET_KEY")
    ]:
        monkeypatch.delenv(key)
    with serving(ZaloSandbox()) as zalo:
        cfg = tmp_path / "config.toml"
        cfg.write_text(
            f"""
[database]
url = "sqlite:///{tmp_path / "loa.db"}"

[channels.zalo]
type = "zalo_oa"
api_url = "{zalo.url}"
oauth_url = "{zalo.url}"
app_id = "{zalo.APP_ID}"
verify_interval_seconds = 0
timeout_seconds = 5
default_cover_url = "{media.url}/media/cover.jpg"
""",
            "utf-8",
        )
        monkeypatch.setenv("LOA_CHANNELS__ZALO__APP_SECRET", zalo.APP_SECRET)
        monkeypatch.setenv("LOA_CHANNELS__ZALO__REFRESH_TOKEN", zalo.INITIAL_REFRESH_TOKEN)
        yield cfg, zalo


def _tick(loa: Loa) -> int:
    d = build_dispatcher(loa)
    try:
        return d.tick()
    finally:
        d.close()


def test_text_article_reaches_a_zalo_only_setup_with_the_default_cover(
    zalo_only: tuple[Path, ZaloSandbox], media: MediaHost
) -> None:
    cfg, zalo = zalo_only
    loa = Loa(load_settings(cfg))
    art = loa.store.articles.submit(
        parsed_article("Kết quả cải cách hành chính quý IV"), EDITOR
    ).article
    approved, skipped = approve_article(loa, art.id, ADMIN, now=True)
    assert skipped == {} and [d.channel for d in approved.deliveries] == ["zalo"]
    wait_for(lambda: loa.store.articles.get(art.id).state == "published", lambda: _tick(loa))
    (created,) = zalo.records["articles"]
    assert created["cover"]["photo_url"] == f"{media.url}/media/cover.jpg"
    assert "cover.jpg" in media.records["fetched"]  # Zalo fetched and accepted it


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("cover.jpg", None, "HTTP 404"),
        ("banner.gif", GIF, "không phải ảnh JPG/PNG"),
        ("big.jpg", JPEG + bytes(1024 * 1024), "nặng hơn 1 MB"),
    ],
)
def test_loa_check_refuses_a_missing_or_unusable_default_cover_with_a_reason(
    zalo_only: tuple[Path, ZaloSandbox],
    media: MediaHost,
    name: str,
    content: bytes | None,
    reason: str,
) -> None:
    cfg, _ = zalo_only
    if content is None:
        media.files.pop(name)
    else:
        media.files[name] = content
        cfg.write_text(
            cfg.read_text("utf-8").replace("/media/cover.jpg", f"/media/{name}"), "utf-8"
        )
    result = CliRunner().invoke(app, ["-c", str(cfg), "check"])
    output = " ".join(result.output.split())  # rich wraps long lines
    assert result.exit_code == 1
    assert "✗ zalo" in output and reason in output


def test_loa_check_accepts_a_usable_default_cover(zalo_only: tuple[Path, ZaloSandbox]) -> None:
    cfg, _ = zalo_only
    result = CliRunner().invoke(app, ["-c", str(cfg), "check"])
    assert result.exit_code == 0, result.output
    assert "Ảnh bìa mặc định hợp lệ" in " ".join(result.output.split())


def test_a_local_default_cover_is_uploaded_once_to_the_website_and_remembered(
    workspace: Workspace,
) -> None:
    banner = workspace.dir / "banner.jpg"
    Image.new("RGB", (600, 315), (0, 80, 160)).save(banner, "JPEG", quality=80)
    workspace.config.write_text(
        workspace.config.read_text("utf-8") + 'default_cover = "banner.jpg"\n', "utf-8"
    )
    loa = workspace.loa()
    assert ensure_default_covers(loa) == {} and ensure_default_covers(loa) == {}
    assert len(workspace.wp.records["media"]) == 1  # uploaded once
    url = loa.channel("zalo").default_cover_url()  # type: ignore[attr-defined]
    assert url == workspace.wp.records["media"][0]["source_url"]
    # a fresh process reads the remembered URL: no upload again
    again = workspace.loa()
    assert ensure_default_covers(again) == {} and len(workspace.wp.records["media"]) == 1
    # a changed file is uploaded again
    Image.new("RGB", (600, 315), (160, 0, 0)).save(banner, "JPEG", quality=80)
    assert ensure_default_covers(again) == {} and len(workspace.wp.records["media"]) == 2
    # a text-only article goes to Zalo with it
    art = loa.store.articles.submit(
        parsed_article("Tuyên truyền cải cách hành chính"), EDITOR
    ).article
    _, skipped = approve_article(loa, art.id, ADMIN, now=True)
    assert skipped == {}
    wait_for(lambda: loa.store.articles.get(art.id).state == "published", lambda: _tick(loa))
    assert (
        workspace.zalo.records["articles"][0]["cover"]["photo_url"]
        == workspace.wp.records["media"][1]["source_url"]
    )


def test_a_local_default_cover_that_zalo_cannot_take_is_named(workspace: Workspace) -> None:
    banner = workspace.dir / "banner.gif"
    Image.new("RGB", (60, 30), (0, 80, 160)).save(banner, "GIF")
    workspace.config.write_text(
        workspace.config.read_text("utf-8") + 'default_cover = "banner.gif"\n', "utf-8"
    )
    problems = ensure_default_covers(workspace.loa())
    assert "GIF" in problems["zalo"] and "JPG hoặc PNG" in problems["zalo"]
    assert workspace.wp.records["media"] == []
