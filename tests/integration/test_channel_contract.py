"""Integration tier: the contract kit (channels.testing) for every built-in channel.

Each case arms one fault class on the platform's sandbox for one operation and follows the host's
rule; it passes only when the platform holds exactly one post (none after a retraction) and the
channel said "not posted" for a refusal and "maybe posted" (or found it) when the platform acted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from conftest import serving
from PIL import Image
from test_channel_zalo import JPEG, PNG, MediaHost

from channels.base import ArticleView, ChannelError, ImageRef, MemoryTokenStore
from channels.facebook_page import FacebookPageChannel, FacebookSettings
from channels.handoff import HandoffChannel, HandoffSettings
from channels.sandbox.facebook import FacebookSandbox
from channels.sandbox.wordpress import WordPressSandbox
from channels.sandbox.zalo import ZaloSandbox
from channels.testing import ContractSubject, Fault, Operation, all_cases, check, http_faults
from channels.wordpress import WordPressChannel, WordPressSettings
from channels.zalo_oa import ZaloOAChannel, ZaloOASettings

CASES = list(all_cases())
IDS = [f"{op.value}-{fault.name.lower()}" for op, fault in CASES]
TIMEOUT = 0.6  # the adapters' timeout in these tests; the sandboxes hang longer
TITLE = "Sở Ngoại vụ Lạng Sơn đẩy mạnh dịch vụ công trực tuyến toàn trình"
LINK = "https://sngv.langson.gov.vn/tin-tuc/dich-vu-cong"


def _article(cover: ImageRef | None = None, images: tuple[ImageRef, ...] = ()) -> ArticleView:
    return ArticleView(
        id=7,
        title=TITLE,
        summary="Người dân nộp hồ sơ trực tuyến, nhanh hơn.",
        body_html="<p>Năm 2026, Sở tiếp tục cải cách thủ tục hành chính.</p>",
        body_text="Năm 2026, Sở tiếp tục cải cách thủ tục hành chính.",
        topic="đ",
        topic_label="Dịch vụ công trực tuyến",
        cover=cover,
        images=images,
    )


# ----- WordPress -----------------------------------------------------------------------------
@pytest.fixture
def wordpress(tmp_path: Path) -> Iterator[ContractSubject]:
    Image.new("RGB", (64, 48), "red").save(tmp_path / "bia.jpg")
    with serving(WordPressSandbox()) as sb:
        settings = WordPressSettings.model_validate(
            {
                "type": "wordpress",
                "url": sb.api_url,
                "username": sb.USERNAME,
                "app_password": sb.APP_PASSWORD,
                "timeout_seconds": TIMEOUT,
            }
        )
        arm, disarm, settle = http_faults(
            sb,
            {
                Operation.PUBLISH: ("POST", r"/wp/v2/posts$"),
                Operation.FIND_EXISTING: ("GET", r"/wp/v2/posts$"),
                Operation.UPDATE: ("POST", r"/wp/v2/posts/\d+$"),
                Operation.RETRACT: ("POST", r"/wp/v2/posts/\d+$"),
            },
            refused="rest:400:rest_invalid_param",
        )

        def posts(key: str) -> list[str]:
            with sb.lock:
                return [
                    str(i)
                    for i, p in sb.posts.items()
                    if p["status"] == "publish" and f"loa:{key}" in p["content"]
                ]

        def edited(key: str) -> bool:
            with sb.lock:
                return any(
                    "Đính chính" in p["content"]
                    for p in sb.posts.values()
                    if f"loa:{key}" in p["content"]
                )

        yield ContractSubject(
            make_channel=lambda: WordPressChannel("website", settings),
            article=_article(ImageRef(str(tmp_path / "bia.jpg"), "image/jpeg")),
            arm=arm,
            disarm=disarm,
            settle=settle,
            posts=posts,
            edited=edited,
        )


@pytest.mark.parametrize(("op", "fault"), CASES, ids=IDS)
def test_wordpress_keeps_the_contract(
    wordpress: ContractSubject, op: Operation, fault: Fault
) -> None:
    check(wordpress, op, fault)


# ----- Facebook ------------------------------------------------------------------------------
@pytest.fixture
def facebook() -> Iterator[ContractSubject]:
    with serving(FacebookSandbox(seed=3)) as sb:
        settings = FacebookSettings.model_validate(
            {
                "type": "facebook_page",
                "page_id": sb.PAGE_ID,
                "graph_url": sb.url,
                "page_token": sb.PAGE_TOKEN,
                "after": "website",
                "timeout_seconds": TIMEOUT,
            }
        )
        arm, disarm, settle = http_faults(
            sb,
            {
                Operation.PUBLISH: ("POST", r"/feed$"),
                Operation.FIND_EXISTING: ("GET", r"/published_posts$"),
                Operation.UPDATE: ("POST", r"/\d+_\d+$"),
                Operation.RETRACT: ("DELETE", r"/\d+_\d+$"),
            },
            refused="error:100",
        )

        def posts(key: str) -> list[str]:
            with sb.lock:
                return [pid for pid, p in sb.posts.items() if TITLE in p["message"]]

        def edited(key: str) -> bool:
            with sb.lock:
                return any("(đã sửa)" in p["message"] for p in sb.posts.values())

        yield ContractSubject(
            make_channel=lambda: FacebookPageChannel("facebook", settings),
            article=_article(),
            links={"website": LINK},
            arm=arm,
            disarm=disarm,
            settle=settle,
            posts=posts,
            edited=edited,
        )


@pytest.mark.parametrize(("op", "fault"), CASES, ids=IDS)
def test_facebook_keeps_the_contract(
    facebook: ContractSubject, op: Operation, fault: Fault
) -> None:
    check(facebook, op, fault)


# ----- Zalo ----------------------------------------------------------------------------------
@pytest.fixture
def zalo_sandbox() -> Iterator[tuple[ZaloSandbox, MediaHost]]:
    with serving(ZaloSandbox(verify_pending_calls=0)) as sb, serving(MediaHost()) as media:
        yield sb, media


@pytest.fixture
def zalo(zalo_sandbox: tuple[ZaloSandbox, MediaHost]) -> Iterator[ContractSubject]:
    sb, media = zalo_sandbox
    settings = ZaloOASettings.model_validate(
        {
            "type": "zalo_oa",
            "api_url": sb.url,
            "oauth_url": sb.url,
            "app_id": sb.APP_ID,
            "app_secret": sb.APP_SECRET,
            "refresh_token": sb.INITIAL_REFRESH_TOKEN,
            "after": "website",
            "verify_interval_seconds": 0,
            "timeout_seconds": TIMEOUT,
        }
    )
    tokens = MemoryTokenStore()
    arm, disarm, settle = http_faults(
        sb,
        {
            Operation.PUBLISH: ("POST", r"/v2.0/article/create$"),
            Operation.FIND_EXISTING: ("GET", r"/v2.0/article/getslice$"),
            Operation.UPDATE: ("POST", r"/v2.0/article/update$"),
            Operation.RETRACT: ("POST", r"/v2.0/article/remove$"),
        },
        refused="error:-201",
    )

    def posts(key: str) -> list[str]:
        with sb.lock:
            return [i for i, a in sb.media.items() if a["title"] == TITLE]

    def edited(key: str) -> bool:
        with sb.lock:
            return any("(đã sửa)" in str(a.get("description")) for a in sb.media.values())

    cover = ImageRef(
        "uploads/cover.jpg",
        "image/jpeg",
        size_bytes=len(JPEG),
        public_url=f"{media.url}/media/cover.jpg",
    )
    inline = ImageRef(
        "uploads/hoi-nghi.png",
        "image/png",
        size_bytes=len(PNG),
        public_url=f"{media.url}/media/hoi-nghi.png",
    )
    yield ContractSubject(
        make_channel=lambda: ZaloOAChannel("zalo", settings, token_store=tokens),
        article=_article(cover, (inline,)),
        links={"website": LINK},
        arm=arm,
        disarm=disarm,
        settle=settle,
        posts=posts,
        edited=edited,
    )


@pytest.mark.parametrize(("op", "fault"), CASES, ids=IDS)
def test_zalo_keeps_the_contract(zalo: ContractSubject, op: Operation, fault: Fault) -> None:
    check(zalo, op, fault)


@pytest.mark.parametrize("kind", ["after:html_502", "after:http_500", "drop_after"])
def test_zalo_create_accepted_then_verify_failing_is_maybe_posted_and_found_once(
    zalo: ContractSubject, zalo_sandbox: tuple[ZaloSandbox, MediaHost], kind: str
) -> None:
    """The create was accepted; the verify that would give its id fails: the article exists."""
    sb, _ = zalo_sandbox
    ch = zalo.make_channel()
    draft = ch.render(zalo.article, zalo.links)
    sb.inject(kind, path=r"/v2.0/article/verify$", count=10)
    with pytest.raises(ChannelError) as err:
        ch.publish(draft, "verify-fails")
    assert err.value.may_have_posted
    sb.reset_faults()
    found = ch.find_existing(draft, "verify-fails", datetime.now(UTC) - timedelta(minutes=5))
    assert found is not None and zalo.posts("verify-fails") == [found.remote_id]


# ----- Hand-off (folder + SMTP) --------------------------------------------------------------
SMTP_FAULTS = frozenset({Fault.REFUSED, Fault.THROTTLED, Fault.DROPPED_AFTER, Fault.HUNG_AFTER})


class FaultyMailServer:
    """An SMTP handler (aiosmtpd) that accepts mail, and fails the next one as armed."""

    def __init__(self) -> None:
        self.accepted: list[bytes] = []
        self.fault: Fault | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        fault, self.fault = self.fault, None
        if fault is Fault.REFUSED:
            return "554 5.7.1 Message refused by policy"
        if fault is Fault.THROTTLED:
            return "451 4.7.1 Too many messages, slow down"
        self.accepted.append(envelope.content)  # acted
        if fault is Fault.DROPPED_AFTER:
            server.transport.close()  # the client never hears the 250
            return "250 OK"
        if fault is Fault.HUNG_AFTER:
            await asyncio.sleep(TIMEOUT * 2)
        return "250 Message accepted"


class _Controller(Controller):
    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def handoff(tmp_path: Path) -> Iterator[ContractSubject]:
    mail = FaultyMailServer()
    controller = _Controller(mail, hostname="127.0.0.1", port=0)
    controller.start()
    settings = HandoffSettings.model_validate(
        {
            "type": "handoff",
            "folder": str(tmp_path / "goi-bai"),
            "smtp_host": "127.0.0.1",
            "smtp_port": controller.port,
            "mail_to": ["webmaster@sngv.langson.gov.vn"],
            "timeout_seconds": TIMEOUT,
        }
    )

    def arm(fault: Fault, op: Operation) -> bool:
        if op is Operation.FIND_EXISTING or fault not in SMTP_FAULTS:
            return False  # a look reads the folder; SMTP has no HTML page or JSON body
        mail.fault = fault
        return True

    def posts(key: str) -> list[str]:
        folder = Path(settings.folder)
        packages = (
            [
                p.name
                for p in folder.iterdir()
                if p.is_dir() and not p.name.startswith(".") and not (p / ".retract-sent").exists()
            ]
            if folder.exists()
            else []
        )
        mails = [
            m
            for m in mail.accepted
            if b"Bai can dang" in m or "cần đăng".encode() in m or b"[Loa]" in m
        ]
        new_post_mails = [m for m in mails if b"go bai" not in m.lower()]
        return packages if len(new_post_mails) <= 1 else packages + ["second mail"]

    yield ContractSubject(
        make_channel=lambda: HandoffChannel("website", settings),
        article=_article(),
        arm=arm,
        disarm=lambda: setattr(mail, "fault", None),
        settle=lambda: time.sleep(TIMEOUT * 2),
        posts=posts,
        operations=frozenset({Operation.PUBLISH, Operation.UPDATE}),
    )
    controller.stop()


HANDOFF_CASES = [c for c in CASES if c[0] is Operation.PUBLISH and c[1] in SMTP_FAULTS]


@pytest.mark.parametrize(
    ("op", "fault"),
    HANDOFF_CASES,
    ids=[f"{op.value}-{fault.name.lower()}" for op, fault in HANDOFF_CASES],
)
def test_handoff_keeps_the_contract(handoff: ContractSubject, op: Operation, fault: Fault) -> None:
    check(handoff, op, fault)
