"""Cases: petitions (phản ánh, kiến nghị) and takedown requests, their clocks and reminders.

* A petition opens from a citizen's message the assistant classifies as one, from the "Gửi phản
  ánh" command, or from an admin marking a comment or conversation; it is numbered
  ``PA-2026-0001`` (per year), due ``[petitions] due_working_days`` working days later, and the
  citizen is told the number and the expected date through the channel it came from.
* A takedown request (``loa takedown add URL --from … --deadline 24h`` or a comment card's
  button) keeps the evidence (the item's text and its API snapshot, with the time read), runs a
  clock (24 h for an authority, 48 h for a citizen: keys), and is closed by an action: the
  comment hidden or deleted, or the article retracted through Loa's retraction.
* Reminders to the owner (the admins' chat): at half time, one day before the due time (for a
  takedown ``alert_before_hours`` before), and once overdue — each once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.case_clock import petition_due, reminders_due, takedown_due
from bot.comments import comment_action
from bot.context import Loa
from channels.base import ChannelError
from channels.comments import CommentModerator
from content_queue.cases import Case, NewCase
from content_queue.models import Actor

__all__ = [
    "CASE_STATE_VI",
    "act_on_takedown",
    "case_reminders",
    "citizen_notice",
    "classify_petition",
    "move_petition",
    "open_petition",
    "open_takedown",
    "parse_deadline",
    "zalo_weekly_reminder",
]

log = logging.getLogger(__name__)

CASE_STATE_VI = {
    "received": "tiếp nhận",
    "in_progress": "đang xử lý",
    "answered": "đã trả lời",
    "transferred": "chuyển cơ quan khác",
    "out_of_scope": "không thuộc thẩm quyền",
    "open": "chờ xử lý",
    "done": "đã xử lý",
    "declined": "không gỡ",
}
PETITION_MOVES = {
    "in_progress": ("received",),
    "answered": ("received", "in_progress"),
    "transferred": ("received", "in_progress"),
    "out_of_scope": ("received", "in_progress"),
}
TAKEDOWN_ACTION_VI = {
    "hidden": "đã ẩn bình luận",
    "deleted": "đã xóa bình luận",
    "retracted": "đã gỡ bài",
    "manual": "đã gỡ thủ công",
}

# A way to send one message to a citizen through a channel: (channel, citizen ref, text) →
# sent? The citizens' intake registers it (its reply window and never-twice rules apply).
CitizenSender = Callable[[Loa, str, str, str], bool]
_senders: list[CitizenSender] = []


def register_citizen_sender(sender: CitizenSender) -> None:
    """Give cases a way to answer citizens in their conversation (set by the message intake)."""
    if sender not in _senders:
        _senders.append(sender)


def _local(loa: Loa, when: datetime, fmt: str = "%H:%M ngày %d/%m/%Y") -> str:
    return when.astimezone(loa.settings.schedule.tz).strftime(fmt)


def citizen_notice(loa: Loa, case: Case) -> str:
    """What the citizen is told when the petition is received (number, expected date)."""
    return (
        f"{loa.settings.agency.name} đã tiếp nhận phản ánh, kiến nghị của Quý vị, số "
        f"{case.number}. Thời hạn trả lời dự kiến: trước {_local(loa, case.due_at)}. Khi cần hỏi "
        f"lại, Quý vị vui lòng nêu số {case.number}."
    )


# ----- petitions -------------------------------------------------------------------------------
def classify_petition(loa: Loa, text: str) -> bool:
    """Whether a citizen's message is a petition: the command, or enough keywords."""
    p = loa.settings.petitions
    t = " ".join(text.lower().split())[:4000]
    if p.command.lower() in t:
        return True
    if len(t) < p.min_chars:
        return False
    hits = sum(1 for k in p.keywords if k.lower() in t)
    return hits >= p.min_keyword_hits


