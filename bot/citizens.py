"""Citizens in: the job that takes stored webhook events, answers questions, sends replies.

The web hook (:mod:`bot.web.hooks`) only stores events. Here, every few seconds:

1. stored events are claimed (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a lease on both
   databases) and each is handed to the handler of its kind (:data:`EVENT_HANDLERS`): a
   ``message`` becomes a question that the assistant answers (``Assistant.answer``) or hands
   over to the admins; a ``feed`` event (a comment on the Page) goes to the comments' handler
   that registers itself with :func:`register_event_handler`;
2. pending replies are sent, each by the one worker that moves it ``pending → sending``; a
   reply whose answer was lost is ``in_doubt`` and never resent (an admin says Đã gửi / Chưa gửi);
   a refusal reaches the admins as one Vietnamese line;
3. a ``sending`` reply whose worker died becomes ``in_doubt``.

Every step is idempotent in the database, so a crash anywhere loses nothing and repeats nothing:
a claimed event whose lease lapsed is taken again, its question is found again, its decision is
taken once (guarded update), and its reply exists once (unique per question and kind).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.logmask import mask_citizen
from channels.base import ChannelError
from channels.http import WriteOutcome, outcome_of
from channels.messaging import MessageReplier, ReceivesMessages
from content_queue.citizens import CitizenEvent, Question, Reply
from content_queue.models import Actor

if TYPE_CHECKING:
    from bot.assistant.answering import Answer, Assistant
    from bot.context import Loa

__all__ = [
    "EVENT_HANDLERS",
    "CitizenJob",
    "answer_handover",
    "assistant_problems",
    "webhook_urls",
    "forget_citizen",
    "purge_citizens",
    "receiving_channel",
    "register_event_handler",
    "save_handover",
    "send_reply",
    "skip_handover",
    "suggest_handover",
    "window_left",
]

log = logging.getLogger(__name__)

CITIZENS_INTERVAL = 1.0  # seconds between two runs of the job (a comment's card within 2 s)
EVENT_ATTEMPTS = 3  # a handler that fails this many times leaves its event "failed" (alerted)

EventHandler = Callable[["Loa", CitizenEvent], str]
"""Handles one claimed event; returns its final state (``done`` | ``ignored``)."""


def _ignore(loa: Loa, event: CitizenEvent) -> str:
    return "ignored"


def handle_message(loa: Loa, event: CitizenEvent) -> str:
    """A citizen's message: a question answered or handed over (see :class:`CitizenJob`)."""
    return citizen_job(loa).answer_event(event)


# The one dispatch point of stored events, by kind. The comments' and petitions' work (branch
# `cases`, issue 24) registers its handler for "feed" with register_event_handler.
EVENT_HANDLERS: dict[str, EventHandler] = {"message": handle_message, "feed": _ignore}


def register_event_handler(kind: str, handler: EventHandler) -> None:
    """Hand every stored event of ``kind`` to ``handler`` (e.g. ``"feed"``: Page comments)."""
    EVENT_HANDLERS[kind] = handler


def receiving_channel(loa: Loa, platform: str) -> tuple[str, ReceivesMessages] | None:
    """The channel whose citizens the assistant answers on ``platform``, if switched on."""
    a = loa.settings.assistant
    if not a.enabled:
        return None
    enabled = loa.settings.enabled_channels()
    for name in a.channels:
        if name not in enabled:
            continue
        channel = loa.channel(name)
        if isinstance(channel, ReceivesMessages) and channel.platform == platform:
            return name, channel
    return None


