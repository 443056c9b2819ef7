"""The WordPress adapter against the WordPress sandbox over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from channels.base import (
    ArticleView,
    AuthError,
    ChannelError,
    ImageRef,
    RateLimited,
    Receipt,
    RejectedError,
    TransientError,
)
from channels.sandbox.wordpress import WordPressSandbox
from channels.wordpress import WordPressChannel, WordPressSettings, describe_account

SINCE = datetime(2026, 1, 1, tzinfo=UTC)
TITLE = "Sở Ngoại vụ đẩy mạnh dịch vụ công trực tuyến toàn trình"
SLUG = "so-ngoai-vu-day-manh-dich-vu-cong-truc-tuyen-toan-trinh"


@pytest.fixture(scope="module")
def site() -> Iterator[WordPressSandbox]:
    with WordPressSandbox() as sb:
        yield sb  # type: ignore[misc]


@pytest.fixture
def sandbox(site: WordPressSandbox) -> WordPressSandbox:
    """The module's site, fresh for each test."""
    site.clear()
    return site


@pytest.fixture
def images(tmp_path: Path) -> tuple[ImageRef, ImageRef]:
    Image.new("RGB", (64, 48), "red").save(tmp_path / "ảnh bìa.jpg")
    Image.new("RGB", (32, 32), "blue").save(tmp_path / "hinh-1.png")
    return (
        ImageRef(str(tmp_path / "ảnh bìa.jpg"), "image/jpeg"),
        ImageRef(str(tmp_path / "hinh-1.png"), "image/png", caption="Bộ phận một cửa"),
    )


@pytest.fixture
def article(images: tuple[ImageRef, ImageRef]) -> ArticleView:
    cover, inline = images
    return ArticleView(
        id=7,
        title=TITLE,
        summary="Người dân nộp hồ sơ trực tuyến, không phụ thuộc địa giới hành chính.",
        body_html='<p>Năm 2026, Sở tiếp tục cải cách.</p><p><img src="hinh-1.png" alt="Một cửa"></p>'
        '<p onclick="steal()">Chi tiết <a href="javascript:alert(1)">tại đây</a>.</p>'
        "<script>alert('x')</script><iframe src=\"https://evil.example\"></iframe>",
        body_text="",
        topic="đ",
        topic_label="Dịch vụ công trực tuyến",
        cover=cover,
        images=(inline,),
    )


def make_channel(sb: WordPressSandbox, **overrides: Any) -> WordPressChannel:
    values: dict[str, Any] = {
        "type": "wordpress",
        "url": sb.api_url,
        "username": sb.USERNAME,
        "app_password": sb.APP_PASSWORD,
        "timeout_seconds": 5.0,
    }
    values.update(overrides)
    return WordPressChannel("website", WordPressSettings.model_validate(values))


