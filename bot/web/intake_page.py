"""Tiếp nhận: comments awaiting a look, open petitions and takedown requests by due date, each
with its timeline; admins act here as in Telegram (the same functions, CSRF like other forms)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.cases import CASE_STATE_VI, act_on_takedown, move_petition, open_petition
from bot.comment_flags import FLAG_VI
from bot.comments import KIND_VI, STATE_VI, comment_action
from bot.web.site import Forbidden, Site, site_of
from content_queue.cases import OPEN, Case
from content_queue.comments import Comment
from content_queue.intake_base import TimelineEntry

__all__ = ["IntakeView", "intake_view", "routes"]

FILTERS = {
    "tat-ca": "Tất cả",
    "binh-luan": "Bình luận",
    "phan-anh": "Phản ánh",
    "yeu-cau-go": "Yêu cầu gỡ",
}
COMMENT_ACTIONS = {
    "tra-loi": "reply",
    "an": "hide",
    "hien": "unhide",
    "xoa": "delete",
    "rieng": "private_reply",
    "da-xem": "seen",
    "phan-anh": "petition",
}
CASE_ACTIONS = {
    "dang-xu-ly": "in_progress",
    "tra-loi": "answered",
    "chuyen": "transferred",
    "khong-tham-quyen": "out_of_scope",
    "an": "hide",
    "xoa": "delete",
    "go-bai": "retract",
    "da-go": "manual",
    "khong-go": "decline",
}


@dataclass(frozen=True)
class CommentRow:
    comment: Comment
    post_title: str
    post_url: str
    flags: list[str]
    timeline: list[TimelineEntry]


@dataclass(frozen=True)
class CaseRow:
    case: Case
    overdue: bool
    timeline: list[TimelineEntry]


@dataclass(frozen=True)
class IntakeView:
    show: str
    flagged_only: bool
    comments: list[CommentRow]
    cases: list[CaseRow]


def intake_view(
    site: Site, show: str, flagged_only: bool, now: datetime | None = None
) -> IntakeView:
    store = site.loa.store
    now = now or datetime.now(UTC)
    rows: list[CommentRow] = []
    if show in ("tat-ca", "binh-luan"):
        listed = store.comments.listed(states=("new",), flagged=flagged_only or None, limit=100)
        lines = store.comments.timelines(comment_ids=[c.id for c in listed])
        posts: dict[tuple[str, str], Any] = {}
        for c in listed:
            key = (c.channel, c.post_id)
            if key not in posts:
                posts[key] = store.comments.post(c.channel, c.post_id)
            post = posts[key]
            rows.append(
                CommentRow(
                    c,
                    post.title if post else "Bài đăng trên Trang",
                    (post.url if post and post.url else f"https://www.facebook.com/{c.post_id}"),
                    [FLAG_VI.get(f, f) for f in c.flags],
                    lines[c.id],
                )
            )
    cases: list[CaseRow] = []
    kind = {"phan-anh": "petition", "yeu-cau-go": "takedown"}.get(show)
    if show != "binh-luan":
        open_cases = store.cases.listed(kind=kind, states=OPEN)
        lines = store.cases.timelines(case_ids=[c.id for c in open_cases])
        cases = [CaseRow(c, c.overdue(now), lines[c.id]) for c in open_cases]
    return IntakeView(show, flagged_only, rows, cases)


async def intake_page(
    request: Request, *, message: str = "", ok: bool = True, status: int = 200
) -> Response:
    site = site_of(request)
    sess = await site.session(request)
    if sess is None:
        return site.login_redirect(request)
    show = request.query_params.get("xem", "tat-ca")
    show = show if show in FILTERS else "tat-ca"
    flagged = request.query_params.get("co") == "1"
    view = await run_in_threadpool(intake_view, site, show, flagged)
    message = message or request.query_params.get("tb", "")[:300]
    return site.page(
        "intake.html",
        sess,
        status=status,
        view=view,
        filters=FILTERS,
        message=message,
        ok=ok if not request.query_params.get("loi") else False,
        STATE_VI=STATE_VI,
        CASE_STATE_VI=CASE_STATE_VI,
        KIND_VI=KIND_VI,
    )


def _do(
    site: Site, target: str, ident: int, action: str, form: dict[str, Any], actor: Any
) -> tuple[bool, str]:
    loa = site.loa
    text = str(form.get("text") or "").strip()[:4000] or None
    if target == "binh-luan":
        kind = COMMENT_ACTIONS[action]
        if kind == "petition":
            c = loa.store.comments.get(ident)
            if c is None:
                return False, "Không có bình luận này."
            if c.case_id is not None:
                return False, "Bình luận này đã thành phản ánh."
            case = open_petition(
                loa,
                c.message,
                actor,
                source_kind="comment",
                channel=c.channel,
                citizen_name=c.author_name,
                citizen_ref=c.author_id,
                source_ref=c.remote_id,
                comment_id=c.id,
            )
            return True, f"Đã tạo phản ánh {case.number}."
        out = comment_action(
            loa,
            ident,
            kind,
            actor,
            text=text if kind in ("reply", "private_reply") else None,
            reason=text if kind in ("delete", "hide") else None,
        )
        return out.ok, out.message
    what = CASE_ACTIONS[action]
    if what in ("in_progress", "answered", "transferred", "out_of_scope"):
        return move_petition(loa, ident, what, actor, answer=text)
    return act_on_takedown(loa, ident, what, actor, reason=text)


async def intake_action(request: Request) -> Response:
    site = site_of(request)
    sess = await site.session(request)
    if sess is None:
        return site.login_redirect(request)
    target = request.path_params["target"]
    action = request.path_params["action"]
    table = COMMENT_ACTIONS if target == "binh-luan" else CASE_ACTIONS
    if action not in table:
        return site.refusal(sess, "Không có thao tác này.", 404)
    try:
        form = await site.form(request, sess, "admin")
    except Forbidden as exc:
        return site.refusal(sess, str(exc))
    ok, msg = await run_in_threadpool(
        _do, site, target, int(request.path_params["id"]), action, form, sess.user.actor
    )
    from urllib.parse import urlencode

    query = urlencode({"tb": msg, **({} if ok else {"loi": "1"})})
    return RedirectResponse(f"{site.root}/tiep-nhan?{query}", status_code=303)


routes = [
    Route("/tiep-nhan", intake_page, methods=["GET"]),
    Route("/tiep-nhan/{target:str}/{id:int}/{action:str}", intake_action, methods=["POST"]),
]
