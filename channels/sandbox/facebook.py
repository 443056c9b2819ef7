"""A local Graph API for one Facebook Page: posts, photos, insights, tokens, usage throttling.

Facts it honours: ``../shared/contracts/facebook.md``. Paths are versioned (``/v25.0/...``);
versions below :attr:`FacebookSandbox.MIN_VERSION` answer a retired-version error. Tokens go in
the ``access_token`` parameter or ``Authorization: Bearer``. Every error is Graph-shaped::

    HTTP 400 {"error": {"message": "(#100) ...", "type": "OAuthException", "code": 100,
                        "error_subcode": ..., "fbtrace_id": "..."}}

Test helpers: :meth:`expire_token`, :meth:`revoke_scope`, :meth:`set_rate_limit`,
:meth:`set_reach`, :meth:`add_post`, :meth:`advance`, :meth:`set_followers` (the Page's
``followers_count`` and ``fan_count``, read with ``GET /{page-id}?fields=...``). Platform fault kinds (besides the generic
ones of :class:`SandboxServer`): ``transient``, ``throttle``, ``token_expired``, ``permission``,
``spam``, ``blocked``, ``duplicate``, and ``error:CODE[:SUBCODE]`` for any Graph error code.

Invalid insights metrics answer ``(#100) The value must be a valid insights metric`` — the
wording observed from the live API, which does not name the metric. ``name_invalid_metric=True``
appends the refused name (``...: post_impressions``) for tests of adapters that read it.
"""

from __future__ import annotations

import base64
import json
import math
import re
import secrets
import time
import urllib.request
from collections import deque
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from channels.sandbox.base import Request, Response, SandboxServer
from channels.sandbox.citizens import MessengerInbox
from channels.sandbox.facebook_comments import CommentBoard

__all__ = ["FacebookSandbox"]

_V = r"/(?P<version>v[0-9]+\.[0-9]+)"
_IMAGE_MAGIC = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
)
_FIELD_RE = re.compile(r"(?P<name>[a-z_]+)(?P<mods>(?:\.[a-z_]+\([^()]*\))*)$")
_MOD_RE = re.compile(r"\.([a-z_]+)\(([^()]*)\)")


class _GraphError(Exception):
    """Abort a handler with a Graph error answer."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        status: int = 400,
        transient: bool = False,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.code, self.subcode, self.status = code, subcode, status
        self.transient, self.headers = transient, headers or {}


def _split_top(spec: str) -> list[str]:
    """``a,b.metric(x,y),c`` split at commas outside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in spec:
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        depth += (ch == "(") - (ch == ")")
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


