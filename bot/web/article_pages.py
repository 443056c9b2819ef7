"""The article page (previews, checks, audit timeline, admin actions), the queue and uploads."""

from __future__ import annotations

import asyncio
import mimetypes
import tempfile
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.intake import ingest_folder_upload, ingest_path
from bot.parsing import ParseBusy
from bot.schedule import proposed_slot
from bot.web import texts
from bot.web.actions import run_action
from bot.web.previews import image_paths
from bot.web.site import Forbidden, Site, site_of
from bot.wording import action_vi, person_vi
from content_queue.models import Article
from content_queue.users import SessionRow
from content_queue.workflow import ArticleState, NotFound

__all__ = ["routes"]

ACCEPTED_SUFFIXES = (".docx", ".md", ".html", ".htm", ".zip")
_ACTIONS = {
    "duyet": "approve",
    "tu-choi": "reject",
    "rut-lai": "withdraw",
    "go-bai": "retract",
    "dang-lai": "retry",
    "da-dang": "confirm",
    "chua-dang": "notposted",
}


_MAX_ID = 2**31 - 1  # an id beyond the database's integers is no article (404, not an overflow)


def _article_id(request: Request) -> int | None:
    try:
        value = int(request.path_params["article_id"])
    except (KeyError, ValueError):
        return None
    return value if 0 < value <= _MAX_ID else None


def _timeline(site: Site, article_id: int) -> list[dict[str, Any]]:
    """The article's audit log in words: who (by name), what, on which channel, why."""
    tg = site.loa.settings.telegram
    rows = site.loa.store.audit.audit_entries(article_id)
    out = []
    for r in rows:
        detail = r.get("detail") or {}
        extra = []
        if detail.get("channel"):
            extra.append(site.channel_labels.get(detail["channel"], str(detail["channel"])))
        extra += [str(detail[k]) for k in ("reason", "error", "url") if detail.get(k)]
        out.append(
            {
                "at": r["at"],
                "actor": person_vi(
                    str(r["actor"]),
                    str(r["via"]),
                    telegram_names=tg.names,
                    admins=tg.admins,
                    editors=tg.editors,
                ),
                "action": action_vi(str(r["action"])),
                "extra": " · ".join(extra),
            }
        )
    return out


def _article_context(site: Site, article: Article) -> dict[str, Any]:
    loa = site.loa
    slot = None
    if article.state == ArticleState.PENDING:
        try:
            slot = proposed_slot(loa, article)
        except ValueError:
            slot = None
    return {
        "article": article,
        "previews": site.previews.get(article),
        "timeline": _timeline(site, article.id),
        "proposed": slot,
        "topic": loa.topics.get(article.topic),
    }


async def article_page(
    request: Request,
    *,
    message: str = "",
    ok: bool = True,
    status: int = 200,
    sess: SessionRow | None = None,
) -> Response:
    site = site_of(request)
    sess = sess or await site.session(request)
    if sess is None:
        return site.login_redirect(request)
    article_id = _article_id(request)
    try:
        article = await run_in_threadpool(site.loa.store.articles.get, article_id or 0)
    except NotFound:
        return site.refusal(sess, texts.NOT_FOUND, 404)
    ctx = await run_in_threadpool(_article_context, site, article)
    done = request.query_params.get("xong", "")
    if not message and done in texts.DONE_PAGE:
        message = texts.DONE_PAGE[done]
    return site.page("article.html", sess, status=status, message=message, ok=ok, **ctx)


async def article_action(request: Request) -> Response:
    site = site_of(request)
    sess = await site.session(request)
    if sess is None:
        return site.login_redirect(request)
    action = _ACTIONS.get(request.path_params.get("action", ""))
    article_id = _article_id(request)
    if action is None or article_id is None:
        return site.refusal(sess, texts.NOT_FOUND, 404)
    try:
        form = await site.form(request, sess, "admin")
    except Forbidden as exc:
        return site.refusal(sess, str(exc))
    result = await run_in_threadpool(run_action, site.loa, sess.user, article_id, action, form)
    if result.ok:
        key = {
            "approve": "approved",
            "reject": "rejected",
            "withdraw": "withdrawn",
            "retract": "retracted",
            "retry": "retry",
            "confirm": "confirmed",
            "notposted": "notposted",
        }[action]
        return RedirectResponse(f"{site.root}/bai-viet/{article_id}?xong={key}", status_code=303)
    return await article_page(
        request, message=result.message, ok=False, status=result.status, sess=sess
    )


async def article_image(request: Request) -> Response:
    """An image of the article (only the files the article names; nothing else on disk)."""
    site = site_of(request)
    sess = await site.session(request)
    if sess is None:
        return Response(status_code=401)
    try:
        article = await run_in_threadpool(site.loa.store.articles.get, _article_id(request) or 0)
        n = int(request.path_params["n"])
    except (NotFound, ValueError):
        return Response(status_code=404)
    paths = image_paths(article)
    if not 0 <= n < len(paths):
        return Response(status_code=404)
    path = Path(paths[n])
    if not path.is_absolute():
        path = site.loa.settings.path(str(path))
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if not path.is_file() or not media_type.startswith("image/"):
        return Response(status_code=404)
    return FileResponse(path, media_type=media_type, headers={"cache-control": "private"})


