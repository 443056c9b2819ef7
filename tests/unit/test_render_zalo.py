"""Golden-file tests of the Zalo OA rendering (pure: no server, no database).

Regenerate after an intended change with ``LOA_UPDATE_GOLDEN=1 pytest tests/unit/test_render_zalo.py``
and review the diff of ``tests/golden/zalo/``.
"""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from channels import render
from channels.base import ArticleView, Draft, ImageRef
from channels.zalo_oa import ZaloOAChannel, ZaloOASettings

GOLDEN = Path(__file__).parent / "golden" / "zalo"
MEDIA = "https://sngv.langson.gov.vn/wp-content/uploads/2026/03"
LINKS = {
    "website": "https://sngv.langson.gov.vn/tin-tuc/cai-cach-hanh-chinh-2026?utm_source=zalo&p=1"
}
COVER = ImageRef(
    "uploads/anh-bia.jpg", "image/jpeg", size_bytes=180_000, public_url=f"{MEDIA}/anh-bia.jpg"
)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def channel(**overrides: Any) -> ZaloOAChannel:
    raw: dict[str, Any] = {
        "type": "zalo_oa",
        "app_id": "1",
        "after": "website",
        "hashtags": ["CCHC", "#Lạng Sơn"],
    }
    raw.update(overrides)
    return ZaloOAChannel("zalo", ZaloOASettings.model_validate(raw))


def article(**kw: Any) -> ArticleView:
    base: dict[str, Any] = dict(
        id=7,
        title="Sở Ngoại vụ Lạng Sơn triển khai dịch vụ công trực tuyến toàn trình",
        summary="Từ tháng 3/2026, 100% thủ tục hành chính của Sở được tiếp nhận trực tuyến.",
        body_html="<p>Nội dung.</p>",
        body_text="Nội dung.",
        topic="đ",
        topic_label="Chuyển đổi số",
        cover=COVER,
    )
    base.update(kw)
    return ArticleView(**base)


LONG_TITLE = (
    "Hội nghị tổng kết công tác cải cách hành chính năm 2025 và triển khai nhiệm vụ năm 2026 "
    "của Sở Ngoại vụ tỉnh Lạng Sơn gắn với chuyển đổi số, nâng cao chỉ số hài lòng của người dân"
)

CASES: dict[str, tuple[ArticleView, dict[str, str]]] = {
    "full_article": (
        article(
            body_html=(
                "<h2>Kết quả nổi bật</h2><p>Đã tiếp nhận <strong>1.250</strong> hồ sơ, "
                '<em>100%</em> đúng hạn.</p><figure><img src="/uploads/hoi-nghi.png" alt="Hội nghị">'
                "</figure><ul><li>Rút ngắn thời gian</li><li>Giảm chi phí</li></ul>"
                "<table><tr><td>Quý I</td><td>420 hồ sơ</td></tr></table>"
            ),
            images=(
                ImageRef(
                    "uploads/hoi-nghi.png",
                    "image/png",
                    size_bytes=300_000,
                    public_url=f"{MEDIA}/hoi-nghi.png",
                ),
                ImageRef(
                    "uploads/so-do.jpg",
                    "image/jpeg",
                    size_bytes=90_000,
                    public_url=f"{MEDIA}/so-do.jpg",
                    caption="Sơ đồ quy trình",
                ),
            ),
        ),
        LINKS,
    ),
    "long_title_blocked": (article(title=LONG_TITLE), LINKS),
    "nfd_input": (
        article(
            title=nfd("Đẩy mạnh cải cách thủ tục hành chính, hướng tới sự hài lòng"),
            summary=nfd("Người dân được hướng dẫn tận tình khi nộp hồ sơ."),
            body_html=nfd("<p>Thủ tục được niêm yết công khai.</p>"),
        ),
        LINKS,
    ),
    "emoji": (
        article(
            title="🎉 Lạng Sơn đạt chỉ số hài lòng 95% ✅",
            summary="Kết quả khảo sát năm 2025 📊 rất tích cực 👍",
            body_html="<p>Cảm ơn người dân đã đồng hành 🙏</p>",
        ),
        LINKS,
    ),
    "html_summary": (
        article(
            summary=(
                "<p>Tóm tắt có <b>định dạng</b> &amp; ký tự đặc biệt <script>alert('x')</script></p>"
                "<p>Đoạn thứ hai về <a href='https://example.com'>cải cách</a> thủ tục hành chính. "
                + "Nội dung dài được lặp lại để vượt quá giới hạn mô tả của Zalo. " * 6
                + "</p>"
            ),
            body_html="<p>Thân bài <i>nghiêng</i> và <span style='color:red'>màu</span> <script>x()</script></p>",
        ),
        LINKS,
    ),
    "images_zalo_cannot_use": (
        article(
            images=(
                ImageRef("uploads/chua-dang.jpg", "image/jpeg", size_bytes=10_000),
                ImageRef(
                    "uploads/dong.gif",
                    "image/gif",
                    size_bytes=10_000,
                    public_url=f"{MEDIA}/dong.gif",
                ),
                ImageRef(
                    "uploads/qua-lon.jpg",
                    "image/jpeg",
                    size_bytes=3_500_000,
                    public_url=f"{MEDIA}/qua-lon.jpg",
                ),
            )
        ),
        LINKS,
    ),
    "no_cover_blocked": (article(cover=None), LINKS),
    "before_website_posts": (
        article(
            cover=ImageRef("uploads/anh-bia.jpg", "image/jpeg", size_bytes=180_000),
            images=(ImageRef("uploads/so-do.jpg", "image/jpeg"),),
        ),
        {},
    ),
}


