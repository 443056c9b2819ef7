"""`loa channels connect` against the sandboxes of all three platforms."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import requests
from rich.console import Console

from bot.connect import connect_channel
from bot.context import Loa
from bot.settings import load_settings
from channels.sandbox.facebook import FacebookSandbox
from channels.sandbox.wordpress import WordPressSandbox
from channels.sandbox.zalo import ZaloSandbox
from content_queue.channel_tokens import DbTokenStore


@pytest.fixture()
def loa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    wp, fb, zl = WordPressSandbox(), FacebookSandbox(), ZaloSandbox()
    for s in (wp, fb, zl):
        s.start()
    (tmp_path / "config.toml").write_text(f"""
[channels.website]
type = "wordpress"
url = "{wp.api_url}"
username = "{WordPressSandbox.USERNAME}"
[channels.facebook]
type = "facebook_page"
page_id = "{FacebookSandbox.PAGE_ID}"
graph_url = "{fb.url}"
app_id = "{FacebookSandbox.APP_ID}"
after = "website"
[channels.zalo]
type = "zalo_oa"
api_url = "{zl.url}"
oauth_url = "{zl.url}"
app_id = "{ZaloSandbox.APP_ID}"
redirect_uri = "https://example.gov.vn/zalo-callback"
after = "website"
""", "utf-8")
    monkeypatch.setenv("LOA_CHANNELS__WEBSITE__APP_PASSWORD", WordPressSandbox.APP_PASSWORD)
    monkeypatch.setenv("LOA_CHANNELS__FACEBOOK__APP_SECRET", FacebookSandbox.APP_SECRET)
    monkeypatch.setenv("LOA_CHANNELS__ZALO__APP_SECRET", ZaloSandbox.APP_SECRET)
    yield Loa(load_settings(tmp_path / "config.toml"))
    for s in (wp, fb, zl):
        s.stop()


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=200), out


def test_facebook_connect_exchanges_the_user_token_and_stores_the_page_token(loa: Loa) -> None:
    console, out = _console()
    connect_channel(loa, "facebook", console, ask=lambda _: FacebookSandbox.USER_TOKEN)
    assert DbTokenStore(loa.store.engine, "facebook").load()["page_token"]
    assert "Đã kết nối trang" in out.getvalue()
    assert loa.settings.missing_secrets(loa.stored_credentials()) == [
        line for line in loa.settings.missing_secrets(loa.stored_credentials()) if "zalo" in line]


def test_zalo_connect_follows_the_consent_link_and_stores_the_first_pair(loa: Loa) -> None:
    console, out = _console()

    def ask(_prompt: str) -> str:
        url = out.getvalue().split("cấp quyền:\n", 1)[1].split()[0]
        resp = requests.get(url, allow_redirects=False, timeout=5)
        return resp.headers["Location"]

    connect_channel(loa, "zalo", console, ask=ask)
    creds = DbTokenStore(loa.store.engine, "zalo").load()
    assert creds.get("refresh_token") and creds.get("access_token")


def test_wordpress_connect_verifies_the_application_password(loa: Loa) -> None:
    console, out = _console()
    connect_channel(loa, "website", console)
    assert "Mật khẩu ứng dụng hợp lệ" in out.getvalue()
