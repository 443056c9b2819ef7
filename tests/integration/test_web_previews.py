"""Previews are the post: rendered by the dispatcher's function from the same inputs (a stand-in
website address before it exists), the Zalo default cover shown, rendered once per revision."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from conftest import Workspace, parsed_article
from test_web import PASSWORD, Web, login

from bot.drafts import PLACEHOLDER_PATH
from bot.web.app import build_app
from bot.web.passwords import hash_password
from content_queue.models import Actor


@pytest.fixture
def web(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[Web]:
    monkeypatch.setenv(
        "LOA_CHANNELS__ZALO__DEFAULT_COVER_URL", "https://cdn.example.gov.vn/bia-mac-dinh.jpg"
    )
    with workspace.config.open("a", encoding="utf-8") as f:
        f.write('\n[web]\nlisten = "127.0.0.1:8080"\nbase_url = "http://127.0.0.1:8080"\n')
    loa = workspace.loa()
    loa.store.users.add_user(
        "lan", "admin", hash_password(PASSWORD), Actor("test"), full_name="Lan"
    )
    yield Web(loa, build_app(loa))
    loa.store.engine.dispose()
    os.environ.pop("LOA_CHANNELS__ZALO__DEFAULT_COVER_URL", None)


def _page(web: Web, article_id: int) -> str:
    c = web.client()
    assert login(c, "lan", PASSWORD).status_code == 303  # type: ignore[attr-defined]
    r = c.get(f"/bai-viet/{article_id}")
    assert r.status_code == 200
    return r.text


def test_pending_facebook_preview_carries_the_website_link_placeholder(web: Web) -> None:
    aid = web.loa.store.articles.submit(
        parsed_article("Một cửa điện tử"), Actor("mai", "web")
    ).article.id
    html = _page(web, aid)
    wp = urlsplit(web.loa.settings.parsed_channels["website"].url)  # type: ignore[attr-defined]
    assert f"Xem chi tiết: {wp.scheme}://{wp.netloc}{PLACEHOLDER_PATH}" in html
    assert "không kèm liên kết" not in html


def test_zalo_preview_shows_the_default_cover_it_will_send(web: Web) -> None:
    aid = web.loa.store.articles.submit(
        parsed_article("Bài không ảnh"), Actor("mai", "web")
    ).article.id
    html = _page(web, aid)
    assert "Ảnh bìa mặc định của kênh: https://cdn.example.gov.vn/bia-mac-dinh.jpg" in html
    assert "Chưa có ảnh bìa" not in html


def test_previews_are_rendered_once_per_revision(web: Web) -> None:
    aid = web.loa.store.articles.submit(parsed_article("Một lần"), Actor("mai", "web")).article.id
    store = web.app.state.site.previews  # type: ignore[attr-defined]
    _page(web, aid)
    _page(web, aid)
    assert store.rendered == 1
