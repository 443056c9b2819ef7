"""Pictures of an upload reach the media folder only with an accepted article; the janitor
removes what no article shows."""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

from conftest import Workspace
from PIL import Image

from bot.intake import ingest_path
from bot.service.janitor import sweep
from content_queue.ingest.media import STAGING, sweep_media
from content_queue.models import Actor

EDITOR = Actor("web:mai", "web")


def _png(color: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), color).save(buf, "PNG")
    return buf.getvalue()


def _zip(path: Path, md: str, pictures: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("bai.md", md)
        for name, data in pictures.items():
            z.writestr(name, data)
    return path


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_a_refused_upload_leaves_no_picture_behind(workspace: Workspace, tmp_path: Path) -> None:
    loa = workspace.loa()
    media = loa.settings.path(loa.settings.queue.media)
    md = "---\ntitle: Bài có ảnh\ntopic: a)\n---\n![Một](mot.png)\n\n![Hai](hai.png)\n\nNội dung.\n"
    # The first picture is good and written; the second is missing: the upload is refused.
    refused = ingest_path(
        loa, _zip(tmp_path / "a.zip", md, {"mot.png": _png("red")}), EDITOR, move=False
    )
    assert not refused.ok and refused.refusal.code == "image_missing"  # type: ignore[union-attr]
    assert _files(media) == []
    # Refused when stored (someone else's Mã bài): nothing either.
    ok = ingest_path(
        loa,
        _zip(tmp_path / "b.zip", md, {"mot.png": _png("red"), "hai.png": _png("blue")}),
        EDITOR,
        move=False,
    )
    assert ok.ok and ok.article is not None
    shown = [Path(i["path"]) for i in ok.article.images]  # type: ignore[index]
    assert len(shown) == 2 and all(p.is_file() and STAGING not in p.parts for p in shown)
    assert _files(media) == sorted(shown)
    theirs = ingest_path(
        loa,
        _zip(
            tmp_path / "b.zip",
            md.replace("Nội dung", "Nội dung khác"),
            {
                "mot.png": _png("green"),
                "hai.png": _png("blue"),
            },
        ),
        Actor("web:tuan", "web"),
        move=False,
    )
    assert not theirs.ok and theirs.refusal.code == "not_owner"  # type: ignore[union-attr]
    assert _files(media) == sorted(shown)
    loa.store.engine.dispose()


def test_the_janitor_removes_leftovers_and_orphans_but_keeps_what_articles_show(
    workspace: Workspace, tmp_path: Path
) -> None:
    loa = workspace.loa()
    media = loa.settings.path(loa.settings.queue.media)
    md = "---\ntitle: Bài giữ ảnh\ntopic: a)\n---\n![Một](mot.png)\n\nNội dung.\n"
    ok = ingest_path(
        loa, _zip(tmp_path / "a.zip", md, {"mot.png": _png("red")}), EDITOR, move=False
    )
    assert ok.ok
    kept = Path(ok.article.images[0]["path"])  # type: ignore[index, union-attr]
    leftover = media / STAGING / "0123abcd" / "abcdef012345" / "anh-01.png"  # a killed process
    orphan = media / "fedcba987654" / "anh-01.png"  # e.g. a replaced revision's pictures
    young = media / "0a0a0a0a0a0a" / "anh-01.png"
    for path in (leftover, orphan, young):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x")
    day_ago = time.time() - 2 * 86400
    for path in (leftover.parent.parent, orphan.parent, kept.parent):
        os.utime(path, (day_ago, day_ago))
    sweep(loa)
    assert kept.is_file() and young.is_file()
    assert not leftover.parent.parent.exists() and not orphan.parent.exists()
    assert sweep_media(media, loa.store.media_refs.folders_in_use, older_than=0) == [young.parent]
    loa.store.engine.dispose()
