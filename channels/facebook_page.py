"""Facebook Page channel: link or photo posts through the Graph API with a Page access token.

Platform facts: ``../shared/contracts/facebook.md`` (Graph API reference:
https://developers.facebook.com/docs/pages-api/posts).

Choices worth knowing:

* Duplicates (Graph 506 "Duplicate status message", subcode 1366051 "photo already posted") are
  reconciled inside :meth:`FacebookPageChannel.publish`: it lists the page's recent posts and,
  when one carries our message, returns its receipt with ``extra={"reconciled": True}``. Only
  when the earlier post is someone else's does it raise ``RejectedError(code=506 / 1366051)``; a
  dispatcher that calls ``find_existing`` on such an error gets ``None`` and fails the delivery.
* The permalink is read with ``GET /{post-id}?fields=permalink_url`` after the post exists, as a
  follow-up (:mod:`channels.followup`), never in the posting lane: ``publish`` returns
  ``https://www.facebook.com/{post-id}`` (which leads to the post) and :meth:`follow_up` replaces it
  with the permalink later. Whether ``fields`` works on the create call is unverified.
* Reach is one multi-id read per 50 posts with ``insights.metric(...)`` field expansion. The live
  API refuses a retired metric with ``(#100) The value must be a valid insights metric`` without
  naming it: the adapter takes the name from the message when one of the requested metrics is
  there, else probes each metric alone once, and remembers refusals for the instance's life.
* A retired ``api_version`` (code 2635) is an :class:`AuthError` without reconnect hint: the
  channel must be paused until an operator sets a newer version.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

import requests
from pydantic import Field, SecretStr

from channels import render
from channels.base import (
    ArticleView,
    AuthError,
    BaseChannel,
    CannotTell,
    ChannelError,
    ChannelSettings,
    Check,
    Draft,
    Health,
    ImageRef,
    Prompts,
    Receipt,
    RejectedError,
    TokenStore,
)
from channels.facebook_comments import COMMENT_SCOPES, FacebookComments
from channels.followup import FOLLOW_UP, pending_reads
from channels.graph_api import RECONNECT, graph_call
from channels.http import HttpSession
from channels.messaging import IncomingEvent, ReplyReceipt, ReplyWindow
from channels.messenger import (
    messenger_refusal_line,
    parse_messenger_webhook,
    send_body,
    subscription_challenge,
    verify_messenger_webhook,
)

__all__ = ["FacebookPageChannel", "FacebookSettings", "exchange_user_token", "page_tokens"]

log = logging.getLogger(__name__)

_RECONCILE_CODES = (506, 1366051)
_NEEDED_SCOPES = ("pages_manage_posts", "pages_read_engagement", "pages_show_list")


class _InvalidMetric(RejectedError):
    """The Graph API refused an insights metric (code 100 on a read that asked for insights)."""


class FacebookSettings(ChannelSettings):
    """``[channels.NAME]`` keys of a Facebook Page channel."""

    type: str = "facebook_page"
    page_id: str
    graph_url: str = "https://graph.facebook.com"
    api_version: str = "v25.0"
    page_token: SecretStr | None = None  # LOA_CHANNELS__FACEBOOK__PAGE_TOKEN or the token store
    app_id: str | None = None  # only for `loa channels connect` and /debug_token
    app_secret: SecretStr | None = None
    metrics: list[str] = [
        "post_total_media_view_unique",
        "post_clicks",
        "post_reactions_by_type_total",
    ]
    photo_mode: Literal["link", "photos"] = "link"
    # Off by default: an article without any picture is posted as a photo post of this public
    # image (link in the message) instead of a link post with no picture.
    default_image_url: str | None = None
    follower_fields: list[str] = ["followers_count", "fan_count"]  # fan_count is being retired
    # Citizens' messages (channels.messenger): app_secret signs the webhook
    # (LOA_CHANNELS__FACEBOOK__APP_SECRET); verify_token answers Meta's subscription handshake.
    verify_token: SecretStr | None = None  # LOA_CHANNELS__FACEBOOK__VERIFY_TOKEN
    webhook_max_age_seconds: float = Field(86400.0, gt=0)  # Meta retries for hours
    reply_window_hours: float = Field(24.0, gt=0)
    human_agent: bool = False  # HUMAN_AGENT tag (7 days, needs App Review)
    human_agent_hours: float = Field(24.0 * 7, gt=0)
    reply_max_chars: int = Field(2000, ge=100)

    required_secrets: ClassVar[tuple[str, ...]] = ("page_token",)


def _base(settings: FacebookSettings) -> str:
    return f"{settings.graph_url.rstrip('/')}/{settings.api_version}"


def exchange_user_token(
    settings: FacebookSettings, short_token: str, session: requests.Session | None = None
) -> tuple[str, int]:
    """A long-lived user token (and its lifetime in seconds) for a short-lived one."""
    if not settings.app_id or settings.app_secret is None:
        raise AuthError(
            "Cần cấu hình app_id và app_secret của ứng dụng Facebook để đổi mã truy cập."
        )
    data = graph_call(
        session or HttpSession(),
        "GET",
        f"{_base(settings)}/oauth/access_token",
        token=None,
        timeout=settings.timeout_seconds,
        params={
            "grant_type": "fb_exchange_token",
            "client_id": settings.app_id,
            "client_secret": settings.app_secret.get_secret_value(),
            "fb_exchange_token": short_token,
        },
    )
    return data["access_token"], int(data.get("expires_in") or 0)


def page_tokens(
    settings: FacebookSettings, long_user_token: str, session: requests.Session | None = None
) -> list[dict[str, Any]]:
    """The pages the user manages: ``id``, ``name``, ``access_token``, ``tasks``."""
    data = graph_call(
        session or HttpSession(),
        "GET",
        f"{_base(settings)}/me/accounts",
        token=long_user_token,
        timeout=settings.timeout_seconds,
        params={"fields": "id,name,access_token,tasks"},
    )
    return [
        {k: p.get(k) for k in ("id", "name", "access_token", "tasks")} for p in data.get("data", [])
    ]


class FacebookPageChannel(FacebookComments, BaseChannel[FacebookSettings]):
    """Posts to one Facebook Page; see the module docstring for duplicate and reach handling."""

    Settings: ClassVar[type[FacebookSettings]] = FacebookSettings
    label: ClassVar[str] = "Facebook"
    MESSAGE_MAX = 63206  # characters (UTF-16 units) in a post message
    PHOTO_MAX_BYTES = 4 * 1024 * 1024
    PHOTO_TYPES = ("image/jpeg", "image/png", "image/gif", "image/bmp", "image/tiff")
    MAX_PHOTOS = 10
    IDS_PER_READ = 50  # ids in one multi-id read
    LIST_LIMIT = 100
    MAX_LIST_PAGES = 10  # reconciliation looks at most 1,000 recent posts
    RECONCILE_WINDOW = 2 * 86400  # seconds back publish() looks when Facebook reports a duplicate

    def __init__(
        self,
        name: str,
        settings: FacebookSettings,
        *,
        token_store: TokenStore | None = None,
        session: requests.Session | None = None,
    ):
        super().__init__(name, settings, token_store=token_store, session=session)
        self.refused_metrics: set[str] = set()

    # ----- rendering (pure) ------------------------------------------------------------------
    def render(self, article: ArticleView, links: Mapping[str, str]) -> Draft:
        """The post message and photos for ``article``, with Facebook's limits checked."""
        s = self.settings
        title = render.nfc(article.title).strip()
        summary = render.html_to_text(render.nfc(article.summary))
        if not summary:
            summary = render.truncate_words(render.nfc(article.body_text), 400)
        link = links.get(s.after) if s.after else None
        parts = [title, summary]
        if link:
            parts.append(f"Xem chi tiết: {link}")
        tags = render.hashtag_line(s.hashtags)
        if tags:
            parts.append(tags)
        message = "\n\n".join(p for p in parts if p)
        images = self._photos(article) if (s.photo_mode == "photos" or not link) else ()
        if s.default_image_url and article.cover is None and not article.images:
            images = (
                ImageRef(
                    path=s.default_image_url, mime_type="image/jpeg", public_url=s.default_image_url
                ),
            )
        length = render.utf16_len(message)
        checks = [
            Check(
                "facebook.message_length",
                length <= self.MESSAGE_MAX,
                f"Nội dung bài Facebook dài {render.vi_number(length)} ký tự "
                f"(tối đa {render.vi_number(self.MESSAGE_MAX)}).",
            )
        ]
        if s.after:
            checks.append(
                Check(
                    "facebook.link",
                    bool(link),
                    "Có liên kết về bài trên trang web."
                    if link
                    else "Chưa có liên kết về bài trên trang web; bài Facebook sẽ đăng không kèm liên kết.",
                    blocking=False,
                )
            )
        for img in images:
            label = Path(img.path).name or img.public_url or "ảnh"
            checks.append(
                Check(
                    "facebook.photo_size",
                    img.size_bytes <= self.PHOTO_MAX_BYTES,
                    f"Ảnh {label}: {render.vi_number(img.size_bytes / 1048576)} MB (tối đa 4 MB).",
                )
            )
            checks.append(
                Check(
                    "facebook.photo_type",
                    img.mime_type in self.PHOTO_TYPES,
                    f"Ảnh {label}: định dạng {img.mime_type} "
                    f"{'được' if img.mime_type in self.PHOTO_TYPES else 'không được'} Facebook nhận.",
                )
            )
        mode = "photos" if images else "link"
        return Draft(
            channel=self.name,
            title=title,
            text=message,
            link=link,
            images=images,
            payload={"message": message, "link": link if mode == "link" else None, "mode": mode},
            checks=tuple(checks),
            fingerprint=render.fingerprint(message, link),
        )

    def _photos(self, article: ArticleView) -> tuple[ImageRef, ...]:
        seen, out = set(), []
        for img in (article.cover, *article.images):
            if img is not None and (img.public_url or img.path) not in seen:
                seen.add(img.public_url or img.path)
                out.append(img)
        return tuple(out[: self.MAX_PHOTOS])

    # ----- HTTP ------------------------------------------------------------------------------
    def _token(self) -> str:
        if self.settings.page_token is not None:
            token: str = self.settings.page_token.get_secret_value()
            return token
        stored = self.token_store.load().get("page_token") if self.token_store else None
        if not stored:
            raise AuthError(
                "Chưa có mã truy cập Trang Facebook; hãy kết nối Trang.",
                reconnect_hint=RECONNECT.format(name=self.name),
            )
        return str(stored)

    def _call(self, method: str, path: str, *, write: bool = False, **kw: Any) -> Any:
        return graph_call(
            self.session,
            method,
            f"{_base(self.settings)}/{path.lstrip('/')}",
            token=self._token(),
            timeout=self.settings.timeout_seconds,
            write=write,
            name=self.name,
            **kw,
        )

    # ----- citizens' messages (channels.messaging) ---------------------------------------------
    platform: ClassVar[str] = "facebook"
    webhook_secrets: ClassVar[tuple[str, ...]] = ("app_secret", "verify_token")

    def verify_webhook(self, body: bytes, headers: Mapping[str, str], now: float) -> None:
        s = self.settings
        verify_messenger_webhook(
            body,
            headers,
            now,
            app_secret=s.app_secret.get_secret_value() if s.app_secret else None,
            max_age_seconds=s.webhook_max_age_seconds,
        )

    def parse_webhook(self, body: bytes) -> list[IncomingEvent]:
        return parse_messenger_webhook(body)

    def subscription_challenge(self, params: Mapping[str, str]) -> str | None:
        token = self.settings.verify_token
        return subscription_challenge(params, token.get_secret_value() if token else None)

    def reply_window(self) -> ReplyWindow:
        s = self.settings
        return ReplyWindow(
            s.reply_window_hours, None, s.human_agent_hours if s.human_agent else None
        )

    def send_reply(
        self, citizen_id: str, text: str, *, quote_id: str | None = None, human: bool = False
    ) -> ReplyReceipt:
        """Send API ``RESPONSE`` (``HUMAN_AGENT`` when ``human`` and the switch is on)."""
        s = self.settings
        body = send_body(citizen_id, text[: s.reply_max_chars], human_agent=human and s.human_agent)
        data = self._call("POST", f"{s.page_id}/messages", json=body, write=True)
        return ReplyReceipt(str(data.get("message_id") or "") or None)

    def refusal_line(self, exc: ChannelError) -> str:
        return messenger_refusal_line(exc)

    # ----- publishing ------------------------------------------------------------------------
    def publish(self, draft: Draft, idempotency_key: str) -> Receipt:
        """Create the post (uploading photos first in photo mode); duplicates are reconciled."""
        data: dict[str, Any] = {"message": draft.payload.get("message", draft.text)}
        if draft.payload.get("mode") == "photos" and draft.images:
            data["attached_media"] = json.dumps(
                [{"media_fbid": self._upload(img)} for img in draft.images]
            )
        elif draft.link:
            data["link"] = draft.link
        try:
            created = self._call("POST", f"{self.settings.page_id}/feed", data=data, write=True)
        except RejectedError as e:
            if e.code not in _RECONCILE_CODES:
                raise
            since = datetime.now(UTC) - timedelta(seconds=self.RECONCILE_WINDOW)
            ours = self.find_existing(draft, idempotency_key, since)
            if ours is None:
                raise
            log.info("Facebook reported a duplicate; it is our earlier post %s", ours.remote_id)
            return Receipt(ours.remote_id, ours.url, extra={**ours.extra, "reconciled": True})
        if created.get("permalink_url"):
            return Receipt(created["id"], created["permalink_url"])
        return Receipt(
            created["id"],
            f"https://www.facebook.com/{created['id']}",
            extra={FOLLOW_UP: ["permalink"]},
        )

    def follow_up(self, receipt: Receipt) -> Receipt:
        """The receipt with the post's permalink, read now that the post exists."""
        extra = {k: v for k, v in receipt.extra.items() if k != FOLLOW_UP}
        if "permalink" not in pending_reads(receipt):
            return Receipt(receipt.remote_id, receipt.url, extra=extra)
        data = self._call("GET", receipt.remote_id, params={"fields": "permalink_url"})
        return Receipt(
            receipt.remote_id, str(data.get("permalink_url") or receipt.url), extra=extra
        )

    def _upload(self, img: ImageRef) -> str:
        """Upload one unpublished photo; its id goes into ``attached_media``.

        Not a post: an unpublished photo whose answer was lost is an invisible spare, so the
        upload is retried like a read; only the feed POST is a write that may have posted."""
        form = {"published": "false"}
        if img.public_url:
            return str(
                self._call(
                    "POST", f"{self.settings.page_id}/photos", data={**form, "url": img.public_url}
                )["id"]
            )
        try:
            fh = open(img.path, "rb")  # noqa: SIM115 - closed below, after the upload
        except OSError as e:
            raise RejectedError(
                f"Không đọc được tệp ảnh {Path(img.path).name} để đăng lên Facebook."
            ) from e
        with fh:
            files = {"source": (Path(img.path).name, fh, img.mime_type)}
            return str(
                self._call("POST", f"{self.settings.page_id}/photos", data=form, files=files)["id"]
            )

    def find_existing(self, draft: Draft, idempotency_key: str, since: datetime) -> Receipt | None:
        """Our post among the page's posts since ``since`` (same message fingerprint), or None."""
        want = render.fingerprint(draft.payload.get("message", draft.text))
        params: dict[str, Any] = {
            "fields": "id,message,permalink_url,created_time",
            "since": int(since.timestamp()),
            "limit": self.LIST_LIMIT,
        }
        for _ in range(self.MAX_LIST_PAGES):
            page = self._call("GET", f"{self.settings.page_id}/published_posts", params=params)
            for post in page.get("data", []):
                if post.get("message") and render.fingerprint(post["message"]) == want:
                    return Receipt(
                        post["id"],
                        post.get("permalink_url") or f"https://www.facebook.com/{post['id']}",
                        extra={"created_time": post.get("created_time")},
                    )
            after = page.get("paging", {}).get("cursors", {}).get("after")
            if not page.get("paging", {}).get("next") or not after:
                return None
            params["after"] = after
        raise CannotTell(
            f"Trang có hơn {self.MAX_LIST_PAGES * self.LIST_LIMIT} bài kể từ thời điểm cần đối chiếu; "
            "không xác định được bài đã đăng hay chưa."
        )

    def update(self, receipt: Receipt, draft: Draft) -> Receipt:
        """Replace the message of an existing post (Facebook cannot change a post's link)."""
        # A known id: sending the same message twice is harmless, so no "maybe" here.
        self._call(
            "POST", receipt.remote_id, data={"message": draft.payload.get("message", draft.text)}
        )
        return Receipt(receipt.remote_id, receipt.url, extra=dict(receipt.extra))

    def retract(self, receipt: Receipt) -> None:
        """Delete the post; a post that is already gone counts as deleted."""
        try:
            self._call("DELETE", receipt.remote_id)  # a known id: idempotent
        except RejectedError as e:
            if e.code != 100:
                raise
            log.warning("post %s was already gone when retracting", receipt.remote_id)

    # ----- reach -----------------------------------------------------------------------------
    def fetch_reach(self, receipts: Sequence[Receipt]) -> dict[str, dict[str, int | None]]:
        """Reactions, comments, shares and insights per post: one Graph read per 50 posts."""
        ids = list(dict.fromkeys(r.remote_id for r in receipts))
        out: dict[str, dict[str, int | None]] = {}
        for i in range(0, len(ids), self.IDS_PER_READ):
            out.update(self._reach_chunk(ids[i : i + self.IDS_PER_READ]))
        return out

    def _fields(self, metrics: Sequence[str]) -> str:
        f = "shares,reactions.summary(total_count),comments.summary(total_count)"
        return f + (f",insights.metric({','.join(metrics)})" if metrics else "")

    def _read_ids(self, ids: Sequence[str], metrics: Sequence[str]) -> dict[str, Any]:
        try:
            read: dict[str, Any] = self._call(
                "GET", "", params={"ids": ",".join(ids), "fields": self._fields(metrics)}
            )
            return read
        except RejectedError as e:
            err = e.raw
            if e.code == 100 and err.get("error_subcode") is None and metrics:
                raise _InvalidMetric(str(err.get("message", "")), code=100) from e
            raise

    def _reach_chunk(self, ids: list[str]) -> dict[str, dict[str, int | None]]:
        configured = list(dict.fromkeys(self.settings.metrics))
        for _ in range(len(configured) + 1):
            metrics = [m for m in configured if m not in self.refused_metrics]
            try:
                data = self._read_ids(ids, metrics)
            except _InvalidMetric as e:
                self._learn_refusals(ids, metrics, e.message)
                continue
            except RejectedError as e:
                if e.code != 803:
                    raise
                data = self._read_one_by_one(ids, metrics)
            return {pid: self._metrics_of(data.get(pid), configured) for pid in ids}
        raise RejectedError("Facebook từ chối mọi chỉ số đo lường đã cấu hình.", code=100)

    def _learn_refusals(self, ids: Sequence[str], metrics: Sequence[str], message: str) -> None:
        named = [m for m in metrics if re.search(rf"\b{re.escape(m)}\b", message)]
        if named:
            refused = named
        else:  # Facebook does not say which metric: ask for each alone, once per instance
            self._read_ids(ids[:1], [])  # a refusal without insights is not about metrics: raise it
            refused = []
            for m in metrics:
                try:
                    self._read_ids(ids, [m])
                except _InvalidMetric:
                    refused.append(m)
                except RejectedError:
                    pass
        if not refused:  # nothing to drop: the whole insights part is refused
            refused = list(metrics)
        log.warning("Facebook refused insights metrics %s; reported as unavailable", refused)
        self.refused_metrics.update(refused)

    def _read_one_by_one(self, ids: Sequence[str], metrics: Sequence[str]) -> dict[str, Any]:
        """Some posts are gone (803): one batch request, where each post answers alone."""
        batch = [
            {"method": "GET", "relative_url": f"{pid}?fields={self._fields(metrics)}"}
            for pid in ids
        ]
        items = self._call("POST", "", data={"batch": json.dumps(batch)})
        out: dict[str, Any] = {}
        for pid, item in zip(ids, items, strict=False):
            if item and item.get("code") == 200:
                out[pid] = json.loads(item.get("body") or "{}")
            else:
                log.info("post %s unreadable for reach (HTTP %s)", pid, item and item.get("code"))
        return out

    def _metrics_of(
        self, obj: Mapping[str, Any] | None, configured: Sequence[str]
    ) -> dict[str, int | None]:
        if obj is None:
            return {m: None for m in ("reactions", "comments", "shares", *configured)}
        values: dict[str, int | None] = {
            "reactions": (obj.get("reactions") or {}).get("summary", {}).get("total_count"),
            "comments": (obj.get("comments") or {}).get("summary", {}).get("total_count"),
            "shares": int((obj.get("shares") or {}).get("count", 0)),
        }
        served = {
            i.get("name"): (i.get("values") or [{}])[-1].get("value")
            for i in (obj.get("insights") or {}).get("data", [])
        }
        for m in configured:
            v = served.get(m)
            values[m] = (
                None
                if m in self.refused_metrics or v is None
                else sum(int(x) for x in v.values())
                if isinstance(v, dict)
                else int(v)
            )
        return values

    # ----- page followers --------------------------------------------------------------------
    def follower_count(self) -> dict[str, int | None]:
        """The Page's ``followers_count`` (and ``fan_count`` while Meta still gives it)."""
        fields = self.settings.follower_fields
        page = self._call("GET", self.settings.page_id, params={"fields": ",".join(fields)})
        out: dict[str, int | None] = {}
        for name in fields:
            try:
                out[name] = int(page[name]) if page.get(name) is not None else None
            except (TypeError, ValueError):
                out[name] = None
        return out

    # ----- connecting ------------------------------------------------------------------------
    def connect(self, prompts: Prompts) -> str:
        """Trade a short-lived user token for this Page's token and store it (never echoed)."""
        if self.token_store is None:
            raise AuthError("Không có nơi lưu mã truy cập Trang.")
        short = prompts.ask_secret(
            "Dán mã truy cập người dùng (user access token) ngắn hạn lấy từ Graph API Explorer"
        )
        long_token, _ = exchange_user_token(self.settings, short.strip(), self.session)
        pages = page_tokens(self.settings, long_token, self.session)
        page = next((p for p in pages if p["id"] == self.settings.page_id), None)
        if page is None:
            names = ", ".join(f"{p['name']} ({p['id']})" for p in pages) or "không có trang nào"
            raise RejectedError(
                f"Tài khoản này không quản lý trang {self.settings.page_id}; các trang: {names}."
            )
        self.token_store.save({"page_token": page["access_token"]})
        return (
            f"Đã kết nối trang “{page['name']}” ({page['id']}); quyền: "
            f"{', '.join(page.get('tasks') or [])}."
        )

    # ----- health ----------------------------------------------------------------------------
    def check(self) -> Health:
        """Whether the page token works, when it expires, and which permissions it carries."""
        s = self.settings
        try:
            token = self._token()
            if s.app_id and s.app_secret is not None:
                return self._debug_token(token)
            me = self._call("GET", "me", params={"fields": "id,name"})
        except ChannelError as e:
            return Health(ok=False, detail=e.message, extra={"code": e.code})
        return Health(
            ok=True, detail=f"Kết nối tốt với Trang «{me.get('name')}».", account=me.get("name")
        )

    def _debug_token(self, token: str) -> Health:
        s = self.settings
        assert s.app_secret is not None
        app_token = f"{s.app_id}|{s.app_secret.get_secret_value()}"
        data = graph_call(
            self.session,
            "GET",
            f"{_base(s)}/debug_token",
            token=app_token,
            timeout=s.timeout_seconds,
            name=self.name,
            params={"input_token": token},
        )["data"]
        scopes = tuple(data.get("scopes") or ())
        expires = (
            datetime.fromtimestamp(data["expires_at"], UTC) if data.get("expires_at") else None
        )
        data_access = data.get("data_access_expires_at")
        extra = {
            "data_access_expires_at": datetime.fromtimestamp(data_access, UTC)
            if data_access
            else None
        }
        if not data.get("is_valid"):
            code = (data.get("error") or {}).get("code", 190)
            return Health(
                ok=False,
                detail=f"Mã truy cập Trang Facebook không còn hiệu lực (mã {code}); "
                f"chạy «{RECONNECT.format(name=self.name)}».",
                expires_at=expires,
                scopes=scopes,
                extra=extra,
            )
        missing = [p for p in _NEEDED_SCOPES if p not in scopes]
        if missing:
            return Health(
                ok=False,
                detail=f"Mã truy cập thiếu quyền: {', '.join(missing)}; cần cấp quyền lại.",
                expires_at=expires,
                scopes=scopes,
                extra=extra,
            )
        detail = "Mã truy cập Trang Facebook hợp lệ."
        if "read_insights" not in scopes:
            detail += " Thiếu quyền read_insights: chưa đọc được số người tiếp cận."
        lacking = [p for p in COMMENT_SCOPES if p not in scopes]
        if lacking:
            detail += (
                f" Thiếu quyền {', '.join(lacking)}: chưa đọc, trả lời, ẩn hoặc xóa được bình luận."
            )
        return Health(
            ok=True,
            detail=detail,
            expires_at=expires,
            account=data.get("profile_id"),
            scopes=scopes,
            extra=extra,
        )