def wp_post(sb: WordPressSandbox, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Act on the sandbox as the site's own administrator (not through the adapter)."""
    token = base64.b64encode(f"{sb.USERNAME}:{sb.APP_PASSWORD}".encode()).decode()
    resp = requests.post(
        sb.api_url + path, json=payload, headers={"Authorization": "Basic " + token}, timeout=5
    )
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


# ----- success ---------------------------------------------------------------------------------
def test_publish_uploads_images_sets_terms_and_marks_the_post(
    sandbox: WordPressSandbox, article: ArticleView, images: tuple[ImageRef, ImageRef]
) -> None:
    channel = make_channel(sandbox, hashtags=["#CCHC", "LạngSơn"])
    draft = channel.render(article, {})
    receipt = channel.publish(draft, "article-7:website")

    post = sandbox.posts[int(receipt.remote_id)]
    cover, inline = images
    media_by_id = {m["id"]: m for m in sandbox.media.values()}
    assert post["status"] == "publish" and post["slug"] == SLUG
    assert receipt.url == f"{sandbox.url}/{post['date_gmt'][:4]}/{post['date_gmt'][5:7]}/{SLUG}/"
    assert post["title"] == TITLE and post["excerpt"].startswith("Người dân nộp hồ sơ")
    assert media_by_id[post["featured_media"]]["source_url"] == receipt.extra["cover_url"]
    assert f'src="{receipt.extra["media"][inline.path]}"' in post["content"]
    assert post["content"].endswith("<!-- loa:article-7:website -->")
    for bad in ("<script", "onclick", "<iframe", "javascript:"):
        assert bad not in post["content"]
    terms = {t["id"]: t["name"] for t in sandbox.terms.values()}
    assert [terms[i] for i in post["categories"]] == ["Cải cách hành chính"]
    assert [terms[i] for i in post["tags"]] == ["Dịch vụ công trực tuyến", "CCHC", "LạngSơn"]
    assert sandbox.records["media"][1]["alt_text"] == "Bộ phận một cửa"
    # the public URLs serve the very bytes that were uploaded (Zalo fetches them later)
    for ref in (cover, inline):
        got = requests.get(receipt.extra["media"][ref.path], timeout=5)
        assert got.status_code == 200 and got.content == Path(ref.path).read_bytes()
    page = requests.get(receipt.url, timeout=5)
    assert page.status_code == 200 and TITLE in page.text
    assert post["views"] == 1
    assert channel.fetch_reach([receipt]) == {receipt.remote_id: {}}


def test_existing_category_is_reused_and_term_exists_answer_gives_the_id(
    sandbox: WordPressSandbox, article: ArticleView
) -> None:
    mine = wp_post(sandbox, "/wp/v2/categories", {"name": "Dịch vụ công", "slug": "dvc"})
    tag = wp_post(sandbox, "/wp/v2/tags", {"name": "Dịch vụ công trực tuyến"})
    # a stale cached search answers [] for the tag: creating it then answers 400 term_exists
    sandbox.inject("stale_empty", count=2, path=r"/wp/v2/tags$", method="GET")
    channel = make_channel(sandbox, categories={"đ": "Dịch vụ công"}, tags_from_topic=True)
    receipt = channel.publish(channel.render(article, {}), "k-terms")
    post = sandbox.posts[int(receipt.remote_id)]
    assert post["categories"] == [mine["id"]] and post["tags"] == [tag["id"]]
    assert len(sandbox.records["terms"]) == 2  # nothing new was created


# ----- errors: one table -------------------------------------------------------------------------
def _bad_password(sb: WordPressSandbox) -> dict[str, Any]:
    return {"app_password": "wxyz wxyz wxyz wxyz wxyz wxyz"}


def _unknown_user(sb: WordPressSandbox) -> dict[str, Any]:
    return {"username": "khong-co"}


def _contributor(sb: WordPressSandbox) -> dict[str, Any]:
    return {"username": sb.CONTRIBUTOR_USERNAME, "app_password": sb.CONTRIBUTOR_PASSWORD}


def _wrong_base(sb: WordPressSandbox) -> dict[str, Any]:
    return {"url": sb.api_url + "/v9"}


def _small_limit(sb: WordPressSandbox) -> dict[str, Any]:
    sb.max_upload_bytes = 100
    return {}


def _fault(
    kind: str, path: str = r"/wp/v2/posts$", **kw: Any
) -> Callable[[WordPressSandbox], dict[str, Any]]:
    def arrange(sb: WordPressSandbox) -> dict[str, Any]:
        sb.inject(kind, path=path, method="POST", **kw)
        return {"timeout_seconds": 0.5} if kind.startswith("timeout") else {}

    return arrange


ERRORS = [
    # (case, arrange the sandbox → settings overrides, expected error, expected code, may_have_posted)
    ("401 wrong application password", _bad_password, AuthError, "incorrect_password", False),
    ("401 unknown user", _unknown_user, AuthError, "invalid_username", False),
    ("403 contributor may not upload", _contributor, AuthError, "rest_cannot_create", False),
    ("404 REST route missing", _wrong_base, AuthError, "rest_no_route", False),
    (
        "400 rest_invalid_param",
        _fault("rest:400:rest_invalid_param"),
        RejectedError,
        "rest_invalid_param",
        False,
    ),
    ("413 upload above the server limit", _small_limit, RejectedError, 413, False),
    ("429 throttled with Retry-After", _fault("throttle"), RateLimited, "too_many_requests", False),
    # A 5xx or a body that is not WordPress's JSON states no outcome: the post may exist.
    ("500 critical error", _fault("http_500"), TransientError, "internal_server_error", True),
    ("503 WAF HTML page", _fault("html_error"), TransientError, 503, True),
    ("502 proxy page after the post was made", _fault("after:html_502"), TransientError, 502, True),
    ("201 with a truncated body", _fault("after:truncated"), TransientError, 201, True),
    ("dropped connection", _fault("drop_before"), TransientError, None, True),
    (
        "timeout after the post was made",
        _fault("timeout_after", seconds=2),
        TransientError,
        None,
        True,
    ),
]


@pytest.mark.parametrize(
    ("case", "arrange", "error", "code", "may_have_posted"), ERRORS, ids=[e[0] for e in ERRORS]
)
def test_publish_maps_platform_answers_to_errors(
    sandbox: WordPressSandbox,
    article: ArticleView,
    case: str,
    arrange: Callable[[WordPressSandbox], dict[str, Any]],
    error: type[ChannelError],
    code: Any,
    may_have_posted: bool,
) -> None:
    channel = make_channel(sandbox, **arrange(sandbox))
    with pytest.raises(error) as caught:
        channel.publish(channel.render(article, {}), "article-7:website")
    exc = caught.value
    assert type(exc) is error
    assert exc.code == code and exc.may_have_posted is may_have_posted
    assert exc.message and exc.message.isascii() is False  # Vietnamese, shown to an admin
    if isinstance(exc, AuthError):
        assert exc.reconnect_hint == "loa channels connect website"
    if isinstance(exc, RateLimited):
        assert exc.retry_after == 30
    if case == "503 WAF HTML page":
        assert "503" in exc.message and "<html>" in exc.message


def test_upload_of_a_file_that_is_not_an_image_is_rejected(
    sandbox: WordPressSandbox, article: ArticleView, tmp_path: Path
) -> None:
    fake = tmp_path / "gia.jpg"
    fake.write_bytes(b"MZ\x90\x00 not a picture")
    bad = ArticleView(**{**article.__dict__, "cover": ImageRef(str(fake), "image/jpeg")})
    channel = make_channel(sandbox)
    with pytest.raises(RejectedError) as caught:
        channel.publish(channel.render(bad, {}), "k-fake")
    assert caught.value.code == "rest_upload_sideload_error"
    assert sandbox.posts == {}


def test_connection_refused_is_transient(article: ArticleView) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    channel = WordPressChannel(
        "website",
        WordPressSettings(
            type="wordpress",
            url=f"http://127.0.0.1:{port}/wp-json",
            username="loa",
            app_password="x",
        ),
    )  # type: ignore[arg-type]
    with pytest.raises(TransientError):
        channel.check()


# ----- reconciliation --------------------------------------------------------------------------
def test_timeout_after_posting_is_reconciled_by_find_existing(
    sandbox: WordPressSandbox, article: ArticleView
) -> None:
    channel = make_channel(sandbox, timeout_seconds=0.5)
    draft = channel.render(article, {})
    sandbox.inject("timeout_after", path=r"/wp/v2/posts$", method="POST", seconds=2)
    with pytest.raises(TransientError) as caught:
        channel.publish(draft, "article-7:website")
    assert caught.value.may_have_posted
    found = channel.find_existing(draft, "article-7:website", SINCE)
    assert found is not None and found.remote_id == str(next(iter(sandbox.posts)))
    assert found.extra["cover_url"] and len(found.extra["media"]) == 2


def test_find_existing_finds_our_post_under_the_dash_2_slug(
    sandbox: WordPressSandbox, article: ArticleView
) -> None:
    other = wp_post(
        sandbox,
        "/wp/v2/posts",
        {"title": TITLE, "content": "<p>Bài cũ năm 2025.</p>", "status": "publish", "slug": SLUG},
    )
    channel = make_channel(sandbox)
    draft = channel.render(article, {})
    assert channel.find_existing(draft, "article-7:website", SINCE) is None  # same slug, not ours
    receipt = channel.publish(draft, "article-7:website")
    assert receipt.extra["slug"] == SLUG + "-2"
    found = channel.find_existing(draft, "article-7:website", SINCE)
    assert found is not None and found.remote_id == receipt.remote_id != str(other["id"])
    assert found.url == receipt.url and found.extra["media"] == receipt.extra["media"]
    assert channel.find_existing(draft, "article-8:website", SINCE) is None


def test_find_existing_sees_our_draft_only_with_credentials(
    sandbox: WordPressSandbox, article: ArticleView
) -> None:
    channel = make_channel(sandbox, status="draft")
    draft = channel.render(article, {})
    receipt = channel.publish(draft, "k-draft")
    assert receipt.extra["status"] == "draft"
    found = channel.find_existing(draft, "k-draft", SINCE)
    assert found is not None and found.remote_id == receipt.remote_id
    anonymous = requests.get(
        sandbox.api_url + "/wp/v2/posts", params={"slug": SLUG, "status": "any"}, timeout=5
    )
    assert anonymous.status_code == 400 and anonymous.json()["data"]["params"] == {
        "status": "Status is forbidden."
    }


# ----- update, retract, check ----------------------------------------------------------------------
def test_update_changes_the_post_in_place_and_keeps_the_marker(
    sandbox: WordPressSandbox, article: ArticleView
) -> None:
    channel = make_channel(sandbox)
    receipt = channel.publish(channel.render(article, {}), "k-upd")
    fixed = ArticleView(
        **{
            **article.__dict__,
            "title": TITLE + " (cập nhật)",
            "body_html": article.body_html.replace("tiếp tục", "quyết liệt"),
        }
    )
    updated = channel.update(receipt, channel.render(fixed, {}))
    post = sandbox.posts[int(receipt.remote_id)]
    assert updated.remote_id == receipt.remote_id and post["slug"] == SLUG
    assert post["title"].endswith("(cập nhật)") and "quyết liệt" in post["content"]
    assert post["content"].endswith("<!-- loa:k-upd -->")
    assert len(sandbox.media) == 2  # the images were not uploaded again
    with pytest.raises(RejectedError) as caught:
        channel.update(Receipt("999999", None, {"idempotency_key": "k"}), channel.render(fixed, {}))
    assert caught.value.code == "rest_post_invalid_id"


@pytest.mark.parametrize(("mode", "status"), [("draft", "draft"), ("trash", "trash")])
def test_retract_takes_the_post_down_without_deleting_it(
    sandbox: WordPressSandbox, article: ArticleView, mode: str, status: str
) -> None:
    channel = make_channel(sandbox, retract_mode=mode)
    receipt = channel.publish(channel.render(article, {}), "k-ret")
    channel.retract(receipt)
    channel.retract(receipt)  # a second retraction is harmless
    assert sandbox.posts[int(receipt.remote_id)]["status"] == status
    assert requests.get(str(receipt.url), timeout=5).status_code == 404
    assert all(not d["force"] for d in sandbox.records["deletes"])


def test_check_reports_account_and_missing_capabilities(sandbox: WordPressSandbox) -> None:
    health = make_channel(sandbox).check()
    assert health.ok and health.account == "Loa" and "publish_posts" in health.scopes
    weak = make_channel(sandbox, **_contributor(sandbox)).check()
    assert not weak.ok and weak.extra["missing"] == ["publish_posts", "upload_files"]
    assert "publish_posts (đăng bài)" in weak.detail
    bad = make_channel(sandbox, **_bad_password(sandbox)).check()
    assert not bad.ok and "mật khẩu ứng dụng" in bad.detail


def test_describe_account_verifies_the_application_password(sandbox: WordPressSandbox) -> None:
    settings = make_channel(sandbox).settings
    account = describe_account(settings)
    assert (
        account["name"] == "Loa"
        and account["missing"] == []
        and "upload_files" in account["capabilities"]
    )
    with pytest.raises(AuthError):
        describe_account(settings.model_copy(update={"app_password": None}))
    with pytest.raises(AuthError) as caught:
        describe_account(make_channel(sandbox, **_bad_password(sandbox)).settings)
    assert caught.value.code == "incorrect_password"


# ----- the sandbox's own contract ------------------------------------------------------------------
def test_sandbox_accepts_multipart_uploads_and_deletes_for_good_only_with_force(
    sandbox: WordPressSandbox, images: tuple[ImageRef, ImageRef]
) -> None:
    auth = (sandbox.USERNAME, sandbox.APP_PASSWORD.replace(" ", ""))  # spaces are optional
    cover = Path(images[0].path)
    up = requests.post(
        sandbox.api_url + "/wp/v2/media",
        auth=auth,
        timeout=5,
        files={"file": ("bia.jpg", cover.read_bytes(), "image/jpeg")},
    )
    assert up.status_code == 201 and up.json()["media_details"]["width"] == 64
    assert requests.get(up.json()["source_url"], timeout=5).content == cover.read_bytes()
    raw = requests.post(
        sandbox.api_url + "/wp/v2/media",
        auth=auth,
        data=b"\xff\xd8\xff",
        timeout=5,
        headers={"Content-Type": "image/jpeg"},
    )
    assert raw.json()["code"] == "rest_upload_no_content_disposition"
    missing = requests.post(sandbox.api_url + "/wp/v2/tags", auth=auth, json={}, timeout=5)
    assert missing.status_code == 400 and missing.json()["data"]["params"] == ["name"]
    typo = requests.post(
        sandbox.api_url + "/wp/v2/posts", auth=auth, json={"titel": "x"}, timeout=5
    )
    assert typo.json()["code"] == "rest_invalid_param" and "titel" in typo.json()["data"]["params"]
    post = wp_post(sandbox, "/wp/v2/posts", {"title": "Tạm", "status": "publish"})
    url = f"{sandbox.api_url}/wp/v2/posts/{post['id']}"
    assert requests.delete(url, auth=auth, timeout=5).json()["status"] == "trash"
    assert requests.delete(url, auth=auth, timeout=5).json()["code"] == "rest_already_trashed"
    assert (
        requests.delete(url, auth=auth, params={"force": "true"}, timeout=5).json()["deleted"]
        is True
    )
    assert requests.get(url, auth=auth, timeout=5).json()["code"] == "rest_post_invalid_id"
    assert (
        requests.get(sandbox.api_url + "/wp/v2/users/me", timeout=5).json()["code"]
        == "rest_not_logged_in"
    )


def test_sandbox_acts_on_nothing_when_the_client_dies_mid_request(
    sandbox: WordPressSandbox,
) -> None:
    """A request cut short (its sender killed mid-send) never reaches WordPress's PHP."""
    auth = base64.b64encode(f"{sandbox.USERNAME}:{sandbox.APP_PASSWORD}".encode()).decode()
    body = b'{"title": "B\\u00e0i d\\u1edf dang", "status": "publish"}'
    head = (
        f"POST {sandbox.api_url.removeprefix(sandbox.url)}/wp/v2/posts HTTP/1.1\r\n"
        f"Host: {sandbox.host}:{sandbox.port}\r\nAuthorization: Basic {auth}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection((sandbox.host, sandbox.port), timeout=5) as s:
        s.sendall(head.encode() + body[:10])
    whole = requests.post(
        sandbox.api_url + "/wp/v2/posts",
        timeout=5,
        json={"title": "Bài đủ"},
        auth=(sandbox.USERNAME, sandbox.APP_PASSWORD),
    )
    assert whole.status_code == 201
    assert [p["title"] for p in sandbox.posts.values()] == ["Bài đủ"]


def test_title_and_excerpt_go_escaped_never_as_markup(
    sandbox: WordPressSandbox, article: ArticleView
) -> None:
    # An article stored before titles were cleaned at ingestion, or a literal "<" in the text.
    hostile = ArticleView(
        **{
            **article.__dict__,
            "title": "Tin <b>mới</b> <script>alert(1)</script> 5 < 10 & hơn",
            "summary": "Tóm tắt <img src=x onerror=alert(1)>",
        }
    )
    channel = make_channel(sandbox)
    post = sandbox.posts[int(channel.publish(channel.render(hostile, {}), "a-8:website").remote_id)]
    assert post["title"] == (
        "Tin &lt;b&gt;mới&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt; 5 &lt; 10 &amp; hơn"
    )
    assert "<" not in post["title"] and "<img" not in post["excerpt"]
