"""A Markdown file with its pictures beside it: `loa submit` and the web page's folder upload take
them (regular files, no `..`, no link, pictures by content); the inbox still refuses a lone file."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from conftest import Workspace
from PIL import Image
from starlette.testclient import TestClient
from test_web import PASSWORD, login

from bot.intake import ingest_path, ingest_with_pictures
from bot.web.app import build_app
from bot.web.passwords import hash_password
from content_queue.models import Actor

EDITOR = Actor("bien-tap", "cli")
ARTICLE = """---
title: Một cửa điện tử rút ngắn thời gian giải quyết hồ sơ
topic: đ
cover: anh-bia.png
---

Sở đã đưa bộ phận một cửa lên môi trường điện tử, rút ngắn thời gian giải quyết hồ sơ.

![Quầy tiếp nhận](hinh/quay.jpg)
"""


def _picture(fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 450), (30, 90, 160)).save(out, fmt)
    return out.getvalue()


def _folder(tmp_path: Path, text: str = ARTICLE) -> Path:
    folder = tmp_path / "viet-bai"
    (folder / "hinh").mkdir(parents=True)
    (folder / "bai.md").write_text(text, "utf-8")
    (folder / "anh-bia.png").write_bytes(_picture())
    (folder / "hinh" / "quay.jpg").write_bytes(_picture("JPEG"))
    return folder


def test_submit_takes_the_pictures_beside_a_markdown_file(
    workspace: Workspace, tmp_path: Path
) -> None:
    loa = workspace.loa()
    folder = _folder(tmp_path)
    res = ingest_with_pictures(loa, folder / "bai.md", EDITOR)
    assert res.ok, res.message
    article = res.article
    assert article is not None and article.cover is not None
    assert article.cover["mime_type"] == "image/png"
    assert len(article.images) == 2 and "<img" in article.body_html
    # the inbox takes each entry alone: a lone file there still cannot bring pictures
    lone = ingest_path(loa, folder / "bai.md", EDITOR, move=False)
    assert not lone.ok and "một tệp bài lẻ" in lone.message.lower()


@pytest.mark.parametrize(
    "cover",
    ["../ngoai.png", "/etc/hostname", "lien-ket.png", "gia-anh.png"],
    ids=["dotdot", "absolute", "symlink", "not-a-picture"],
)
def test_submit_never_takes_what_is_not_a_plain_picture_beside_it(
    workspace: Workspace, tmp_path: Path, cover: str
) -> None:
    loa = workspace.loa()
    folder = _folder(tmp_path, ARTICLE.replace("cover: anh-bia.png", f"cover: {cover}"))
    (tmp_path / "ngoai.png").write_bytes(_picture())
    os.symlink(folder / "anh-bia.png", folder / "lien-ket.png")
    (folder / "gia-anh.png").write_text("không phải ảnh", "utf-8")
    res = ingest_with_pictures(loa, folder / "bai.md", EDITOR)
    assert not res.ok
    assert res.refusal is not None and res.refusal.code in ("image_missing", "not_image")


def test_the_web_page_takes_a_folder_with_its_pictures(workspace: Workspace) -> None:
    with workspace.config.open("a", encoding="utf-8") as f:
        f.write('\n[web]\nlisten = "127.0.0.1:8080"\nbase_url = "http://127.0.0.1:8080"\n')
    loa = workspace.loa()
    loa.store.users.add_user("mai", "editor", hash_password(PASSWORD), Actor("test"))
    c = TestClient(build_app(loa), base_url="http://127.0.0.1:8080", follow_redirects=False)  # type: ignore[arg-type]
    login(c, "mai", PASSWORD)
    page = c.get("/nop-bai").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    files = [
        ("folder", ("viet-bai/bai.md", ARTICLE.encode(), "text/markdown")),
        ("folder", ("viet-bai/anh-bia.png", _picture(), "image/png")),
        ("folder", ("viet-bai/hinh/quay.jpg", _picture("JPEG"), "image/jpeg")),
    ]
    r = c.post("/nop-bai", data={"csrf": csrf}, files=files)
    assert r.status_code == 200, r.text
    (article,) = loa.store.articles.list(["pending"])
    assert article.cover is not None and len(article.images) == 2
    bad = [("folder", ("viet-bai/../bai.md", ARTICLE.encode(), "text/markdown"))]
    r = c.post("/nop-bai", data={"csrf": csrf}, files=bad)
    assert r.status_code == 422 and "không an toàn" in r.text
