"""What an admin's button on the article page does: the same calls as Telegram and the CLI.

Each action re-reads the article and compares it with the page the admin saw (its state and
revision, sent with the form), so a stale page, a double click or two admins at once end in
exactly one decision and a clear refusal for the others. The store writes the audit log under
the user's name (``web:…``); the Telegram card is closed by the bot's card loop, which reads the
decision from the article and says it was taken on the web.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.approval import approve_article, retract_article
from bot.context import Loa
from bot.web import texts
from content_queue.models import Article
from content_queue.users import WebUser
from content_queue.workflow import STATE_VI, ArticleState, IllegalTransition, NotFound

__all__ = ["ActionResult", "run_action"]


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    message: str
    status: int = 200


def _stale(loa: Loa, article: Article, form: dict[str, Any]) -> ActionResult | None:
    """A refusal when the page the admin acted on no longer shows the article as it is."""
    try:
        revision = int(form.get("revision") or 0)
    except ValueError:
        revision = 0
    state = str(form.get("state") or "")
    if state != article.state:
        by = ""
        if article.approved_by and article.state in (
            ArticleState.APPROVED,
            ArticleState.PUBLISHED,
            ArticleState.PARTIAL,
        ):
            by = texts.BY.format(
                actor=_who(article.approved_by), at=_local(loa, article.approved_at)
            )
        elif article.rejected_by and article.state == ArticleState.REJECTED:
            by = texts.BY.format(
                actor=_who(article.rejected_by), at=_local(loa, article.rejected_at)
            )
        return ActionResult(
            False,
            texts.STALE_STATE.format(
                id=article.id, state=STATE_VI.get(article.state, article.state), by=by
            ),
            409,
        )
    if revision != article.revision:
        return ActionResult(
            False, texts.STALE_REVISION.format(id=article.id, revision=article.revision), 409
        )
    return None


def _who(actor: str) -> str:
    return actor.removeprefix("web:").removeprefix("tg:")


def _local(loa: Loa, when: Any) -> str:
    return when.astimezone(loa.settings.schedule.tz).strftime("%d/%m/%Y %H:%M") if when else "—"


def _delivery_id(article: Article, form: dict[str, Any]) -> int | None:
    try:
        did = int(form.get("delivery") or 0)
    except ValueError:
        return None
    return did if any(d.id == did for d in article.deliveries) else None


def run_action(
    loa: Loa, user: WebUser, article_id: int, action: str, form: dict[str, Any]
) -> ActionResult:
    """Do ``action`` on the article for an admin (roles are checked by the caller)."""
    try:
        article = loa.store.articles.get(article_id)
    except NotFound as exc:
        return ActionResult(False, str(exc), 404)
    stale = _stale(loa, article, form)
    if stale is not None:
        return stale
    actor = user.actor
    try:
        if action == "approve":
            mode = str(form.get("mode") or "next")
            at = str(form.get("at") or "").replace("T", " ").strip() or None
            if mode == "at" and not at:
                return ActionResult(False, texts.NEED_TIME, 400)
            approved, skipped = approve_article(
                loa,
                article_id,
                actor,
                at=at if mode == "at" else None,
                now=mode == "now",
                expected_revision=article.revision,
            )
            message = texts.DONE["approved"].format(slot=_local(loa, approved.scheduled_at))
            if skipped:
                message += texts.SKIPPED.format(
                    channels="; ".join(f"{k} ({v})" for k, v in skipped.items())
                )
            return ActionResult(True, message)
        if action == "reject":
            reason = str(form.get("reason") or "").strip()
            if not reason:
                return ActionResult(False, texts.NEED_REASON, 400)
            loa.store.articles.reject(article_id, actor, reason[:2000])
            return ActionResult(True, texts.DONE["rejected"])
        if action == "withdraw":
            loa.store.articles.withdraw(article_id, actor)
            return ActionResult(True, texts.DONE["withdrawn"])
        if action == "retract":
            _, problems = retract_article(loa, article_id, actor)
            if problems:
                return ActionResult(
                    False, texts.RETRACT_PROBLEMS.format(problems="; ".join(problems)), 502
                )
            return ActionResult(True, texts.DONE["retracted"])
        if action in ("retry", "confirm", "notposted"):
            did = _delivery_id(article, form)
            if did is None:
                return ActionResult(False, texts.BAD_DELIVERY.format(id=article_id), 400)
            if action == "retry":
                loa.store.deliveries.retry_delivery(did, actor)
                return ActionResult(True, texts.DONE["retry"])
            url = str(form.get("url") or "").strip() or None
            if url is not None and not url.startswith(("http://", "https://")):
                return ActionResult(False, "Địa chỉ phải bắt đầu bằng http:// hoặc https://.", 400)
            loa.store.deliveries.resolve_in_doubt(did, actor, posted=action == "confirm", url=url)
            return ActionResult(
                True, texts.DONE["confirmed" if action == "confirm" else "notposted"]
            )
    except (IllegalTransition, ValueError) as exc:
        # Lost a race after the check above (another admin, the dispatcher) or a bad time.
        current = loa.store.articles.get(article_id)
        if current.state != article.state:
            return _stale(
                loa, current, {"state": article.state, "revision": article.revision}
            ) or ActionResult(False, str(exc), 409)
        return ActionResult(False, str(exc), 409)
    except NotFound as exc:
        return ActionResult(False, str(exc), 404)
    return ActionResult(False, texts.NOT_FOUND, 404)
