"""Signing in and out: the login form, throttling, the session cookie."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.web import texts
from bot.web.passwords import verify_password
from bot.web.security import new_token, same_origin, token_hash, tokens_match
from bot.web.site import COOKIE, Forbidden, site_of

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


async def login(request: Request) -> Response:
    site = site_of(request)
    web = site.loa.settings.web
    if not same_origin(request.headers.get("origin"), site.origins):
        return site.refusal(None, texts.BAD_ORIGIN)
    form = await request.form(max_files=0, max_fields=10)
    if not tokens_match(request.cookies.get(LOGIN_COOKIE), str(form.get("csrf") or "")):
        return _login_page(request, texts.BAD_CSRF, 403)
    client = _client(request)
    if site.throttle.blocked(client):
        return _login_page(request, texts.LOGIN_THROTTLED, 429)
    name = str(form.get("username") or "").strip()[:100]
    password = str(form.get("password") or "")
    user = await run_in_threadpool(site.loa.store.users.find_user, name) if name else None
    ok, rehash = await run_in_threadpool(
        verify_password, user.password_hash if user else None, password
    )
    now = datetime.now(UTC)
    if user is not None and user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        return _login_page(request, texts.LOGIN_LOCKED.format(minutes=minutes), 429)
    if not ok or user is None or user.disabled:
        site.throttle.failed(client)
        if user is not None:
            await run_in_threadpool(
                site.loa.store.users.record_login_failure,
                user.id,
                lock_after=web.login_lock_after,
                lock_for=timedelta(minutes=web.login_lock_minutes),
                client=client,
            )
        return _login_page(request, texts.LOGIN_FAILED, 401)
    await run_in_threadpool(site.loa.store.users.record_login_success, user.id, rehash)
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
