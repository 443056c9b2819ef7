"""The Zalo OA adapter against the Zalo sandbox, over real HTTP on 127.0.0.1 (contract table)."""

from __future__ import annotations

import base64
import hashlib
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa
from conftest import serving

from channels.base import (
    ArticleView,
    AuthError,
    CannotTell,
    ChannelError,
    ImageRef,
    RateLimited,
    Receipt,
    RejectedError,
    TransientError,
)
from channels.sandbox.base import Request, Response, SandboxServer
from channels.sandbox.zalo import ZaloSandbox
from channels.zalo_oa import ZaloOAChannel, ZaloOASettings, consent_link, exchange_code
from content_queue.channel_tokens import DbTokenStore
from content_queue.db import open_database
from content_queue.tables import channel_state

SB = ZaloSandbox
WEBSITE = "https://sngv.langson.gov.vn/tin-tuc/cai-cach-hanh-chinh-2026"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(300)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(300)
GIF = b"GIF89a" + bytes(300)


class MediaHost(SandboxServer):
    """The website's media folder: serves the bytes a test puts in ``files``."""

    name = "media"

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {"cover.jpg": JPEG, "hoi-nghi.png": PNG, "so-do.jpg": JPEG}
        self.route("GET", r"/media/(?P<name>[^/]+)", self._serve)

    def _serve(self, req: Request) -> Response:
        data = self.files.get(req.params["name"])
        self.record("fetched", req.params["name"])
        return Response(200, data) if data else Response(404, "not found")

    def not_found(self, req: Request) -> Response:
        return Response(404, "not found")


@pytest.fixture
def sb() -> Iterator[ZaloSandbox]:
    with serving(ZaloSandbox(verify_pending_calls=1)) as server:
        yield server


@pytest.fixture
def media() -> Iterator[MediaHost]:
    with serving(MediaHost()) as server:
        yield server


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    eng = open_database(f"sqlite:///{tmp_path_factory.mktemp('zalo') / 'loa.db'}")
    yield eng
    eng.dispose()


@pytest.fixture
def store(engine: sa.Engine) -> DbTokenStore:
    with engine.begin() as conn:
        conn.execute(sa.delete(channel_state))
    return DbTokenStore(engine, "zalo")


def channel(sb: ZaloSandbox, store: DbTokenStore, **overrides: Any) -> ZaloOAChannel:
    raw: dict[str, Any] = {
        "type": "zalo_oa",
        "api_url": sb.url,
        "oauth_url": sb.url,
        "app_id": SB.APP_ID,
        "app_secret": SB.APP_SECRET,
        "refresh_token": SB.INITIAL_REFRESH_TOKEN,
        "after": "website",
        "hashtags": ["CCHC", "Lạng Sơn"],
        "verify_interval_seconds": 0,
        "timeout_seconds": 5,
    }
    raw.update(overrides)
    return ZaloOAChannel("zalo", ZaloOASettings.model_validate(raw), token_store=store)


def article(media: MediaHost, n: int = 1, **kw: Any) -> ArticleView:
    base: dict[str, Any] = dict(
        id=n,
        title=f"Sở Ngoại vụ Lạng Sơn đẩy mạnh cải cách hành chính năm 2026 (bài {n})",
        summary="Tiếp nhận hồ sơ trực tuyến toàn trình, rút ngắn thời gian giải quyết.",
        body_html='<h2>Kết quả</h2><p>Đã tiếp nhận <b>1.250</b> hồ sơ.</p><img src="hoi-nghi.png">'
        "<p>Người dân hài lòng.</p>",
        body_text="Kết quả\n\nĐã tiếp nhận 1.250 hồ sơ.\n\nNgười dân hài lòng.",
        topic="a",
        topic_label="Cải cách thể chế",
        cover=ImageRef(
            "uploads/cover.jpg",
            "image/jpeg",
            size_bytes=len(JPEG),
            public_url=f"{media.url}/media/cover.jpg",
        ),
        images=(
            ImageRef(
                "uploads/hoi-nghi.png",
                "image/png",
                size_bytes=len(PNG),
                public_url=f"{media.url}/media/hoi-nghi.png",
                caption="Hội nghị",
            ),
            ImageRef(
                "uploads/so-do.jpg",
                "image/jpeg",
                size_bytes=len(JPEG),
                public_url=f"{media.url}/media/so-do.jpg",
            ),
        ),
    )
    base.update(kw)
    return ArticleView(**base)


