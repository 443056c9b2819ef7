"""Zalo Official Account articles: create → verify (asynchronous), list, update, remove.

Platform facts: ``../shared/contracts/zalo.md`` (OAuth v4 and the ``/v2.0/article`` API). By
subject: the settings (:mod:`channels.zalo_settings`), the error table (:mod:`channels.zalo_api`),
tokens and OAuth (:mod:`channels.zalo_oauth`; the durable rotation of Zalo's single-use refresh
tokens is :mod:`channels.zalo_tokens`), the default cover, followers and broadcasts
(:mod:`channels.zalo_outreach`), and the article body (:mod:`channels.zalo_body`).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from channels import render
from channels.base import (
    ArticleView,
    AuthError,
    BaseChannel,
    CannotTell,
    ChannelError,
    Check,
    Draft,
    Health,
    ImageRef,
    MemoryTokenStore,
    RateLimited,
    Receipt,
    RejectedError,
    TokenStore,
    TransientError,
)
from channels.followup import FOLLOW_UP, pending_reads
from channels.http import Answers, call_json
from channels.preparation import Prepared
from channels.zalo_api import RATE_WINDOW_SECONDS, TOKEN_RETRY_CODES, int_or_none, zalo_answer
from channels.zalo_body import BodyBlocks, plain_text
from channels.zalo_conversations import ZaloConversations
from channels.zalo_oauth import ZaloOAuth, consent_link
from channels.zalo_outreach import ZaloOutreach
from channels.zalo_settings import ZaloOASettings
from channels.zalo_tokens import VN, ZaloTokens, float_or, parse_time

__all__ = ["ZaloOAChannel", "ZaloOASettings", "consent_link", "exchange_code"]

log = logging.getLogger(__name__)


class ZaloOAChannel(ZaloOAuth, ZaloOutreach, ZaloConversations, BaseChannel[ZaloOASettings]):
    """Zalo OA articles: create → verify (asynchronous), list, update, remove; reach from the list.

    Composed with :class:`channels.zalo_oauth.ZaloOAuth` (tokens, connecting) and
    :class:`channels.zalo_outreach.ZaloOutreach` (default cover, followers, broadcasts) and
    :class:`channels.zalo_conversations.ZaloConversations` (citizens' messages and replies)."""

    TITLE_MAX = 150  # UTF-16 code units (Zalo's servers count as Java does)
    DESCRIPTION_MAX = 300
    AUTHOR_MAX = 50
    IMAGE_MAX_BYTES = 1024 * 1024
    IMAGE_TYPES = ("image/jpeg", "image/png")
    RATE_WINDOW_SECONDS = RATE_WINDOW_SECONDS
    TOKEN_RETRY_CODES = TOKEN_RETRY_CODES
    INVALID_PARAMETER = -201
    LIST_PAGE_SIZE = 20
    FIND_MAX_PAGES = 25  # 500 recent articles: far more than a department posts in a day
    REACH_MAX_PAGES = 20
    CLOCK_SKEW = timedelta(minutes=2)  # Zalo's create_date may lag our clock a little
    Settings: ClassVar[type[ZaloOASettings]] = ZaloOASettings
    label: ClassVar[str] = "Zalo"
    refreshes_own_tokens: ClassVar[bool] = True  # rotation: channels.zalo_tokens

    def __init__(
        self,
        name: str,
        settings: ZaloOASettings,
        *,
        token_store: TokenStore | None = None,
        session: requests.Session | None = None,
    ):
        super().__init__(name, settings, token_store=token_store, session=session)
        if token_store is None:
            log.warning(
                "channel %s has no durable token store: rotated Zalo tokens live in memory", name
            )
            token_store = MemoryTokenStore()
        self.store = token_store
        self.reconnect_hint = f"loa channels connect {name}"
        self.tokens = ZaloTokens(name, settings, token_store, self._oauth, self.reconnect_hint)
        self._answers = Answers(label="Zalo", mapper=self._result)

    # ----- rendering (pure) ------------------------------------------------------------------
    def render(self, article: ArticleView, links: Mapping[str, str]) -> Draft:
        """The create body for this article, with Zalo's limits checked (Vietnamese messages)."""
        checks: list[Check] = []
        website = links.get("website")
        # Before the website posts (the approval card), images have no public URL yet: say so
        # only once it has posted, when their absence is final.
        final = website is not None
        full_title = " ".join(render.nfc(article.title).split())
        title = self._cut(full_title, self.settings.title_max)
        if not title:
            checks.append(Check("title", False, "Bài chưa có tiêu đề."))
        elif title != full_title:
            checks.append(
                Check(
                    "title",
                    False,
                    f"Tiêu đề dài {render.utf16_len(full_title)} ký tự, đã "
                    f"rút gọn còn {render.utf16_len(title)} ký tự cho Zalo (giới hạn "
                    f"{self.settings.title_max}).",
                    blocking=False,
                )
            )
        source = plain_text(article.summary) or render.nfc(article.body_text)
        description = self._cut(source, self.settings.description_max)
        if not description:
            checks.append(
                Check("description", False, "Bài chưa có tóm tắt, Zalo bắt buộc có mô tả.")
            )
        elif description != " ".join(source.split()):
            checks.append(
                Check(
                    "description",
                    False,
                    f"Tóm tắt dài {len(' '.join(source.split()))} ký "
                    f"tự, đã rút gọn còn {len(description)} ký tự (Zalo nhận tối đa "
                    f"{self.settings.description_max}).",
                    blocking=False,
                )
            )

        cover_url = self._cover(article.cover, final, checks)
        blocks, used = self._body(article, final, checks)
        if not any(b["type"] == "text" for b in blocks):
            checks.append(
                Check("body", False, "Nội dung bài trống, Zalo không nhận bài không có chữ.")
            )
        if website:
            blocks.append(
                {"type": "text", "content": "Xem bài gốc tại: " + html.escape(website, quote=False)}
            )
        tags = render.hashtag_line(self.settings.hashtags)
        if tags:
            blocks.append({"type": "text", "content": html.escape(tags, quote=False)})
        payload = {
            "type": "normal",
            "title": title,
            "author": render.nfc(self.settings.author),
            "cover": {"cover_type": "photo", "photo_url": cover_url, "status": "show"},
            "description": description,
            "body": blocks,
            "status": "show",
            "comment": self.settings.comments,
        }
        texts = [b["content"] for b in blocks if b["type"] == "text"]
        return Draft(
            channel=self.name,
            title=title,
            text="\n\n".join([description] + [render.html_to_text(t) for t in texts]),
            html="".join(f"<p>{t}</p>" for t in texts),
            link=website,
            images=tuple(used),
            payload=payload,
            checks=tuple(checks),
            fingerprint=render.fingerprint(title, website),
        )

    @staticmethod
    def _cut(text: str, limit: int) -> str:
        """``text`` cut at a word boundary to ``limit`` UTF-16 code units."""
        room, out = limit, render.truncate_words(text, limit)
        while render.utf16_len(out) > limit and room > 1:
            room -= 1
            out = render.truncate_words(text, room)
        return out

    def _image_problem(self, image: ImageRef) -> str | None:
        name = PurePosixPath(image.path).name or image.path
        if image.mime_type not in self.IMAGE_TYPES:
            return f"Ảnh {name} không phải JPG/PNG nên Zalo không nhận"
        if image.size_bytes > self.IMAGE_MAX_BYTES:
            size = render.vi_number(image.size_bytes / 1048576)
            return f"Ảnh {name} nặng {size} MB, vượt giới hạn 1 MB của Zalo"
        return None

    def _cover(self, cover: ImageRef | None, final: bool, checks: list[Check]) -> str | None:
        # Without a website to publish it (no ``after``), a local cover never gets a public URL.
        unusable = cover is not None and (
            self._image_problem(cover) is not None
            or (cover.public_url is None and (final or not self.settings.after))
        )
        if cover is None or unusable:
            default = self.default_cover_url()
            if default:
                why = "Bài chưa có ảnh bìa" if cover is None else "Ảnh bìa của bài không dùng được"
                checks.append(
                    Check(
                        "cover",
                        False,
                        f"{why}; Zalo sẽ dùng ảnh bìa mặc định {default}.",
                        blocking=False,
                    )
                )
                return default
        if cover is None:
            hint = (
                " Ảnh bìa mặc định (tệp default_cover) chưa được tải lên website: chạy `loa check`."
                if self.settings.default_cover
                else " Có thể khai báo ảnh bìa mặc định (default_cover_url) trong [channels."
                f"{self.name}]."
            )
            checks.append(
                Check("cover", False, "Bài chưa có ảnh bìa, Zalo bắt buộc có ảnh bìa." + hint)
            )
            return None
        problem = self._image_problem(cover)
        if problem:
            checks.append(Check("cover", False, f"{problem}; Zalo bắt buộc có ảnh bìa hợp lệ."))
        elif cover.public_url is None and final:
            checks.append(
                Check(
                    "cover",
                    False,
                    "Ảnh bìa chưa có địa chỉ công khai trên website, "
                    "Zalo bắt buộc có ảnh bìa lấy từ website.",
                )
            )
        return cover.public_url

    def _body(
        self, article: ArticleView, final: bool, checks: list[Check]
    ) -> tuple[list[dict[str, Any]], list[ImageRef]]:
        parser = BodyBlocks()
        parser.feed(render.nfc(article.body_html))
        parser.close()
        cover_path = article.cover.path if article.cover else None
        pending = [img for img in article.images if img.path != cover_path]
        blocks: list[dict[str, Any]] = []
        used: list[ImageRef] = []

        def add_image(image: ImageRef, alt: str = "") -> None:
            name = PurePosixPath(image.path).name or image.path
            problem = self._image_problem(image)
            if problem:
                checks.append(
                    Check(f"image:{name}", False, f"{problem}; đã bỏ ảnh khỏi bài.", blocking=False)
                )
            elif image.public_url is None:
                if final:
                    checks.append(
                        Check(
                            f"image:{name}",
                            False,
                            f"Ảnh {name} chưa có địa chỉ công khai "
                            "trên website; đã bỏ ảnh khỏi bài.",
                            blocking=False,
                        )
                    )
            else:
                block = {"type": "image", "url": image.public_url}
                caption = render.nfc(image.caption or alt).strip()
                if caption:
                    block["caption"] = caption
                blocks.append(block)
                used.append(image)

        for kind, value, alt in parser.blocks:
            if kind == "text":
                blocks.append({"type": "text", "content": value})
                continue
            src_name = PurePosixPath(urlsplit(value).path).name
            match = next(
                (
                    img
                    for img in pending
                    if value in (img.path, img.public_url)
                    or (src_name and PurePosixPath(img.path).name == src_name)
                ),
                None,
            )
            if match is not None:
                pending.remove(match)
                add_image(match, alt)
        for image in pending:  # images the body does not place: after the text
            add_image(image)
        return blocks, used

    # ----- before the slot (channels.preparation) ---------------------------------------------
    def prepare(
        self,
        draft: Draft,
        *,
        due_at: datetime | None,
        known: Mapping[str, Any],
        previous: Mapping[str, Any],
    ) -> Prepared:
        """Refresh the access token now if it would expire within the margin of the slot.

        A slot further away than a fresh token lives is left alone: the host prepares again
        shortly before it. A refresh that fails is an error now, hours before the slot.
        """
        self._refuse_blocked(draft)
        now = datetime.now(UTC)
        creds = self.store.load()
        expires = parse_time(creds.get("access_expires_at"))
        margin = timedelta(seconds=self.settings.refresh_margin_seconds)
        needed_until = max(due_at or now, now) + margin
        if creds.get("access_token") and expires is not None and expires > needed_until:
            return Prepared(
                notes=(f"Mã truy cập Zalo còn hạn đến {expires.astimezone(VN):%H:%M %d/%m}.",)
            )
        ttl = timedelta(
            seconds=float_or(creds.get("access_ttl_seconds"), self.tokens.ACCESS_TTL_DEFAULT)
        )
        if creds.get("access_token") and now + ttl <= needed_until:
            return Prepared(
                notes=("Khung giờ đăng còn xa; Loa sẽ làm mới mã truy cập Zalo gần giờ đăng.",)
            )
        self.refresh_access_token(stale=creds.get("access_token"))
        fresh = parse_time(self.store.load().get("access_expires_at"))
        until = f" đến {fresh.astimezone(VN):%H:%M %d/%m}" if fresh else ""
        return Prepared(notes=(f"Đã làm mới mã truy cập Zalo trước giờ đăng (còn hạn{until}).",))

    # ----- publishing ------------------------------------------------------------------------
    def publish(self, draft: Draft, idempotency_key: str) -> Receipt:
        """Create the article, wait (bounded) for Zalo to process it; its id (the link: follow_up)."""
        self._refuse_blocked(draft)
        token = self._write("article/create", dict(draft.payload))
        article_id = self._verified(token)
        log.info("zalo %s: article %s published (key %s)", self.name, article_id, idempotency_key)
        # The verify above gives the id (exactly-once needs it); the public link is a follow-up.
        return Receipt(remote_id=article_id, url=None, extra={"token": token, FOLLOW_UP: ["link"]})

    def follow_up(self, receipt: Receipt) -> Receipt:
        """The receipt with the article's public link (``link_view``), read after it exists."""
        extra = {k: v for k, v in receipt.extra.items() if k != FOLLOW_UP}
        if "link" not in pending_reads(receipt) or receipt.url:
            return Receipt(receipt.remote_id, receipt.url, extra=extra)
        items, _ = self._recent(max_pages=1, ids={receipt.remote_id})
        url = next(
            (m.get("link_view") for m in items if str(m.get("id")) == receipt.remote_id), None
        )
        if not url:
            raise TransientError(
                f"Zalo chưa liệt kê bài {receipt.remote_id}; sẽ đọc lại liên kết sau."
            )
        return Receipt(receipt.remote_id, str(url), extra=extra)

    def update(self, receipt: Receipt, draft: Draft) -> Receipt:
        """Replace the article's content (same id), verified like a creation."""
        self._refuse_blocked(draft)
        token = self._write(
            "article/update", {**draft.payload, "id": receipt.remote_id}, write=False
        )
        article_id = self._verified(token)
        url = receipt.url or self._link_view(article_id)
        return Receipt(remote_id=article_id, url=url, extra={"token": token})

    def retract(self, receipt: Receipt) -> None:
        """Remove the article from the OA; an article that is already gone counts as removed
        (removing a known id is idempotent, so a lost answer is simply retried)."""
        try:
            self._call("POST", "article/remove", body={"id": receipt.remote_id})
        except RejectedError as e:
            if e.code != self.INVALID_PARAMETER or self._listed(receipt.remote_id):
                raise
            log.warning(
                "zalo %s: article %s was already gone when retracting", self.name, receipt.remote_id
            )

    def _listed(self, article_id: str) -> bool:
        """Whether ``article_id`` is among the OA's articles (CannotTell when the list is long)."""
        items, complete = self._recent(max_pages=self.FIND_MAX_PAGES, ids={article_id})
        if any(str(m.get("id")) == article_id for m in items):
            return True
        if not complete:
            raise CannotTell(f"Không xác định được bài Zalo {article_id} còn hay đã gỡ.")
        return False

    def find_existing(self, draft: Draft, idempotency_key: str, since: datetime) -> Receipt | None:
        """Our article among the recent ones (same NFC title, created since ``since``), if any."""
        title = render.nfc(draft.title)
        items, complete = self._recent(max_pages=self.FIND_MAX_PAGES, until=since - self.CLOCK_SKEW)
        for media in items:
            created = parse_time(media.get("create_date"))
            if (
                render.nfc(str(media.get("title", ""))) == title
                and created
                and created >= since - self.CLOCK_SKEW
            ):
                return Receipt(
                    remote_id=str(media["id"]),
                    url=media.get("link_view"),
                    extra={"found_by": "getslice"},
                )
        if not complete:
            raise CannotTell(
                f"Không xác định được bài đã lên Zalo hay chưa: đã xem {len(items)} bài "
                "gần nhất mà chưa hết khoảng thời gian cần kiểm tra."
            )
        return None

    def fetch_reach(self, receipts: Sequence[Receipt]) -> dict[str, dict[str, int | None]]:
        """Views and shares of each article, read in one paging pass over the recent list."""
        ids = {r.remote_id for r in receipts}
        if not ids:
            return {}
        items, _ = self._recent(max_pages=self.REACH_MAX_PAGES, ids=ids)
        found = {str(m.get("id")): m for m in items}
        out: dict[str, dict[str, int | None]] = {}
        for rid in ids:
            media = found.get(rid)
            out[rid] = {
                "views": int_or_none(media.get("total_view")) if media else None,
                "shares": int_or_none(media.get("total_share")) if media else None,
            }
        return out

    def comments_note(self) -> str:
        """What Loa cannot do with comments under the OA's articles (said by ``loa check``)."""
        shown = "đang bật" if self.settings.comments == "show" else "đang tắt"
        return (
            f"Bình luận dưới bài viết Zalo OA ({shown}): Zalo không có API để Loa đọc hay kiểm "
            "duyệt bình luận; cần có người xem trong trang quản lý Zalo OA (oa.zalo.me). Loa gửi "
            "thẻ nhắc hằng tuần kèm danh sách bài trên Zalo."
        )

    def check(self) -> Health:
        """Whether the OA answers with our token; ``expires_at`` is the access token's expiry."""
        try:
            data = self._call("GET", "oa/getoa").get("data") or {}
        except AuthError as e:
            return Health(
                ok=False,
                detail=e.message,
                extra={"code": e.code, "reconnect_hint": e.reconnect_hint},
            )
        followers = int_or_none(data.get(self.settings.follower_field))
        extra = {
            "oa_id": data.get("oa_id"),
            "refresh_expires_at": self.tokens.refresh_expires_at(),
            "followers": followers,
        }
        expires = parse_time(self.store.load().get("access_expires_at"))
        cover = self.check_default_cover()
        if cover is not None:
            return Health(
                ok=False, detail=cover, expires_at=expires, account=data.get("name"), extra=extra
            )
        detail = "Zalo OA hoạt động bình thường."
        if self.default_cover_url():
            detail += " Ảnh bìa mặc định hợp lệ (JPG/PNG, tối đa 1 MB)."
        return Health(
            ok=True, detail=detail, expires_at=expires, account=data.get("name"), extra=extra
        )

    def _refuse_blocked(self, draft: Draft) -> None:
        if draft.refusals:
            raise RejectedError(
                "Zalo sẽ không nhận bài: " + " ".join(c.message for c in draft.refusals)
            )

    def _write(self, path: str, body: dict[str, Any], *, write: bool = True) -> str:
        """Send a create (``write``: a lost answer may have posted) or an update of a known id."""
        data = self._call("POST", path, body=body, write=write).get("data") or {}
        if not data.get("token"):
            raise TransientError(
                "Zalo nhận bài nhưng không trả mã xác nhận (token).", may_have_posted=True
            )
        return str(data["token"])

    def _verified(self, token: str) -> str:
        """The article id once Zalo has processed ``token`` (a short bounded poll)."""
        pending = set(self.settings.verify_pending_codes)
        try:
            for attempt in range(self.settings.verify_attempts):
                if attempt:
                    time.sleep(
                        self.settings.verify_interval_seconds
                    )  # the platform's protocol asks for it
                try:
                    data = (
                        self._call("POST", "article/verify", body={"token": token}).get("data")
                        or {}
                    )
                except TransientError as e:
                    if e.code in pending and not isinstance(e, RateLimited):
                        continue
                    raise
                if data.get("id"):
                    return str(data["id"])
            raise TransientError(
                f"Zalo chưa xử lý xong bài sau {self.settings.verify_attempts} lần "
                "kiểm tra; sẽ đối chiếu lại trước khi gửi lại."
            )
        except ChannelError as e:
            e.may_have_posted = True  # the creation itself was accepted
            raise

    def _link_view(self, article_id: str) -> str | None:
        """The public link of a new article (first page of the list); None if it cannot be read."""
        try:
            items, _ = self._recent(max_pages=1, ids={article_id})
        except ChannelError as e:
            log.warning("zalo %s: no link for article %s yet (%s)", self.name, article_id, e.code)
            return None
        return next((m.get("link_view") for m in items if str(m.get("id")) == article_id), None)

    def _recent(
        self, *, max_pages: int, until: datetime | None = None, ids: set[str] | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """Recent articles, newest first, and whether the pass covered all it had to."""
        items: list[dict[str, Any]] = []
        wanted = set(ids or ())
        size = self.LIST_PAGE_SIZE
        for page in range(max_pages):
            data = (
                self._call(
                    "GET",
                    "article/getslice",
                    params={"offset": page * size, "limit": size, "type": "normal"},
                ).get("data")
                or {}
            )
            medias = [m for m in data.get("medias") or [] if isinstance(m, dict)]
            items.extend(medias)
            wanted -= {str(m.get("id")) for m in medias}
            total = int_or_none(data.get("total"))
            if len(medias) < size or (total is not None and len(items) >= total):
                return items, True
            if ids is not None and not wanted:
                return items, True
            times = [parse_time(m.get("create_date")) for m in medias]
            if until is not None and all(t is not None and t < until for t in times):
                return items, True
        return items, False

    # ----- HTTP (the error table: channels.zalo_api) ----------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        write: bool = False,
    ) -> dict[str, Any]:
        """One API call; a refused access token is refreshed once and the call retried once."""
        token = self.access_token()
        try:
            return self._api(method, path, token, params, body, write)
        except AuthError as e:
            if not e.refreshable:
                raise
            log.info("zalo %s: access token refused (%s); refreshing once", self.name, e.code)
        token = self.refresh_access_token(stale=token)
        try:
            return self._api(method, path, token, params, body, write)
        except AuthError as e:
            if not e.refreshable:
                raise
            raise AuthError(
                f"{e.message} Token mới cấp lại cũng bị từ chối.",
                code=e.code,
                reconnect_hint=self.reconnect_hint,
            ) from e

    def _api(
        self,
        method: str,
        path: str,
        token: str,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
        write: bool,
    ) -> dict[str, Any]:
        headers = {"access_token": token}
        if self.settings.use_appsecret_proof:
            headers["appsecret_proof"] = hmac.new(
                self._secret().encode(), token.encode(), hashlib.sha256
            ).hexdigest()
        url = f"{self.settings.api_url.rstrip('/')}/v2.0/{path}"
        return self._send(method, url, write, headers=headers, params=params, json=body)

    def _result(self, resp: requests.Response, body: dict[str, Any]) -> dict[str, Any]:
        """The answer's data, or the error :data:`channels.zalo_api.ZALO_ERRORS` maps it to."""
        return zalo_answer(
            resp, body, pending_codes=self.settings.verify_pending_codes, hint=self.reconnect_hint
        )

    def _send(self, method: str, url: str, write: bool, **kwargs: Any) -> dict[str, Any]:
        return call_json(  # type: ignore[no-any-return]
            self.session,
            method,
            url,
            self._answers,
            write=write,
            timeout=self.settings.timeout_seconds,
            **kwargs,
        )


def exchange_code(
    settings: ZaloOASettings,
    code: str,
    code_verifier: str,
    token_store: TokenStore,
    session: requests.Session | None = None,
    *,
    expected_state: str | None = None,
) -> dict[str, Any]:
    """Trade the consent ``code`` for the first token pair, stored durably; returns OA/expiry info.

    ``expected_state``: see :meth:`ZaloOAChannel.connect_with_code`.
    """
    name = str(getattr(token_store, "channel", "zalo"))
    channel = ZaloOAChannel(name, settings, token_store=token_store, session=session)
    return channel.connect_with_code(code, code_verifier, expected_state=expected_state)
