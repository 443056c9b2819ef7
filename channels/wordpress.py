"""WordPress website channel: posts through the REST API with an application password.

Platform facts: ``../shared/contracts/wordpress.md`` (REST reference:
https://developer.wordpress.org/rest-api/reference/posts/).

Choices worth knowing:

* WordPress has no idempotency key; the deterministic slug is ours. The content ends with the
  marker ``<!-- loa:{key} -->`` and :meth:`WordPressChannel.find_existing` accepts a post with the
  slug (or the ``-2``…``-5`` variants WordPress makes on collisions) only when its raw content
  carries that marker, so an older article with the same title is never mistaken for ours.
* HTML is sanitised again here with ``nh3`` (defence in depth): editors and administrators have
  ``unfiltered_html``, so WordPress itself would publish a ``<script>`` untouched.
* Images are uploaded before the post (``/wp/v2/media``); a retried publish uploads them again
  (the media library may keep a spare copy, the post is never duplicated). Only the post's
  creation is a write whose lost answer means "maybe posted" (:mod:`channels.http`); uploads,
  term creation (``term_exists`` makes it idempotent), updates and retractions of a known id are
  retried freely.
  (the media library may keep a spare copy, the post is never duplicated). With
  ``prepare_media_ahead`` they are uploaded by :meth:`WordPressChannel.prepare` instead, before the
  slot: faster at the slot, but each image is reachable by its URL before the article is published.
* Categories and tags are resolved (or created) by :meth:`WordPressChannel.prepare` as soon as
  the article is approved; the host keeps their ids (``Prepared.facts``) and hands them back on
  start, where each id is checked once per process (a term deleted in wp-admin is found before the
  slot, not silently dropped from the post). At the slot only ``POST /wp/v2/posts`` is sent.
* Reach: core WordPress counts no views, so ``fetch_reach`` reports no metric (unavailable,
  never zero).
"""

from __future__ import annotations

import hashlib
import html
import logging
import mimetypes
import re
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePath
from typing import Any, ClassVar, Literal

import nh3
import requests
from pydantic import SecretStr, field_validator

from channels import render
from channels.base import (
    ArticleView,
    AuthError,
    BaseChannel,
    CannotTell,
    ChannelSettings,
    Check,
    Draft,
    Health,
    ImageRef,
    Prompts,
    RateLimited,
    Receipt,
    RejectedError,
    TokenStore,
    TransientError,
)
from channels.http import Answers, call_json
from channels.preparation import Prepared

__all__ = [
    "WordPressChannel",
    "WordPressSettings",
    "clean_html",
    "describe_account",
    "image_sources",
    "local_image",
    "replace_image_sources",
    "wordpress_answer",
]

log = logging.getLogger(__name__)

