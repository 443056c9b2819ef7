"""Signing in and out: the login form, throttling, the session cookie."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.settings import WebSettings
from bot.web import texts
from bot.web.passwords import verify_password
from bot.web.security import new_token, same_origin, token_hash, tokens_match
from bot.web.site import COOKIE, Forbidden, Site, site_of
from content_queue.login_attempts import LoginRules, Reservation
from content_queue.users import WebUser

__all__ = ["routes"]

LOGIN_COOKIE = "loa_login"


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _safe_next(root: str, target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a full URL) is followed after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target if target.startswith(root + "/") or not root else root + target
    return f"{root}/lich"


async def login_form(request: Request) -> Response:
    site = site_of(request)
    if await site.session(request) is not None:
        return RedirectResponse(f"{site.root}/lich", status_code=303)
    return _login_page(request, "", 200)


def _login_page(request: Request, error: str, status: int) -> Response:
    site = site_of(request)
    token = new_token()
    response = site.page(
        "login.html",
        None,
        status=status,
        error=error,
        login_csrf=token,
        next=request.query_params.get("next", ""),
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=site.secure,
        path=site.root or "/",
    )
    return response


def login_rules(web: WebSettings) -> LoginRules:
    """The configured bounds on login tries (``[web] login_*``)."""
    return LoginRules(
        address_limit=web.login_address_limit,
        address_window=timedelta(minutes=web.login_address_window_minutes),
        free_failures=web.login_free_attempts,
        first_delay=timedelta(seconds=web.login_delay_seconds),
        max_delay=timedelta(minutes=web.login_delay_max_minutes),
        forget_after=timedelta(minutes=web.login_forget_minutes),
    )


def address_key(host: str) -> str:
    """The address a login is counted against: an IPv4 address, or an IPv6 address's /64 (one
    machine usually holds a whole /64)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host[:60]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if isinstance(ip, ipaddress.IPv6Address) else str(ip)


def _wait_vi(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, math.ceil(seconds))} giây"
    return f"{math.ceil(seconds / 60)} phút"


@dataclass(frozen=True)
class _Outcome:
    reservation: Reservation
    user: WebUser | None = None
    ok: bool = False


def _check(site: Site, client: str, name: str, password: str) -> _Outcome:
    """Reserve the try (in the database), then and only then check the password (Argon2; a
    dummy hash for an unknown name, so both cost the same time)."""
    store = site.loa.store
    reservation = store.login_attempts.reserve(
        address_key(client), name, login_rules(site.loa.settings.web)
    )
    if not reservation.granted:
        return _Outcome(reservation)
    user = store.users.find_user(name) if name else None
    ok, rehash = verify_password(user.password_hash if user else None, password)
    if ok and user is not None and not user.disabled:
        store.login_attempts.succeeded(reservation)
        store.users.record_login_success(user.id, rehash)
        return _Outcome(reservation, user, True)
    if user is not None:
        store.users.record_login_failure(user.id, client=client)
    return _Outcome(reservation, user, False)


async def login(request: Request) -> Response:
    site = site_of(request)
    web = site.loa.settings.web
    if not same_origin(request.headers.get("origin"), site.origins):
        return site.refusal(None, texts.BAD_ORIGIN)
    form = await request.form(max_files=0, max_fields=10)
    if not tokens_match(request.cookies.get(LOGIN_COOKIE), str(form.get("csrf") or "")):
        return _login_page(request, texts.BAD_CSRF, 403)
    client = _client(request)
    name = str(form.get("username") or "").strip()[:100]
    password = str(form.get("password") or "")
    if not await site.hash_slot():
        return _refused(request, texts.BUSY, 2.0)
    try:
        outcome = await run_in_threadpool(_check, site, client, name, password)
    finally:
        site.hash_slots.release()
    reservation = outcome.reservation
    if not reservation.granted:
        wait = reservation.retry_after
        if reservation.refused == "account":
            return _refused(request, texts.LOGIN_WAIT.format(wait=_wait_vi(wait)), wait)
        if reservation.refused == "address":
            return _refused(request, texts.LOGIN_THROTTLED.format(wait=_wait_vi(wait)), wait)
        return _refused(request, texts.BUSY, wait)
    user = outcome.user
    if not outcome.ok or user is None:
        return _login_page(request, texts.LOGIN_FAILED, 401)
    token = new_token()
    await run_in_threadpool(
        site.loa.store.users.open_session,
        user,
        token_hash(token),
        new_token(),
        timedelta(hours=web.session_hours),
        client,
    )
    response = RedirectResponse(_safe_next(site.root, str(form.get("next") or "")), status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(web.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=site.secure,
        path=site.root or "/",
    )
    response.delete_cookie(LOGIN_COOKIE, path=site.root or "/")
    return response


def _refused(request: Request, message: str, retry_after: float) -> Response:
    response = _login_page(request, message, 429)
    response.headers["retry-after"] = str(max(1, math.ceil(retry_after)))
    return response


async def logout(request: Request) -> Response:
    site = site_of(request)
    sess = await site.session(request)
    if sess is not None:
        try:
            await site.form(request, sess, "viewer")
        except Forbidden as exc:
            return site.refusal(sess, str(exc))
        await run_in_threadpool(
            site.loa.store.users.delete_session, token_hash(request.cookies.get(COOKIE, ""))
        )
    response = RedirectResponse(f"{site.root}/dang-nhap", status_code=303)
    response.delete_cookie(COOKIE, path=site.root or "/")
    return response


routes = [
    Route("/dang-nhap", login_form, methods=["GET"]),
    Route("/dang-nhap", login, methods=["POST"]),
    Route("/dang-xuat", logout, methods=["POST"]),
]