def calls(sb: ZaloSandbox, path: str) -> int:
    return sum(1 for _, _, p in sb.request_log if p == path)


# ----- publishing ------------------------------------------------------------------------------
def test_article_is_created_verified_and_shown_with_website_images_and_link(
    sb: ZaloSandbox, media: MediaHost, store: DbTokenStore
) -> None:
    sb.verify_pending_calls = 2  # Zalo answers "processing" twice before the id
    ch = channel(sb, store, verify_attempts=3)
    receipt = ch.publish(ch.render(article(media), {"website": WEBSITE}), "d-1")
    sent = sb.records["articles"][0]
    assert receipt.remote_id == sent["id"]
    assert receipt.extra == {"token": sent["token"], "follow_up": ["link"]} and receipt.url is None
    done = ch.follow_up(receipt)  # the public link is read after the post, off the posting lane
    assert done.url == sb.media[receipt.remote_id]["link_view"] and done.extra == {
        "token": sent["token"]
    }
    assert calls(sb, "/v2.0/article/verify") == 3
    assert sent["status"] == "show" and sent["comment"] == "show" and sent["type"] == "normal"
    assert sent["author"] == "Sở Ngoại vụ Lạng Sơn"
    assert sent["cover"] == {
        "cover_type": "photo",
        "photo_url": f"{media.url}/media/cover.jpg",
        "status": "show",
    }
    assert sent["body"] == [
        {"type": "text", "content": "<b>Kết quả</b>"},
        {"type": "text", "content": "Đã tiếp nhận <b>1.250</b> hồ sơ."},
        {"type": "image", "url": f"{media.url}/media/hoi-nghi.png", "caption": "Hội nghị"},
        {"type": "text", "content": "Người dân hài lòng."},
        {"type": "image", "url": f"{media.url}/media/so-do.jpg"},
        {"type": "text", "content": f"Xem bài gốc tại: {WEBSITE}"},
        {"type": "text", "content": "#CCHC #LạngSơn"},
    ]
    assert sorted(media.records["fetched"]) == [
        "cover.jpg",
        "hoi-nghi.png",
        "so-do.jpg",
    ]  # Zalo fetched them


def test_articles_are_hidden_unless_show_is_sent(
    sb: ZaloSandbox, media: MediaHost, store: DbTokenStore
) -> None:
    ch = channel(sb, store)
    payload = dict(ch.render(article(media), {"website": WEBSITE}).payload)
    del payload["status"]
    token = requests.post(
        f"{sb.url}/v2.0/article/create",
        json=payload,
        timeout=5,
        headers={"access_token": ch.access_token()},
    ).json()["data"]["token"]
    assert sb.records["articles"][0]["status"] == "hide" and token


def test_image_zalo_cannot_use_is_refused_naming_the_parameter(
    sb: ZaloSandbox, media: MediaHost, store: DbTokenStore
) -> None:
    media.files["so-do.jpg"] = GIF  # the website serves a GIF under a .jpg name
    ch = channel(sb, store)
    with pytest.raises(RejectedError) as err:
        ch.publish(ch.render(article(media), {"website": WEBSITE}), "d-1")
    assert err.value.code == -201 and "body[4].url" in err.value.message
    assert err.value.message.startswith("Zalo từ chối bài: tham số không hợp lệ")
    media.files["so-do.jpg"] = JPEG + bytes(SB.IMAGE_MAX_BYTES)
    with pytest.raises(RejectedError, match="1 MB"):
        ch.publish(ch.render(article(media), {"website": WEBSITE}), "d-1")
    assert sb.records["articles"] == []


def test_draft_with_blocking_checks_is_refused_before_any_call(
    sb: ZaloSandbox, media: MediaHost, store: DbTokenStore
) -> None:
    ch = channel(sb, store)
    draft = ch.render(article(media, cover=None), {"website": WEBSITE})
    with pytest.raises(RejectedError, match="ảnh bìa"):
        ch.publish(draft, "d-1")
    assert sb.request_log == []


