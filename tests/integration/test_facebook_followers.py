"""Facebook Page followers and the optional default image, against the Graph sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import serving
from test_channel_facebook import MediaHost, channel

from channels.base import ArticleView
from channels.sandbox.facebook import FacebookSandbox

WEBSITE = "https://sngv.langson.gov.vn/tin-tuc/cchc-2026"


@pytest.fixture
def sb() -> Iterator[FacebookSandbox]:
    with serving(FacebookSandbox(seed=7)) as server:
        yield server


@pytest.fixture
def media() -> Iterator[MediaHost]:
    with serving(MediaHost()) as server:
        yield server


def text_article() -> ArticleView:
    return ArticleView(
        id=1,
        title="Cải cách hành chính năm 2026",
        summary="Tóm tắt.",
        body_html="<p>Nội dung.</p>",
        body_text="Nội dung.",
        topic="a",
        topic_label="Cải cách thể chế",
    )


def test_page_followers_and_fans_are_read(sb: FacebookSandbox) -> None:
    sb.set_followers(5210, 4980)
    assert channel(sb).follower_count() == {"followers_count": 5210, "fan_count": 4980}
    assert any(p.endswith(f"/{sb.PAGE_ID}") for _, _, p in sb.request_log)


def test_a_retired_fan_count_is_unknown_not_zero(sb: FacebookSandbox) -> None:
    sb.set_followers(6000, None)
    assert channel(sb).follower_count() == {"followers_count": 6000, "fan_count": None}


def test_default_image_is_off_by_default_and_turns_a_text_post_into_a_photo_post(
    sb: FacebookSandbox, media: MediaHost
) -> None:
    plain = channel(sb).render(text_article(), {"website": WEBSITE})
    assert plain.payload["mode"] == "link" and plain.images == ()
    banner = f"{media.url}/media/banner.jpg"
    media.files["banner.jpg"] = (b"\xff\xd8\xff\xe0" + bytes(500), "image/jpeg")
    ch = channel(sb, default_image_url=banner)
    draft = ch.render(text_article(), {"website": WEBSITE})
    assert draft.payload["mode"] == "photos" and draft.refusals == []
    assert WEBSITE in draft.text  # the link stays in the message
    receipt = ch.publish(draft, "k-1")
    assert len(sb.posts[receipt.remote_id]["media"]) == 1
    assert [r["attached_media"] for r in sb.records["posts"]] == [
        sb.posts[receipt.remote_id]["media"]
    ]
