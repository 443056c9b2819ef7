"""The Facebook Page adapter against the Graph API sandbox, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from conftest import serving
from PIL import Image

from channels.base import (
    ArticleView,
    AuthError,
    CannotTell,
    ImageRef,
    MemoryTokenStore,
    RateLimited,
    Receipt,
    RejectedError,
    TransientError,
)
from channels.facebook_page import FacebookPageChannel, exchange_user_token, page_tokens
from channels.graph_api import BLOCK_WAIT, DEFAULT_RATE_WAIT
from channels.sandbox.base import Request, Response, SandboxServer
from channels.sandbox.facebook import FacebookSandbox

SB = FacebookSandbox
WEBSITE = "https://sngv.langson.gov.vn/tin-tuc/cai-cach-hanh-chinh-2026"


def png_bytes(size: tuple[int, int] = (8, 8)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


class MediaHost(SandboxServer):
    """A website's media folder: serves the bytes a test puts in ``files``."""

    name = "media"

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, tuple[bytes, str]] = {}
        self.route("GET", r"/media/(?P<name>[^/]+)", self._serve)

    def _serve(self, req: Request) -> Response:
        data, ctype = self.files.get(req.params["name"], (b"", ""))
        return Response(200, data, content_type=ctype) if data else Response(404, "not found")


@pytest.fixture
def sb() -> Iterator[FacebookSandbox]:
    with serving(FacebookSandbox(seed=7)) as server:
        yield server


@pytest.fixture
def media() -> Iterator[MediaHost]:
    with serving(MediaHost()) as server:
        yield server


def channel(sb: FacebookSandbox, token_store: Any = None, **overrides: Any) -> FacebookPageChannel:
    raw: dict[str, Any] = {
        "type": "facebook_page",
        "page_id": SB.PAGE_ID,
        "graph_url": sb.url,
        "page_token": SB.PAGE_TOKEN,
        "after": "website",
        "hashtags": ["CCHC", "LạngSơn"],
        "timeout_seconds": 5,
    }
    raw.update(overrides)
    return FacebookPageChannel(
        "facebook", FacebookPageChannel.Settings.model_validate(raw), token_store=token_store
    )


def article(n: int = 1, **kw: Any) -> ArticleView:
    base: dict[str, Any] = dict(
        id=n,
        title=f"Sở Ngoại vụ đẩy mạnh cải cách hành chính năm 2026 (bài {n})",
        summary="Tiếp nhận hồ sơ trực tuyến toàn trình, rút ngắn thời gian giải quyết.",
        body_html="<p>Nội dung</p>",
        body_text="Nội dung",
        topic="a",
        topic_label="Cải cách thể chế",
    )
    base.update(kw)
    return ArticleView(**base)


def graph_gets(sb: FacebookSandbox, path: str) -> int:
    return sum(1 for _, method, p in sb.request_log if method == "GET" and p == path)


# ----- publishing ------------------------------------------------------------------------------
def test_link_post_is_created_with_message_link_and_permalink(sb: FacebookSandbox) -> None:
    ch = channel(sb)
    draft = ch.render(article(), {"website": WEBSITE})
    receipt = ch.publish(draft, "d-1")
    post = sb.records["posts"][0]
    assert receipt.remote_id == post["id"] and receipt.remote_id.startswith(SB.PAGE_ID + "_")
    # the permalink is a follow-up read, after the post exists and outside the posting lane
    assert receipt.url == f"https://www.facebook.com/{receipt.remote_id}"
    assert receipt.extra == {"follow_up": ["permalink"]} and len(sb.request_log) == 1
    done = ch.follow_up(receipt)
    assert done.url == sb.posts[receipt.remote_id]["permalink_url"] and done.extra == {}
    assert post["link"] == WEBSITE and post["attached_media"] == []
    assert post["message"] == draft.text and f"Xem chi tiết: {WEBSITE}" in post["message"]