class FacebookSandbox(SandboxServer):
    """Graph API sandbox for the page :attr:`PAGE_ID`, reachable with :attr:`PAGE_TOKEN`."""

    name = "facebook"
    PAGE_ID = "1000000000001"
    PAGE_NAME = "Sở Ngoại vụ tỉnh Lạng Sơn (sandbox)"
    PAGE_TOKEN = "sandbox-page-token"
    APP_ID = "sandbox-app"
    APP_SECRET = "sandbox-app-secret"
    USER_TOKEN = "sandbox-short-user-token"
    LONG_USER_TOKEN = "sandbox-long-user-token"
    USER_ID = "2000000000002"
    MIN_VERSION = 20
    LATEST_VERSION = "v25.0"
    MAX_IDS = 50
    THROTTLE_FAULT_MINUTES = 7  # estimated_time_to_regain_access of the injected "throttle" fault
    PHOTO_MAX_BYTES = 4 * 1024 * 1024
    SCOPES = (
        "pages_manage_posts",
        "pages_read_engagement",
        "pages_show_list",
        "read_insights",
        "pages_manage_engagement",
        "pages_read_user_content",
        "pages_messaging",
    )
    POST_METRICS = (
        "post_total_media_view_unique",
        "post_media_view",
        "post_clicks",
        "post_clicks_by_type",
        "post_reactions_by_type_total",
    )
    RETIRED_METRICS = (
        "post_impressions",
        "post_impressions_unique",
        "post_impressions_paid",
        "post_impressions_organic",
        "post_engaged_users",
        "post_reach",
        "post_negative_feedback",
        "post_consumptions",
    )
    POST_FIELDS = (
        "id",
        "message",
        "created_time",
        "updated_time",
        "permalink_url",
        "shares",
        "reactions",
        "comments",
        "insights",
        "is_published",
        "from",
        "status_type",
    )

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seed: int | None = None,
        rate_limit_calls: int = 4800,
        rate_window_seconds: float = 3600.0,
        duplicate_window_seconds: float = 3600.0,
        name_invalid_metric: bool = False,
    ):
        super().__init__(host, port, seed=seed)
        self.rate_limit_calls, self.rate_window_seconds = rate_limit_calls, rate_window_seconds
        self.duplicate_window_seconds = duplicate_window_seconds
        self.name_invalid_metric = name_invalid_metric
        self.clock_offset = 0.0
        self.token_expired = False
        self.scopes: set[str] = set(self.SCOPES)
        self.posts: dict[str, dict[str, Any]] = {}  # post id → post (insertion = creation order)
        self.photos: dict[str, dict[str, Any]] = {}
        self.reach: dict[str, dict[str, Any]] = {}  # post id → metric → value
        self.pinned: set[tuple[str, str]] = set()
        self.followers_count: int | None = 5210  # people following the Page
        self.fan_count: int | None = 4980  # likes: being retired by Meta (None = not served)
        self._calls: dict[str, deque[float]] = {}
        self._seq = 0
        v = _V
        for method, pattern, handler in [
            ("GET", v + r"/?", self._multi_read),
            ("POST", v + r"/?", self._batch),
            ("GET", v + r"/me", self._me),
            ("GET", v + r"/me/accounts", self._accounts),
            ("GET", v + r"/debug_token", self._debug_token),
            ("GET", v + r"/oauth/access_token", self._exchange),
            ("POST", v + r"/(?P<page>[0-9]+)/feed", self._create_post),
            ("POST", v + r"/(?P<page>[0-9]+)/messages", self._send_message),
            ("POST", v + r"/(?P<page>[0-9]+)/photos", self._upload_photo),
            ("GET", v + r"/(?P<page>[0-9]+)/(?:published_posts|posts|feed)", self._list_posts),
            ("GET", v + r"/(?P<obj>[0-9_]+)", self._read_object),
            ("POST", v + r"/(?P<obj>[0-9]+_[0-9]+)", self._edit_post),
            ("DELETE", v + r"/(?P<obj>[0-9]+_[0-9]+)", self._delete_post),
        ]:
            self.route(method, pattern, self._graph(handler))
        self.comments = CommentBoard(self, _V, _GraphError)  # comments on the posts

        self.inbox = MessengerInbox(self)  # people who write to the Page, and what they received

    def _send_message(self, req: Request) -> Response:
        self._need(req, "page")
        if req.params["page"] != self.PAGE_ID:
            raise _GraphError(200, "(#200) The user hasn't authorized the application")

        def error(code: int, message: str, subcode: int | None = None) -> _GraphError:
            return _GraphError(code, message, subcode=subcode)

        return self.inbox.handle_send(req, error)  # type: ignore[no-any-return]

    # ----- test helpers ----------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward (duplicate window, throttling window, reach growth)."""
        with self.lock:
            self.clock_offset += seconds

    def set_followers(self, followers: int | None, fans: int | None = None) -> None:
        """The Page's ``followers_count`` and ``fan_count`` from now on (None: not served)."""
        with self.lock:
            self.followers_count, self.fan_count = followers, fans

    def expire_token(self) -> None:
        """The page token stops working, as after a password change (190, subcode 463)."""
        with self.lock:
            self.token_expired = True

    def revoke_scope(self, scope: str) -> None:
        with self.lock:
            self.scopes.discard(scope)

    def set_rate_limit(self, calls: int, window_seconds: float | None = None) -> None:
        """Allow ``calls`` Graph calls per token per window before throttling (and reset counts)."""
        with self.lock:
            self.rate_limit_calls = calls
            if window_seconds is not None:
                self.rate_window_seconds = window_seconds
            self._calls.clear()

    def set_reach(self, post_id: str, metric: str, value: Any) -> None:
        """Pin a metric of a post (``reactions``, ``comments``, ``shares`` or an insights name)."""
        with self.lock:
            self.reach.setdefault(post_id, {})[metric] = value
            self.pinned.add((post_id, metric))

    def add_post(self, message: str, link: str | None = None) -> str:
        """Create a published post directly (no HTTP, no duplicate check); returns its id."""
        with self.lock:
            return cast("str", self._new_post(message, link, [])["id"])

    # ----- plumbing --------------------------------------------------------------------------
    def _graph(self, handler: Any) -> Any:
        def wrapped(req: Request) -> Response:
            headers: dict[str, str] = {}
            try:
                self._check_version(req.params.get("version", ""))
                token = self._token(req)
                headers = self._count_call(token)
                resp = handler(req)
            except _GraphError as e:
                resp = self._error(e)
                headers.update(e.headers)
            resp.headers.update(headers)
            return cast("Response", resp)

        return wrapped

    def _error(self, e: _GraphError) -> Response:
        err: dict[str, Any] = {"message": str(e), "type": "OAuthException", "code": e.code}
        if e.subcode is not None:
            err["error_subcode"] = e.subcode
        if e.transient:
            err["is_transient"] = True
        err["fbtrace_id"] = "A" + secrets.token_hex(10)
        return Response(e.status, {"error": err}, headers=dict(e.headers))

    def not_found(self, req: Request) -> Response:
        return self._error(
            _GraphError(
                100,
                f"Unsupported {req.method.lower()} request. Object with ID '{req.path.rsplit('/', 1)[-1]}' "
                "does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
                subcode=33,
            )
        )

    def platform_fault(self, kind: str, req: Request) -> Response:
        faults: dict[str, _GraphError] = {
            "transient": _GraphError(
                2,
                "An unexpected error has occurred. Please retry your request later.",
                status=503,
                transient=True,
            ),
            "token_expired": _GraphError(
                190, "Error validating access token: Session has expired.", subcode=463
            ),
            "permission": _GraphError(
                200,
                "(#200) If posting to a page, requires both pages_read_engagement "
                "and pages_manage_posts permission",
            ),
            "spam": _GraphError(
                368,
                "The action attempted has been deemed abusive or is otherwise disallowed",
                subcode=1346003,
            ),
            "blocked": _GraphError(
                368, "You're temporarily blocked from posting to Facebook.", subcode=1390008
            ),
            "duplicate": _GraphError(506, "(#506) Duplicate status message"),
        }
        if kind.startswith("http_"):
            status = int(kind[5:])
            return self._error(
                _GraphError(
                    2,
                    "An unexpected error has occurred. Please retry your request later.",
                    status=status,
                    transient=True,
                )
            )
        if kind == "throttle":
            return self._error(self._throttle_error("page", self.THROTTLE_FAULT_MINUTES))
        if kind.startswith("error:"):
            parts = kind.split(":")
            return self._error(
                _GraphError(
                    int(parts[1]),
                    f"(#{parts[1]}) Injected Graph error",
                    subcode=int(parts[2]) if len(parts) > 2 else None,
                )
            )
        if kind in faults:
            return self._error(faults[kind])
        return super().platform_fault(kind, req)

    def _check_version(self, version: str) -> None:
        m = re.fullmatch(r"v([0-9]+)\.([0-9]+)", version)
        if not m or int(m.group(1)) < self.MIN_VERSION:
            raise _GraphError(
                2635,
                f"(#2635) You are calling a deprecated version of the Graph API. "
                f"Please update to the latest version: {self.LATEST_VERSION}.",
            )

    def _token(self, req: Request) -> str | None:
        """The kind of the caller's token: page, user, app, or None (for the token exchange)."""
        raw = req.values().get("access_token")
        auth = req.headers.get("authorization", "")
        if not raw and auth.lower().startswith("bearer "):
            raw = auth[7:].strip()
        if req.path.endswith("/oauth/access_token"):
            return None
        if not raw:
            raise _GraphError(104, "An access token is required to request this resource.")
        if raw == self.PAGE_TOKEN:
            if self.token_expired:
                raise _GraphError(
                    190,
                    "Error validating access token: The session has been invalidated "
                    "because the user changed their password.",
                    subcode=463,
                )
            req.params["token"] = "page"
        elif raw in (self.USER_TOKEN, self.LONG_USER_TOKEN):
            req.params["token"] = "user"
        elif raw == f"{self.APP_ID}|{self.APP_SECRET}":
            req.params["token"] = "app"
        else:
            raise _GraphError(190, "Invalid OAuth access token - Cannot parse access token")
        return cast("str | None", raw)

    def _usage(self, key: str) -> tuple[int, int]:
        """(percent of the call budget used, minutes until a call is allowed again)."""
        calls, now = self._calls.get(key, deque()), self.now()
        while calls and calls[0] <= now - self.rate_window_seconds:
            calls.popleft()
        pct = min(100, int(len(calls) * 100 / max(self.rate_limit_calls, 1)))
        wait = 0
        if pct >= 100 and calls:
            wait = max(1, math.ceil((calls[0] + self.rate_window_seconds - now) / 60))
        return pct, wait

    def _usage_headers(self, pct: int, wait: int) -> dict[str, str]:
        half = pct // 2
        return {
            "X-App-Usage": json.dumps(
                {"call_count": pct, "total_cputime": half, "total_time": half}
            ),
            "X-Business-Use-Case-Usage": json.dumps(
                {
                    self.PAGE_ID: [
                        {
                            "type": "pages",
                            "call_count": pct,
                            "total_cputime": half,
                            "total_time": half,
                            "estimated_time_to_regain_access": wait,
                        }
                    ]
                }
            ),
        }

    def _throttle_error(self, kind: str, wait: int) -> _GraphError:
        code, msg = (
            (
                80001,
                "There have been too many calls to this Page account. Wait a bit and try again.",
            )
            if kind == "page"
            else (4, "(#4) Application request limit reached")
        )
        return _GraphError(code, msg, headers=self._usage_headers(100, wait))

    def _count_call(self, token: str | None) -> dict[str, str]:
        if token is None:
            return {}
        with self.lock:
            pct, wait = self._usage(token)
            if pct >= 100:
                raise self._throttle_error("page" if token == self.PAGE_TOKEN else "app", wait)
            self._calls.setdefault(token, deque()).append(self.now())
            pct, wait = self._usage(token)
        return self._usage_headers(pct, wait)

    def _need(self, req: Request, kind: str, scope: str | None = None) -> None:
        if req.params.get("token") != kind:
            raise _GraphError(
                200 if kind == "page" else 100,
                f"(#{200 if kind == 'page' else 100}) This call requires a {kind} access token.",
            )
        if scope and scope not in self.scopes:
            code = 10 if scope == "read_insights" else 200
            raise _GraphError(code, f"(#{code}) Requires {scope} permission to manage the object")

    @staticmethod
    def _params(req: Request, allowed: set[str], required: tuple[str, ...] = ()) -> dict[str, Any]:
        values = {k: v for k, v in req.values().items() if k != "access_token"}
        for k in values:
            if k not in allowed:
                raise _GraphError(100, f"(#100) Param {k} is not a valid parameter")
        for k in required:
            if not values.get(k):
                raise _GraphError(100, f"(#100) The parameter {k} is required")
        return values

    def _iso(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")

    def _new_post(self, message: str, link: str | None, media: list[str]) -> dict[str, Any]:
        self._seq += 1
        pid = f"{self.PAGE_ID}_{100000000000000 + self._seq}"
        post = {
            "id": pid,
            "message": message,
            "link": link,
            "media": media,
            "created": self.now(),
            "updated": self.now(),
            "permalink_url": f"https://www.facebook.com/{self.PAGE_ID}/posts/{100000000000000 + self._seq}",
        }
        self.posts[pid] = post
        for fbid in media:
            self.photos[fbid]["post_id"] = pid
        self.record("posts", {"id": pid, "message": message, "link": link, "attached_media": media})
        return post

    # ----- publishing ------------------------------------------------------------------------
    def _create_post(self, req: Request) -> Response:
        self._need(req, "page", "pages_manage_posts")
        if req.params["page"] != self.PAGE_ID:
            raise _GraphError(
                200, "(#200) The user hasn't authorized the application to perform this action"
            )
        p = self._params(
            req,
            {"message", "link", "attached_media", "published", "scheduled_publish_time", "fields"},
        )
        media = self._attached_media(p.get("attached_media"))
        message = str(p.get("message", ""))
        if not message and not p.get("link") and not media:
            raise _GraphError(100, "(#100) Missing message or attachment")
        if p.get("link") and not re.match(r"https?://", str(p["link"])):
            raise _GraphError(100, "(#100) The parameter link must be a valid URL")
        if str(p.get("published", "true")).lower() == "false" or p.get("scheduled_publish_time"):
            raise _GraphError(
                100, "(#100) Scheduled and unpublished posts are not supported by this sandbox"
            )
        with self.lock:
            norm = " ".join(message.split())
            for other in self.posts.values():
                if (
                    norm
                    and " ".join(other["message"].split()) == norm
                    and self.now() - other["created"] < self.duplicate_window_seconds
                ):
                    raise _GraphError(506, "(#506) Duplicate status message")
            for fbid in media:
                photo = self.photos.get(fbid)
                if photo is None:
                    raise _GraphError(100, f"(#100) Invalid media_fbid {fbid}")
                if photo.get("post_id"):
                    raise _GraphError(
                        100, "(#100) This photo has already been posted", subcode=1366051
                    )
            post = self._new_post(message, p.get("link") or None, media)
        body = {"id": post["id"]}
        if "permalink_url" in str(p.get("fields", "")):
            body["permalink_url"] = post["permalink_url"]
        return Response(200, body)

    def _attached_media(self, raw: Any) -> list[str]:
        if not raw:
            return []
        try:
            items = json.loads(raw) if isinstance(raw, str) else raw
            return [str(i["media_fbid"]) for i in items]
        except (ValueError, TypeError, KeyError) as e:
            raise _GraphError(
                100, "(#100) param attached_media must be an array of {media_fbid}"
            ) from e

    def _upload_photo(self, req: Request) -> Response:
        self._need(req, "page", "pages_manage_posts")
        p = self._params(
            req,
            {"url", "published", "caption", "message", "no_story", "temporary", "alt_text_custom"},
        )
        source = req.files.get("source")
        if source is not None:
            data = source.data
        elif p.get("url"):
            data = self._fetch_image(str(p["url"]))
        else:
            raise _GraphError(324, "(#324) Requires upload file")
        if not data.startswith(_IMAGE_MAGIC):
            raise _GraphError(324, "(#324) Missing or invalid image file")
        if len(data) > self.PHOTO_MAX_BYTES:
            raise _GraphError(
                100,
                "(#100) The photo is too large; photos must be smaller than 4 MB",
                subcode=1366046,
            )
        published = str(p.get("published", "true")).lower() != "false"
        with self.lock:
            self._seq += 1
            fbid = str(300000000000000 + self._seq)
            self.photos[fbid] = {
                "id": fbid,
                "size": len(data),
                "published": published,
                "post_id": None,
            }
            self.record(
                "photos",
                {
                    "id": fbid,
                    "size": len(data),
                    "published": published,
                    "url": p.get("url"),
                    "filename": source.filename if source else None,
                },
            )
            body: dict[str, Any] = {"id": fbid}
            if published:
                body["post_id"] = self._new_post(
                    str(p.get("caption") or p.get("message") or ""), None, [fbid]
                )["id"]
        return Response(200, body)

    def _fetch_image(self, url: str) -> bytes:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - sandbox fetches test URLs
                return cast("bytes", r.read(self.PHOTO_MAX_BYTES + 1024 * 1024))
        except (OSError, ValueError) as e:
            raise _GraphError(
                100, "(#100) url should represent a valid URL", subcode=1366055
            ) from e

    def _edit_post(self, req: Request) -> Response:
        self._need(req, "page", "pages_manage_posts")
        p = self._params(req, {"message"}, ("message",))
        with self.lock:
            post = self._post(req.params["obj"])
            post["message"], post["updated"] = p["message"], self.now()
            self.record("edits", {"id": post["id"], "message": p["message"]})
        return Response(200, {"success": True})

    def _delete_post(self, req: Request) -> Response:
        self._need(req, "page", "pages_manage_posts")
        self._params(req, set())
        with self.lock:
            post = self._post(req.params["obj"])
            del self.posts[post["id"]]
            self.record("deletes", {"id": post["id"]})
        return Response(200, {"success": True})

    def _post(self, pid: str) -> dict[str, Any]:
        if pid not in self.posts:
            raise _GraphError(
                100,
                f"Unsupported request. Object with ID '{pid}' does not exist, cannot be "
                "loaded due to missing permissions, or does not support this operation.",
                subcode=33,
            )
        return self.posts[pid]

    # ----- reading ---------------------------------------------------------------------------
    def _list_posts(self, req: Request) -> Response:
        self._need(req, "page", "pages_read_engagement")
        p = self._params(req, {"fields", "since", "until", "limit", "after", "before"})
        limit = int(p.get("limit") or 25)
        if not 1 <= limit <= 100:
            raise _GraphError(100, "(#100) The parameter limit must be between 1 and 100")
        specs = self._parse_fields(p.get("fields") or "id,message,created_time")
        with self.lock:
            posts = sorted(self.posts.values(), key=lambda x: (x["created"], x["id"]), reverse=True)
            if p.get("since"):
                posts = [x for x in posts if x["created"] >= float(p["since"])]
            if p.get("until"):
                posts = [x for x in posts if x["created"] <= float(p["until"])]
            start = 0
            if p.get("after"):
                try:
                    last = base64.urlsafe_b64decode(str(p["after"]).encode()).decode()
                except ValueError as e:
                    raise _GraphError(100, "(#100) Invalid cursor") from e
                ids = [x["id"] for x in posts]
                start = ids.index(last) + 1 if last in ids else len(ids)
            page = posts[start : start + limit]
            data = [self._render_post(x, specs) for x in page]
        body: dict[str, Any] = {"data": data}
        if page:
            cur = {
                "before": base64.urlsafe_b64encode(page[0]["id"].encode()).decode(),
                "after": base64.urlsafe_b64encode(page[-1]["id"].encode()).decode(),
            }
            body["paging"] = {"cursors": cur}
            if start + limit < len(posts):
                q = {k: v for k, v in p.items() if k != "after"}
                qs = "&".join(f"{k}={v}" for k, v in {**q, "after": cur["after"]}.items())
                body["paging"]["next"] = f"{self.url}{req.path}?{qs}"
        return Response(200, body)

    def _read_object(self, req: Request) -> Response:
        p = self._params(req, {"fields"})
        obj = req.params["obj"]
        if obj == self.PAGE_ID:
            page: dict[str, Any] = {"id": self.PAGE_ID, "name": self.PAGE_NAME}
            asked = {f.strip() for f in str(p.get("fields") or "").split(",")}
            with self.lock:
                counts = {"followers_count": self.followers_count, "fan_count": self.fan_count}
            # A retired field (None) is simply absent, as Graph omits fields it no longer serves.
            page.update({k: v for k, v in counts.items() if k in asked and v is not None})
            return Response(200, page)
        if obj in self.photos:
            photo = self.photos[obj]
            return Response(200, {"id": obj, "published": photo["published"]})
        self._need(req, "page", "pages_read_engagement")
        specs = self._parse_fields(p.get("fields") or "id,message,created_time")
        with self.lock:
            return Response(200, self._render_post(self._post(obj), specs))

    def _multi_read(self, req: Request) -> Response:
        p = self._params(req, {"ids", "fields"}, ("ids",))
        self._need(req, "page", "pages_read_engagement")
        ids = [i for i in str(p["ids"]).split(",") if i]
        if len(ids) > self.MAX_IDS:
            raise _GraphError(100, f"(#100) Too many IDs. Maximum: {self.MAX_IDS}")
        specs = self._parse_fields(p.get("fields") or "id")
        with self.lock:
            missing = [i for i in ids if i not in self.posts]
            if missing:
                raise _GraphError(
                    803,
                    f"(#803) Some of the aliases you requested do not exist: {','.join(missing)}",
                )
            return Response(200, {i: self._render_post(self.posts[i], specs) for i in ids})

    def _batch(self, req: Request) -> Response:
        p = self._params(req, {"batch", "include_headers"}, ("batch",))
        try:
            items = json.loads(p["batch"]) if isinstance(p["batch"], str) else p["batch"]
            assert isinstance(items, list)
        except (ValueError, AssertionError) as e:
            raise _GraphError(100, "(#100) The parameter batch must be a JSON array") from e
        if len(items) > self.MAX_IDS:
            raise _GraphError(
                100,
                f"(#100) Too many requests in batch message. Maximum batch size is {self.MAX_IDS}",
            )
        out = []
        for item in items:
            rel = urlsplit("/" + str(item.get("relative_url", "")).lstrip("/"))
            query = {k: v[-1] for k, v in parse_qs(rel.query, keep_blank_values=True).items()}
            path = (
                rel.path
                if re.match(r"/v[0-9]+\.[0-9]+", rel.path)
                else f"/{req.params['version']}{rel.path}"
            )
            sub = Request(
                str(item.get("method", "GET")).upper(),
                path.rstrip("/") or "/",
                query,
                {"authorization": req.headers.get("authorization", "")},
                b"",
            )
            if "access_token" in req.values() and "access_token" not in query:
                sub.query["access_token"] = req.values()["access_token"]
            resp = self._route(sub)
            out.append(
                {
                    "code": resp.status,
                    "headers": [{"name": k, "value": v} for k, v in resp.headers.items()],
                    "body": json.dumps(resp.body, ensure_ascii=False),
                }
            )
        return Response(200, out)

    def _parse_fields(self, spec: str) -> list[tuple[str, dict[str, str]]]:
        out = []
        for part in _split_top(str(spec)):
            m = _FIELD_RE.match(part)
            if not m or m.group("name") not in self.POST_FIELDS:
                raise _GraphError(
                    100,
                    f"(#100) Tried accessing nonexisting field ({part}) on node type (PagePost)",
                )
            mods = dict(_MOD_RE.findall(m.group("mods")))
            if m.group("name") == "insights":
                metrics = [x.strip() for x in mods.get("metric", "").split(",") if x.strip()]
                for metric in metrics:
                    if metric not in self.POST_METRICS:
                        msg = "(#100) The value must be a valid insights metric"
                        raise _GraphError(
                            100, msg + (f": {metric}" if self.name_invalid_metric else "")
                        )
                if metrics and "read_insights" not in self.scopes:
                    raise _GraphError(10, "(#10) Requires read_insights permission")
            out.append((m.group("name"), mods))
        return out

    def _metric(self, pid: str, name: str) -> Any:
        """A reach value that grows on every read unless a test pinned it."""
        values = self.reach.setdefault(pid, {})
        base = values.get(
            name, {} if name.endswith("_by_type_total") or name.endswith("_by_type") else 0
        )
        if (pid, name) not in self.pinned:
            if isinstance(base, dict):
                key = "like" if "reactions" in name else "link clicks"
                base = {**base, key: base.get(key, 0) + self.rng.randint(0, 2)}
            else:
                base = base + self.rng.randint(0, 40 if "view" in name else 3)
            values[name] = base
        return base

    def _render_post(
        self, post: dict[str, Any], specs: list[tuple[str, dict[str, str]]]
    ) -> dict[str, Any]:
        pid, out = post["id"], {}
        for name, mods in specs:
            if name in ("id", "message", "permalink_url"):
                if post.get(name) is not None:
                    out[name] = post[name]
            elif name in ("created_time", "updated_time"):
                out[name] = self._iso(post["created" if name == "created_time" else "updated"])
            elif name == "is_published":
                out[name] = True
            elif name == "from":
                out[name] = {"id": self.PAGE_ID, "name": self.PAGE_NAME}
            elif name == "status_type":
                out[name] = (
                    "added_photos"
                    if post["media"]
                    else "shared_story"
                    if post["link"]
                    else "mobile_status_update"
                )
            elif name == "shares":
                count = self._metric(pid, "shares")
                if count:  # Graph omits shares of a post nobody shared
                    out[name] = {"count": count}
            elif name in ("reactions", "comments"):
                edge: dict[str, Any] = {"data": []}
                if "summary" in mods:
                    edge["summary"] = {"total_count": self._metric(pid, name)}
                out[name] = edge
            elif name == "insights":
                metrics = [
                    x.strip() for x in mods.get("metric", "").split(",") if x.strip()
                ] or list(self.POST_METRICS)
                out[name] = {
                    "data": [
                        {
                            "name": m,
                            "period": "lifetime",
                            "values": [{"value": self._metric(pid, m)}],
                            "title": m,
                            "description": m,
                            "id": f"{pid}/insights/{m}/lifetime",
                        }
                        for m in metrics
                    ]
                }
        return out

    # ----- accounts and tokens ---------------------------------------------------------------
    def _me(self, req: Request) -> Response:
        self._params(req, {"fields"})
        if req.params.get("token") == "page":
            return Response(200, {"id": self.PAGE_ID, "name": self.PAGE_NAME})
        if req.params.get("token") == "user":
            return Response(200, {"id": self.USER_ID, "name": "Cán bộ quản trị (sandbox)"})
        raise _GraphError(
            2500, "An active access token must be used to query information about the current user."
        )

    def _accounts(self, req: Request) -> Response:
        self._params(req, {"fields", "limit"})
        self._need(req, "user", "pages_show_list")
        return Response(
            200,
            {
                "data": [
                    {
                        "access_token": self.PAGE_TOKEN,
                        "category": "Government organization",
                        "name": self.PAGE_NAME,
                        "id": self.PAGE_ID,
                        "tasks": [
                            "ADVERTISE",
                            "ANALYZE",
                            "CREATE_CONTENT",
                            "MESSAGING",
                            "MODERATE",
                            "MANAGE",
                        ],
                    }
                ],
                "paging": {"cursors": {"before": "QVFI", "after": "QVFI"}},
            },
        )

    def _exchange(self, req: Request) -> Response:
        p = self._params(
            req,
            {"grant_type", "client_id", "client_secret", "fb_exchange_token"},
            ("grant_type", "client_id", "client_secret", "fb_exchange_token"),
        )
        if p["grant_type"] != "fb_exchange_token":
            raise _GraphError(100, "(#100) Unsupported grant_type")
        if p["client_id"] != self.APP_ID or p["client_secret"] != self.APP_SECRET:
            raise _GraphError(
                101, "Error validating application. Invalid application ID or client secret."
            )
        if p["fb_exchange_token"] not in (self.USER_TOKEN, self.LONG_USER_TOKEN):
            raise _GraphError(190, "Invalid OAuth access token - Cannot parse access token")
        return Response(
            200,
            {
                "access_token": self.LONG_USER_TOKEN,
                "token_type": "bearer",
                "expires_in": 60 * 24 * 3600,
            },
        )

    def _debug_token(self, req: Request) -> Response:
        p = self._params(req, {"input_token"}, ("input_token",))
        if req.params.get("token") != "app":
            raise _GraphError(
                100,
                "(#100) You must provide an app access token, or a user access token "
                "that is an owner or developer of the app",
            )
        token, now = p["input_token"], int(self.now())
        data: dict[str, Any] = {
            "app_id": self.APP_ID,
            "application": "Loa",
            "issued_at": now - 86400,
            "scopes": sorted(self.scopes),
        }
        if token == self.PAGE_TOKEN:
            data.update(
                type="PAGE",
                profile_id=self.PAGE_ID,
                user_id=self.USER_ID,
                expires_at=0,
                data_access_expires_at=now + 90 * 86400,
                is_valid=not self.token_expired,
            )
            if self.token_expired:
                data["error"] = {
                    "code": 190,
                    "subcode": 463,
                    "message": "Session has been invalidated.",
                }
        elif token in (self.USER_TOKEN, self.LONG_USER_TOKEN):
            life = 2 * 3600 if token == self.USER_TOKEN else 60 * 86400
            data.update(
                type="USER",
                user_id=self.USER_ID,
                expires_at=now + life,
                data_access_expires_at=now + 90 * 86400,
                is_valid=True,
            )
        else:
            data = {
                "error": {"code": 190, "message": "Invalid OAuth access token."},
                "is_valid": False,
                "scopes": [],
            }
        return Response(200, {"data": data})


def main() -> None:  # pragma: no cover - manual use
    """Serve the sandbox on port 8766 until interrupted."""
    sb = FacebookSandbox(port=8766)
    print(f"Facebook sandbox at {sb.start()} (page {sb.PAGE_ID}, token {sb.PAGE_TOKEN})")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sb.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
