"""Comments and petitions plugged into the citizens' intake (``bot.citizens``).

* ``feed`` events (comments on the Page's posts) go to :func:`bot.comments.handle_feed_change`.
* ``message`` events: a message that is a petition (the "Gửi phản ánh" command, or enough
  ``[petitions] keywords``) becomes a numbered case, and the citizen's reply (sent by the
  citizens' job under its window and never-twice rules) is the case's number and expected date;
  any other message is answered as before, and a citizen's first reply also offers the command.
* A later answer to a petition that came as a message is sent through the channel's
  :class:`channels.messaging.MessageReplier` (a lost answer is in doubt: never resent).

Importing this module registers the handlers (``loa run`` imports it at start).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from bot.cases import (
    citizen_notice,
    classify_petition,
    open_petition,
    register_citizen_sender,
)
from bot.citizens import citizen_job, register_event_handler
from bot.comments import handle_feed_change
from bot.context import Loa
from channels.base import ChannelError
from channels.messaging import MessageReplier
from content_queue.citizens import CitizenEvent
from content_queue.models import Actor

__all__ = [
    "command_hint",
    "handle_citizen_message",
    "handle_feed_event",
    "petition_from_question",
    "send_to_citizen",
]

log = logging.getLogger(__name__)


def command_hint(loa: Loa) -> str:
    """The line a citizen's first reply carries: how to send a petition."""
    return (
        f"\nĐể gửi phản ánh, kiến nghị tới {loa.settings.agency.name}, Quý vị nhắn "
        f"«{loa.settings.petitions.command}: nội dung phản ánh»; Quý vị sẽ nhận số hồ sơ và thời "
        "hạn trả lời."
    )


def handle_feed_event(loa: Loa, event: CitizenEvent) -> str:
    """A stored ``feed`` event: a comment added, edited or removed on the Page's posts."""
    c = handle_feed_change(loa, event.channel, dict(event.payload), datetime.now(UTC))
    return "done" if c is not None else "ignored"


def handle_citizen_message(loa: Loa, event: CitizenEvent) -> str:
    """A citizen's message: a petition opens a case; anything else is a question."""
    text = event.text
    if not text or not text.strip() or not event.sender:
        return "ignored"
    data = loa.store.citizens
    q = data.question_for(event, event.sender, event.external_id, text.strip()[:2000])
    if q.state != "new":
        return "done"  # decided before a crash: its reply is pending or sent
    first = data.is_first_contact(q)
    now = datetime.now(UTC)
    if loa.settings.petitions.enabled and classify_petition(loa, q.text):
        ref = f"{event.channel}:{event.external_id}"
        case = loa.store.cases.by_source("message", ref) or open_petition(
            loa,
            q.text,
            Actor.service(),
            source_kind="message",
            channel=event.channel,
            citizen_ref=event.sender,
            source_ref=ref,
            now=now,
            tell=False,
        )
        if data.record_answer(
            q.id,
            state="petition",
            answer_text=citizen_notice(loa, case),
            hits=[],
            best=None,
            reply_kind="auto",
            now=now,
        ):
            loa.store.cases.told_citizen(case.id, now)
        return "done"
    job = citizen_job(loa)
    answer = job.assistant.answer(q.text, first_contact=first)
    state = {"answer": "answered", "greeting": "greeted"}.get(answer.kind, "handed_over")
    reply = answer.text + (command_hint(loa) if first and loa.settings.petitions.enabled else "")
    data.record_answer(
        q.id,
        state=state,
        answer_text=reply,
        hits=[
            {
                "title": h.source.title,
                "url": h.source.url,
                "kind": h.source.kind,
                "ref": h.source.ref,
                "score": round(float(h.score), 3),
                "passage": h.passage[:600],
            }
            for h in answer.hits[:3]
        ],
        best=float(answer.best),
        reply_kind="auto" if state != "handed_over" else "notice",
        now=now,
    )
    return "done"


def petition_from_question(loa: Loa, question_id: int, actor: Actor) -> tuple[bool, str]:
    """An admin marks a citizen's message (a "Hỏi đáp" question) as a petition: a numbered case,
    and the citizen told its number and expected date through the channel."""
    q = loa.store.citizens.question(question_id)
    if q is None:
        return False, f"Không có câu hỏi #{question_id}."
    ref = f"{q.channel}:{q.message_id}"
    found = loa.store.cases.by_source("message", ref)
    if found is not None:
        return False, f"Câu hỏi #{question_id} đã là phản ánh {found.number}."
    case = open_petition(
        loa,
        q.text,
        actor,
        source_kind="message",
        channel=q.channel,
        citizen_ref=q.citizen_id,
        source_ref=ref,
    )
    return True, f"Đã tạo phản ánh {case.number}, hạn {case.due_at:%d/%m/%Y}."


def send_to_citizen(loa: Loa, channel: str, citizen_ref: str, text: str) -> bool:
    """One human-written message to a citizen who wrote to ``channel`` (a petition's answer)."""
    ch = loa.channels().get(channel)
    if not isinstance(ch, MessageReplier):
        return False
    try:
        ch.send_reply(citizen_ref, text, human=True)
    except ChannelError as exc:
        log.warning("answer to a petitioner on %s not confirmed: %s", channel, exc.message)
        if exc.may_have_posted:
            raise  # in doubt: the caller records it; never sent again automatically
        return False
    return True


register_event_handler("feed", handle_feed_event)
register_event_handler("message", handle_citizen_message)
register_citizen_sender(send_to_citizen)
