"""Hỏi đáp: citizens' questions, open hand-overs with their age, answering from the page, and the
knowledge the assistant answers from (with a box to try a question)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.citizens import answer_handover, citizen_job, skip_handover, window_left
from bot.logmask import mask_citizen
from bot.web.site import Forbidden, Site, site_of

__all__ = ["routes"]

STATE_VI = {
    "new": "đang xử lý",
    "answered": "trợ lý đã trả lời",
    "greeted": "đã chào",
    "handed_over": "chuyển cán bộ",
}
HANDOVER_VI = {"open": "chờ trả lời", "answered": "cán bộ đã trả lời", "skipped": "bỏ qua"}
REPLY_VI = {
    "pending": "chờ gửi",
    "sending": "đang gửi",
    "sent": "đã gửi",
    "failed": "không gửi được",
    "in_doubt": "chưa rõ đã gửi",
    "not_sent": "chưa gửi",
}
_ACTIONS = ("tra-loi", "bo-qua", "da-gui", "chua-gui")
DONE = {
    "answered": "Đã gửi câu trả lời cho người dân.",
    "skipped": "Đã bỏ qua câu hỏi.",
    "confirmed": "Đã ghi nhận.",
}


def _age(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} phút"
    if minutes < 48 * 60:
        return f"{minutes // 60} giờ"
    return f"{minutes // 1440} ngày"


def _context(site: Site, query: str) -> dict[str, Any]:
    loa = site.loa
    data = loa.store.citizens
    now = datetime.now(UTC)
    handovers = []
    for q in data.open_handovers():
        left = window_left(loa, q, now)
        handovers.append(
            {
                "q": q,
                "who": mask_citizen(q.citizen_id),
                "age": _age(now - q.asked_at),
                "left": _age(left) if left is not None and left.total_seconds() > 0 else "đã hết",
            }
        )
    conversations = [
        {
            "q": q,
            "who": mask_citizen(q.citizen_id),
            "state": STATE_VI.get(q.state, q.state),
            "handover": HANDOVER_VI.get(q.handover or "", ""),
            "replies": [(r, REPLY_VI.get(r.state, r.state)) for r in data.replies_of(q.id)],
        }
        for q in data.questions(limit=100)
    ]
    knowledge = getattr(loa.store, "knowledge", None)
    procedures = knowledge.procedures() if knowledge is not None else []
    saved = knowledge.saved_qas() if knowledge is not None else []
    trial = None
    if query:
        trial = citizen_job(loa).assistant.answer(query[:500])
    return {
        "handovers": handovers,
        "conversations": conversations,
        "procedures": procedures,
        "saved": saved,
        "query": query,
        "trial": trial,
        "enabled": loa.settings.assistant.enabled,
    }


async def qa_page(request: Request, *, message: str = "", ok: bool = True) -> Response:
    site = site_of(request)
    sess = await site.session(request)
    if sess is None:
        return site.login_redirect(request)
    query = request.query_params.get("q", "").strip()[:500]
    ctx = await run_in_threadpool(_context, site, query)
    done = request.query_params.get("xong", "")
    if not message and done in DONE:
        message = DONE[done]
    return site.page("qa.html", sess, message=message, ok=ok, **ctx)


async def qa_action(request: Request) -> Response:
    """Answer or skip an open hand-over from the page (admins; CSRF as every form)."""
    site = site_of(request)
    sess = await site.session(request)
    if sess is None:
        return site.login_redirect(request)
    try:
        form = await site.form(request, sess, "admin")
    except Forbidden as exc:
        return site.refusal(sess, str(exc))
    try:
        question_id = int(request.path_params["id"])
    except (KeyError, ValueError):
        return site.refusal(sess, "Không có câu hỏi này.", 404)
    actor = sess.user.actor
    action = request.path_params.get("action")
    on_reply = "/hoi-dap/tra-loi/" in request.url.path
    if (action in ("da-gui", "chua-gui")) != on_reply or action not in _ACTIONS:
        return site.refusal(sess, "Không có thao tác này.", 404)
    if on_reply:  # a reply in doubt: a person says whether it went out
        won = await run_in_threadpool(
            site.loa.store.citizens.resolve_in_doubt,
            question_id,
            actor,
            sent=action == "da-gui",
            now=datetime.now(UTC),
        )
        if not won:
            return await qa_page(request, message="Câu trả lời này đã được xác nhận.", ok=False)
        return RedirectResponse(f"{site.root}/hoi-dap?xong=confirmed", status_code=303)
    if action == "bo-qua":
        won = await run_in_threadpool(skip_handover, site.loa, question_id, actor)
        key = "skipped"
    else:
        text = str(form.get("text") or "").strip()[:2000]
        if not text:
            return await qa_page(request, message="Hãy nhập câu trả lời.", ok=False)
        reply = await run_in_threadpool(answer_handover, site.loa, question_id, actor, text)
        won = reply is not None
        if won and reply is not None and reply.state != "sent":
            return await qa_page(
                request,
                message=f"Câu trả lời chưa tới người dân: {reply.error or REPLY_VI[reply.state]}",
                ok=False,
            )
        key = "answered"
    if not won:
        return await qa_page(request, message="Câu hỏi này đã được người khác xử lý.", ok=False)
    return RedirectResponse(f"{site.root}/hoi-dap?xong={key}", status_code=303)


routes = [
    Route("/hoi-dap", qa_page, methods=["GET"]),
    Route("/hoi-dap/{id:int}/{action:str}", qa_action, methods=["POST"]),
    Route("/hoi-dap/tra-loi/{id:int}/{action:str}", qa_action, methods=["POST"]),
]