def assistant_problems(loa: Loa) -> list[str]:
    """What ``[assistant] enabled = true`` still needs, one readable line each (``loa check``)."""
    s = loa.settings
    a = s.assistant
    if not a.enabled:
        return []
    out: list[str] = []
    if not s.web.enabled:
        out.append("web.enabled: the assistant receives citizens' messages on the web server")
    if not s.web.base_url.startswith("https://"):
        out.append(
            f"web.base_url: platforms send webhooks only to a public https address "
            f"(got {s.web.base_url!r})"
        )
    enabled = s.enabled_channels()
    for name in a.channels:
        if name not in enabled:
            out.append(f"assistant.channels: {name!r} is not an enabled channel")
            continue
        channel = loa.channel(name)
        if not isinstance(channel, ReceivesMessages) or not isinstance(channel, MessageReplier):
            out.append(f"assistant.channels: channel {name!r} cannot receive citizens' messages")
            continue
        settings = enabled[name]
        for key in channel.webhook_secrets:
            if getattr(settings, key, None) is None:
                out.append(
                    f"channels.{name}.{key}: secret missing — set the environment variable "
                    f"LOA_CHANNELS__{name.upper()}__{key.upper()} (or put it in .env)"
                )
    return out


def webhook_urls(loa: Loa) -> dict[str, str]:
    """The address to register on each platform's console, by channel name."""
    base = loa.settings.web.base_url
    out = {}
    for name in loa.settings.assistant.channels:
        if name in loa.settings.enabled_channels():
            channel = loa.channel(name)
            if isinstance(channel, ReceivesMessages):
                out[name] = f"{base}/hooks/{channel.platform}"
    return out


_JOBS: dict[int, CitizenJob] = {}
_JOBS_LOCK = threading.Lock()


def citizen_job(loa: Loa) -> CitizenJob:
    with _JOBS_LOCK:
        job = _JOBS.get(id(loa))
        if job is None or job.loa is not loa:
            job = _JOBS[id(loa)] = CitizenJob(loa)
        return job


def _hits(answer: Answer) -> list[dict[str, Any]]:
    return [
        {
            "title": h.source.title,
            "url": h.source.url,
            "kind": h.source.kind,
            "ref": h.source.ref,
            "score": round(float(h.score), 3),
            "passage": h.passage[:600],
        }
        for h in answer.hits[:3]
    ]


class CitizenJob:
    """The ``citizens`` job of one process (its lease owner name)."""

    def __init__(self, loa: Loa, owner: str | None = None):
        self.loa = loa
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:citizens"
        self._assistant: Assistant | None = None
        self._lock = threading.Lock()

    @property
    def assistant(self) -> Assistant:
        with self._lock:
            if self._assistant is None:
                from bot.assistant.answering import Assistant

                self._assistant = Assistant.for_settings(self.loa.store, self.loa.settings)
            return self._assistant

    def tick(self, now: datetime | None = None) -> int:
        """One run: events, then pending replies, then stale sends; returns events handled."""
        if not self.loa.settings.assistant.enabled:
            return 0
        now = now or datetime.now(UTC)
        lease = timedelta(seconds=self.loa.settings.schedule.lease_seconds)
        data = self.loa.store.citizens
        data.expire_sending(now - lease, now)
        handled = 0
        for event in data.claim_events(self.owner, now, now + lease):
            handler = EVENT_HANDLERS.get(event.kind, _ignore)
            try:
                # This job's own assistant answers messages (one index per process).
                state = (
                    self.answer_event(event)
                    if handler is handle_message
                    else handler(self.loa, event)
                )
            except Exception as exc:  # a bug in one event must not block the others
                # The type only: a database error's text would carry the citizen's words.
                log.error(
                    "citizen event %s (%s) failed: %s", event.id, event.kind, type(exc).__name__
                )
                log.debug("citizen event %s failed", event.id, exc_info=True)
                data.finish_event(
                    event.id, self.owner, "failed", datetime.now(UTC), type(exc).__name__
                )
                continue
            data.finish_event(event.id, self.owner, state, datetime.now(UTC))
            handled += 1
        for reply in data.replies(["pending"]):
            send_reply(self.loa, reply.id)
        return handled

    def answer_event(self, event: CitizenEvent) -> str:
        """Store the event's question, decide it once (answer or hand over), leave its reply
        pending for :func:`send_reply`."""
        text = event.text
        if not text or not text.strip() or not event.sender:
            return "ignored"  # a picture, a sticker: nothing to answer
        data = self.loa.store.citizens
        q = data.question_for(event, event.sender, event.external_id, text.strip()[:2000])
        if q.state != "new":
            return "done"  # decided before a crash: its reply is pending or sent
        answer = self.assistant.answer(q.text, first_contact=data.is_first_contact(q))
        state = {"answer": "answered", "greeting": "greeted"}.get(answer.kind, "handed_over")
        won = data.record_answer(
            q.id,
            state=state,
            answer_text=answer.text,
            hits=_hits(answer),
            best=float(answer.best),
            reply_kind="auto" if state != "handed_over" else "notice",
            now=datetime.now(UTC),
        )
        log.info(
            "question %s from %s on %s: %s%s",
            q.id,
            mask_citizen(q.citizen_id),
            q.channel,
            state,
            "" if won else " (already decided)",
        )
        return "done"