def open_petition(
    loa: Loa,
    subject: str,
    actor: Actor,
    *,
    source_kind: str,
    channel: str | None = None,
    citizen_ref: str | None = None,
    citizen_name: str | None = None,
    source_ref: str | None = None,
    comment_id: int | None = None,
    now: datetime | None = None,
    tell: bool = True,
) -> Case:
    """Open a numbered petition and tell the citizen its number and expected date (``tell``:
    now, through the channel; the message intake tells it in its own reply instead)."""
    now = now or datetime.now(UTC)
    p = loa.settings.petitions
    due = petition_due(now, p.due_working_days, p.due_time, loa.settings.schedule)
    case = loa.store.cases.open(
        NewCase(
            kind="petition",
            prefix=p.number_prefix,
            subject=subject,
            source_kind=source_kind,
            received_at=now,
            due_at=due,
            channel=channel,
            citizen_ref=citizen_ref,
            citizen_name=citizen_name,
            source_ref=source_ref,
            comment_id=comment_id,
        ),
        actor,
    )
    if comment_id is not None:
        loa.store.comments.link_case(comment_id, case.id, actor, now)
    if tell:
        tell_citizen(loa, case, citizen_notice(loa, case), actor)
    return case


def tell_citizen(loa: Loa, case: Case, text: str, actor: Actor) -> bool:
    """Send ``text`` to the case's citizen through the channel it came from (once per text)."""
    sent = False
    if case.comment_id is not None:
        # One private message per comment (Facebook's rule): the first goes privately (the
        # number and date), a later one (the answer) as the Page's public reply.
        c = loa.store.comments.get(case.comment_id)
        kind = "private_reply" if c is None or c.private_replied_at is None else "reply"
        out = comment_action(loa, case.comment_id, kind, actor, text=text)
        sent = out.ok
    elif case.channel and case.citizen_ref:
        for sender in _senders:
            try:
                if sender(loa, case.channel, case.citizen_ref, text):
                    sent = True
                    break
            except ChannelError as exc:  # a lost answer: in doubt, never resent by Loa
                loa.store.cases.note(
                    case.id,
                    actor,
                    "case_citizen_message_in_doubt",
                    datetime.now(UTC),
                    error=exc.message,
                )
                break
    if sent:
        loa.store.cases.told_citizen(case.id, datetime.now(UTC))
    loa.store.cases.note(
        case.id, actor, "case_citizen_message", datetime.now(UTC), sent=sent, text=text
    )
    return sent


def move_petition(
    loa: Loa,
    case_id: int,
    state: str,
    actor: Actor,
    *,
    answer: str | None = None,
    now: datetime | None = None,
) -> tuple[bool, str]:
    """One state change of a petition; ``answered`` sends the answer to the citizen."""
    now = now or datetime.now(UTC)
    case = loa.store.cases.get(case_id)
    if case is None or case.kind != "petition":
        return False, f"Không có phản ánh #{case_id}."
    if state not in PETITION_MOVES:
        return False, "Trạng thái không hợp lệ."
    if state != "in_progress" and not (answer or "").strip():
        return False, "Cần nội dung trả lời hoặc lý do."
    if not loa.store.cases.move(case_id, PETITION_MOVES[state], state, actor, now, answer=answer):
        fresh = loa.store.cases.get(case_id)
        now_state = CASE_STATE_VI.get(fresh.state, fresh.state) if fresh else "?"
        return False, f"Phản ánh {case.number} đã ở trạng thái «{now_state}»; không đổi được."
    if state != "in_progress":
        _close_reminders(loa, case)
    if state == "in_progress" and not case.owner:
        loa.store.cases.set_owner(case_id, actor.name.removeprefix("tg:"), actor, now)
    if state != "in_progress" and answer:
        text = f"Trả lời phản ánh số {case.number}: {answer.strip()}"
        if state == "transferred":
            text = f"Phản ánh số {case.number} đã được chuyển tới: {answer.strip()}"
        elif state == "out_of_scope":
            text = (
                f"Phản ánh số {case.number} không thuộc thẩm quyền của "
                f"{loa.settings.agency.name}: {answer.strip()}"
            )
        fresh = loa.store.cases.get(case_id)
        assert fresh is not None
        tell_citizen(loa, fresh, text, actor)
    return True, f"Phản ánh {case.number}: {CASE_STATE_VI[state]}."


