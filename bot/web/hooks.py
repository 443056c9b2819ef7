"""Citizens' webhooks: ``POST /hooks/zalo``, ``GET|POST /hooks/facebook`` (issue 23).

Store, then answer (README.md, "Citizens' questions"): the body (at most 64 KiB) is verified on its
raw bytes by the channel's adapter (signature, freshness), its events are written to the database,
and only then does the platform get its 200; if the database cannot take them within
:data:`STORE_DEADLINE` seconds the answer is 503 and the platform sends the event again (stored
once: its own id is unique). The handler never thinks: answering is the ``citizens`` job's work.
These routes need no login and no CSRF token: the platform's signature is their authentication.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.citizens import receiving_channel
from bot.context import Loa
from bot.web.site import site_of
from channels.messaging import MAX_WEBHOOK_BYTES, WebhookRefused
from content_queue.citizens import InboundEvent, IntakeBusy

__all__ = ["STORE_DEADLINE", "routes", "site_meta"]

log = logging.getLogger(__name__)

STORE_DEADLINE = 1.5  # seconds; Zalo expects its 200 within about 2 s
# Webhooks are stored on their own threads: the loop's default pool also runs the admin chat's
# work (a reply sent to a citizen may wait 30 s on a platform), which must not delay a 200.
_STORING = ThreadPoolExecutor(max_workers=8, thread_name_prefix="loa-hook")


class _TooLarge(Exception):
    pass


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_WEBHOOK_BYTES):
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_WEBHOOK_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def _receive(request: Request, platform: str) -> Response:
    loa = site_of(request).loa
    found = receiving_channel(loa, platform)
    if found is None:
        return PlainTextResponse("not found", status_code=404)
    name, channel = found
    try:
        body = await _body(request)
    except _TooLarge:
        log.warning("webhook %s refused: body over %d bytes", name, MAX_WEBHOOK_BYTES)
        return PlainTextResponse("too large", status_code=413)
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        channel.verify_webhook(body, headers, time.time())
        incoming = channel.parse_webhook(body)
    except WebhookRefused as exc:
        log.warning("webhook %s refused (%d): %s", name, exc.status, exc.reason)
        return PlainTextResponse("refused", status_code=exc.status)
    events = [
        InboundEvent(name, platform, e.kind, e.external_id, e.sender, e.text, dict(e.payload))
        for e in incoming
    ]
    if not events:
        return PlainTextResponse("ok")
    store = loa.store.citizens
    try:
        stored = asyncio.get_running_loop().run_in_executor(
            _STORING, store.store_events, events, datetime.now(UTC)
        )
        new = await asyncio.wait_for(stored, STORE_DEADLINE)
    except (TimeoutError, IntakeBusy) as exc:
        log.warning("webhook %s: database busy (%s); answered 503", name, type(exc).__name__)
        return PlainTextResponse("busy, retry", status_code=503, headers={"Retry-After": "5"})
    log.debug("webhook %s: %d event(s), %d new", name, len(events), new)
    return PlainTextResponse("ok")


def site_meta(loa: Loa) -> list[tuple[str, str]]:
    """Meta tags a platform's domain verification looks for (Zalo), on every page."""
    out = []
    for name, settings in loa.settings.enabled_channels().items():
        if getattr(settings, "site_verification", ""):
            meta = getattr(loa.channel(name), "site_meta", lambda: None)()
            if meta:
                out.append(meta)
    return out


async def zalo_hook(request: Request) -> Response:
    return await _receive(request, "zalo")


async def facebook_hook(request: Request) -> Response:
    if request.method == "GET":
        found = receiving_channel(site_of(request).loa, "facebook")
        if found is None:
            return PlainTextResponse("not found", status_code=404)
        challenge = found[1].subscription_challenge(dict(request.query_params))
        if challenge is None:
            return PlainTextResponse("forbidden", status_code=403)
        return PlainTextResponse(challenge)
    return await _receive(request, "facebook")


routes = [
    Route("/hooks/zalo", zalo_hook, methods=["POST"]),
    Route("/hooks/facebook", facebook_hook, methods=["GET", "POST"]),
]