async def queue_page(request: Request) -> Response:
    site = site_of(request)
    sess = await site.session(request)
    if sess is None:
        return site.login_redirect(request)
    entries = await run_in_threadpool(site.loa.store.reads.pending_queue)
    return site.page("queue.html", sess, entries=entries, topics=site.loa.topics)


async def upload_form(request: Request) -> Response:
    site = site_of(request)
    sess = await site.session(request)
    if sess is None:
        return site.login_redirect(request)
    if not site.allowed(sess, "editor"):
        return site.refusal(sess, texts.NOT_EDITOR)
    return site.page("upload.html", sess, result=None)


async def upload(request: Request) -> Response:
    """A file from an editor goes through the inbox's own ingestion (``ingest_path``)."""
    site = site_of(request)
    sess = await site.session(request)
    if sess is None:
        return site.login_redirect(request)
    limits = site.loa.settings.ingest
    try:
        form = await site.form(request, sess, "editor", max_files=limits.max_zip_entries + 1)
    except Forbidden as exc:
        return site.refusal(sess, str(exc))
    parts = [f for f in (await request.form()).getlist("folder") if isinstance(f, UploadFile)]
    if any(f.filename for f in parts):
        return await _upload_folder(site, sess, parts)
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return site.page("upload.html", sess, status=400, result=None, error=texts.UPLOAD_NONE)
    if any(not ch.isprintable() for ch in file.filename):
        return site.page("upload.html", sess, status=400, result=None, error=texts.UPLOAD_BAD_NAME)
    name = Path(file.filename.replace("\\", "/")).name[:200] or "bai-viet"
    if not name.lower().endswith(ACCEPTED_SUFFIXES):
        return site.page(
            "upload.html", sess, status=400, result=None, error=texts.UPLOAD_TYPE.format(name=name)
        )
    limit_mb = site.loa.settings.queue.max_file_mb
    with tempfile.TemporaryDirectory(prefix="loa-web-") as folder:
        path = Path(folder) / name
        size = 0
        with path.open("wb") as out:
            while chunk := await file.read(1 << 20):
                size += len(chunk)
                if size > limit_mb * 1024 * 1024:
                    return site.page(
                        "upload.html",
                        sess,
                        status=413,
                        result=None,
                        error=texts.UPLOAD_TOO_BIG.format(name=name, mb=limit_mb),
                    )
                out.write(chunk)
        try:
            parsed = site.loa.parsing.submit(
                f"web:{sess.user.id}",
                ingest_path,
                site.loa,
                path,
                sess.user.actor,
                move=False,
                replace_others=site.allowed(sess, "admin"),
            )
        except ParseBusy:
            busy = site.page("upload.html", sess, status=429, result=None, error=texts.BUSY)
            busy.headers["retry-after"] = "30"
            return busy
        # Parsing's own pool does the work; this request holds no shared thread while it waits.
        result = await asyncio.wrap_future(parsed)
    return site.page("upload.html", sess, status=200 if result.ok else 422, result=result)


async def _upload_folder(site: Site, sess: SessionRow, parts: list[UploadFile]) -> Response:
    """A folder chosen in the browser (Markdown or HTML with its pictures): its files keep their
    relative paths and go through the inbox's ingestion as a folder."""
    limit = site.loa.settings.queue.max_file_mb * 1024 * 1024
    files: list[tuple[str, bytes]] = []
    total = 0
    for part in parts:
        data = await part.read(int(limit) - total + 1)
        total += len(data)
        if total > limit:
            name = (parts[0].filename or "").split("/", 1)[0] or "thư mục"
            return site.page(
                "upload.html",
                sess,
                status=413,
                result=None,
                error=texts.UPLOAD_TOO_BIG.format(
                    name=name, mb=site.loa.settings.queue.max_file_mb
                ),
            )
        files.append(((part.filename or "").replace("\\", "/"), data))
    name = files[0][0].split("/", 1)[0] if "/" in files[0][0] else "bai-viet"
    result = await run_in_threadpool(ingest_folder_upload, site.loa, files, name, sess.user.actor)
    return site.page("upload.html", sess, status=200 if result.ok else 422, result=result)


routes = [
    Route("/cho-duyet", queue_page, methods=["GET"]),
    Route("/nop-bai", upload_form, methods=["GET"]),
    Route("/nop-bai", upload, methods=["POST"]),
    Route("/bai-viet/{article_id:int}", article_page, methods=["GET"]),
    Route("/bai-viet/{article_id:int}/anh/{n:int}", article_image, methods=["GET"]),
    Route("/bai-viet/{article_id:int}/{action:str}", article_action, methods=["POST"]),
]