def as_golden(draft: Draft) -> dict[str, Any]:
    return {
        "title": draft.title,
        "link": draft.link,
        "fingerprint": draft.fingerprint,
        "payload": draft.payload,
        "text": draft.text,
        "images": [img.path for img in draft.images],
        "checks": [
            {"name": c.name, "ok": c.ok, "blocking": c.blocking, "message": c.message}
            for c in draft.checks
        ],
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_render_matches_golden(case: str) -> None:
    art, links = CASES[case]
    got = as_golden(channel().render(art, links))
    path = GOLDEN / f"{case}.json"
    if os.environ.get("LOA_UPDATE_GOLDEN"):
        path.write_text(json.dumps(got, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with LOA_UPDATE_GOLDEN=1 and review it"
    assert got == json.loads(path.read_text(encoding="utf-8"))


def test_long_title_is_cut_at_a_word_boundary_with_an_ellipsis_without_blocking() -> None:
    draft = channel().render(article(title=LONG_TITLE), LINKS)
    assert draft.refusals == [] and draft.title.endswith("…")
    assert render.utf16_len(draft.title) <= 140 < len(LONG_TITLE)
    assert LONG_TITLE.startswith(draft.title[:-1]) and LONG_TITLE[len(draft.title) - 1] == " "
    assert draft.payload["title"] == draft.title
    notice = next(c for c in draft.checks if c.name == "title")
    assert not notice.ok and not notice.blocking and f"{len(LONG_TITLE)} ký tự" in notice.message


def test_title_limit_counts_utf16_units_so_emoji_count_twice() -> None:
    title = "á" * 139 + "🎉"  # 140 code points, 141 UTF-16 units: over the default margin
    assert render.utf16_len(channel().render(article(title=title), LINKS).title) <= 140
    assert channel().render(article(title="á" * 140), LINKS).title == "á" * 140


def test_title_and_description_limits_are_configurable() -> None:
    draft = channel(title_max=150, description_max=300).render(
        article(title="á " * 74 + "b"), LINKS
    )
    assert draft.title == "á " * 74 + "b" and len(draft.title) == 149
    with pytest.raises(ValueError, match="title_max"):
        channel(title_max=151)


def test_everything_sent_is_nfc() -> None:
    art, links = CASES["nfd_input"]
    payload = channel().render(art, links).payload
    texts = [payload["title"], payload["description"]] + [
        b["content"] for b in payload["body"] if b["type"] == "text"
    ]
    assert all(unicodedata.is_normalized("NFC", t) for t in texts)


def test_description_is_cut_at_a_word_boundary_without_blocking() -> None:
    art, links = CASES["html_summary"]
    draft = channel().render(art, links)
    description = draft.payload["description"]
    assert len(description) <= ZaloOAChannel.DESCRIPTION_MAX and description.endswith("…")
    assert "<" not in description and "alert" not in description and "&" in description
    assert draft.refusals == [] and any(c.name == "description" and not c.ok for c in draft.checks)


def test_fingerprint_depends_on_title_and_link_only() -> None:
    a = channel().render(article(), LINKS)
    b = channel(hashtags=[]).render(article(summary="Khác"), LINKS)
    c = channel().render(article(), {"website": LINKS["website"] + "-2"})
    assert a.fingerprint == b.fingerprint != c.fingerprint


def test_author_longer_than_zalo_allows_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="author"):
        channel(author="Sở Ngoại vụ tỉnh Lạng Sơn — Văn phòng Sở — Bộ phận Một cửa liên thông")


BANNER = "https://sngv.langson.gov.vn/wp-content/uploads/banner-cchc.jpg"


def test_article_without_picture_takes_the_default_cover_and_the_card_says_so() -> None:
    draft = channel(default_cover_url=BANNER).render(article(cover=None, images=()), LINKS)
    assert draft.refusals == [] and draft.payload["cover"]["photo_url"] == BANNER
    notice = next(c for c in draft.checks if c.name == "cover")
    assert not notice.blocking and BANNER in notice.message and "mặc định" in notice.message


def test_zalo_only_setup_uses_the_default_cover_for_a_local_picture_with_no_public_url() -> None:
    local = ImageRef("/srv/loa/media/anh.jpg", "image/jpeg", 800, 450, 50_000)
    ch = channel(after=None, default_cover_url=BANNER)
    draft = ch.render(article(cover=local, images=(local,)), {})
    assert draft.refusals == [] and draft.payload["cover"]["photo_url"] == BANNER
    # without a default cover the same article is refused at approval, with the way out named
    refused = channel(after=None).render(article(cover=None, images=()), {})
    assert [c.name for c in refused.refusals] == ["cover"]
    assert "default_cover_url" in refused.refusals[0].message


def test_an_unusable_cover_falls_back_to_the_default_one() -> None:
    gif = ImageRef(
        "/srv/loa/media/anh.gif", "image/gif", 800, 450, 50_000, public_url=MEDIA + "/a.gif"
    )
    draft = channel(default_cover_url=BANNER).render(article(cover=gif, images=()), LINKS)
    assert draft.refusals == [] and draft.payload["cover"]["photo_url"] == BANNER


def test_default_cover_url_must_be_a_web_address() -> None:
    with pytest.raises(ValueError, match="default_cover_url"):
        channel(default_cover_url="/srv/banner.jpg")


@pytest.mark.parametrize("switch", ["show", "hide"])
def test_the_comment_switch_is_sent_at_creation_and_show_by_default(switch: str) -> None:
    links = {"website": "https://example.gov.vn/bai-7"}
    assert channel().render(article(), links).payload["comment"] == "show"
    assert channel(comments=switch).render(article(), links).payload["comment"] == switch
    note = channel(comments=switch).comments_note()
    assert "không có API để Loa đọc hay kiểm duyệt bình luận" in note