def window_left(loa: Loa, q: Question, now: datetime, *, human: bool = True) -> timedelta | None:
    """How long the channel still lets Loa answer the citizen of ``q`` (None: unknown)."""
    channel = loa.channel(q.channel)
    if not isinstance(channel, MessageReplier):
        return None
    last = loa.store.citizens.last_message_at(q.channel, q.citizen_id) or q.asked_at
    window = channel.reply_window()
    hours = window.human_hours if human and window.human_hours else window.hours
    return last + timedelta(hours=hours) - now


def _refuse_locally(loa: Loa, r: Reply, now: datetime) -> str | None:
    """Why Loa must not send ``r`` at all (the window closed, the free replies are used)."""
    channel = loa.channel(r.channel)
    assert isinstance(channel, MessageReplier)
    data = loa.store.citizens
    last = data.last_message_at(r.channel, r.citizen_id)
    if last is None:
        return None
    window = channel.reply_window()
    hours = window.human_hours if r.kind == "human" and window.human_hours else window.hours
    if now - last > timedelta(hours=hours):
        return (
            f"Không gửi câu trả lời: đã quá {hours:g} giờ kể từ tin nhắn cuối của người dân, "
            "nền tảng không cho trả lời nữa."
        )
    if (
        window.free_replies is not None
        and data.replies_since(r.channel, r.citizen_id, last) >= window.free_replies
    ):
        return (
            f"Không gửi câu trả lời: đã trả lời {window.free_replies} lần kể từ tin nhắn cuối "
            "của người dân (hết số lần trả lời miễn phí)."
        )
    return None


def send_reply(loa: Loa, reply_id: int) -> Reply | None:
    """Send a pending reply once: only the worker that moves it to ``sending`` calls the
    platform; a lost answer leaves it ``in_doubt`` (never resent); returns it as it ends."""
    data = loa.store.citizens
    r = data.reply(reply_id)
    if r is None or r.state != "pending":
        return r
    channel = loa.channel(r.channel)
    now = datetime.now(UTC)
    if not isinstance(channel, MessageReplier):
        data.record_failed(r.id, f"Kênh {r.channel} không gửi được tin trả lời.", now)
        return data.reply(r.id)
    why = _refuse_locally(loa, r, now)
    if why is not None:
        data.record_failed(r.id, why, now)
        _alert(loa, r, why)
        return data.reply(r.id)
    if not data.begin_send(r.id, now):
        return data.reply(r.id)  # another worker sends it
    q = data.question(r.question_id)
    try:
        receipt = channel.send_reply(
            r.citizen_id, r.text, quote_id=q.message_id if q else None, human=r.kind == "human"
        )
    except ChannelError as exc:
        if outcome_of(exc) is WriteOutcome.NOT_POSTED:
            line = channel.refusal_line(exc)
            data.record_failed(r.id, line, datetime.now(UTC))
            _alert(loa, r, line)
        else:
            data.record_in_doubt(r.id, exc.message, datetime.now(UTC))
            log.warning(
                "reply %s to %s in doubt: %s", r.id, mask_citizen(r.citizen_id), exc.message
            )
        return data.reply(r.id)
    except Exception as exc:
        # Whatever happened, the request may have left: never send it again on our own.
        log.error("reply %s: unexpected %s while sending", r.id, type(exc).__name__)
        log.debug("reply %s failed", r.id, exc_info=True)
        data.record_in_doubt(r.id, "Lỗi không lường trước khi gửi; không rõ đã gửi chưa.", now)
        return data.reply(r.id)
    data.record_sent(r.id, receipt.message_id, datetime.now(UTC))
    log.info("reply %s (%s) sent to %s on %s", r.id, r.kind, mask_citizen(r.citizen_id), r.channel)
    return data.reply(r.id)


