"""What every page shares: the Jinja environment, the signed-in user, forms and refusals."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.context import Loa
from bot.web import texts
from bot.web.previews import PreviewStore
from bot.web.read_cache import ReadCache
from bot.web.security import same_origin, token_hash, tokens_match
from bot.wording import channel_labels, delivery_state_vi, vi_number
from content_queue.models import Actor
from content_queue.users import SessionRow
from content_queue.workflow import STATE_VI

__all__ = ["COOKIE", "Forbidden", "Site", "site_of"]

log = logging.getLogger(__name__)

COOKIE = "loa_session"
_TEMPLATES = Path(__file__).parent / "templates"
_ROLE_RANK = {"viewer": 0, "editor": 1, "admin": 2}


class Forbidden(Exception):
    """The signed-in user's role does not allow the action (403, audited)."""


@dataclass
class Site:
    """The web page's wiring: Loa, templates, settings that shape cookies and links."""

    loa: Loa

    def __post_init__(self) -> None:
        # Argon2 checks at once (64 MiB each); a few tries may wait for one, the rest are refused.
        self.hash_slots = threading.BoundedSemaphore(self.loa.settings.web.login_hash_slots)
        self._waiting = 0
        self._waiting_lock = threading.Lock()
        self.cache = ReadCache(self.loa.store)
        web = self.loa.settings.web
        parts = urlsplit(web.base_url)
        self.root = parts.path.rstrip("/")
        self.previews = PreviewStore(self.loa, self.root)
        self.secure = parts.scheme == "https"
        self.origins = {
            f"{parts.scheme}://{parts.netloc}",
            f"http://{web.listen}",
            f"http://localhost:{web.port}",
        }
        self.env = Environment(
            loader=FileSystemLoader(_TEMPLATES),
            autoescape=select_autoescape(["html", "svg"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["local"] = self.local_time
        self.env.filters["day"] = lambda d: self.local_time(d, "%d/%m/%Y")
        self.env.filters["num"] = vi_number
        self.env.filters["dstate"] = delivery_state_vi
        self.channel_labels = channel_labels(self.loa.settings.parsed_channels)
        self.env.filters["channel"] = lambda name: self.channel_labels.get(name, name)
        self.env.globals.update(
            root=self.root,
            STATE_VI=STATE_VI,
            texts=texts,
            agency=self.loa.settings.agency.name,
        )

    # ----- time ------------------------------------------------------------------------------
    @property
    def tz(self) -> Any:
        return self.loa.settings.schedule.tz

    def local_time(self, when: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
        return when.astimezone(self.tz).strftime(fmt) if when else "—"

    async def hash_slot(self) -> bool:
        """Take a password-check slot (release ``hash_slots`` after); False when all are busy and
        enough tries already wait. A waiting try sleeps on the event loop, holding no thread."""
        if self.hash_slots.acquire(blocking=False):
            return True
        web = self.loa.settings.web
        with self._waiting_lock:
            if self._waiting >= web.login_hash_waiting:
                return False
            self._waiting += 1
        try:
            deadline = time.monotonic() + web.login_hash_wait_seconds
            while time.monotonic() < deadline:
                await asyncio.sleep(0.02)
                if self.hash_slots.acquire(blocking=False):
                    return True
            return False
        finally:
            with self._waiting_lock:
                self._waiting -= 1

    # ----- sessions --------------------------------------------------------------------------
    async def session(self, request: Request) -> SessionRow | None:
        token = request.cookies.get(COOKIE)
        if not token or len(token) > 200:
            return None
        web = self.loa.settings.web
        return await run_in_threadpool(
            self.loa.store.users.session_user,
            token_hash(token),
            idle=timedelta(minutes=web.idle_minutes),
        )

    def login_redirect(self, request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"{self.root}/dang-nhap?next={quote(target)}", status_code=303)

    def allowed(self, sess: SessionRow, needs: str) -> bool:
        return _ROLE_RANK.get(sess.user.role, -1) >= _ROLE_RANK[needs]

    async def form(
        self, request: Request, sess: SessionRow, needs: str, *, max_files: int = 1
    ) -> dict[str, Any]:
        """The POSTed form once origin, CSRF token and role are checked (Forbidden otherwise).

        A repeated field keeps its last value here; ``(await request.form()).getlist(name)``
        (the parsed form is kept by Starlette) gives all of them."""
        if not same_origin(request.headers.get("origin"), self.origins):
            raise Forbidden(texts.BAD_ORIGIN)
        form = await request.form(max_files=max_files, max_fields=50 + max_files)
        data = {k: v for k, v in form.multi_items()}
        if not tokens_match(sess.csrf_token, str(data.get("csrf") or "")):
            await run_in_threadpool(
                self.audit_refusal, sess.user.actor, "web_csrf_refused", request.url.path
            )
            raise Forbidden(texts.BAD_CSRF)
        if not self.allowed(sess, needs):
            await run_in_threadpool(
                self.audit_refusal, sess.user.actor, "unauthorised", request.url.path
            )
            raise Forbidden(texts.NOT_ADMIN if needs == "admin" else texts.NOT_EDITOR)
        return data

    def audit_refusal(self, actor: Actor, action: str, what: str) -> None:
        log.warning("web: refused %s by %s on %s", action, actor.name, what)
        self.loa.store.audit.record_event(actor, action, None, what=what)

    # ----- pages -----------------------------------------------------------------------------
    def page(
        self, name: str, sess: SessionRow | None, *, status: int = 200, **values: Any
    ) -> HTMLResponse:
        template = self.env.get_template(name)
        html = template.render(
            user=sess.user if sess else None,
            csrf=sess.csrf_token if sess else "",
            can_edit=bool(sess and self.allowed(sess, "editor")),
            can_admin=bool(sess and self.allowed(sess, "admin")),
            **values,
        )
        return HTMLResponse(html, status_code=status)

    def refusal(self, sess: SessionRow | None, message: str, status: int = 403) -> HTMLResponse:
        return self.page("refused.html", sess, status=status, message=message)


def site_of(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]
