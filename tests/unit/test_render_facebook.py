"""Golden-file tests of the Facebook message rendering (pure: no server involved).

Regenerate after an intended change with ``LOA_UPDATE_GOLDEN=1 pytest tests/unit/test_render_facebook.py``
and review the diff of ``tests/golden/facebook/``.
"""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from channels.base import ArticleView, Draft, ImageRef
from channels.facebook_page import FacebookPageChannel

GOLDEN = Path(__file__).parent / "golden" / "facebook"
WEBSITE = "https://sngv.langson.gov.vn/tin-tuc/cai-cach-hanh-chinh/2026/03/so-ngoai-vu-day-manh-chuyen-doi-so"
LONG_TITLE = (
    "Sở Ngoại vụ tỉnh Lạng Sơn đẩy mạnh cải cách thủ tục hành chính, chuyển đổi số trong tiếp nhận "
    "và giải quyết hồ sơ đoàn ra, đoàn vào, tổ chức hội nghị, hội thảo quốc tế trên địa bàn tỉnh "
    "giai đoạn 2026 – 2030 theo Nghị quyết của Ban Chấp hành Đảng bộ tỉnh"
)


def channel(**overrides: Any) -> FacebookPageChannel:
    raw: dict[str, Any] = {
        "type": "facebook_page",
        "page_id": "1000000000001",
        "after": "website",
        "hashtags": ["CCHC", "#Lạng Sơn", "SởNgoạiVụ"],
    }
    raw.update(overrides)
    return FacebookPageChannel("facebook", FacebookPageChannel.Settings.model_validate(raw))


def article(**kw: Any) -> ArticleView:
    base: dict[str, Any] = dict(
        id=1,
        title="Cải cách hành chính năm 2026",
        summary="Tóm tắt.",
        body_html="<p>Nội dung.</p>",
        body_text="Nội dung.",
        topic="a",
        topic_label="Cải cách thể chế",
    )
    base.update(kw)
    return ArticleView(**base)


CASES: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, str]]] = {
    "long_vietnamese_title": (
        {},
        {
            "title": LONG_TITLE,
            "summary": "Năm 2026, 100% thủ tục hành chính thuộc thẩm quyền của Sở được "
            "cung cấp dịch vụ công trực tuyến toàn trình.",
        },
        {"website": WEBSITE},
    ),
    "nfd_input_becomes_nfc": (
        {},
        {
            "title": unicodedata.normalize("NFD", "Hướng dẫn thủ tục đề nghị cấp thị thực"),
            "summary": unicodedata.normalize(
                "NFD", "Người dân được hướng dẫn tận tình, đúng quy định."
            ),
        },
        {"website": WEBSITE},
    ),
    "emoji": (
        {},
        {
            "title": "📢 Thông báo: tiếp nhận hồ sơ trực tuyến 24/7 🇻🇳",
            "summary": "Nộp hồ sơ mọi lúc, mọi nơi 👍 — nhanh chóng, minh bạch ✅",
        },
        {"website": WEBSITE},
    ),
    "html_summary_is_sanitised": (
        {},
        {
            "summary": "<p>Kết quả <strong>nổi bật</strong> &amp; bài học:</p>"
            "<ul><li>Rút ngắn <em>30%</em> thời gian</li>"
            '<li>Chỉ số <a href="https://dichvucong.gov.vn">PAR Index</a> '
            "tăng 5 bậc</li></ul><br/>"
        },
        {"website": WEBSITE},
    ),
    "empty_summary_uses_body_start": (
        {},
        {
            "summary": "",
            "body_text": "Sáng ngày 15/3/2026, Sở Ngoại vụ tổ "
            "chức hội nghị triển khai kế hoạch cải "
            "cách hành chính. " * 12,
        },
        {"website": WEBSITE},
    ),
    "no_website_link_yet": ({}, {}, {}),
    "photos_mode_checks_each_photo": (
        {"photo_mode": "photos"},
        {
            "cover": ImageRef(
                "media/bia.jpg", "image/jpeg", 1200, 800, 350_000, "https://sngv.example/bia.jpg"
            ),
            "images": (
                ImageRef("media/hoi-nghi.png", "image/png", 4000, 3000, 5 * 1024 * 1024),
                ImageRef("media/so-do.webp", "image/webp", 800, 600, 90_000),
                ImageRef(
                    "media/bia.jpg",
                    "image/jpeg",
                    1200,
                    800,
                    350_000,
                    "https://sngv.example/bia.jpg",
                ),
            ),
        },
        {"website": WEBSITE},
    ),
}


def as_golden(draft: Draft) -> dict[str, Any]:
    return {
        "text": draft.text,
        "link": draft.link,
        "mode": draft.payload["mode"],
        "images": [img.public_url or img.path for img in draft.images],
        "checks": [[c.name, c.ok, c.message, c.blocking] for c in draft.checks],
        "fingerprint": draft.fingerprint,
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_render_matches_golden(case: str) -> None:
    settings, fields, links = CASES[case]
    got = as_golden(channel(**settings).render(article(**fields), links))
    path = GOLDEN / f"{case}.json"
    if os.environ.get("LOA_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(got, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert got == json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendered_text_is_nfc_without_tags(case: str) -> None:
    settings, fields, links = CASES[case]
    draft = channel(**settings).render(article(**fields), links)
    assert unicodedata.is_normalized("NFC", draft.text)
    assert "<" not in draft.text and "&amp;" not in draft.text


def test_message_over_the_limit_is_a_blocking_check() -> None:
    ch = channel()
    draft = ch.render(article(summary="Cải cách " * 8000), {"website": WEBSITE})
    assert [c.name for c in draft.refusals] == ["facebook.message_length"]
    assert ch.MESSAGE_MAX == 63206


def test_fingerprint_ignores_composition_and_spacing_but_not_content() -> None:
    ch = channel()
    a = ch.render(article(title="Cải cách hành chính"), {"website": WEBSITE})
    b = ch.render(
        article(title=unicodedata.normalize("NFD", "Cải  cách hành chính")), {"website": WEBSITE}
    )
    c = ch.render(article(title="Cải cách hành chính 2027"), {"website": WEBSITE})
    assert a.fingerprint == b.fingerprint != c.fingerprint


def test_render_does_no_io_for_photos_missing_on_disk() -> None:
    draft = channel(photo_mode="photos").render(
        article(images=(ImageRef("/does/not/exist.jpg", "image/jpeg", size_bytes=1000),)),
        {"website": WEBSITE},
    )
    assert draft.payload["mode"] == "photos" and not draft.refusals