DEFAULT_CATEGORY = "Cải cách hành chính"
TOPICS = ("a", "b", "c", "d", "đ", "e", "f", "g", "h", "i")  # the plan's topics, Vietnamese order
NEEDED_CAPABILITIES = {"publish_posts": "đăng bài", "upload_files": "tải ảnh lên"}
DEFAULT_RATE_WAIT = 60.0  # seconds, when a throttled answer carries no Retry-After
_SLUG_VARIANTS = 5  # WordPress names collisions slug-2, slug-3, ...
_ALLOWED_TAGS = set(nh3.ALLOWED_TAGS) - {"area", "map"}
_DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "template"}
_ATTRIBUTES = {
    **{k: set(v) for k, v in nh3.ALLOWED_ATTRIBUTES.items()},
    "a": {"href", "hreflang", "title"},
    "img": {"src", "alt", "width", "height", "title"},
}
_URL_SCHEMES = {"http", "https", "mailto", "tel"}
_IMG_SRC_RE = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]*)(")', re.I)
_UNSAFE_RE = re.compile(r"<\s*(script|iframe|object|embed)\b|\son[a-z]+\s*=|javascript\s*:", re.I)
_MARKER_RE = re.compile(r"<!-- loa:(\S+) -->")
_SAFE_KEY_RE = re.compile(r"[\w:./@+=-]+")
_IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
_MESSAGES = {
    "rest_post_invalid_id": "bài không còn trên trang web",
    "rest_invalid_featured_media": "ảnh đại diện không hợp lệ",
    "rest_cannot_publish": "tài khoản không có quyền đăng bài",
    "rest_cannot_create": "tài khoản không có quyền tạo bài hoặc tải ảnh",
    "rest_cannot_edit": "tài khoản không có quyền sửa bài",
    "rest_cannot_delete": "tài khoản không có quyền xoá bài",
    "incorrect_password": "mật khẩu ứng dụng sai hoặc đã bị thu hồi",
    "invalid_username": "tên đăng nhập không tồn tại",
    "rest_not_logged_in": "chưa đăng nhập",
}


class WordPressSettings(ChannelSettings):
    """``[channels.NAME]`` keys of a WordPress website channel."""

    type: str = "wordpress"
    url: str  # REST base, e.g. https://example.gov.vn/wp-json
    username: str
    app_password: SecretStr | None = None  # LOA_CHANNELS__WEBSITE__APP_PASSWORD
    status: Literal["publish", "draft", "pending", "private"] = "publish"
    retract_mode: Literal["draft", "trash"] = "draft"
    categories: dict[str, str] = {}  # plan topic letter (a, b, ..., đ, ..., i) → category name
    tags_from_topic: bool = True
    prepare_media_ahead: bool = False  # upload images before the slot (public before the post)

    required_secrets: ClassVar[tuple[str, ...]] = ("app_password",)

    @field_validator("categories")
    @classmethod
    def _known_topics(cls, value: dict[str, str]) -> dict[str, str]:
        out = {render.nfc(k).strip().lower(): render.nfc(v).strip() for k, v in value.items()}
        unknown = sorted(set(out) - set(TOPICS))
        if unknown:
            raise ValueError(
                f"unknown plan topic(s) {', '.join(unknown)}; expected one of {', '.join(TOPICS)}"
            )
        return out


def clean_html(fragment: str) -> str:
    """``fragment`` in NFC with scripts, event handlers, iframes and javascript: links removed."""
    return nh3.clean(
        render.nfc(fragment),
        tags=_ALLOWED_TAGS,
        clean_content_tags=_DROPPED_WITH_CONTENT,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def image_sources(fragment: str) -> list[str]:
    """The ``src`` of every ``<img>`` of a sanitised fragment, in order."""
    return [html.unescape(m.group(2)) for m in _IMG_SRC_RE.finditer(fragment)]


def local_image(src: str, images: Sequence[ImageRef]) -> ImageRef | None:
    """The article image a body ``src`` refers to: the same path, or the same file name."""
    if src.startswith(("http://", "https://", "//")):
        return None
    for img in images:
        if src == img.path:
            return img
    name = PurePath(src.replace("\\", "/")).name
    return next((img for img in images if PurePath(img.path).name == name), None)


def replace_image_sources(
    fragment: str, images: Sequence[ImageRef], urls: Mapping[str, str]
) -> str:
    """``fragment`` with each local image reference replaced by its public URL."""

    def swap(m: re.Match[str]) -> str:
        img = local_image(html.unescape(m.group(2)), images)
        if img is None or img.path not in urls:
            return m.group(0)
        return m.group(1) + html.escape(urls[img.path]) + m.group(3)

    return _IMG_SRC_RE.sub(swap, fragment)


def _marker(key: str) -> str:
    """The HTML comment that marks our post; odd keys are hashed so the comment stays valid."""
    if not _SAFE_KEY_RE.fullmatch(key) or "--" in key:
        key = "sha256-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<!-- loa:{key} -->"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None


def wordpress_answer(resp: requests.Response, body: Any, accept: Collection[str] = ()) -> Any:
    """The data of a successful parsed answer; otherwise the matching Loa error.

    ``accept`` lists error codes whose body is returned as data (e.g. ``term_exists``). Whether a
    failed write may have posted anyway (a 5xx, a proxy's HTML page) is :mod:`channels.http`'s.
    """
    status = resp.status_code
    code = body.get("code") if isinstance(body, dict) else None
    if 200 <= status < 300 and body is not None:
        return body
    if code in accept:
        return body
    label = f"mã {code}" if code else f"HTTP {status}"
    if status == 413 or (isinstance(code, str) and code.startswith("rest_upload_")):
        raise RejectedError(
            f"Trang web từ chối ảnh: tệp quá lớn hoặc định dạng không được phép ({label}).",
            code=code or status,
        )
    wait = _retry_after(resp.headers.get("Retry-After"))
    if status == 429 or (status >= 500 and wait is not None):
        wait = DEFAULT_RATE_WAIT if wait is None else wait
        raise RateLimited(
            f"Trang web yêu cầu tạm dừng gửi ({label}); thử lại sau {wait:.0f} giây.",
            retry_after=wait,
            code=code or status,
        )
    if body is None:  # a proxy's throttling page (see channels.http): nothing more to read
        raise TransientError(f"Trang web trả lời bất thường ({label}).", code=status)
    log.warning(
        "wordpress answered %s %s: %s",
        status,
        code,
        body.get("message") if isinstance(body, dict) else "",
    )
    if status >= 500 or status < 400:
        raise TransientError(f"Trang web đang gặp lỗi ({label}).", code=code or status)
    reason = _MESSAGES.get(str(code), "")
    if status in (401, 403):
        raise AuthError(
            f"Trang web từ chối quyền truy cập: {reason or 'không đủ quyền'} ({label}).",
            code=code or status,
            reconnect_hint="loa channels connect website",
        )
    if status == 404 and code == "rest_no_route":
        raise AuthError(
            "Không tìm thấy REST API của trang web (mã rest_no_route): kiểm tra địa chỉ url "
            "trong cấu hình hoặc plugin bảo mật chặn REST API.",
            code=code,
            reconnect_hint="loa channels connect website",
        )
    params = (body.get("data") or {}).get("params") if isinstance(body, dict) else None
    if params:
        names = ", ".join(params if isinstance(params, list) else params.keys())
        reason = f"tham số không hợp lệ ({names})"
    raise RejectedError(
        f"Trang web từ chối yêu cầu: {reason or 'yêu cầu không hợp lệ'} ({label}).",
        code=code or status,
    )


class WordPressChannel(BaseChannel[WordPressSettings]):
    """A WordPress website (REST API ≥ 5.6, application password)."""

    Settings: ClassVar[type[WordPressSettings]] = WordPressSettings
    label: ClassVar[str] = "trang web"
    TITLE_WARN_LENGTH = 200  # WordPress has no hard limit; longer titles display badly
    IMAGE_TYPES = _IMAGE_TYPES

    def __init__(
        self,
        name: str,
        settings: WordPressSettings,
        *,
        token_store: TokenStore | None = None,
        session: requests.Session | None = None,
    ):
        super().__init__(name, settings, token_store=token_store, session=session)
        self._term_ids: dict[tuple[str, str], int] = {}
        self._checked_terms: set[tuple[str, int]] = set()  # ids seen on the site by this process
        self._media_ahead: dict[tuple[str, ...], tuple[dict[str, str], dict[str, int]]] = {}
        self._hint = f"loa channels connect {name}"
        self._answers: dict[frozenset[str], Answers] = {}

    def _answers_for(self, accept: Collection[str]) -> Answers:
        answers = Answers(
            label="Trang web",
            is_own_body=lambda body: isinstance(body, dict | list),
            mapper=lambda resp, body: wordpress_answer(resp, body, accept),
            refused_codes=lambda code: str(code).startswith("rest_upload_"),
        )
        self._answers[frozenset(accept)] = answers
        return answers

    # ----- rendering ------------------------------------------------------------------------
    def render(self, article: ArticleView, links: Mapping[str, str]) -> Draft:
        """The post exactly as it would be sent, with the website's checks."""
        title = " ".join(render.nfc(article.title).split())
        body = clean_html(article.body_html)
        text = render.html_to_text(body)
        slug = render.slugify(article.slug_hint or title) or f"bai-viet-{article.id}"
        images: list[ImageRef] = []
        for img in ((article.cover,) if article.cover else ()) + tuple(article.images):
            if all(img.path != seen.path for seen in images):
                images.append(img)
        category = (
            self.settings.categories.get(render.nfc(article.topic).strip().lower())
            or DEFAULT_CATEGORY
        )
        tags = [render.nfc(t).strip().lstrip("#") for t in self.settings.hashtags]
        if self.settings.tags_from_topic and article.topic_label.strip():
            tags.insert(0, render.nfc(article.topic_label).strip())
        checks = [Check("title", bool(title), "Tiêu đề trống." if not title else "Tiêu đề hợp lệ.")]
        if len(title) > self.TITLE_WARN_LENGTH:
            checks.append(
                Check(
                    "title_length",
                    False,
                    f"Tiêu đề dài {len(title)} ký tự (nên dưới "
                    f"{self.TITLE_WARN_LENGTH}); trang web vẫn đăng nhưng hiển thị kém.",
                    blocking=False,
                )
            )
        has_body = bool(text.strip()) or "<img" in body
        checks.append(
            Check(
                "content",
                has_body,
                "Nội dung bài trống sau khi làm sạch HTML." if not has_body else "Nội dung hợp lệ.",
            )
        )
        if _UNSAFE_RE.search(article.body_html):
            checks.append(
                Check(
                    "html_sanitised",
                    False,
                    "Đã loại bỏ mã không an toàn (script, iframe, "
                    "sự kiện onclick, liên kết javascript:) khỏi nội dung.",
                    blocking=False,
                )
            )
        for img in images:
            if img.mime_type not in _IMAGE_TYPES:
                checks.append(
                    Check(
                        "image_type",
                        False,
                        f"Ảnh {PurePath(img.path).name} có định dạng "
                        f"{img.mime_type}; trang web chỉ nhận JPEG, PNG, GIF, WebP.",
                    )
                )
        unknown = [
            s
            for s in image_sources(body)
            if not s.startswith(("http://", "https://", "//")) and local_image(s, images) is None
        ]
        if unknown:
            checks.append(
                Check(
                    "image_refs",
                    False,
                    f"Nội dung tham chiếu ảnh không có tệp đi kèm: {', '.join(unknown)}.",
                    blocking=False,
                )
            )
        summary = " ".join(render.nfc(article.summary).split())
        return Draft(
            channel=self.name,
            title=title,
            text=text,
            html=body,
            images=tuple(images),
            payload={
                "slug": slug,
                "excerpt": summary,
                "status": self.settings.status,
                "category": category,
                "tags": tags,
                "topic": article.topic,
            },
            checks=tuple(checks),
            fingerprint=render.fingerprint(title, slug),
        )

    # ----- HTTP -----------------------------------------------------------------------------
    def _auth(self) -> tuple[str, str]:
        secret = self.settings.app_password
        if secret is None:
            raise AuthError(
                "Chưa cấu hình mật khẩu ứng dụng WordPress (app_password).",
                code="missing_secret",
                reconnect_hint=self._hint,
            )
        return self.settings.username, "".join(secret.get_secret_value().split())

    def _call(
        self,
        method: str,
        path: str,
        *,
        write: bool = False,
        accept: Collection[str] = (),
        **kwargs: Any,
    ) -> Any:
        url = self.settings.url.rstrip("/") + path
        log.debug("wordpress %s %s", method, path)
        answers = self._answers.get(frozenset(accept)) or self._answers_for(accept)
        try:
            return call_json(
                self.session,
                method,
                url,
                answers,
                write=write,
                auth=self._auth(),
                timeout=self.settings.timeout_seconds,
                **kwargs,
            )
        except AuthError as exc:
            exc.reconnect_hint = self._hint
            raise

    def _upload(self, img: ImageRef) -> dict[str, Any]:
        try:
            data = Path(img.path).read_bytes()
        except OSError as exc:
            raise RejectedError(f"Không đọc được tệp ảnh {PurePath(img.path).name}.") from exc
        suffix = PurePath(img.path).suffix.lower() or mimetypes.guess_extension(img.mime_type) or ""
        filename = (render.slugify(PurePath(img.path).stem) or "anh") + suffix
        params = {"alt_text": img.caption} if img.caption else None
        headers = {
            "Content-Type": img.mime_type or mimetypes.guess_type(filename)[0] or "",
            "Content-Disposition": f'attachment; filename="{filename}"',
        }
        # Not a post: a lost answer leaves at most a spare copy in the media library.
        return self._call("POST", "/wp/v2/media", data=data, headers=headers, params=params)

    def upload_image(self, img: ImageRef) -> str:
        """Upload one image to the media library; returns its public URL (e.g. a default cover)."""
        return str(self._upload(img)["source_url"])

    def _upload_images(
        self, images: Sequence[ImageRef], known: Mapping[str, str], known_ids: Mapping[str, int]
    ) -> tuple[dict[str, str], dict[str, int]]:
        urls, ids = dict(known), dict(known_ids)
        for img in images:
            if img.path not in urls:
                media = self._upload(img)
                urls[img.path], ids[img.path] = media["source_url"], int(media["id"])
        return urls, ids

    def _term_id(self, taxonomy: str, name: str) -> int:
        """The id of the category/tag called ``name``, created when missing."""
        if (taxonomy, name) in self._term_ids:
            return self._term_ids[(taxonomy, name)]
        slug = render.slugify(name) or name
        found = self._call("GET", f"/wp/v2/{taxonomy}", params={"search": name, "per_page": 100})
        match = [t for t in found if html.unescape(t.get("name", "")).casefold() == name.casefold()]
        if not match:
            match = self._call("GET", f"/wp/v2/{taxonomy}", params={"slug": slug})
        if match:
            term_id = int(match[0]["id"])
        else:
            made = self._call(
                "POST",
                f"/wp/v2/{taxonomy}",
                accept={"term_exists"},  # idempotent
                json={"name": name, "slug": slug},
            )
            term_id = int(
                made["data"]["term_id"] if made.get("code") == "term_exists" else made["id"]
            )
        self._term_ids[(taxonomy, name)] = term_id
        self._checked_terms.add((taxonomy, term_id))
        return term_id

    def _fields(
        self, draft: Draft, urls: Mapping[str, str], ids: Mapping[str, int], key: str | None
    ) -> dict[str, Any]:
        content = replace_image_sources(draft.html, draft.images, urls)
        if key:
            content += "\n" + _marker(key)
        fields: dict[str, Any] = {
            # WordPress prints the title and the excerpt as HTML (unfiltered for a user who may
            # post unfiltered HTML): Loa's plain text goes escaped, never as markup.
            "title": html.escape(draft.title, quote=False),
            "content": content,
            "excerpt": html.escape(draft.payload.get("excerpt", ""), quote=False),
            "categories": [self._term_id("categories", draft.payload["category"])],
            "tags": [
                self._term_id("tags", t) for t in dict.fromkeys(draft.payload.get("tags", ())) if t
            ],
        }
        if draft.images and draft.images[0].path in ids:
            fields["featured_media"] = ids[draft.images[0].path]
        return fields

    def _receipt(
        self,
        post: Mapping[str, Any],
        draft: Draft,
        urls: Mapping[str, str],
        ids: Mapping[str, int],
        key: str | None,
    ) -> Receipt:
        cover = draft.images[0].path if draft.images else None
        return Receipt(
            remote_id=str(post["id"]),
            url=post.get("link"),
            extra={
                "media": dict(urls),
                "media_ids": dict(ids),
                "cover_url": urls.get(cover) if cover else None,
                "slug": post.get("slug"),
                "status": post.get("status"),
                "idempotency_key": key,
            },
        )

    # ----- before the slot (channels.preparation) ---------------------------------------------
    def prepare(
        self,
        draft: Draft,
        *,
        due_at: datetime | None,
        known: Mapping[str, Any],
        previous: Mapping[str, Any],
    ) -> Prepared:
        """Resolve or create the draft's category and tags (ids checked on the site once per
        process) and, with ``prepare_media_ahead``, upload its images; publish then reuses them."""
        for key, value in known.items():
            taxonomy, _, name = str(key).partition(":")
            if taxonomy in ("categories", "tags") and isinstance(value, int):
                self._term_ids.setdefault((taxonomy, name), value)
        wanted = self._wanted_terms(draft)
        self._check_known_terms(wanted)
        terms = {f"{taxonomy}:{name}": self._term_id(taxonomy, name) for taxonomy, name in wanted}
        data: dict[str, Any] = {"terms": terms}
        notes = [f"Đã sẵn sàng chuyên mục và thẻ trên trang web ({len(terms)} mục)."]
        if self.settings.prepare_media_ahead and draft.images:
            urls, ids = self._upload_images(
                draft.images,
                previous.get("media") or {},
                {k: int(v) for k, v in (previous.get("media_ids") or {}).items()},
            )
            self._media_ahead[_media_key(draft)] = (urls, ids)
            data.update(media=urls, media_ids=ids)
            notes.append(f"Đã tải trước {len(urls)} ảnh lên thư viện ảnh của trang web.")
        return Prepared(data=data, facts=terms, notes=tuple(notes))

    def _wanted_terms(self, draft: Draft) -> list[tuple[str, str]]:
        return [("categories", draft.payload["category"])] + [
            ("tags", t) for t in dict.fromkeys(draft.payload.get("tags", ())) if t
        ]

    def _check_known_terms(self, wanted: Sequence[tuple[str, str]]) -> None:
        """Forget known ids the site no longer has under that name (one GET per taxonomy)."""
        for taxonomy in ("categories", "tags"):
            unchecked = {
                name: self._term_ids[(taxonomy, name)]
                for tax, name in wanted
                if tax == taxonomy
                and (taxonomy, name) in self._term_ids
                and (taxonomy, self._term_ids[(taxonomy, name)]) not in self._checked_terms
            }
            if not unchecked:
                continue
            found = self._call(
                "GET",
                f"/wp/v2/{taxonomy}",
                params={
                    "include": ",".join(str(i) for i in sorted(set(unchecked.values()))),
                    "per_page": 100,
                    "_fields": "id,name",
                },
            )
            names = {
                int(t["id"]): html.unescape(str(t.get("name", ""))).casefold()
                for t in found
                if isinstance(t, dict) and "id" in t
            }
            for name, term_id in unchecked.items():
                if names.get(term_id) == name.casefold():
                    self._checked_terms.add((taxonomy, term_id))
                else:
                    log.warning(
                        "wordpress %s %r: known id %s is gone; resolving again",
                        taxonomy,
                        name,
                        term_id,
                    )
                    self._term_ids.pop((taxonomy, name), None)

    # ----- the protocol ---------------------------------------------------------------------
    def publish(self, draft: Draft, idempotency_key: str) -> Receipt:
        """Upload the images, create the post; the receipt carries the public image URLs."""
        urls, ids = self._upload_images(
            draft.images, *self._media_ahead.get(_media_key(draft), ({}, {}))
        )
        fields = self._fields(draft, urls, ids, idempotency_key)
        fields.update(slug=draft.payload["slug"], status=self.settings.status)
        post = self._call("POST", "/wp/v2/posts", write=True, json=fields)
        self._media_ahead.pop(_media_key(draft), None)
        log.info("wordpress post %s created (%s)", post.get("id"), post.get("slug"))
        return self._receipt(post, draft, urls, ids, idempotency_key)

    def find_existing(self, draft: Draft, idempotency_key: str, since: datetime) -> Receipt | None:
        """Our post (slug or a -2…-5 variant, with our marker) or None; ``since`` is not needed."""
        slug = draft.payload["slug"]
        slugs = [slug] + [f"{slug}-{i}" for i in range(2, _SLUG_VARIANTS + 1)]
        posts = self._call(
            "GET",
            "/wp/v2/posts",
            params={"slug": ",".join(slugs), "status": "any", "context": "edit", "per_page": 100},
        )
        if not isinstance(posts, list):
            raise CannotTell("Trang web trả lời danh sách bài không đúng dạng.")
        marker = _marker(idempotency_key)
        for post in posts:
            if marker in ((post.get("content") or {}).get("raw") or ""):
                urls, ids = self._media_of(post, draft)
                return self._receipt(post, draft, urls, ids, idempotency_key)
        return None

    def _media_of(
        self, post: Mapping[str, Any], draft: Draft
    ) -> tuple[dict[str, str], dict[str, int]]:
        """Public image URLs of an existing post, matched to the draft's local images."""
        urls: dict[str, str] = {}
        ids: dict[str, int] = {}
        if post.get("featured_media") and draft.images:
            media = self._call("GET", f"/wp/v2/media/{int(post['featured_media'])}")
            urls[draft.images[0].path], ids[draft.images[0].path] = (
                media["source_url"],
                int(media["id"]),
            )
        ours, theirs = image_sources(draft.html), image_sources(post["content"]["raw"])
        if len(ours) == len(theirs):
            for src, url in zip(ours, theirs, strict=True):
                img = local_image(src, draft.images)
                if img is not None:
                    urls.setdefault(img.path, url)
        return urls, ids

    def update(self, receipt: Receipt, draft: Draft) -> Receipt:
        """Correct the post in place (same id and slug); new images are uploaded."""
        key = receipt.extra.get("idempotency_key")
        if not key:
            raw = self._call("GET", f"/wp/v2/posts/{receipt.remote_id}", params={"context": "edit"})
            found = _MARKER_RE.search((raw.get("content") or {}).get("raw") or "")
            key = found.group(1) if found else None
        urls, ids = self._upload_images(
            draft.images, receipt.extra.get("media") or {}, receipt.extra.get("media_ids") or {}
        )
        fields = self._fields(draft, urls, ids, key)
        post = self._call("POST", f"/wp/v2/posts/{receipt.remote_id}", json=fields)  # idempotent
        return self._receipt(post, draft, urls, ids, key)

    def retract(self, receipt: Receipt) -> None:
        """Take the post down: back to draft, or to the trash (never deleted for good)."""
        if self.settings.retract_mode == "draft":
            self._call("POST", f"/wp/v2/posts/{receipt.remote_id}", json={"status": "draft"})
        else:  # a known id: deleting twice is harmless, so no "maybe" here
            self._call(
                "DELETE", f"/wp/v2/posts/{receipt.remote_id}", accept={"rest_already_trashed"}
            )

    def fetch_reach(self, receipts: Sequence[Receipt]) -> dict[str, dict[str, int | None]]:
        """No metric per post: core WordPress counts no views (unavailable, never zero)."""
        return {r.remote_id: {} for r in receipts}

    def check(self) -> Health:
        """Whether the application password works and the account may publish and upload."""
        try:
            account = self.account()
        except AuthError as exc:
            return Health(ok=False, detail=exc.message, extra={"error": exc.code})
        missing = account["missing"]
        detail = (
            f"Tài khoản {account['name']} đủ quyền đăng bài và tải ảnh."
            if not missing
            else f"Tài khoản {account['name']} thiếu quyền: "
            + ", ".join(f"{c} ({NEEDED_CAPABILITIES[c]})" for c in missing)
            + "."
        )
        return Health(
            ok=not missing,
            detail=detail,
            account=account["name"],
            scopes=tuple(account["capabilities"]),
            extra={"missing": missing},
        )

    def connect(self, prompts: Prompts) -> str:
        """Check the application password (it comes from the environment) and its rights."""
        return f"Mật khẩu ứng dụng hợp lệ: {self.account()}"

    def account(self) -> dict[str, Any]:
        """The user behind the application password: id, name, capabilities, missing ones."""
        me = self._call("GET", "/wp/v2/users/me", params={"context": "edit"})
        caps = sorted(k for k, v in (me.get("capabilities") or {}).items() if v)
        return {
            "id": me.get("id"),
            "name": me.get("name") or me.get("username") or self.settings.username,
            "username": me.get("username"),
            "capabilities": caps,
            "missing": [c for c in NEEDED_CAPABILITIES if c not in caps],
        }


def _media_key(draft: Draft) -> tuple[str, ...]:
    """Which uploads ahead belong to this draft: its slug and its images' files."""
    return (str(draft.payload.get("slug")), *(img.path for img in draft.images))


def describe_account(
    settings: WordPressSettings, session: requests.Session | None = None
) -> dict[str, Any]:
    """Verify the application password; the account's name and capabilities (or ``AuthError``)."""
    return WordPressChannel("website", settings, session=session).account()