def test_verify_that_never_completes_may_have_posted_and_is_found_again(
    sb: ZaloSandbox, media: MediaHost, store: DbTokenStore
) -> None:
    sb.verify_pending_calls = 100
    ch = channel(sb, store, verify_attempts=2)
    since = datetime.now(UTC)
    draft = ch.render(article(media), {"website": WEBSITE})
    with pytest.raises(TransientError) as err:
        ch.publish(draft, "d-1")
    assert err.value.may_have_posted is True and calls(sb, "/v2.0/article/verify") == 2
    found = ch.find_existing(draft, "d-1", since)
    assert found is not None and found.remote_id == sb.records["articles"][0]["id"]


def test_timeout_after_create_is_reconciled_with_find_existing(
    sb: ZaloSandbox, media: MediaHost, store: DbTokenStore
) -> None:
    ch = channel(sb, store, timeout_seconds=0.5)
    ch.access_token()
    since = datetime.now(UTC)
    old = sb.add_article(article(media).title, create_date=(since - timedelta(days=3)).timestamp())
    sb.inject("timeout_after", path="/v2.0/article/create", seconds=2)
    draft = ch.render(article(media), {"website": WEBSITE})
    with pytest.raises(TransientError) as err:
        ch.publish(draft, "d-1")
    assert err.value.may_have_posted is True
    found = ch.find_existing(draft, "d-1", since)
    created = sb.records["articles"][0]["id"]
    assert found is not None and found.remote_id == created != old
    assert found.url == sb.media[created]["link_view"]


def test_find_existing_answers_none_only_when_the_list_was_covered(
    sb: ZaloSandbox, media: MediaHost, store: DbTokenStore
) -> None:
    ch = channel(sb, store)
    since = datetime.now(UTC) - timedelta(hours=1)
    for i in range(3):
        sb.add_article(f"Bài khác {i}")
    draft = ch.render(article(media), {"website": WEBSITE})
    assert ch.find_existing(draft, "d-1", since) is None
    ch.LIST_PAGE_SIZE, ch.FIND_MAX_PAGES = 1, 2  # a short look that does not reach `since`
    with pytest.raises(CannotTell):
        ch.find_existing(draft, "d-1", since)


def test_title_match_is_exact_after_nfc(
    sb: ZaloSandbox, media: MediaHost, store: DbTokenStore
) -> None:
    ch = channel(sb, store)
    draft = ch.render(article(media), {"website": WEBSITE})
    sb.add_article(unicodedata.normalize("NFD", draft.title))
    sb.add_article(draft.title + " (đính chính)")
    found = ch.find_existing(draft, "d-1", datetime.now(UTC) - timedelta(minutes=1))
    assert found is not None and sb.media[found.remote_id]["title"] != draft.title + " (đính chính)"


def test_update_replaces_content_and_keeps_the_id(
    sb: ZaloSandbox, media: MediaHost, store: DbTokenStore
) -> None:
    ch = channel(sb, store)
    receipt = ch.follow_up(ch.publish(ch.render(article(media), {"website": WEBSITE}), "d-1"))
    corrected = ch.render(
        article(media, title="Đính chính: số liệu cải cách hành chính năm 2026"),
        {"website": WEBSITE},
    )
    updated = ch.update(receipt, corrected)
    assert updated.remote_id == receipt.remote_id and updated.url == receipt.url
    assert sb.media[receipt.remote_id]["title"] == corrected.title
    assert sb.records["updates"][0]["id"] == receipt.remote_id


def test_retract_removes_the_article(
    sb: ZaloSandbox, media: MediaHost, store: DbTokenStore
) -> None:
    ch = channel(sb, store)
    receipt = ch.publish(ch.render(article(media), {"website": WEBSITE}), "d-1")
    ch.retract(receipt)
    assert sb.records["removed"] == [
        {"id": receipt.remote_id, "title": sb.records["articles"][0]["title"]}
    ]
    assert receipt.remote_id not in sb.media