# ----- takedowns -------------------------------------------------------------------------------
def parse_deadline(text: str) -> float:
    """``24h``, ``48 h``, ``2d``, ``90m`` → hours."""
    m = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*([hdm]|giờ|ngày|phút)?\s*", text.lower())
    if not m:
        raise ValueError(f"Thời hạn «{text}» không hiểu được (ví dụ: 24h, 48h, 2d).")
    value = float(m.group(1).replace(",", "."))
    unit = m.group(2) or "h"
    return value * {"h": 1, "giờ": 1, "d": 24, "ngày": 24, "m": 1 / 60, "phút": 1 / 60}[unit]


def _comment_from_url(loa: Loa, url: str) -> int | None:
    """A stored comment named by a Facebook URL (``comment_id=`` or the id itself)."""
    q = parse_qs(urlsplit(url).query)
    for key in ("comment_id", "reply_comment_id"):
        for value in q.get(key, []):
            for name in loa.settings.parsed_channels:
                c = loa.store.comments.by_remote(name, value) or next(
                    (
                        x
                        for x in [loa.store.comments.by_remote(name, f"{_post_num(url)}_{value}")]
                        if x
                    ),
                    None,
                )
                if c:
                    return c.id
    for name in loa.settings.parsed_channels:
        c = loa.store.comments.by_remote(name, url.strip())
        if c:
            return c.id
    return None


def _post_num(url: str) -> str:
    m = re.search(r"/posts/(\d+)", url)
    return m.group(1) if m else ""


def _evidence(loa: Loa, comment_id: int | None, url: str, now: datetime) -> dict[str, Any]:
    """The item's text and its API snapshot, with the time read (no screenshot)."""
    ev: dict[str, Any] = {"url": url, "read_at": now.isoformat()}
    if comment_id is not None:
        c = loa.store.comments.get(comment_id)
        if c is not None:
            ev["comment"] = {
                "id": c.remote_id,
                "post_id": c.post_id,
                "message": c.message,
                "created_at": c.created_at.isoformat(),
                "author_id": c.author_id,
            }
            ch = loa.channels().get(c.channel)
            if isinstance(ch, CommentModerator):
                try:
                    ev["api_snapshot"] = ch.comment_snapshot(c.remote_id)
                except ChannelError as exc:
                    ev["api_snapshot_error"] = exc.message
        return ev
    post = loa.store.comments.post_by_url(url)
    if post is not None:
        article = loa.store.articles.get(post.article_id)
        ev["article"] = {
            "id": article.id,
            "title": article.title,
            "text": article.body_text[:20000],
            "deliveries": [
                {"channel": d.channel, "remote_id": d.remote_id, "url": d.url, "state": d.state}
                for d in article.deliveries
            ],
        }
    return ev


def open_takedown(
    loa: Loa,
    url: str,
    requester: str,
    actor: Actor,
    *,
    deadline_hours: float | None = None,
    comment_id: int | None = None,
    now: datetime | None = None,
) -> Case:
    """Register a takedown request with its clock and evidence."""
    now = now or datetime.now(UTC)
    t = loa.settings.takedowns
    requester = " ".join(requester.split())[:300]
    authority = _is_authority(loa, requester)
    hours = deadline_hours or (t.authority_hours if authority else t.citizen_hours)
    if comment_id is None:
        comment_id = _comment_from_url(loa, url)
    subject = url
    if comment_id is not None:
        c = loa.store.comments.get(comment_id)
        subject = f"Bình luận BL-{comment_id}: {c.message[:300]}" if c else url
    case = loa.store.cases.open(
        NewCase(
            kind="takedown",
            prefix=t.number_prefix,
            subject=subject,
            source_kind=actor.via,
            received_at=now,
            due_at=takedown_due(now, hours),
            source_ref=url[:500],
            comment_id=comment_id,
            requester=requester,
            requester_kind="authority" if authority else "citizen",
        ),
        actor,
    )
    loa.store.cases.keep_evidence(case.id, _evidence(loa, comment_id, url, now), now)
    return loa.store.cases.get(case.id) or case