def test_photo_post_uploads_unpublished_photos_then_attaches_them(
    sb: FacebookSandbox, media: MediaHost, tmp_path: Any
) -> None:
    media.files["cover.png"] = (png_bytes(), "image/png")
    local = tmp_path / "anh-hoi-nghi.png"
    local.write_bytes(png_bytes((16, 16)))
    art = article(
        cover=ImageRef(
            "cover.png", "image/png", size_bytes=100, public_url=f"{media.url}/media/cover.png"
        ),
        images=(ImageRef(str(local), "image/png", size_bytes=local.stat().st_size),),
    )
    ch = channel(sb, photo_mode="photos")
    draft = ch.render(art, {"website": WEBSITE})
    receipt = ch.publish(draft, "d-2")
    photos = sb.records["photos"]
    assert [p["published"] for p in photos] == [False, False]
    assert (
        photos[0]["url"] == f"{media.url}/media/cover.png"
        and photos[1]["filename"] == "anh-hoi-nghi.png"
    )
    post = sb.records["posts"][0]
    assert post["id"] == receipt.remote_id and post["attached_media"] == [p["id"] for p in photos]
    assert post["link"] is None and WEBSITE in post["message"]


@pytest.mark.parametrize(
    ("content", "ctype", "code"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"0" * (4 * 1024 * 1024 + 10), "image/png", 1366046),
        (b"<html>not an image</html>", "text/html", 324),
    ],
)
def test_photo_refused_by_facebook_is_rejected(
    sb: FacebookSandbox, media: MediaHost, content: bytes, ctype: str, code: int
) -> None:
    media.files["x"] = (content, ctype)
    art = article(
        cover=ImageRef("x", "image/png", size_bytes=10, public_url=f"{media.url}/media/x")
    )
    ch = channel(sb, photo_mode="photos")
    with pytest.raises(RejectedError) as info:
        ch.publish(ch.render(art, {"website": WEBSITE}), "d-3")
    assert info.value.code == code and not sb.records["posts"]


# ----- error mapping: (fault, expected error, code, extra expectations) -------------------------
ERRORS: list[tuple[str, type[Exception], Any, dict[str, Any]]] = [
    ("http_500", TransientError, 2, {}),
    ("http_503", TransientError, 2, {}),
    ("transient", TransientError, 2, {}),
    ("error:1", TransientError, 1, {}),
    ("error:2", TransientError, 2, {}),
    ("html_error", TransientError, 503, {}),
    ("drop_after", TransientError, None, {"may_have_posted": True}),
    ("throttle", RateLimited, 80001, {"retry_after": SB.THROTTLE_FAULT_MINUTES * 60}),
    ("error:4", RateLimited, 4, {"retry_after": DEFAULT_RATE_WAIT}),
    ("error:17", RateLimited, 17, {}),
    ("error:32", RateLimited, 32, {}),
    ("error:613", RateLimited, 613, {}),
    ("error:80001", RateLimited, 80001, {}),
    ("blocked", RateLimited, 368, {"retry_after": BLOCK_WAIT}),
    ("error:368", RateLimited, 368, {"retry_after": BLOCK_WAIT}),
    ("token_expired", AuthError, 190, {"reconnect_hint": "loa channels connect facebook"}),
    ("error:190:458", AuthError, 190, {}),
    ("error:190:460", AuthError, 190, {}),
    ("error:190:467", AuthError, 190, {}),
    ("error:190:492", AuthError, 190, {}),
    ("error:190:459", AuthError, 190, {"reconnect_hint": "loa channels connect facebook"}),
    ("error:190:464", AuthError, 190, {}),
    ("permission", AuthError, 200, {"reconnect_hint": "loa channels connect facebook"}),
    ("error:10", AuthError, 10, {}),
    ("error:299", AuthError, 299, {}),
    ("error:100", RejectedError, 100, {}),
    ("duplicate", RejectedError, 506, {}),
    ("spam", RejectedError, 1346003, {}),
    ("error:368:1404102", RejectedError, 1404102, {}),
    ("error:100:1366046", RejectedError, 1366046, {}),
    ("error:100:1366051", RejectedError, 1366051, {}),
]


@pytest.mark.parametrize(("fault", "error", "code", "attrs"), ERRORS, ids=[e[0] for e in ERRORS])
def test_graph_error_is_mapped(
    sb: FacebookSandbox, fault: str, error: type[Exception], code: Any, attrs: dict[str, Any]
) -> None:
    ch = channel(sb)
    sb.inject(fault, path=r"/feed$", method="POST")
    with pytest.raises(error) as info:
        ch.publish(ch.render(article(), {"website": WEBSITE}), "d-err")
    assert type(info.value) is error
    assert getattr(info.value, "code", None) == code
    for name, value in attrs.items():
        assert getattr(info.value, name) == value
    message = info.value.message
    assert "Facebook" in message or "Trang" in message