def test_reach_is_read_in_one_paging_pass(
    sb: ZaloSandbox, media: MediaHost, store: DbTokenStore
) -> None:
    ch = channel(sb, store)
    first = sb.add_article("Bài một")
    second = sb.add_article("Bài hai")
    sb.set_stats(first, views=1520, shares=34)
    sb.set_stats(second, views=7)
    reach = ch.fetch_reach([Receipt(first, None), Receipt(second, None), Receipt("0" * 32, None)])
    assert reach == {
        first: {"views": 1520, "shares": 34},
        second: {"views": 7, "shares": 0},
        "0" * 32: {"views": None, "shares": None},
    }
    assert calls(sb, "/v2.0/article/getslice") == 1


def test_check_reports_oa_name_and_token_expiry(sb: ZaloSandbox, store: DbTokenStore) -> None:
    health = channel(sb, store, use_appsecret_proof=True).check()
    assert health.ok and health.account == SB.OA_NAME and health.extra["oa_id"] == SB.OA_ID
    assert health.expires_at is not None
    assert timedelta(hours=24) < health.expires_at - datetime.now(UTC) <= timedelta(hours=25)
    assert store.load()["access_expires_at"] == health.expires_at.isoformat()


def test_real_throttling_carries_the_rate_limit_headers(
    sb: ZaloSandbox, store: DbTokenStore
) -> None:
    sb.rate_limit_per_minute = 2
    ch = channel(sb, store)
    ch.check()
    ch.check()
    with pytest.raises(RateLimited) as err:
        ch.check()
    assert (
        err.value.code == -32
        and err.value.retry_after == 60.0
        and "2 lượt/phút" in err.value.message
    )


# ----- every mapped error ----------------------------------------------------------------------
def _publish(ch: ZaloOAChannel, media: MediaHost) -> Any:
    return ch.publish(ch.render(article(media), {"website": WEBSITE}), "d-1")


def _reach(ch: ZaloOAChannel, media: MediaHost) -> Any:
    return ch.fetch_reach([Receipt("abc", None)])


def _retract(ch: ZaloOAChannel, media: MediaHost) -> Any:
    return ch.retract(Receipt("abc", None))


ERRORS = [
    # (fault, count, path, operation, error class, code, may_have_posted, refreshable, words)
    ("throttle", 1, "create", _publish, RateLimited, -32, False, None, "gọi quá nhanh"),
    ("quota", 1, "create", _publish, RateLimited, -211, False, None, "hết hạn mức"),
    ("error:-201", 1, "create", _publish, RejectedError, -201, False, None, "tham số không hợp lệ"),
    ("oa_disabled", 1, "create", _publish, AuthError, -204, False, False, "vô hiệu hoá"),
    ("oa_missing", 1, "getslice", _reach, AuthError, -205, False, False, "không còn tồn tại"),
    ("token_invalid", 2, "create", _publish, AuthError, -216, False, False, "Token mới cấp lại"),
    ("token_expired", 2, "getslice", _reach, AuthError, -220, False, False, "Token mới cấp lại"),
    ("package", 1, "create", _publish, AuthError, -224, False, False, "Gói dịch vụ"),
    ("proof", 1, "remove", _retract, AuthError, -242, False, False, "appsecret_proof"),
    ("error:-999", 1, "remove", _retract, RejectedError, -999, False, None, "từ chối yêu cầu"),
    # A gateway's 5xx in front of Zalo states no outcome: a create may have posted.
    ("http_500", 1, "create", _publish, TransientError, -1, True, None, "HTTP 500"),
    ("after:http_500", 1, "create", _publish, TransientError, -1, True, None, "HTTP 500"),
    ("after:html_502", 1, "create", _publish, TransientError, 502, True, None, "bất thường"),
    ("after:truncated", 1, "create", _publish, TransientError, 200, True, None, "bất thường"),
    ("http_503", 1, "verify", _publish, TransientError, -1, True, None, "HTTP 503"),
    ("http_502", 1, "getslice", _reach, TransientError, -1, False, None, "HTTP 502"),
    ("html_error", 1, "create", _publish, TransientError, 503, True, None, "bất thường"),
    ("drop_before", 1, "create", _publish, TransientError, None, True, None, "mất kết nối"),
    # Removing a known id is idempotent: a lost answer is simply retried.
    ("drop_after", 1, "remove", _retract, TransientError, None, False, None, "mất kết nối"),
    ("timeout_before", 1, "getslice", _reach, TransientError, None, False, None, "mất kết nối"),
    ("processing", 1, "create", _publish, TransientError, -214, False, None, "đang xử lý"),
]