def _alert(loa: Loa, r: Reply, line: str) -> None:
    loa.notifier.alert(f"citizen_reply:{r.id}", f"Hỏi đáp #{r.question_id}: {line}")


# ----- hand-over decisions (Telegram and the web page) ---------------------------------------
def answer_handover(
    loa: Loa, question_id: int, actor: Actor, text: str, *, how: str = "reply"
) -> Reply | None:
    """An admin's answer to an open hand-over, sent at once; None when someone decided first."""
    text = text.strip()
    if not text:
        return None
    r = loa.store.citizens.answer_handover(question_id, actor, text, datetime.now(UTC), how=how)
    if r is None:
        return None
    return send_reply(loa, r.id)


def suggestion_text(q: Question) -> str | None:
    """The best guess's passage and link, as the answer "Gửi gợi ý" sends."""
    if not q.hits:
        return None
    h = q.hits[0]
    return f"{h['passage']}\nNguồn: {h['title']} — {h['url']}"


def suggest_handover(loa: Loa, question_id: int, actor: Actor) -> Reply | None:
    q = loa.store.citizens.question(question_id)
    text = suggestion_text(q) if q is not None else None
    if text is None:
        return None
    return answer_handover(loa, question_id, actor, text, how="suggestion")


def skip_handover(loa: Loa, question_id: int, actor: Actor) -> bool:
    return loa.store.citizens.skip_handover(question_id, actor, datetime.now(UTC))


def save_handover(loa: Loa, question_id: int, actor: Actor) -> int | None:
    """Save the question and the admin's sent answer as knowledge; None when there is none yet
    (or it was saved already)."""
    data = loa.store.citizens
    q = data.question(question_id)
    if q is None or q.saved_qa_id is not None:
        return None
    human = [r for r in data.replies_of(question_id) if r.kind == "human" and r.state == "sent"]
    if not human:
        return None
    source = q.hits[0]["url"] if q.hits and human[0].text.endswith(q.hits[0]["url"]) else None
    qa_id = int(loa.store.knowledge.save_qa(q.text, human[0].text, actor, source))
    data.mark_saved(question_id, qa_id)
    return qa_id


# ----- personal data ---------------------------------------------------------------------------
def purge_citizens(loa: Loa, now: datetime | None = None) -> int:
    """Delete citizens' ids and messages older than ``[assistant] retention_days``."""
    now = now or datetime.now(UTC)
    n = loa.store.citizens.purge_before(now - timedelta(days=loa.settings.assistant.retention_days))
    if n:
        log.info("citizens' data: %d row(s) past the retention time deleted", n)
    return n


def forget_citizen(loa: Loa, citizen_id: str, actor: Actor) -> int:
    """Delete a citizen's data on request: questions and replies, and their name and id on
    comments and cases (the register keeps the counts and the texts an answer needs)."""
    n = loa.store.citizens.forget(citizen_id, actor)
    return (
        n + loa.store.comments.forget_person(citizen_id) + loa.store.cases.forget_person(citizen_id)
    )