def test_expired_token_is_auth_error_needing_reconnect(sb: FacebookSandbox) -> None:
    ch = channel(sb)
    sb.expire_token()
    with pytest.raises(AuthError) as info:
        ch.publish(ch.render(article(), {"website": WEBSITE}), "d-4")
    assert info.value.code == 190 and not info.value.refreshable
    assert info.value.reconnect_hint == "loa channels connect facebook"


def test_token_stored_by_connect_is_used_when_environment_has_none(sb: FacebookSandbox) -> None:
    ch = channel(sb, token_store=MemoryTokenStore({"page_token": SB.PAGE_TOKEN}), page_token=None)
    assert ch.publish(ch.render(article(), {"website": WEBSITE}), "d-5").remote_id
    with pytest.raises(AuthError):
        channel(sb, token_store=MemoryTokenStore({}), page_token=None).publish(
            ch.render(article(2), {"website": WEBSITE}), "d-6"
        )


def test_usage_headers_rising_to_100_give_rate_limited_with_regain_time(
    sb: FacebookSandbox,
) -> None:
    ch = channel(sb)
    sb.set_rate_limit(1, window_seconds=600)  # one publish = one create
    ch.publish(ch.render(article(1), {"website": WEBSITE}), "d-7")
    with pytest.raises(RateLimited) as info:
        ch.publish(ch.render(article(2), {"website": WEBSITE}), "d-8")
    assert info.value.code == 80001 and info.value.retry_after == 600
    assert len(sb.records["posts"]) == 1


# ----- reconciliation --------------------------------------------------------------------------
def test_find_existing_finds_post_created_by_a_timed_out_call(sb: FacebookSandbox) -> None:
    ch = channel(sb, timeout_seconds=0.4)
    draft = ch.render(article(), {"website": WEBSITE})
    since = datetime.now(UTC) - timedelta(minutes=1)
    sb.inject("timeout_after", path=r"/feed$", method="POST", seconds=1.0)
    with pytest.raises(TransientError) as info:
        ch.publish(draft, "d-9")
    assert info.value.may_have_posted
    created = sb.records["posts"][0]["id"]
    found = ch.find_existing(draft, "d-9", since)
    assert (
        found is not None
        and found.remote_id == created
        and found.url == sb.posts[created]["permalink_url"]
    )


def test_find_existing_is_none_when_absent_and_ignores_other_posts(sb: FacebookSandbox) -> None:
    ch = channel(sb)
    since = datetime.now(UTC) - timedelta(minutes=1)
    draft = ch.render(article(), {"website": WEBSITE})
    assert ch.find_existing(draft, "d-10", since) is None
    other = ch.render(article(2), {"website": WEBSITE})
    ch.publish(other, "d-11")
    sb.add_post(draft.text.replace("bài 1", "bài 3"))
    assert ch.find_existing(draft, "d-10", since) is None


def test_find_existing_pages_through_posts_and_ignores_older_ones(sb: FacebookSandbox) -> None:
    ch = channel(sb)
    draft = ch.render(article(), {"website": WEBSITE})
    ours = ch.publish(draft, "d-12")
    for i in range(150):
        sb.add_post(f"Tin khác số {i}")
    found = ch.find_existing(draft, "d-12", datetime.now(UTC) - timedelta(minutes=1))
    assert found is not None and found.remote_id == ours.remote_id
    assert graph_gets(sb, f"/v25.0/{SB.PAGE_ID}/published_posts") == 2
    sb.advance(3600)
    assert ch.find_existing(draft, "d-12", datetime.now(UTC) + timedelta(minutes=30)) is None


def test_find_existing_cannot_tell_beyond_its_page_budget(sb: FacebookSandbox) -> None:
    ch = channel(sb)
    draft = ch.render(article(), {"website": WEBSITE})
    ch.publish(draft, "d-13")
    for i in range(101):
        sb.add_post(f"Tin khác số {i}")
    ch.MAX_LIST_PAGES = 1
    with pytest.raises(CannotTell):
        ch.find_existing(draft, "d-13", datetime.now(UTC) - timedelta(minutes=1))


def test_duplicate_of_our_own_post_is_reconciled_not_failed(sb: FacebookSandbox) -> None:
    ch = channel(sb)
    draft = ch.render(article(), {"website": WEBSITE})
    first = ch.publish(draft, "d-14")
    again = ch.publish(draft, "d-14")
    assert again.remote_id == first.remote_id and again.extra["reconciled"] is True
    assert len(sb.records["posts"]) == 1


