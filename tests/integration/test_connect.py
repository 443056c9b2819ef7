"""`loa channels connect` against the sandboxes of all three platforms."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from rich.console import Console
from typer.testing import CliRunner

from bot.cli.connect import connect_channel
from bot.cli.main import app
from bot.context import Loa
from bot.settings import load_settings
from channels.sandbox.facebook import FacebookSandbox
from channels.sandbox.wordpress import WordPressSandbox
from channels.sandbox.zalo import ZaloSandbox
from channels.zalo_oa import consent_link
from content_queue.channel_tokens import DbTokenStore


@pytest.fixture()
def loa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    wp, fb, zl = WordPressSandbox(), FacebookSandbox(), ZaloSandbox()
    for s in (wp, fb, zl):
        s.start()
    (tmp_path / "config.toml").write_text(
        f"""
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
""",
        "utf-8",
    )
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
        line for line in loa.settings.missing_secrets(loa.stored_credentials()) if "zalo" in line
    ]


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


def test_facebook_token_prompt_does_not_echo_the_token(loa: Loa) -> None:
    cfg = loa.settings.base_dir / "config.toml"
    res = CliRunner().invoke(
        app,
        ["-c", str(cfg), "channels", "connect", "facebook"],
        input=FacebookSandbox.USER_TOKEN + "\n",
    )
    assert res.exit_code == 0, res.output
    assert "Đã kết nối trang" in res.output
    assert FacebookSandbox.USER_TOKEN not in res.output  # a visible prompt would echo it
    assert DbTokenStore(loa.store.engine, "facebook").load()["page_token"]


def _redirect_of_another_consent(loa: Loa) -> str:
    """What Zalo sends back for a consent link that this `connect` did not print."""
    other, _verifier, _state = consent_link(loa.settings.parsed_channels["zalo"])  # type: ignore[arg-type]
    return requests.get(other, allow_redirects=False, timeout=5).headers["Location"]


@pytest.mark.parametrize("paste", ["other consent", "bare code"])
def test_zalo_connect_refuses_a_redirect_without_this_consents_state(loa: Loa, paste: str) -> None:
    console, _out = _console()
    foreign = _redirect_of_another_consent(loa)
    pasted = foreign if paste == "other consent" else parse_qs(urlsplit(foreign).query)["code"][0]
    with pytest.raises(ValueError, match="state"):
        connect_channel(loa, "zalo", console, ask=lambda _prompt: pasted)
    assert DbTokenStore(loa.store.engine, "zalo").load() == {}
