"""The web application and how ``loa run`` serves it on its own event loop (uvicorn)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.context import Loa
from bot.web import (
    article_pages,
    auth_pages,
    calendar_page,
    hooks,
    intake_page,
    plan_page,
    qa_page,
    report_pages,
    texts,
)
from bot.web.security import HEADERS, BodyLimit, SecurityHeaders
from bot.web.site import Site, site_of

__all__ = ["build_app", "serve_web", "uvicorn_config"]

log = logging.getLogger(__name__)

_STATIC = Path(__file__).parent / "static"


async def _home(request: Request) -> Response:
    return RedirectResponse(f"{site_of(request).root}/lich", status_code=303)


async def _not_found(request: Request, exc: Exception) -> Response:
    site = site_of(request)
    code = exc.status_code if isinstance(exc, HTTPException) else 500
    if code == 405:
        return Response(status_code=405)
    return site.refusal(None, texts.NOT_FOUND, 404 if code == 404 else code)


async def _server_error(request: Request, exc: Exception) -> Response:
    """A failing route's page. Starlette answers it outside the middleware, so the protective
    headers are set here (uvicorn logs the traceback, masked)."""
    try:
        response: Response = site_of(request).refusal(None, texts.SERVER_ERROR, 500)
    except Exception:
        response = PlainTextResponse(texts.SERVER_ERROR, status_code=500)
    response.headers.update({**HEADERS, "cache-control": "no-store"})
    return response


def build_app(loa: Loa) -> Starlette:
    """The Starlette app of the web page, bound to ``loa``."""
    routes = [
        Route("/", _home, methods=["GET"]),
        *auth_pages.routes,
        *calendar_page.routes,
        *article_pages.routes,
        *plan_page.routes,
        *report_pages.routes,
        *intake_page.routes,
        *qa_page.routes,
        *hooks.routes,
        Mount("/static", app=StaticFiles(directory=_STATIC), name="static"),
    ]
    upload_limit = int(loa.settings.queue.max_file_mb * 1024 * 1024) + 64 * 1024
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(BodyLimit, forms=64 * 1024, uploads=upload_limit, upload_path="/nop-bai"),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={404: _not_found, 405: _not_found, Exception: _server_error},
    )
    app.state.site = Site(loa)
    app.state.site.env.globals["site_meta"] = hooks.site_meta(loa)  # Zalo's domain check
    return app


def uvicorn_config(app: Starlette) -> uvicorn.Config:
    """Uvicorn's settings for the web page. ``log_config=None``: uvicorn installs no handler of
    its own, so its error log (route errors, tracebacks) goes through the root logger's
    handlers, where Loa masks secrets (``bot.logmask``)."""
    return uvicorn.Config(
        app,
        log_config=None,
        log_level="warning",
        access_log=False,
        proxy_headers=True,
        server_header=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
        limit_concurrency=200,
    )


class _Server(uvicorn.Server):
    """Uvicorn without its own signal handlers: ``loa run`` owns SIGINT/SIGTERM and tells the
    web page to stop through the service's ``stopping`` event."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _listening_socket(host: str, port: int) -> socket.socket:
    """The web page's socket, bound here so that a busy address is an error Loa handles (uvicorn
    would exit the whole process)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


async def serve_web(loa: Loa, stopping: asyncio.Event) -> None:
    """Serve the web page until ``stopping`` is set (a task beside the scheduler and the bot).

    The page is a convenience beside the service: if its address is taken (e.g. a second
    ``loa run`` on the same host) or it fails, the service goes on posting without it.
    """
    web = loa.settings.web
    try:
        sock = _listening_socket(web.host, web.port)
    except OSError as exc:
        log.warning(
            "web page not started: cannot listen on %s (%s); the service runs on without it",
            web.listen,
            exc.strerror or exc,
        )
        return
    app = await asyncio.to_thread(build_app, loa)  # templates and reads, off the loop
    config = uvicorn_config(app)
    # Loading imports uvicorn's protocol modules: done in a thread, the loop keeps posting.
    await asyncio.to_thread(config.load)
    server = _Server(config)

    async def serve() -> None:
        try:
            await server.serve(sockets=[sock])
        except (Exception, SystemExit) as exc:  # uvicorn exits on fatal errors: keep Loa alive
            log.error("web page stopped: %s", exc)

    task = asyncio.create_task(serve())
    log.info("web page on http://%s (public address %s)", web.listen, web.base_url)
    try:
        waiter = asyncio.create_task(stopping.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
    finally:
        server.should_exit = True
        await task
        sock.close()
