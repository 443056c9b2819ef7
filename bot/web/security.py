"""Safety of the web page: session tokens, CSRF checks, login throttling, response headers.

* The session cookie holds a random token; the database keeps only its SHA-256
  (``content_queue.users``). Cookies are HttpOnly, SameSite=Lax, and Secure when ``base_url``
  is https.
* Every form carries the session's CSRF token (login forms: a double-submit cookie); a POST
  without it, or from another origin, is refused before anything is read.
* Every login try is reserved in the database before its password is checked: per address a
  limit, per account name from an address a growing delay (``content_queue.login_attempts``);
  Argon2 checks run a few at a time (``Site.hash_slots``), a try beyond them gets 429.
* Every response carries a strict Content-Security-Policy: no inline script, nothing from
  another origin, no framing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CSP",
    "HEADERS",
    "BodyLimit",
    "SecurityHeaders",
    "new_token",
    "same_origin",
    "token_hash",
    "tokens_match",
]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_match(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def same_origin(origin: str | None, allowed: set[str]) -> bool:
    """A POST's Origin header (when the browser sends one) must be the page's own origin."""
    if not origin:
        return True  # older browsers omit it; the CSRF token still protects the form
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" in allowed


class SecurityHeaders:
    """ASGI middleware adding the CSP and the other protective headers to every response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in HEADERS.items():
                    headers.setdefault(key, value)
                if not scope["path"].startswith("/static/"):
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """ASGI middleware refusing (413) a request body larger than its path allows, before any of
    it is parsed or spooled: ``uploads`` for the upload path, ``forms`` for everything else.
    A body without a declared length is counted as it streams and cut off at the limit."""

    def __init__(self, app: ASGIApp, *, forms: int, uploads: int, upload_path: str):
        self.app = app
        self.forms = forms
        self.uploads = uploads
        self.upload_path = upload_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        limit = self.uploads if scope["path"] == self.upload_path else self.forms
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(send)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    body = "Dữ liệu gửi lên quá lớn.".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                *((k.encode(), v.encode()) for k, v in HEADERS.items()),
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