# ----- edit and delete -------------------------------------------------------------------------
def test_update_replaces_message_and_retract_deletes(sb: FacebookSandbox) -> None:
    ch = channel(sb)
    receipt = ch.publish(ch.render(article(), {"website": WEBSITE}), "d-15")
    fixed = ch.render(article(summary="Bản đã đính chính."), {"website": WEBSITE})
    assert ch.update(receipt, fixed).remote_id == receipt.remote_id
    assert sb.records["edits"] == [{"id": receipt.remote_id, "message": fixed.text}]
    assert sb.posts[receipt.remote_id]["message"] == fixed.text
    ch.retract(receipt)
    assert (
        sb.records["deletes"] == [{"id": receipt.remote_id}] and receipt.remote_id not in sb.posts
    )
    ch.retract(receipt)  # already gone: nothing to do
    with pytest.raises(RejectedError):
        ch.update(receipt, fixed)


# ----- check -----------------------------------------------------------------------------------
def test_check_with_app_credentials_reads_debug_token(sb: FacebookSandbox) -> None:
    health = channel(sb, app_id=SB.APP_ID, app_secret=SB.APP_SECRET).check()
    assert health.ok and health.expires_at is None and "pages_manage_posts" in health.scopes
    assert health.extra["data_access_expires_at"] > datetime.now(UTC) + timedelta(days=80)
    assert health.account == SB.PAGE_ID


def test_check_without_app_credentials_reads_the_page(sb: FacebookSandbox) -> None:
    health = channel(sb).check()
    assert health.ok and health.account == SB.PAGE_NAME


@pytest.mark.parametrize("app", [True, False])
def test_check_reports_expired_token(sb: FacebookSandbox, app: bool) -> None:
    sb.expire_token()
    creds = {"app_id": SB.APP_ID, "app_secret": SB.APP_SECRET} if app else {}
    health = channel(sb, **creds).check()
    assert not health.ok and "không còn hiệu lực" in health.detail


def test_check_warns_about_missing_permissions(sb: FacebookSandbox) -> None:
    ch = channel(sb, app_id=SB.APP_ID, app_secret=SB.APP_SECRET)
    sb.revoke_scope("read_insights")
    health = ch.check()
    assert health.ok and "read_insights" in health.detail
    sb.revoke_scope("pages_manage_posts")
    health = ch.check()
    assert not health.ok and "pages_manage_posts" in health.detail


@pytest.mark.parametrize("version", ["v17.0", "v2.0"])
def test_check_reports_retired_api_version(sb: FacebookSandbox, version: str) -> None:
    health = channel(sb, api_version=version).check()
    assert not health.ok and health.extra["code"] == 2635 and "api_version" in health.detail


def test_check_without_any_token_says_to_connect(sb: FacebookSandbox) -> None:
    health = channel(sb, page_token=None).check()
    assert not health.ok and "kết nối" in health.detail


# ----- reach -----------------------------------------------------------------------------------
def test_reach_of_120_posts_takes_three_graph_reads(sb: FacebookSandbox) -> None:
    ids = [sb.add_post(f"Bài số {i}") for i in range(120)]
    sb.set_reach(ids[0], "reactions", 7)
    sb.set_reach(ids[0], "comments", 2)
    sb.set_reach(ids[0], "shares", 3)
    sb.set_reach(ids[0], "post_clicks", 11)
    sb.set_reach(ids[0], "post_reactions_by_type_total", {"like": 5, "love": 2})
    sb.set_reach(ids[0], "post_total_media_view_unique", 420)
    ch = channel(sb)
    reach = ch.fetch_reach([Receipt(i, None) for i in ids])
    assert graph_gets(sb, "/v25.0/") == math.ceil(120 / 50)
    assert set(reach) == set(ids)
    assert reach[ids[0]] == {
        "reactions": 7,
        "comments": 2,
        "shares": 3,
        "post_total_media_view_unique": 420,
        "post_clicks": 11,
        "post_reactions_by_type_total": 7,
    }
    assert all(isinstance(v, int) for r in reach.values() for v in r.values())