def _is_authority(loa: Loa, requester: str) -> bool:
    r = requester.lower()
    if any(a.lower() in r or r in a.lower() for a in loa.settings.takedowns.authorities if r):
        return True
    return r.startswith(("sở ", "bộ ", "công an", "ubnd", "cục ", "ban "))


def act_on_takedown(
    loa: Loa,
    case_id: int,
    action: str,
    actor: Actor,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> tuple[bool, str]:
    """Close a takedown by acting: ``hide`` / ``delete`` the comment, ``retract`` the article,
    ``manual`` (done by hand elsewhere), or ``decline`` (stays, with a reason)."""
    now = now or datetime.now(UTC)
    case = loa.store.cases.get(case_id)
    if case is None or case.kind != "takedown":
        return False, f"Không có yêu cầu gỡ #{case_id}."
    if not case.is_open:
        return False, f"Yêu cầu {case.number} đã {CASE_STATE_VI.get(case.state, case.state)}."
    why = (reason or "").strip() or f"Yêu cầu gỡ {case.number} của {case.requester}"
    if action in ("hide", "delete"):
        if case.comment_id is None:
            return False, f"Yêu cầu {case.number} không gắn với bình luận nào."
        out = comment_action(loa, case.comment_id, action, actor, reason=why, now=now)
        c = loa.store.comments.get(case.comment_id)
        already = c is not None and (
            (action == "hide" and c.is_hidden) or c.state in ("deleted", "removed")
        )
        if not out.ok and not already:
            return False, out.message
        taken = "hidden" if action == "hide" else "deleted"
    elif action == "retract":
        post = loa.store.comments.post_by_url(case.source_ref or "")
        if post is None:
            return False, f"Không tìm thấy bài của Loa tại {case.source_ref}."
        from bot.approval import retract_article

        try:
            _, problems = retract_article(loa, post.article_id, actor)
        except Exception as exc:  # an illegal transition is a refusal for the admin
            return False, f"Không gỡ được bài #{post.article_id}: {exc}"
        if problems:
            return False, "Chưa gỡ được ở: " + "; ".join(problems)
        taken = "retracted"
    elif action == "manual":
        taken = "manual"
    elif action == "decline":
        if not (reason or "").strip():
            return False, "Cần ghi lý do không gỡ."
        ok = loa.store.cases.move(case_id, ("open",), "declined", actor, now, note=reason)
        if ok:
            _close_reminders(loa, case)
        return ok, f"Yêu cầu {case.number}: không gỡ ({reason})." if ok else "Đã có người xử lý."
    else:
        return False, "Thao tác không hợp lệ."
    ok = loa.store.cases.move(case_id, ("open",), "done", actor, now, note=why, action_taken=taken)
    if not ok:
        return False, f"Yêu cầu {case.number} đã được xử lý trước đó."
    _close_reminders(loa, case)
    return True, f"Yêu cầu {case.number}: {TAKEDOWN_ACTION_VI[taken]}."


# ----- reminders -------------------------------------------------------------------------------
def case_reminders(loa: Loa, now: datetime | None = None) -> list[tuple[str, str]]:
    """Fire the reminders that are due (each once); returns (case number, which)."""
    now = now or datetime.now(UTC)
    fired = []
    for case in loa.store.cases.open_cases():
        before = (
            timedelta(hours=loa.settings.takedowns.alert_before_hours)
            if case.kind == "takedown"
            else timedelta(days=1)
        )
        for which in reminders_due(case.received_at, case.due_at, now, last_before=before):
            if loa.store.cases.mark_reminded(case.id, which, now):
                loa.notifier.alert(
                    f"case:{case.number}:{which}", _reminder_text(loa, case, which, now)
                )
                fired.append((case.number, which))
    return fired


def _reminder_text(loa: Loa, case: Case, which: str, now: datetime) -> str:
    what = "Phản ánh" if case.kind == "petition" else "Yêu cầu gỡ"
    owner = f" (người xử lý: {case.owner})" if case.owner else " (chưa có người nhận xử lý)"
    due = _local(loa, case.due_at)
    if which == "overdue":
        return f"QUÁ HẠN: {what} {case.number} đã quá hạn từ {due}{owner}."
    left = case.due_at - now
    hours = max(int(left.total_seconds() // 3600), 0)
    if which == "half":
        return f"Nhắc việc: {what} {case.number} đã qua một nửa thời hạn; hạn {due}{owner}."
    return f"Sắp hết hạn: {what} {case.number} còn khoảng {hours} giờ (hạn {due}){owner}."


def zalo_weekly_reminder(loa: Loa, now: datetime | None = None) -> str | None:
    """Once a week, the admins' chat lists the week's Zalo articles with their links: Loa cannot
    read comments under them, so a person looks in the OA manager. Returns the text sent."""
    from channels.comments import CommentsUnreadable

    now = now or datetime.now(UTC)
    s = loa.settings.comments
    local = now.astimezone(loa.settings.schedule.tz)
    if local.isoweekday() != s.zalo_reminder_weekday or local.time() < time.fromisoformat(
        s.zalo_reminder_time
    ):
        return None
    names = [n for n, ch in loa.channels().items() if isinstance(ch, CommentsUnreadable)]
    if not names:
        return None
    year, week, _ = local.isocalendar()
    if not loa.store.comments.mark_once(f"zalo_comments:{year}-W{week:02d}", now):
        return None
    lines = [
        "Nhắc việc hằng tuần: Loa không đọc được bình luận dưới bài viết Zalo OA. Hãy xem bình "
        "luận các bài sau trong trang quản lý Zalo OA (oa.zalo.me):"
    ]
    count = 0
    for name in names:
        for p in loa.store.comments.posts_of(name, now - timedelta(days=7)):
            count += 1
            lines.append(f"• {p.title} — {p.url or p.remote_id}")
    if not count:
        lines.append("• Tuần qua không có bài mới trên Zalo.")
    text = "\n".join(lines)
    key = f"zalo_comments:{year}-W{week:02d}"
    loa.notifier.alert(key, text, "info")
    loa.notifier.resolve(key)  # a reminder, not an incident: nothing stays open
    return text


def _close_reminders(loa: Loa, case: Case) -> None:
    loa.notifier.resolve(*(f"case:{case.number}:{w}" for w in ("half", "last", "overdue")))


def forget_citizens(loa: Loa, now: datetime | None = None) -> int:
    """Retention: names and ids older than ``[assistant] retention_days`` (365 by default)."""
    now = now or datetime.now(UTC)
    days = int(getattr(getattr(loa.settings, "assistant", None), "retention_days", 365))
    before = now - timedelta(days=days)
    return loa.store.comments.forget_people(before) + loa.store.cases.forget_people(before)


def cases_tick(loa: Loa, now: datetime | None = None) -> None:
    """The service's job: lost comment answers reconciled, reminders, the weekly Zalo card."""
    from bot.comments import reconcile_comment_actions

    now = now or datetime.now(UTC)
    reconcile_comment_actions(loa, now)
    case_reminders(loa, now)
    zalo_weekly_reminder(loa, now)
    if now.astimezone(loa.settings.schedule.tz).hour == 3:
        forget_citizens(loa, now)