@pytest.mark.parametrize(
    ("fault", "count", "path", "op", "error", "code", "may_have_posted", "refreshable", "words"),
    ERRORS,
    ids=[f"{e[0]}-{e[2]}" for e in ERRORS],
)
def test_platform_errors_map_to_loa_errors(
    sb: ZaloSandbox,
    media: MediaHost,
    store: DbTokenStore,
    fault: str,
    count: int,
    path: str,
    op: Any,
    error: type[ChannelError],
    code: Any,
    may_have_posted: bool,
    refreshable: bool | None,
    words: str,
) -> None:
    ch = channel(sb, store, timeout_seconds=0.5)
    ch.access_token()
    sb.inject(fault, count=count, path=f"/v2.0/article/{path}$", seconds=1)
    with pytest.raises(error) as err:
        op(ch, media)
    assert type(err.value) is error and err.value.code == code and words in err.value.message
    assert err.value.may_have_posted is may_have_posted
    if refreshable is not None:
        assert err.value.refreshable is refreshable  # type: ignore[attr-defined]
        assert err.value.reconnect_hint == "loa channels connect zalo"  # type: ignore[attr-defined]
    if fault == "quota":
        assert 60 <= err.value.retry_after <= 86400  # type: ignore[attr-defined]


def test_missing_parameter_is_named_by_the_sandbox(sb: ZaloSandbox, store: DbTokenStore) -> None:
    ch = channel(sb, store)
    answer = requests.get(
        f"{sb.url}/v2.0/article/getslice",
        params={"offset": 0, "limt": 5, "type": "normal"},
        headers={"access_token": ch.access_token()},
        timeout=5,
    )
    assert answer.status_code == 200 and answer.json()["error"] == -201
    assert "limit" in answer.json()["message"]


def test_spent_refresh_token_is_refused_by_the_sandbox(sb: ZaloSandbox) -> None:
    form = {
        "refresh_token": SB.INITIAL_REFRESH_TOKEN,
        "app_id": SB.APP_ID,
        "grant_type": "refresh_token",
    }
    url, headers = f"{sb.url}/v4/oa/access_token", {"secret_key": SB.APP_SECRET}
    first = requests.post(url, data=form, headers=headers, timeout=5).json()
    assert isinstance(first["expires_in"], str) and first["expires_in"] == "90000"
    again = requests.post(url, data=form, headers=headers, timeout=5).json()
    assert again["error"] == SB.OAUTH_INVALID_REFRESH and "access_token" not in again


# ----- connect (PKCE) --------------------------------------------------------------------------
def test_consent_link_and_code_exchange_store_the_first_pair(
    sb: ZaloSandbox, store: DbTokenStore
) -> None:
    settings = ZaloOASettings(
        app_id=SB.APP_ID,
        app_secret=SB.APP_SECRET,
        api_url=sb.url,
        oauth_url=sb.url,
        redirect_uri="https://loa.local/zalo/callback",
    )
    url, verifier, state = consent_link(settings)
    query = parse_qs(urlsplit(url).query)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    assert url.startswith(f"{sb.url}/v4/oa/permission?") and query["code_challenge"] == [challenge]
    assert query["state"] == [state] and "=" not in challenge and 43 <= len(verifier) <= 128
    location = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    assert location.startswith("https://loa.local/zalo/callback?") and f"state={state}" in location
    code = parse_qs(urlsplit(location).query)["code"][0]
    with pytest.raises(AuthError):
        exchange_code(settings, code, verifier[:-1] + "x", store)  # wrong verifier
    location = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
    info = exchange_code(settings, parse_qs(urlsplit(location).query)["code"][0], verifier, store)
    assert info["ok"] and info["oa_name"] == SB.OA_NAME and info["access_expires_at"] is not None
    stored = store.load()
    assert stored["refresh_token"] == sb.live_refresh_token and sb.valid_access_token(
        stored["access_token"]
    )