@pytest.mark.parametrize("named", [False, True], ids=["unnamed", "named"])
def test_refused_metric_is_unavailable_while_others_keep_values(named: bool) -> None:
    with serving(FacebookSandbox(name_invalid_metric=named)) as sb:
        ids = [sb.add_post(f"Bài số {i}") for i in range(3)]
        sb.set_reach(ids[1], "post_clicks", 9)
        sb.set_reach(ids[1], "post_total_media_view_unique", 300)
        ch = channel(
            sb, metrics=["post_impressions_unique", "post_clicks", "post_total_media_view_unique"]
        )
        reach = ch.fetch_reach([Receipt(i, None) for i in ids])
        assert reach[ids[1]]["post_impressions_unique"] is None
        assert (
            reach[ids[1]]["post_clicks"] == 9
            and reach[ids[1]]["post_total_media_view_unique"] == 300
        )
        assert ch.refused_metrics == {"post_impressions_unique"}
        before = graph_gets(sb, "/v25.0/")
        again = ch.fetch_reach([Receipt(i, None) for i in ids])
        assert graph_gets(sb, "/v25.0/") == before + 1  # the refusal is remembered
        assert (
            again[ids[1]]["post_impressions_unique"] is None and again[ids[1]]["post_clicks"] == 9
        )


def test_reach_of_a_deleted_post_is_unavailable_and_others_still_read(sb: FacebookSandbox) -> None:
    ids = [sb.add_post(f"Bài số {i}") for i in range(3)]
    sb.set_reach(ids[2], "reactions", 4)
    ch = channel(sb)
    ch.retract(Receipt(ids[0], None))
    reach = ch.fetch_reach([Receipt(i, None) for i in ids])
    assert all(v is None for v in reach[ids[0]].values())
    assert reach[ids[2]]["reactions"] == 4


def test_throttled_reach_round_is_rate_limited(sb: FacebookSandbox) -> None:
    ids = [sb.add_post(f"Bài số {i}") for i in range(60)]
    sb.set_rate_limit(1, window_seconds=1200)
    with pytest.raises(RateLimited) as info:
        channel(sb).fetch_reach([Receipt(i, None) for i in ids])
    assert info.value.retry_after == 1200


def test_reach_without_read_insights_is_auth_error(sb: FacebookSandbox) -> None:
    pid = sb.add_post("Bài")
    sb.revoke_scope("read_insights")
    with pytest.raises(AuthError) as info:
        channel(sb).fetch_reach([Receipt(pid, None)])
    assert info.value.code == 10


# ----- connecting a page -----------------------------------------------------------------------
def test_connect_exchanges_user_token_and_lists_page_tokens(sb: FacebookSandbox) -> None:
    settings = channel(sb, page_token=None, app_id=SB.APP_ID, app_secret=SB.APP_SECRET).settings
    long_token, expires_in = exchange_user_token(settings, SB.USER_TOKEN)
    assert long_token == SB.LONG_USER_TOKEN and expires_in > 50 * 86400
    pages = page_tokens(settings, long_token)
    assert pages == [
        {
            "id": SB.PAGE_ID,
            "name": SB.PAGE_NAME,
            "access_token": SB.PAGE_TOKEN,
            "tasks": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"],
        }
    ]


@pytest.mark.parametrize(
    ("secret", "short", "code"), [("wrong", SB.USER_TOKEN, 101), (SB.APP_SECRET, "bad", 190)]
)
def test_connect_with_wrong_secret_or_token_is_auth_error(
    sb: FacebookSandbox, secret: str, short: str, code: int
) -> None:
    settings = channel(sb, page_token=None, app_id=SB.APP_ID, app_secret=secret).settings
    with pytest.raises(AuthError) as info:
        exchange_user_token(settings, short)
    assert info.value.code == code


def test_sandbox_refuses_unknown_parameters_and_bad_tokens(sb: FacebookSandbox) -> None:
    base = f"{sb.url}/v25.0/{SB.PAGE_ID}/feed"
    r = requests.post(
        base, data={"message": "x", "mesage": "typo", "access_token": SB.PAGE_TOKEN}, timeout=5
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == 100
    r = requests.post(
        base, data={"message": "x"}, headers={"Authorization": "Bearer nope"}, timeout=5
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == 190
    assert (
        "X-App-Usage"
        in requests.get(
            f"{sb.url}/v25.0/me", params={"access_token": SB.PAGE_TOKEN}, timeout=5
        ).headers
    )
