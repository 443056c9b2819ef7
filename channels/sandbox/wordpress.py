"""A local WordPress: the REST routes, auth and error objects Loa uses, plus the public pages.

Facts followed: ``../shared/contracts/wordpress.md``. Routes (under ``/wp-json``)::

    GET  /wp/v2/users/me                  401 rest_not_logged_in without credentials
    GET  /wp/v2/posts                     slug (comma list), status (any needs auth), context=edit
    POST /wp/v2/posts                     201; unique slug with -2, -3 ...
    GET|POST|DELETE /wp/v2/posts/{id}     DELETE moves to trash; ?force=true deletes for good
    POST /wp/v2/media                     raw body + Content-Disposition, or multipart ``file``
    GET  /wp/v2/media/{id}
    GET|POST /wp/v2/categories, /wp/v2/tags   search, slug, include; 400 term_exists with data.term_id

Outside the API it serves uploaded files (``/wp-content/uploads/...``) and each published post at
``/{yyyy}/{mm}/{slug}/`` (a small HTML page that counts its views; core WordPress exposes no view
count, so the adapter does not read it).

Bad application passwords answer 401 ``incorrect_password`` / ``invalid_username`` on every route,
as WordPress does. An upload above ``max_upload_bytes`` gets the web server's HTML 413 page; a file
whose bytes are not JPEG/PNG/GIF/WebP gets 500 ``rest_upload_sideload_error``. Stricter than
WordPress on one point: unknown body parameters of a write answer ``rest_invalid_param`` (WordPress
ignores them), so a misspelled field in the adapter cannot pass unnoticed.

Platform faults: ``http_NNN`` (WordPress's "critical error" JSON), ``throttle`` (429 with
Retry-After = 30), ``rest:STATUS:CODE`` (any WordPress error object), ``stale_empty`` (200 with an
empty list, as a page cache in front of the API may answer a stale search).
"""

from __future__ import annotations

import base64
import binascii
import html
import io
import itertools
from datetime import UTC, datetime
from email.message import Message
from typing import Any, cast

from channels import render
from channels.sandbox.base import Request, Response, SandboxServer

__all__ = ["WordPressSandbox"]

API = "/wp-json"
_POST_STATUSES = {"publish", "future", "draft", "pending", "private"}
_LIST_STATUSES = _POST_STATUSES | {"trash", "auto-draft", "inherit", "any"}
_POST_FIELDS = {
    "title",
    "content",
    "excerpt",
    "status",
    "slug",
    "categories",
    "tags",
    "featured_media",
    "date",
    "date_gmt",
    "author",
    "comment_status",
    "ping_status",
    "format",
    "sticky",
    "template",
    "meta",
    "password",
}
_TERM_FIELDS = {"name", "slug", "description", "parent", "meta"}
_TAXONOMIES = {"categories": "category", "tags": "post_tag"}
_ADMIN_CAPS = {
    "read",
    "edit_posts",
    "delete_posts",
    "publish_posts",
    "upload_files",
    "edit_published_posts",
    "delete_published_posts",
    "edit_others_posts",
    "manage_categories",
    "unfiltered_html",
}
_CONTRIBUTOR_CAPS = {"read", "edit_posts", "delete_posts"}


