"""A local Zalo Official Account: OAuth v4 with single-use refresh tokens, and the article API.

Facts it honours: ``../shared/contracts/zalo.md``. One server answers both bases (``oauth_url``
and ``api_url`` point at it). Every API answer is HTTP 200 with ``{"error": <0 or negative>,
"message": ...}``; OAuth failures carry ``error``, ``error_name``, ``error_reason`` and
``error_description``. ``expires_in`` is a string. Creation is asynchronous: ``verify`` answers
"processing" (:attr:`ZaloSandbox.E_PROCESSING`) for the first :attr:`verify_pending_calls` calls
of a token. Articles are hidden unless ``status: "show"`` is sent. Image URLs are fetched over
HTTP and must be jpg/png (magic bytes) of at most 1 MB.

Test helpers: :attr:`access_ttl`, :meth:`expire_access_tokens`, :meth:`expire_refresh_tokens`,
:meth:`set_stats`, :meth:`add_article`, :attr:`live_refresh_token`. Platform fault kinds (besides
the generic ones of :class:`SandboxServer`): ``throttle`` (-32), ``token_invalid`` (-216),
``token_expired`` (-220), ``quota`` (-211), ``oa_disabled`` (-204), ``oa_missing`` (-205),
``package`` (-224), ``proof`` (-242), ``processing`` (-214), ``refresh_refused`` (the OAuth
refusal of a refresh token), ``error:CODE``; and ``rotate_then_drop``: the refresh is performed
(the old refresh token dies) and the connection is closed without an answer — the instant in
which a rotated token is lost.

Broadcast (``POST /v2.0/oa/message``, a ``media`` template of 1 to 5 shown articles): the
followers that ``recipient.target`` selects (``gender``, ``ages``, ``cities``/``locations``,
``platform``: comma-separated codes) receive it unless they already got
:attr:`ZaloSandbox.broadcast_quota` broadcasts this month or one today (sandbox clock, see
:meth:`advance`); when nobody is left, the answer is -211 (out of quota). An accepted broadcast is
``reviewing`` (``data.status``) for :attr:`review_seconds`, then ``sent``
(:meth:`broadcast_state`). ``GET /v2.0/oa/getoa`` gives the follower count (``num_follower``).

Error codes marked *unverified* in the contract (-214 in progress, the OAuth ``-140xx`` codes)
are class constants, so a test or a later fact can change them in one place.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import html
import itertools
import secrets
import time
import urllib.request
from collections import deque
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from channels.sandbox.base import Request, Response, SandboxServer
from channels.sandbox.citizens import ZaloInbox

__all__ = ["ZaloSandbox"]

_JPEG, _PNG = b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"
_ARTICLE_KEYS = {"type", "title", "author", "cover", "description", "body", "status", "comment"}
_BLOCK_KEYS = {"text": {"type", "content"}, "image": {"type", "url", "caption"}}


class _ZaloError(Exception):
    """Abort a handler with a Zalo error object (always HTTP 200)."""

    def __init__(self, code: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.code, self.message, self.headers = code, message, headers or {}


class _OAuthError(Exception):
    def __init__(self, code: int, name: str, reason: str):
        super().__init__(reason)
        self.code, self.name, self.reason = code, name, reason


class ZaloSandbox(SandboxServer):
    """Zalo OA sandbox for the app :attr:`APP_ID`, first authorised with :attr:`INITIAL_REFRESH_TOKEN`."""

    name = "zalo"
    APP_ID = "sandbox-zalo-app"
    APP_SECRET = "sandbox-zalo-secret"
    INITIAL_REFRESH_TOKEN = "sandbox-zalo-refresh-0"
    OA_ID = "4318000000000000001"
    OA_NAME = "Sở Ngoại vụ tỉnh Lạng Sơn (sandbox)"
    ACCESS_TTL = 90000  # 25 hours
    REFRESH_TTL = 90 * 86400  # about 3 months
    CODE_TTL = 600
    TITLE_MAX, AUTHOR_MAX, DESCRIPTION_MAX = 150, 50, 300
    IMAGE_MAX_BYTES = 1024 * 1024
    SLICE_MAX = 50  # *(unverified)* largest getslice page
    # API error codes (contract table); -214 "in progress" is unverified.
    E_RATE, E_PARAM, E_OA_DISABLED, E_OA_MISSING, E_QUOTA = -32, -201, -204, -205, -211
    E_PROCESSING, E_TOKEN_INVALID, E_TOKEN_EXPIRED, E_PACKAGE, E_PROOF = (
        -214,
        -216,
        -220,
        -224,
        -242,
    )
    # OAuth v4 error codes *(unverified)*.
    OAUTH_INVALID_PARAM = -14001
    OAUTH_INVALID_APP = -14002
    OAUTH_INVALID_SECRET = -14003
    OAUTH_INVALID_CODE = -14005
    OAUTH_INVALID_REFRESH = -14014
    OAUTH_INVALID_VERIFIER = -14016

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seed: int | None = None,
        access_ttl: float = ACCESS_TTL,
        verify_pending_calls: int = 1,
        rate_limit_per_minute: int = 4000,
        refresh_error_code: int | None = None,
        require_https_images: bool = False,
        followers: int = 1234,
        broadcast_quota: int = 4,
        review_seconds: float = 1800.0,
    ):
        super().__init__(host, port, seed=seed)
        self.clock_offset = 0.0
        self.broadcast_quota = broadcast_quota  # per follower per month (verified OA: 4)
        self.review_seconds = review_seconds
        self.followers: list[dict[str, Any]] = []
        self.set_followers(followers)
        self.broadcasts: dict[str, dict[str, Any]] = {}  # message id → broadcast
        self.access_ttl = access_ttl
        self.verify_pending_calls = verify_pending_calls
        self.rate_limit_per_minute = rate_limit_per_minute
        self.refresh_error_code = refresh_error_code or self.OAUTH_INVALID_REFRESH
        self.require_https_images = require_https_images
        self.access_tokens: dict[str, float] = {}  # token → expiry (epoch seconds)
        # refresh token → {"expires": epoch, "spent": bool}
        self.refresh_tokens: dict[str, dict[str, Any]] = {
            self.INITIAL_REFRESH_TOKEN: {"expires": time.time() + self.REFRESH_TTL, "spent": False}
        }
        self.media: dict[str, dict[str, Any]] = {}  # article id → article (creation order)
        self._create_tokens: dict[str, dict[str, Any]] = {}  # create/update token → {"id", "calls"}
        self._codes: dict[str, dict[str, Any]] = {}
        self._calls: dict[str, deque[float]] = {}
        self._seq = itertools.count(1)
        for method, path, handler in [
            ("POST", "/v2.0/article/create", self._create),
            ("POST", "/v2.0/article/update", self._update),
            ("POST", "/v2.0/article/verify", self._verify),
            ("POST", "/v2.0/article/remove", self._remove),
            ("GET", "/v2.0/article/getdetail", self._detail),
            ("GET", "/v2.0/article/getslice", self._slice),
            ("GET", "/v2.0/oa/getoa", self._getoa),
            ("POST", "/v2.0/oa/message", self._broadcast),
            ("POST", "/v3.0/oa/message/cs", self._cs),
        ]:
            self.route(method, path, self._api(handler))
        self.route("POST", "/v4/oa/access_token", self._oauth(self._access_token))
        self.route("GET", "/v4/oa/permission", self._permission)
        self.route("GET", r"/a/(?P<id>[0-9a-f]+)", self._article_page)

        self.inbox = ZaloInbox(self)  # citizens who write to the OA, and what they received

    def _cs(self, req: Request) -> Response:
        return self.inbox.handle_cs(req, _ZaloError)  # type: ignore[no-any-return]

    # ----- test helpers ----------------------------------------------------------------------
    def now(self) -> float:
        """The sandbox clock of broadcasts (real time plus :meth:`advance`)."""
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the broadcast clock forward (monthly and daily quotas, the review delay)."""
        with self.lock:
            self.clock_offset += seconds

    def set_followers(self, count: int) -> None:
        """``count`` followers with spread-out gender, age group, city and platform codes."""
        with self.lock:
            have = len(self.followers)
            del self.followers[count:]
            for i in range(have, count):
                self.followers.append(
                    {
                        "id": f"f{i}",
                        "gender": str(1 + i % 2),
                        "ages": str(i % 7),
                        "cities": ("4", "5", "29", "1")[i % 4],
                        "platform": str(1 + i % 3),
                        "received": [],
                    }
                )

    def broadcast_state(self, message_id: str) -> str:
        """``reviewing`` until the review delay has passed, then ``sent``."""
        with self.lock:
            b = self.broadcasts[message_id]
            return "sent" if self.now() >= b["at"] + self.review_seconds else "reviewing"

    def expire_access_tokens(self) -> None:
        """Every access token issued so far expires now (-220 from then on)."""
        with self.lock:
            now = time.time()
            for token in self.access_tokens:
                self.access_tokens[token] = min(self.access_tokens[token], now - 1)

    def expire_refresh_tokens(self) -> None:
        """Every live refresh token expires now, as after three months without a refresh."""
        with self.lock:
            for state in self.refresh_tokens.values():
                state["expires"] = time.time() - 1

    @property
    def live_refresh_token(self) -> str | None:
        """The refresh token that would work now (None once it was lost or expired)."""
        with self.lock:
            now = time.time()
            live = [
                t for t, s in self.refresh_tokens.items() if not s["spent"] and s["expires"] > now
            ]
        return live[-1] if live else None

    def valid_access_token(self, token: str) -> bool:
        with self.lock:
            return self.access_tokens.get(token, 0) > time.time()

    def set_stats(
        self, article_id: str, *, views: int | None = None, shares: int | None = None
    ) -> None:
        with self.lock:
            article = self.media[article_id]
            if views is not None:
                article["total_view"] = views
            if shares is not None:
                article["total_share"] = shares

    def add_article(
        self, title: str, *, create_date: float | None = None, status: str = "show"
    ) -> str:
        """An article created elsewhere (by a person in the OA manager); returns its id."""
        with self.lock:
            return self._store_article(
                {
                    "type": "normal",
                    "title": title,
                    "author": "",
                    "body": [],
                    "description": "",
                    "status": status,
                },
                create_date,
            )

    def inject(self, kind: str, **kwargs: Any) -> None:
        """As :meth:`SandboxServer.inject`; ``rotate_then_drop`` = ``drop_after`` on the token URL."""
        if kind == "rotate_then_drop":
            kind = "drop_after"
            kwargs.setdefault("path", r"^/v4/oa/access_token$")
        super().inject(kind, **kwargs)

    # ----- faults and errors -----------------------------------------------------------------
    def platform_fault(self, kind: str, req: Request) -> Response:
        if kind.startswith("http_"):
            return Response(int(kind[5:]), {"error": -1, "message": "Internal server error"})
        if kind == "refresh_refused":
            return self._oauth_error(
                _OAuthError(self.refresh_error_code, "Invalid parameter", "Invalid refresh token")
            )
        codes = {
            "throttle": self.E_RATE,
            "token_invalid": self.E_TOKEN_INVALID,
            "token_expired": self.E_TOKEN_EXPIRED,
            "quota": self.E_QUOTA,
            "oa_disabled": self.E_OA_DISABLED,
            "oa_missing": self.E_OA_MISSING,
            "package": self.E_PACKAGE,
            "proof": self.E_PROOF,
            "processing": self.E_PROCESSING,
        }
        if kind.startswith("error:"):
            code = int(kind[6:])
        elif kind in codes:
            code = codes[kind]
        else:
            raise ValueError(f"zalo sandbox: unknown fault kind {kind!r}")
        headers = {}
        if code == self.E_RATE:
            headers = {
                "X-RateLimit-Limit": str(self.rate_limit_per_minute),
                "X-RateLimit-Remain": "0",
            }
        return Response(200, {"error": code, "message": self._MESSAGES.get(code, "Error")}, headers)

    _MESSAGES = {
        -32: "Exceed rate limit",
        -201: "Parameters are invalid",
        -204: "Official Account is disabled",
        -205: "Official Account does not exist",
        -211: "Out of quota",
        -214: "Article is being processed",
        -216: "Access token is invalid",
        -220: "Access token has expired or has been removed",
        -224: "The OA has not registered a package that includes this API",
        -242: "appsecret_proof is invalid",
    }

    def not_found(self, req: Request) -> Response:
        return Response(404, {"error": -404, "message": f"Unknown API {req.method} {req.path}"})

    def _api(self, handler: Any) -> Any:
        def wrapped(req: Request) -> Response:
            headers: dict[str, str] = {}
            try:
                headers = self._authorise(req)
                resp = handler(req)
            except _ZaloError as e:
                resp = Response(200, {"error": e.code, "message": e.message})
                headers.update(e.headers)
            resp.headers.update(headers)
            return resp

        return wrapped

    def _authorise(self, req: Request) -> dict[str, str]:
        """Check the ``access_token`` header (and ``appsecret_proof``); count the call."""
        token = req.headers.get("access_token", "")
        with self.lock:
            expiry = self.access_tokens.get(token)
            if expiry is None:
                raise _ZaloError(self.E_TOKEN_INVALID, self._MESSAGES[self.E_TOKEN_INVALID])
            if expiry <= time.time():
                raise _ZaloError(self.E_TOKEN_EXPIRED, self._MESSAGES[self.E_TOKEN_EXPIRED])
            proof = req.headers.get("appsecret_proof")
            if proof is not None:
                expected = hmac.new(
                    self.APP_SECRET.encode(), token.encode(), hashlib.sha256
                ).hexdigest()
                if not hmac.compare_digest(proof, expected):
                    raise _ZaloError(self.E_PROOF, self._MESSAGES[self.E_PROOF])
            calls = self._calls.setdefault(token, deque())
            now = time.time()
            while calls and calls[0] <= now - 60:
                calls.popleft()
            remain = self.rate_limit_per_minute - len(calls)
            headers = {
                "X-RateLimit-Limit": str(self.rate_limit_per_minute),
                "X-RateLimit-Remain": str(max(remain - 1, 0)),
            }
            if remain <= 0:
                raise _ZaloError(self.E_RATE, self._MESSAGES[self.E_RATE], headers)
            calls.append(now)
        return headers

    @classmethod
    def _bad(cls, name: str, why: str = "") -> _ZaloError:
        return _ZaloError(cls.E_PARAM, f"Invalid parameter: {name}" + (f" ({why})" if why else ""))

    # ----- OAuth v4 --------------------------------------------------------------------------
    def _oauth(self, handler: Any) -> Any:
        def wrapped(req: Request) -> Response:
            try:
                return handler(req)
            except _OAuthError as e:
                return self._oauth_error(e)

        return wrapped

    @staticmethod
    def _oauth_error(e: _OAuthError) -> Response:
        return Response(
            200,
            {
                "error": e.code,
                "error_name": e.name,
                "error_reason": e.reason,
                "error_description": e.reason,
                "ref_doc": "",
            },
        )

    def _permission(self, req: Request) -> Response:
        q = req.query
        for key in ("app_id", "redirect_uri", "code_challenge"):
            if not q.get(key):
                return self._oauth_error(
                    _OAuthError(self.OAUTH_INVALID_PARAM, "Invalid parameter", f"Missing {key}")
                )
        if q["app_id"] != self.APP_ID:
            return self._oauth_error(
                _OAuthError(self.OAUTH_INVALID_APP, "Invalid app", "Invalid app_id")
            )
        code = "sandbox-zalo-code-" + secrets.token_hex(8)
        with self.lock:
            self._codes[code] = {
                "challenge": q["code_challenge"],
                "expires": time.time() + self.CODE_TTL,
            }
            self.record("consents", {"redirect_uri": q["redirect_uri"], "state": q.get("state")})
        params = {
            "code": code,
            "oa_id": self.OA_ID,
            "state": q.get("state", ""),
            "code_challenge": q["code_challenge"],
        }
        sep = "&" if "?" in q["redirect_uri"] else "?"
        return Response(302, params, {"Location": q["redirect_uri"] + sep + urlencode(params)})

    def _access_token(self, req: Request) -> Response:
        if req.content_type != "application/x-www-form-urlencoded":
            raise _OAuthError(self.OAUTH_INVALID_PARAM, "Invalid parameter", "Expected a form body")
        form = req.form
        grant = form.get("grant_type")
        if grant not in ("refresh_token", "authorization_code"):
            raise _OAuthError(self.OAUTH_INVALID_PARAM, "Invalid parameter", "Invalid grant_type")
        if form.get("app_id") != self.APP_ID:
            raise _OAuthError(self.OAUTH_INVALID_APP, "Invalid app", "Invalid app_id")
        if req.headers.get("secret_key") != self.APP_SECRET:
            raise _OAuthError(self.OAUTH_INVALID_SECRET, "Invalid secret key", "Invalid secret_key")
        with self.lock:
            if grant == "refresh_token":
                self._spend_refresh_token(form.get("refresh_token", ""))
            else:
                self._spend_code(form.get("code", ""), form.get("code_verifier", ""))
            n = next(self._seq)
            access, refresh = f"sandbox-zalo-access-{n}", f"sandbox-zalo-refresh-{n}"
            self.access_tokens[access] = time.time() + self.access_ttl
            self.refresh_tokens[refresh] = {
                "expires": time.time() + self.REFRESH_TTL,
                "spent": False,
            }
            self.record(
                "refreshes",
                {
                    "grant_type": grant,
                    "refresh_token": form.get("refresh_token"),
                    "ok": True,
                    "new_refresh_token": refresh,
                },
            )
        return Response(
            200,
            {
                "access_token": access,
                "refresh_token": refresh,
                "expires_in": str(int(self.access_ttl)),
            },
        )

    def _spend_refresh_token(self, token: str) -> None:
        state = self.refresh_tokens.get(token)
        why = (
            "unknown"
            if state is None
            else "spent"
            if state["spent"]
            else "expired"
            if state["expires"] <= time.time()
            else None
        )
        if why:
            self.record(
                "refreshes",
                {"grant_type": "refresh_token", "refresh_token": token, "ok": False, "reason": why},
            )
            raise _OAuthError(self.refresh_error_code, "Invalid parameter", "Invalid refresh token")
        assert state is not None
        state["spent"] = True  # single use: dead from this instant, whether or not we answer

    def _spend_code(self, code: str, verifier: str) -> None:
        grant = self._codes.pop(code, None)
        if grant is None or grant["expires"] <= time.time():
            raise _OAuthError(
                self.OAUTH_INVALID_CODE, "Invalid parameter", "Invalid authorization code"
            )
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(
            b"="
        )
        if challenge.decode() != grant["challenge"]:
            raise _OAuthError(
                self.OAUTH_INVALID_VERIFIER, "Invalid parameter", "Invalid code_verifier"
            )

    # ----- articles --------------------------------------------------------------------------
    def _json_body(self, req: Request) -> dict[str, Any]:
        body = req.json()
        if req.content_type != "application/json" or not isinstance(body, dict):
            raise self._bad("body", "expected a JSON object")
        return body

    def _fetch_image(self, url: Any, name: str) -> None:
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise self._bad(name, "expected an image URL")
        if self.require_https_images and not url.startswith("https://"):
            raise self._bad(name, "image URL must be https")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - sandbox fetches test URLs
                data = r.read(self.IMAGE_MAX_BYTES + 1)
        except (OSError, ValueError) as e:
            raise self._bad(name, "image cannot be downloaded") from e
        if len(data) > self.IMAGE_MAX_BYTES:
            raise self._bad(name, "image larger than 1 MB")
        if not data.startswith((_JPEG, _PNG)):
            raise self._bad(name, "image must be jpg or png")

    def _article_fields(
        self, body: dict[str, Any], extra_keys: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        """The validated create/update body (images fetched), or -201 naming the parameter."""
        for key in body:
            if key not in _ARTICLE_KEYS | extra_keys:
                raise self._bad(key, "unknown parameter")
        if body.get("type") != "normal":
            raise self._bad("type", "this sandbox serves normal articles")
        for key, limit in (
            ("title", self.TITLE_MAX),
            ("author", self.AUTHOR_MAX),
            ("description", self.DESCRIPTION_MAX),
        ):
            value = body.get(key)
            # Zalo's servers count UTF-16 code units, as Java strings do.
            if (
                not isinstance(value, str)
                or not value.strip()
                or len(value.encode("utf-16-le")) // 2 > limit
            ):
                raise self._bad(key, f"required text of at most {limit} characters")
        cover = body.get("cover")
        if not isinstance(cover, dict) or set(cover) - {"cover_type", "photo_url", "status"}:
            raise self._bad("cover")
        if cover.get("cover_type") != "photo":
            raise self._bad("cover.cover_type")
        if cover.get("status", "show") not in ("show", "hide"):
            raise self._bad("cover.status")
        self._fetch_image(cover.get("photo_url"), "cover.photo_url")
        blocks = body.get("body")
        if not isinstance(blocks, list) or not blocks:
            raise self._bad("body", "a non-empty list of blocks")
        for i, block in enumerate(blocks):
            kind = block.get("type") if isinstance(block, dict) else None
            if kind not in _BLOCK_KEYS or set(block) - _BLOCK_KEYS[kind]:
                raise self._bad(f"body[{i}]")
            if kind == "text" and (
                not isinstance(block.get("content"), str) or not block["content"].strip()
            ):
                raise self._bad(f"body[{i}].content")
            if kind == "image":
                self._fetch_image(block.get("url"), f"body[{i}].url")
        for key in ("status", "comment"):
            if key in body and body[key] not in ("show", "hide"):
                raise self._bad(key, "show or hide")
        fields = {k: body[k] for k in _ARTICLE_KEYS if k in body}
        fields.setdefault("status", "hide")  # Zalo hides an article unless told to show it
        fields.setdefault("comment", "show")
        return fields

    def _store_article(self, fields: dict[str, Any], create_date: float | None = None) -> str:
        article_id = secrets.token_hex(16)
        now_ms = int((create_date if create_date is not None else time.time()) * 1000)
        self.media[article_id] = {
            **fields,
            "id": article_id,
            "create_date": now_ms,
            "update_date": now_ms,
            "total_view": 0,
            "total_share": 0,
            "link_view": f"{self.url}/a/{article_id}",
        }
        return article_id

    def _issue_token(self, article_id: str) -> str:
        token = secrets.token_hex(20)
        self._create_tokens[token] = {"id": article_id, "calls": 0}
        return token

    def _create(self, req: Request) -> Response:
        fields = self._article_fields(self._json_body(req))
        with self.lock:
            article_id = self._store_article(fields)
            token = self._issue_token(article_id)
            self.record("articles", {**fields, "id": article_id, "token": token})
        return Response(200, {"error": 0, "message": "Success", "data": {"token": token}})

    def _update(self, req: Request) -> Response:
        body = self._json_body(req)
        article_id = body.get("id")
        with self.lock:
            if not isinstance(article_id, str) or article_id not in self.media:
                raise self._bad("id", "no such article")
        fields = self._article_fields(body, frozenset({"id"}))
        with self.lock:
            self.media[article_id].update(fields, update_date=int(time.time() * 1000))
            token = self._issue_token(article_id)
            self.record("updates", {**fields, "id": article_id, "token": token})
        return Response(200, {"error": 0, "message": "Success", "data": {"token": token}})

    def _verify(self, req: Request) -> Response:
        body = self._json_body(req)
        if set(body) != {"token"}:
            raise self._bad("token")
        with self.lock:
            pending = self._create_tokens.get(body["token"])
            if pending is None:
                raise self._bad("token", "unknown token")
            pending["calls"] += 1
            if pending["calls"] <= self.verify_pending_calls:
                raise _ZaloError(self.E_PROCESSING, self._MESSAGES[self.E_PROCESSING])
        return Response(200, {"error": 0, "message": "Success", "data": {"id": pending["id"]}})

    def _remove(self, req: Request) -> Response:
        body = self._json_body(req)
        with self.lock:
            article = self.media.get(body.get("id", "")) if set(body) == {"id"} else None
            if article is None:
                raise self._bad("id", "no such article")
            del self.media[article["id"]]
            self.record("removed", {"id": article["id"], "title": article["title"]})
        return Response(200, {"error": 0, "message": "Success"})

    def _detail(self, req: Request) -> Response:
        with self.lock:
            article = self.media.get(req.query.get("id", ""))
            if article is None:
                raise self._bad("id", "no such article")
            return Response(200, {"error": 0, "message": "Success", "data": dict(article)})

    def _slice(self, req: Request) -> Response:
        q = req.query
        try:
            offset = int(q["offset"])
            if offset < 0:
                raise ValueError
        except (KeyError, ValueError):
            raise self._bad("offset") from None
        try:
            limit = int(q["limit"])
            if not 1 <= limit <= self.SLICE_MAX:
                raise ValueError
        except (KeyError, ValueError):
            raise self._bad("limit", f"1 to {self.SLICE_MAX}") from None
        if q.get("type") not in ("normal", "video"):
            raise self._bad("type")
        with self.lock:
            items = [a for a in reversed(self.media.values()) if a["type"] == q["type"]]
            page = [
                {
                    k: a[k]
                    for k in (
                        "id",
                        "type",
                        "title",
                        "status",
                        "total_view",
                        "total_share",
                        "create_date",
                        "update_date",
                        "link_view",
                    )
                }
                for a in items[offset : offset + limit]
            ]
        return Response(
            200, {"error": 0, "message": "Success", "data": {"medias": page, "total": len(items)}}
        )

    def _getoa(self, req: Request) -> Response:
        with self.lock:
            followers = len(self.followers)
        return Response(
            200,
            {
                "error": 0,
                "message": "Success",
                "data": {
                    "oa_id": self.OA_ID,
                    "name": self.OA_NAME,
                    "description": "Trang Zalo OA thử nghiệm",
                    "is_verified": True,
                    "num_follower": followers,
                },
            },
        )

    # ----- broadcasts ------------------------------------------------------------------------
    _TARGET_KEYS = frozenset({"ages", "gender", "locations", "cities", "platform"})

    def _broadcast_articles(self, body: dict[str, Any]) -> list[str]:
        """The article ids of a valid ``media`` template (1 to 5 shown articles), or -201."""
        message = body.get("message")
        attachment = message.get("attachment") if isinstance(message, dict) else None
        payload = attachment.get("payload") if isinstance(attachment, dict) else None
        if not isinstance(payload, dict) or payload.get("template_type") != "media":
            raise self._bad("message.attachment.payload", "a media template")
        elements = payload.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 5:
            raise self._bad("elements", "1 to 5 articles")
        ids = []
        for i, el in enumerate(elements):
            if not isinstance(el, dict) or el.get("media_type") != "article":
                raise self._bad(f"elements[{i}].media_type")
            article = self.media.get(str(el.get("attachment_id")))
            if article is None or article.get("status") != "show":
                raise self._bad(f"elements[{i}].attachment_id", "no such shown article")
            ids.append(article["id"])
        if len(set(ids)) != len(ids):
            raise self._bad("elements", "an article appears twice")
        return ids

    def _broadcast(self, req: Request) -> Response:
        body = self._json_body(req)
        recipient = body.get("recipient")
        target = recipient.get("target") if isinstance(recipient, dict) else None
        if not isinstance(target, dict) or set(target) - self._TARGET_KEYS:
            raise self._bad("recipient.target")
        wanted = {k: set(str(v).split(",")) for k, v in target.items() if str(v)}
        if "locations" in wanted:
            wanted["cities"] = wanted.pop("locations") | wanted.get("cities", set())
        with self.lock:
            ids = self._broadcast_articles(body)
            now = self.now()
            day = datetime.fromtimestamp(now, UTC)
            month_start = datetime(day.year, day.month, 1, tzinfo=UTC).timestamp()
            month_end = month_start + 86400 * calendar.monthrange(day.year, day.month)[1]
            day_start = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
            chosen = [f for f in self.followers if all(f[k] in v for k, v in wanted.items())]
            reachable = [
                f
                for f in chosen
                if sum(month_start <= t < month_end for t in f["received"]) < self.broadcast_quota
                and not any(t >= day_start for t in f["received"])
            ]
            if not reachable:
                raise _ZaloError(
                    self.E_QUOTA,
                    "Out of quota: the selected followers already "
                    "received their broadcasts for this period",
                )
            for f in reachable:
                f["received"].append(now)
            message_id = secrets.token_hex(16)
            self.broadcasts[message_id] = {
                "id": message_id,
                "articles": ids,
                "at": now,
                "recipients": len(reachable),
                "target": target,
            }
            self.record(
                "broadcasts",
                {
                    "message_id": message_id,
                    "articles": ids,
                    "recipients": len(reachable),
                    "target": target,
                },
            )
        return Response(
            200,
            {
                "error": 0,
                "message": "Success",
                "data": {"message_id": message_id, "status": "reviewing"},
            },
        )

    def _article_page(self, req: Request) -> Response:
        with self.lock:
            article = self.media.get(req.params["id"])
        if article is None or article.get("status") != "show":
            return Response(
                404,
                "<html><body>Bài viết không tồn tại</body></html>",
                content_type="text/html; charset=utf-8",
            )
        text = "".join(f"<div>{b['content']}</div>" for b in article["body"] if b["type"] == "text")
        page = f"<html><body><h1>{html.escape(article['title'])}</h1>{text}</body></html>"
        return Response(200, page, content_type="text/html; charset=utf-8")