class WPError(Exception):
    """A WordPress error object ``{"code", "message", "data": {"status", ...}}``."""

    def __init__(self, status: int, code: str, message: str, **data: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.data = status, code, message, data

    def response(self) -> Response:
        return Response(
            self.status,
            {
                "code": self.code,
                "message": self.message,
                "data": {"status": self.status, **self.data},
            },
        )


def _invalid(param: str, why: str) -> WPError:
    return WPError(400, "rest_invalid_param", f"Invalid parameter(s): {param}", params={param: why})


def _image_type(data: bytes) -> str | None:
    """The real image type from the magic bytes (what WordPress's type check relies on)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _image_size(data: bytes) -> tuple[int, int]:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:  # a truncated image still uploads, as on WordPress
        return 0, 0


def _text_field(values: dict[str, Any], name: str) -> str | None:
    """A ``title``/``content``/``excerpt`` value: a string or ``{"raw": ...}``."""
    if name not in values:
        return None
    value = values[name]
    if isinstance(value, dict):
        value = value.get("raw")
    if not isinstance(value, str):
        raise _invalid(name, f"{name} is not of type string,object.")
    return value


def _id_list(values: dict[str, Any], name: str) -> list[int] | None:
    if name not in values:
        return None
    raw = values[name]
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise _invalid(name, f"{name} is not of type array.")
    try:
        return [int(i) for i in items if str(i).strip() != ""]
    except (TypeError, ValueError):
        raise _invalid(name, f"{name}[0] is not of type integer.") from None


def _int_param(
    values: dict[str, Any], name: str, default: int, low: int, high: int | None = None
) -> int:
    try:
        value = int(values.get(name, default))
    except (TypeError, ValueError):
        raise _invalid(name, f"{name} is not of type integer.") from None
    if value < low or (high is not None and value > high):
        raise _invalid(name, f"{name} must be between {low} (inclusive) and {high} (inclusive).")
    return value


class WordPressSandbox(SandboxServer):
    """A WordPress site with one administrator and one contributor (application passwords)."""

    name = "wordpress"
    USERNAME = "loa"
    APP_PASSWORD = "abcd efgh ijkl mnop qrst uvwx"
    CONTRIBUTOR_USERNAME = "ctv"
    CONTRIBUTOR_PASSWORD = "ctv1 ctv2 ctv3 ctv4 ctv5 ctv6"
    MAX_UPLOAD_BYTES = 2 * 1024 * 1024

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seed: int | None = None,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
    ):
        super().__init__(host, port, seed=seed)
        self._initial_upload_limit = max_upload_bytes
        self.users = {
            self.USERNAME: {
                "id": 1,
                "name": "Loa",
                "password": self.APP_PASSWORD,
                "caps": set(_ADMIN_CAPS),
                "roles": ["administrator"],
            },
            self.CONTRIBUTOR_USERNAME: {
                "id": 2,
                "name": "Cộng tác viên",
                "password": self.CONTRIBUTOR_PASSWORD,
                "caps": set(_CONTRIBUTOR_CAPS),
                "roles": ["contributor"],
            },
        }
        self.clear()
        for method, pattern, handler in [
            ("GET", r"/?", self._index),
            ("GET", r"/wp/v2/users/me", self._users_me),
            ("GET", r"/wp/v2/posts", self._list_posts),
            ("POST", r"/wp/v2/posts", self._create_post),
            ("GET", r"/wp/v2/posts/(?P<id>\d+)", self._get_post),
            ("POST", r"/wp/v2/posts/(?P<id>\d+)", self._update_post),
            ("PUT", r"/wp/v2/posts/(?P<id>\d+)", self._update_post),
            ("DELETE", r"/wp/v2/posts/(?P<id>\d+)", self._delete_post),
            ("POST", r"/wp/v2/media", self._create_media),
            ("GET", r"/wp/v2/media/(?P<id>\d+)", self._get_media),
            ("GET", r"/wp/v2/(?P<tax>categories|tags)", self._list_terms),
            ("POST", r"/wp/v2/(?P<tax>categories|tags)", self._create_term),
        ]:
            self.route(method, API + pattern, self._api(handler))
        self.route("GET", r"/wp-content/uploads/(?P<path>.+)", self._serve_upload)
        self.route("GET", r"/(?P<y>\d{4})/(?P<m>\d{2})/(?P<slug>[^/]+)/?", self._public_post)

    def clear(self) -> None:
        """Back to a fresh site: no posts, media or terms but "Uncategorized", no records, no faults."""
        with self.lock:
            self._ids = itertools.count(2)  # term 1 is "Uncategorized", as on a fresh install
            self.posts: dict[int, dict[str, Any]] = {}
            self._slugs: dict[str, set[int]] = {}  # slug → post ids, as WordPress indexes post_name
            self.media: dict[int, dict[str, Any]] = {}
            self.terms: dict[int, dict[str, Any]] = {
                1: {
                    "id": 1,
                    "name": "Uncategorized",
                    "slug": "uncategorized",
                    "taxonomy": "category",
                    "description": "",
                    "parent": 0,
                }
            }
            self.files: dict[str, tuple[bytes, str]] = {}  # uploads path → (bytes, mime type)
            self.records.clear()
            self.max_upload_bytes = self._initial_upload_limit
        self.reset_faults()

    @property
    def api_url(self) -> str:
        """The REST base to configure as ``[channels.website] url``."""
        return self.url + API

    # ----- plumbing -------------------------------------------------------------------------
    def _api(self, handler: Any) -> Any:
        def serve(req: Request) -> Response:
            try:
                with self.lock:
                    return cast("Response", handler(req, self._user(req)))
            except WPError as err:
                return err.response()

        return serve

    def _user(self, req: Request) -> dict[str, Any] | None:
        """The authenticated user, None when anonymous; bad credentials fail every route."""
        header = req.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            login, _, password = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise WPError(
                401, "invalid_username", "Unknown username. Check again or try your email address."
            ) from None
        user = self.users.get(login)
        if user is None:
            raise WPError(
                401, "invalid_username", "Unknown username. Check again or try your email address."
            )
        if "".join(password.split()) != "".join(str(user["password"]).split()):
            raise WPError(
                401,
                "incorrect_password",
                "The provided password is an invalid application password.",
            )
        return user

    @staticmethod
    def _require(user: dict[str, Any] | None, cap: str, code: str, message: str) -> None:
        if user is None:
            raise WPError(401, code, message)
        if cap not in user["caps"]:
            raise WPError(403, code, message)

    def not_found(self, req: Request) -> Response:
        if req.path.startswith(API):
            return WPError(
                404, "rest_no_route", "No route was found matching the URL and request method."
            ).response()
        return Response(
            404, "<html><body><h1>Không tìm thấy trang</h1></body></html>", content_type="text/html"
        )

    def platform_fault(self, kind: str, req: Request) -> Response:
        if kind.startswith("http_"):
            return WPError(
                int(kind[5:]),
                "internal_server_error",
                "<p>There has been a critical error on this website.</p>",
            ).response()
        if kind == "throttle":
            resp = WPError(429, "too_many_requests", "Too many requests.").response()
            resp.headers["Retry-After"] = "30"
            return resp
        if kind == "stale_empty":
            return Response(200, [])
        if kind.startswith("rest:"):
            _, status, code = kind.split(":", 2)
            data = (
                {"params": {"title": "Invalid parameter."}} if code == "rest_invalid_param" else {}
            )
            return WPError(int(status), code, f"Sandbox fault {code}.", **data).response()
        raise ValueError(f"wordpress sandbox: unknown fault kind {kind!r}")

    def _now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0)

    # ----- users ----------------------------------------------------------------------------
    def _index(self, req: Request, user: dict[str, Any] | None) -> Response:
        return Response(
            200,
            {
                "name": "Sandbox WordPress",
                "url": self.url,
                "namespaces": ["wp/v2"],
                "authentication": {"application-passwords": {}},
            },
        )

    def _users_me(self, req: Request, user: dict[str, Any] | None) -> Response:
        if user is None:
            raise WPError(401, "rest_not_logged_in", "You are not currently logged in.")
        login = next(k for k, v in self.users.items() if v is user)
        out = {
            "id": user["id"],
            "name": user["name"],
            "slug": login,
            "link": f"{self.url}/author/{login}/",
        }
        if req.query.get("context") == "edit":
            out.update(
                username=login,
                roles=user["roles"],
                capabilities={c: True for c in sorted(user["caps"])},
            )
        return Response(200, out)

    # ----- posts ----------------------------------------------------------------------------
    def _post_json(self, post: dict[str, Any], edit: bool) -> dict[str, Any]:
        gmt = post["date_gmt"]
        out: dict[str, Any] = {
            "id": post["id"],
            "date": gmt,
            "date_gmt": gmt,
            "modified": post["modified_gmt"],
            "modified_gmt": post["modified_gmt"],
            "guid": {"rendered": f"{self.url}/?p={post['id']}"},
            "slug": post["slug"],
            "status": post["status"],
            "type": "post",
            "link": self._link(post),
            "title": {"rendered": html.escape(post["title"], quote=False)},
            "content": {"rendered": post["content"], "protected": False},
            "excerpt": {
                "rendered": f"<p>{html.escape(post['excerpt'], quote=False)}</p>",
                "protected": False,
            },
            "author": post["author"],
            "featured_media": post["featured_media"],
            "comment_status": "open",
            "ping_status": "open",
            "sticky": False,
            "template": "",
            "format": "standard",
            "meta": [],
            "categories": post["categories"],
            "tags": post["tags"],
        }
        if edit:
            out["title"]["raw"] = post["title"]
            out["content"]["raw"] = post["content"]
            out["excerpt"]["raw"] = post["excerpt"]
        return out

    def _link(self, post: dict[str, Any]) -> str:
        if post["status"] != "publish":
            return f"{self.url}/?p={post['id']}"
        return f"{self.url}/{post['date_gmt'][:4]}/{post['date_gmt'][5:7]}/{post['slug']}/"

    def _unique_slug(self, slug: str, post_id: int, status: str) -> str:
        if status in ("draft", "pending"):  # WordPress reserves a slug only once published
            return slug

        def taken(s: str) -> bool:
            return bool(self._slugs.get(s, set()) - {post_id})

        if not taken(slug):
            return slug
        return next(f"{slug}-{i}" for i in itertools.count(2) if not taken(f"{slug}-{i}"))

    def _set_slug(self, post: dict[str, Any], slug: str | None) -> None:
        """Give ``post`` a slug (None: the post is gone), keeping the slug index right."""
        self._slugs.get(post["slug"], set()).discard(post["id"])
        if slug is not None:
            post["slug"] = slug
            self._slugs.setdefault(slug, set()).add(post["id"])

    def _visible(self, post: dict[str, Any], user: dict[str, Any] | None) -> bool:
        return post["status"] == "publish" or (user is not None and "edit_posts" in user["caps"])

    def _list_posts(self, req: Request, user: dict[str, Any] | None) -> Response:
        q = req.query
        context = q.get("context", "view")
        if context not in ("view", "embed", "edit"):
            raise _invalid("context", "context is not one of view, embed, and edit.")
        per_page = _int_param(q, "per_page", 10, 1, 100)
        page = _int_param(q, "page", 1, 1)
        statuses = [s for s in q.get("status", "publish").replace(" ", ",").split(",") if s]
        for s in statuses:
            if s not in _LIST_STATUSES:
                raise _invalid(
                    "status", f"status[0] is not one of {', '.join(sorted(_LIST_STATUSES))}."
                )
            if s != "publish" and (user is None or "edit_posts" not in user["caps"]):
                raise WPError(
                    400,
                    "rest_invalid_param",
                    "Invalid parameter(s): status",
                    params={"status": "Status is forbidden."},
                    details={
                        "status": {
                            "code": "rest_forbidden_status",
                            "message": "Status is forbidden.",
                            "data": {"status": 401 if user is None else 403},
                        }
                    },
                )
        if context == "edit" and (user is None or "edit_posts" not in user["caps"]):
            raise WPError(
                401 if user is None else 403,
                "rest_forbidden_context",
                "Sorry, you are not allowed to edit posts in this post type.",
            )
        wanted = (
            {"publish", "future", "draft", "pending", "private"}
            if "any" in statuses
            else set(statuses)
        )
        slugs = {s for s in q.get("slug", "").replace(" ", ",").split(",") if s}
        search = q.get("search", "").casefold()
        pool = (
            [self.posts[i] for s in slugs for i in self._slugs.get(s, ())]
            if slugs
            else list(self.posts.values())
        )
        found = [
            p
            for p in pool
            if p["status"] in wanted
            and (not search or search in p["title"].casefold() or search in p["content"].casefold())
        ]
        found.sort(key=lambda p: (p["date_gmt"], p["id"]), reverse=True)
        total = len(found)
        chunk = found[(page - 1) * per_page : page * per_page]
        pages = max((total + per_page - 1) // per_page, 1)
        return Response(
            200,
            [self._post_json(p, context == "edit") for p in chunk],
            headers={"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)},
        )

    def _post_or_404(self, req: Request) -> dict[str, Any]:
        post = self.posts.get(int(req.params["id"]))
        if post is None:
            raise WPError(404, "rest_post_invalid_id", "Invalid post ID.")
        return post

    def _get_post(self, req: Request, user: dict[str, Any] | None) -> Response:
        post = self._post_or_404(req)
        if not self._visible(post, user):
            raise WPError(
                401 if user is None else 403,
                "rest_forbidden",
                "Sorry, you are not allowed to do that.",
            )
        edit = req.query.get("context") == "edit"
        if edit and (user is None or "edit_posts" not in user["caps"]):
            raise WPError(
                401 if user is None else 403,
                "rest_forbidden_context",
                "Sorry, you are not allowed to edit this post.",
            )
        return Response(200, self._post_json(post, edit))

    def _apply_post_fields(
        self, post: dict[str, Any], values: dict[str, Any], user: dict[str, Any]
    ) -> None:
        unknown = sorted(set(values) - _POST_FIELDS - {"id", "context", "force"})
        if unknown:
            raise _invalid(unknown[0], f"{unknown[0]} is not a known parameter.")
        for name in ("title", "content", "excerpt"):
            value = _text_field(values, name)
            if value is not None:
                post[name] = value
        status = values.get("status", post["status"])
        if status not in _POST_STATUSES:
            raise _invalid(
                "status", "status is not one of publish, future, draft, pending, private."
            )
        if (
            status in ("publish", "private", "future")
            and status != post["status"]
            and "publish_posts" not in user["caps"]
        ):
            raise WPError(
                403,
                "rest_cannot_publish",
                "Sorry, you are not allowed to publish posts as this user.",
            )
        for name in ("categories", "tags"):
            ids = _id_list(values, name)
            if ids is not None:  # WordPress silently skips ids that are not terms of the taxonomy
                taxonomy = "category" if name == "categories" else "post_tag"
                post[name] = [i for i in ids if self.terms.get(i, {}).get("taxonomy") == taxonomy]
        if "featured_media" in values:
            media_id = _int_param(values, "featured_media", 0, 0)
            if media_id and media_id not in self.media:
                raise WPError(400, "rest_invalid_featured_media", "Invalid featured media ID.")
            post["featured_media"] = media_id
        if "date_gmt" in values:
            try:
                post["date_gmt"] = datetime.fromisoformat(str(values["date_gmt"])).strftime(
                    "%Y-%m-%dT%H:%M:%S"
                )
            except ValueError:
                raise _invalid("date_gmt", "Invalid date.") from None
        slug = values.get("slug")
        if slug is not None and not isinstance(slug, str):
            raise _invalid("slug", "slug is not of type string.")
        if slug is not None or status != post["status"] or not post["slug"]:
            base = render.slugify(slug if slug else (post["slug"] or post["title"]), 200) or str(
                post["id"]
            )
            self._set_slug(post, self._unique_slug(base, post["id"], status))
        post["status"] = status
        post["modified_gmt"] = self._now().strftime("%Y-%m-%dT%H:%M:%S")

    def _create_post(self, req: Request, user: dict[str, Any] | None) -> Response:
        self._require(
            user,
            "edit_posts",
            "rest_cannot_create",
            "Sorry, you are not allowed to create posts as this user.",
        )
        assert user is not None
        now = self._now().strftime("%Y-%m-%dT%H:%M:%S")
        post = {
            "id": next(self._ids),
            "title": "",
            "content": "",
            "excerpt": "",
            "status": "draft",
            "slug": "",
            "author": user["id"],
            "featured_media": 0,
            "categories": [1],
            "tags": [],
            "date_gmt": now,
            "modified_gmt": now,
            "views": 0,
        }
        values = req.values()
        values.setdefault("status", "draft")
        self._apply_post_fields(post, values, user)
        self.posts[post["id"]] = post
        self.record("posts", self._post_json(post, edit=True))
        return Response(
            201,
            self._post_json(post, edit=True),
            headers={"Location": f"{self.api_url}/wp/v2/posts/{post['id']}"},
        )

    def _update_post(self, req: Request, user: dict[str, Any] | None) -> Response:
        post = self._post_or_404(req)
        self._require(
            user, "edit_posts", "rest_cannot_edit", "Sorry, you are not allowed to edit this post."
        )
        assert user is not None
        if post["status"] == "publish" and "edit_published_posts" not in user["caps"]:
            raise WPError(403, "rest_cannot_edit", "Sorry, you are not allowed to edit this post.")
        self._apply_post_fields(post, req.values(), user)
        self.record("updates", {"id": post["id"], **self._post_json(post, edit=True)})
        return Response(200, self._post_json(post, edit=True))

    def _delete_post(self, req: Request, user: dict[str, Any] | None) -> Response:
        post = self._post_or_404(req)
        self._require(
            user,
            "delete_posts",
            "rest_cannot_delete",
            "Sorry, you are not allowed to delete this post.",
        )
        assert user is not None
        if post["status"] == "publish" and "delete_published_posts" not in user["caps"]:
            raise WPError(
                403, "rest_cannot_delete", "Sorry, you are not allowed to delete this post."
            )
        if req.query.get("force") in ("true", "1"):
            del self.posts[post["id"]]
            self._set_slug(post, None)
            self.record("deletes", {"id": post["id"], "force": True})
            return Response(200, {"deleted": True, "previous": self._post_json(post, edit=True)})
        if post["status"] == "trash":
            raise WPError(410, "rest_already_trashed", "The post has already been deleted.")
        post["status"] = "trash"
        self._set_slug(post, post["slug"] + "__trashed")
        self.record("deletes", {"id": post["id"], "force": False})
        return Response(200, self._post_json(post, edit=True))

    # ----- media ----------------------------------------------------------------------------
    def _create_media(self, req: Request, user: dict[str, Any] | None) -> Response:
        self._require(
            user,
            "upload_files",
            "rest_cannot_create",
            "Sorry, you are not allowed to upload media as this user.",
        )
        assert user is not None
        if req.content_type == "multipart/form-data":
            upload = req.files.get("file")
            if upload is None or not upload.data:
                raise WPError(400, "rest_upload_no_data", "No data supplied.")
            filename, data = upload.filename, upload.data
        else:
            if not req.body:
                raise WPError(400, "rest_upload_no_data", "No data supplied.")
            if not req.content_type:
                raise WPError(400, "rest_upload_no_content_type", "No Content-Type supplied.")
            disposition = req.headers.get("content-disposition")
            if not disposition:
                raise WPError(
                    400, "rest_upload_no_content_disposition", "No Content-Disposition supplied."
                )
            msg = Message()
            msg["content-disposition"] = disposition
            filename = msg.get_filename() or ""
            if not filename:
                raise WPError(
                    400,
                    "rest_upload_invalid_disposition",
                    "Invalid Content-Disposition supplied. Content-Disposition needs to be formatted as "
                    '`attachment; filename="image.png"` or similar.',
                )
            data = req.body
        if len(data) > self.max_upload_bytes:  # nginx's client_max_body_size answers before PHP
            return Response(
                413,
                "<html><head><title>413 Request Entity Too Large</title></head><body>"
                "<center><h1>413 Request Entity Too Large</h1></center><hr><center>nginx</center>"
                "</body></html>",
                content_type="text/html",
            )
        mime = _image_type(data)
        if mime is None:
            raise WPError(
                500,
                "rest_upload_sideload_error",
                "Sorry, you are not allowed to upload this file type.",
            )
        now = self._now()
        base, _, ext = (
            filename.rpartition(".") if "." in filename else (filename, "", mime.split("/")[1])
        )
        stem = render.slugify(base, 200) or "image"
        rel = f"{now:%Y/%m}/{stem}.{ext.lower()}"
        for i in itertools.count(1):
            if rel not in self.files:
                break
            rel = f"{now:%Y/%m}/{stem}-{i}.{ext.lower()}"
        self.files[rel] = (data, mime)
        width, height = _image_size(data)
        values = req.values() if req.content_type == "multipart/form-data" else dict(req.query)
        item = {
            "id": next(self._ids),
            "date_gmt": now.strftime("%Y-%m-%dT%H:%M:%S"),
            "slug": stem,
            "mime_type": mime,
            "source_url": f"{self.url}/wp-content/uploads/{rel}",
            "file": rel,
            "filesize": len(data),
            "width": width,
            "height": height,
            "author": user["id"],
            "alt_text": str(values.get("alt_text", "")),
            "title": str(values.get("title", stem)),
            "declared_type": req.content_type,
        }
        self.media[item["id"]] = item
        self.record("media", {k: v for k, v in item.items()})
        return Response(201, self._media_json(item))

    def _media_json(self, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": item["id"],
            "date": item["date_gmt"],
            "date_gmt": item["date_gmt"],
            "slug": item["slug"],
            "status": "inherit",
            "type": "attachment",
            "link": f"{self.url}/?attachment_id={item['id']}",
            "title": {"rendered": html.escape(item["title"])},
            "author": item["author"],
            "alt_text": item["alt_text"],
            "caption": {"rendered": ""},
            "media_type": "image",
            "mime_type": item["mime_type"],
            "post": None,
            "source_url": item["source_url"],
            "media_details": {
                "width": item["width"],
                "height": item["height"],
                "file": item["file"],
                "filesize": item["filesize"],
                "sizes": {},
            },
        }

    def _get_media(self, req: Request, user: dict[str, Any] | None) -> Response:
        item = self.media.get(int(req.params["id"]))
        if item is None:
            raise WPError(404, "rest_post_invalid_id", "Invalid post ID.")
        return Response(200, self._media_json(item))

    def _serve_upload(self, req: Request) -> Response:
        with self.lock:
            found = self.files.get(req.params["path"])
        if found is None:
            return self.not_found(req)
        return Response(200, found[0], content_type=found[1])

    # ----- terms ----------------------------------------------------------------------------
    def _term_json(self, term: dict[str, Any]) -> dict[str, Any]:
        count = sum(
            1
            for p in self.posts.values()
            if p["status"] == "publish"
            and term["id"] in p["categories" if term["taxonomy"] == "category" else "tags"]
        )
        base = "category" if term["taxonomy"] == "category" else "tag"
        out = {
            "id": term["id"],
            "count": count,
            "description": term["description"],
            "link": f"{self.url}/{base}/{term['slug']}/",
            "name": html.escape(term["name"], quote=False),
            "slug": term["slug"],
            "taxonomy": term["taxonomy"],
            "meta": [],
        }
        if term["taxonomy"] == "category":
            out["parent"] = term["parent"]
        return out

    def _list_terms(self, req: Request, user: dict[str, Any] | None) -> Response:
        taxonomy = _TAXONOMIES[req.params["tax"]]
        per_page = _int_param(req.query, "per_page", 10, 1, 100)
        search = req.query.get("search", "").casefold()
        slugs = {s for s in req.query.get("slug", "").split(",") if s}
        include = {int(i) for i in req.query.get("include", "").split(",") if i.strip().isdigit()}
        found = [
            t
            for t in self.terms.values()
            if t["taxonomy"] == taxonomy
            and (not search or search in t["name"].casefold() or search in t["slug"])
            and (not slugs or t["slug"] in slugs)
            and (not include or t["id"] in include)
        ]
        return Response(
            200,
            [self._term_json(t) for t in sorted(found, key=lambda t: t["name"])[:per_page]],
            headers={"X-WP-Total": str(len(found))},
        )

    def _create_term(self, req: Request, user: dict[str, Any] | None) -> Response:
        self._require(
            user,
            "manage_categories",
            "rest_cannot_create",
            "Sorry, you are not allowed to create terms in this taxonomy.",
        )
        taxonomy = _TAXONOMIES[req.params["tax"]]
        values = req.values()
        unknown = sorted(set(values) - _TERM_FIELDS)
        if unknown:
            raise _invalid(unknown[0], f"{unknown[0]} is not a known parameter.")
        name = values.get("name")
        if not name:
            raise WPError(
                400, "rest_missing_callback_param", "Missing parameter(s): name", params=["name"]
            )
        if not isinstance(name, str):
            raise _invalid("name", "name is not of type string.")
        name = render.nfc(name).strip()
        slug = render.slugify(values.get("slug") or name, 200) or name
        for term in self.terms.values():
            if term["taxonomy"] == taxonomy and (
                term["name"].casefold() == name.casefold() or term["slug"] == slug
            ):
                raise WPError(
                    400,
                    "term_exists",
                    "A term with the name provided already exists with this parent.",
                    term_id=term["id"],
                )
        term = {
            "id": next(self._ids),
            "name": name,
            "slug": slug,
            "taxonomy": taxonomy,
            "description": str(values.get("description", "")),
            "parent": int(values.get("parent", 0) or 0),
        }
        self.terms[term["id"]] = term
        self.record("terms", dict(term))
        return Response(201, self._term_json(term))

    # ----- public pages ---------------------------------------------------------------------
    def _public_post(self, req: Request) -> Response:
        with self.lock:
            post = next(
                (
                    p
                    for p in self.posts.values()
                    if p["status"] == "publish"
                    and p["slug"] == req.params["slug"]
                    and p["date_gmt"][:7] == f"{req.params['y']}-{req.params['m']}"
                ),
                None,
            )
            if post is None:
                return self.not_found(req)
            post["views"] += 1
            cover = self.media.get(post["featured_media"])
        image = (
            f'<meta property="og:image" content="{html.escape(cover["source_url"])}">'
            if cover
            else ""
        )
        title = html.escape(post["title"])
        page = (
            f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="og:title" content="{title}">'
            f'<meta property="og:description" content="{html.escape(post["excerpt"])}">{image}</head>'
            f"<body><article><h1>{title}</h1>{post['content']}</article></body></html>"
        )
        return Response(200, page, content_type="text/html; charset=utf-8")
