"""What each command, button and uploaded file does in the admin chat.

Every handler finds out who is speaking first: admins decide, editors submit files and read
the queue, anyone else is refused politely and the attempt is written to the audit log. Every
button press re-reads the article and checks the card, the state and the revision, so double
clicks, two admins and stale cards end in exactly one decision.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Bot, ForceReply, Message, Update, User
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

import bot.telegram.texts as texts
from bot.approval import approve_article, drafts_for
from bot.context import Loa
from bot.delivery_commands import DeliveryChoiceError, act_on_delivery, split_channel_and_url
from bot.instructions import instruction
from bot.reports.kpis import month_status, parse_period
from bot.service.intake import ingest_upload, upload_name
from bot.service.schedule import parse_local_time
from bot.telegram.cards import (
    CallbackData,
    card_keyboard,
    card_text,
    closed_card_text,
    local_time,
    parse_callback,
)
from bot.telegram.context import LoaContext
from bot.telegram.strangers import StrangerGate, audit_prefix
from content_queue.cards import Card
from content_queue.kpi_reads import sent_per_channel
from content_queue.models import Actor, Article
from content_queue.workflow import STATE_VI, IllegalTransition, NotFound

__all__ = ["ACCEPTED_SUFFIXES", "register_handlers", "role_of", "sync_cards"]

log = logging.getLogger(__name__)

ACCEPTED_SUFFIXES = (".docx", ".md", ".html", ".htm")
Context = LoaContext
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]
Command = Callable[[Update, Context, Loa], Awaitable[None]]


# ----- who is speaking ---------------------------------------------------------------------------
def role_of(loa: Loa, user_id: int | None) -> str | None:
    """``admin``, ``editor`` or None (a stranger)."""
    tg = loa.settings.telegram
    if user_id is None:
        return None
    if user_id in tg.admins:
        return "admin"
    if user_id in tg.editors:
        return "editor"
    return None


def _actor(user: User | None) -> Actor:
    return Actor(f"tg:{user.id if user else '?'}", "telegram")


def _loa(context: Context) -> Loa:
    return context.loa


def _audit_unauthorised(loa: Loa, user: User | None, what: str, *, suppressed: int = 0) -> None:
    """One audit row; what the person wrote is kept as a short prefix only."""
    extra: dict[str, Any] = {"length": len(what)}
    if suppressed:
        extra["unanswered_before"] = suppressed
    loa.store.record_event(
        Actor(f"tg:{user.id if user else '?'}", "telegram"),
        "unauthorised",
        None,
        user_id=user.id if user else None,
        what=audit_prefix(what),
        **extra,
    )


def _stranger_verdict(context: Context, loa: Loa, user: User | None, what: str) -> bool:
    """Audit a stranger's attempt within the rate limit; True when they should be answered."""
    gate: StrangerGate = context.application.bot_data.setdefault("strangers", StrangerGate())
    verdict = gate.admit(user.id if user else 0)
    if verdict.audit:
        _audit_unauthorised(loa, user, what, suppressed=verdict.suppressed)
    return verdict.answer


async def _reply(update: Update, text: str, **kwargs: Any) -> Message | None:
    if update.effective_message is None:
        return None
    return await update.effective_message.reply_text(text, **kwargs)


def guarded(needs: str) -> Callable[[Command], Handler]:
    """Run the command only for ``admin`` (or, with ``editor``, editors too); refuse the rest."""

    def wrap(command: Command) -> Handler:
        async def handler(update: Update, context: Context) -> None:
            loa = _loa(context)
            user = update.effective_user
            role = role_of(loa, user.id if user else None)
            what = update.effective_message.text if update.effective_message else None
            if role is None:
                if _stranger_verdict(context, loa, user, what or "?"):
                    await _reply(update, texts.UNAUTHORISED)
                return
            if needs == "admin" and role != "admin":
                _audit_unauthorised(loa, user, what or "?")
                await _reply(update, texts.NOT_ADMIN)
                return
            await command(update, context, loa)

        handler.__name__ = command.__name__
        handler.__doc__ = command.__doc__
        return handler

    return wrap


# ----- cards ---------------------------------------------------------------------------------------
# The database and the card's text (which renders each channel's draft) are read in a worker
# thread: the event loop only talks to Telegram.
async def _edit_quietly(bot: Bot, chat_id: int, message_id: int, text: str) -> None:
    """Show ``text`` without buttons; "message is not modified" is harmless and ignored."""
    try:
        await bot.edit_message_text(
            text,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=None,
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


def _closing(loa: Loa, article: Article) -> list[tuple[Card, str]]:
    """The article's open cards to close, each with its closed text (blocking: in a thread)."""
    out = []
    for card in loa.store.open_cards(article.id):
        if article.state == "pending" and card.revision == article.revision:
            continue
        text = closed_card_text(loa, article)
        if article.state == "pending":  # an older revision's card
            text += "\n" + texts.SUPERSEDED.format(revision=article.revision)
        out.append((card, text))
    return out


async def close_cards(bot: Bot, loa: Loa, article: Article) -> None:
    """Edit every open card of the article to its closed form and mark them closed."""
    for card, text in await asyncio.to_thread(_closing, loa, article):
        assert card.message_id is not None
        try:
            await _edit_quietly(bot, card.chat_id, card.message_id, text)
        except TelegramError as exc:
            log.warning("could not close the card of article %s: %s", article.id, exc)
            continue
        await asyncio.to_thread(loa.store.close_card, card.id)


def _cards_to_send(loa: Loa, chat_id: int) -> list[tuple[int, Article, str]]:
    """Claim a card for each pending revision not yet shown, with its text (in a thread)."""
    out = []
    for article in loa.store.list(["pending"]):
        claim = loa.store.claim_card(article.id, article.revision, chat_id)
        if claim is not None:
            out.append((claim, article, card_text(loa, article)))
    return out


async def sync_cards(bot: Bot, loa: Loa) -> int:
    """Post a card for every pending article revision not yet shown; close decided ones.

    The card is claimed in the database before sending, so two workers never post the same card;
    a send that fails gives the claim back so the next round tries again. Returns cards sent.
    """
    chat_id = loa.settings.telegram.chat_id
    if chat_id is None:
        return 0
    sent = 0
    pending = await asyncio.to_thread(_cards_to_send, loa, chat_id)
    for i, (claim, article, text) in enumerate(pending):
        try:
            message = await bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, reply_markup=card_keyboard(article)
            )
        except (TelegramError, ValueError) as exc:
            await asyncio.to_thread(loa.store.release_card, claim)
            log.warning("could not send the card of article %s: %s", article.id, exc)
            if isinstance(exc, RetryAfter):
                for later, _, _ in pending[i + 1 :]:  # the rest waits for the next round
                    await asyncio.to_thread(loa.store.release_card, later)
                break
            continue
        await asyncio.to_thread(loa.store.card_sent, claim, message.message_id)
        sent += 1
    for article_id in await asyncio.to_thread(loa.store.articles_with_open_cards):
        await close_cards(bot, loa, await asyncio.to_thread(loa.store.get, article_id))
    return sent


# ----- buttons -------------------------------------------------------------------------------------
async def on_button(update: Update, context: Context) -> str | None:
    """Check the sender, the card, the state and the revision, then act on one press.

    Returns the conversation state when the press asked a question (a time, a reason).
    """
    query = update.callback_query
    if query is None:
        return None
    loa = _loa(context)
    user = query.from_user
    answer = texts.BAD_DATA
    show_alert = True
    state: str | None = None
    try:
        role = role_of(loa, user.id)
        if role == "editor":
            _audit_unauthorised(loa, user, f"button {query.data}")
            answer = texts.NOT_ADMIN
            return None
        if role is None:
            answer = (
                texts.UNAUTHORISED
                if _stranger_verdict(context, loa, user, f"button {query.data}")
                else ""
            )
            return None
        data = parse_callback(query.data)
        message = query.message
        row = (
            await asyncio.to_thread(loa.store.card_at, message.chat.id, message.message_id)
            if message
            else None
        )
        if (
            data is None
            or row is None
            or (row.article_id, row.revision) != (data.article_id, data.revision)
        ):
            log.warning(
                "refused a button press that does not match its card: %r by %s", query.data, user.id
            )
            loa.store.record_event(
                _actor(user),
                "forged_callback",
                None,
                user_id=user.id,
                data=audit_prefix(str(query.data)),
            )
            return None
        try:
            article = loa.store.get(data.article_id)
        except NotFound as exc:
            answer = str(exc)
            return None
        if article.state != "pending":
            answer = texts.ALREADY_DECIDED.format(
                id=article.id, state=STATE_VI.get(article.state, article.state)
            )
            await close_cards(context.bot, loa, article)
            return None
        if article.revision != data.revision:
            answer = texts.STALE_CARD.format(id=article.id, revision=article.revision)
            return None
        answer, show_alert, state = await _act(update, context, loa, data, article)
    finally:
        with contextlib.suppress(TelegramError):
            await query.answer(answer[:200] or None, show_alert=show_alert and bool(answer))
    return state


# ----- questions: "approve at" and "reject" wait for the admin's reply ---------------------------
ASK_TIME, ASK_REASON = "ask_time", "ask_reason"


@dataclass(frozen=True)
class Question:
    """A question the bot asked one admin in one chat; only a reply to it answers it."""

    kind: str  # "at" (a time) or "rj" (a reason)
    article_id: int
    revision: int
    chat_id: int
    message_id: int
    expires_at: float  # time.monotonic()
    hinted: bool = False


async def _ask(
    update: Update, context: Context, loa: Loa, data: CallbackData, article: Article
) -> str | None:
    chat = update.effective_chat
    if chat is None or context.user_data is None:
        return None
    if data.action == "at":
        prompt = texts.ASK_TIME.format(
            id=article.id, example=_example_time(loa), minutes=_minutes(loa)
        )
    else:
        prompt = texts.ASK_REASON.format(id=article.id, minutes=_minutes(loa))
    sent = await context.bot.send_message(chat.id, prompt, reply_markup=ForceReply())
    context.user_data["question"] = Question(
        data.action,
        article.id,
        data.revision,
        chat.id,
        sent.message_id,
        time.monotonic() + loa.settings.telegram.answer_timeout_seconds,
    )
    return ASK_TIME if data.action == "at" else ASK_REASON


def _minutes(loa: Loa) -> int:
    return max(1, round(loa.settings.telegram.answer_timeout_seconds / 60))


async def on_answer(update: Update, context: Context) -> str | int | None:
    """The admin's reply to the bot's question: a time to approve at, or a reason to reject."""
    loa = _loa(context)
    user, message = update.effective_user, update.effective_message
    question: Question | None = (context.user_data or {}).get("question")
    if user is None or message is None or question is None or context.user_data is None:
        return ConversationHandler.END
    if time.monotonic() > question.expires_at:
        context.user_data.pop("question", None)
        await _reply(update, texts.ANSWER_TIMED_OUT.format(id=question.article_id))
        return ConversationHandler.END
    replied = message.reply_to_message
    if (
        message.chat.id != question.chat_id
        or replied is None
        or replied.message_id != question.message_id
    ):
        if not question.hinted:  # said once: admins also talk to each other in the group
            context.user_data["question"] = replace(question, hinted=True)
            await _reply(update, texts.ANSWER_BY_REPLY.format(id=question.article_id))
        return None
    if role_of(loa, user.id) != "admin":
        context.user_data.pop("question", None)
        return ConversationHandler.END
    text = message.text or ""
    if question.kind == "at":
        try:
            parse_local_time(text, loa.settings.schedule)
        except ValueError as exc:
            await _reply(update, texts.BAD_TIME.format(error=exc, example=_example_time(loa)))
            return None
        context.user_data.pop("question", None)
        await _reply(
            update,
            await _approve(
                context.bot,
                loa,
                question.article_id,
                question.revision,
                _actor(user),
                at=text.strip(),
            ),
        )
        return ConversationHandler.END
    context.user_data.pop("question", None)
    await _reply(
        update,
        await _reject(context.bot, loa, question.article_id, question.revision, _actor(user), text),
    )
    return ConversationHandler.END


async def on_cancel_question(update: Update, context: Context) -> int:
    """/cancel while a question waits: forget it."""
    if context.user_data is not None:
        context.user_data.pop("question", None)
    await _reply(update, texts.WAITING_CANCELLED)
    return ConversationHandler.END


async def on_answer_timeout(update: object, context: Context) -> None:
    """The time to answer ran out: the question is forgotten and the chat is told so."""
    question: Question | None = (context.user_data or {}).get("question")
    if question is None or context.user_data is None or time.monotonic() < question.expires_at:
        return  # a press that asked nothing, or a newer question that is still open
    context.user_data.pop("question", None)
    with contextlib.suppress(TelegramError):
        await context.bot.send_message(
            question.chat_id, texts.ANSWER_TIMED_OUT.format(id=question.article_id)
        )


def question_conversation(loa: Loa) -> ConversationHandler[Any]:
    """Buttons, and the questions some of them ask, scoped to one admin in one chat."""
    with warnings.catch_warnings():
        # per_message=False is intended: the answer is a message, not a press on the question.
        warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[CallbackQueryHandler(on_button)],
            states={
                ASK_TIME: [MessageHandler(filters.TEXT & ~filters.COMMAND, on_answer)],
                ASK_REASON: [MessageHandler(filters.TEXT & ~filters.COMMAND, on_answer)],
                ConversationHandler.TIMEOUT: [TypeHandler(Update, on_answer_timeout)],
            },
            fallbacks=[CommandHandler("cancel", on_cancel_question)],
            per_chat=True,
            per_user=True,
            per_message=False,
            allow_reentry=True,
            conversation_timeout=loa.settings.telegram.answer_timeout_seconds,
            name="questions",
        )


async def _act(
    update: Update, context: Context, loa: Loa, data: CallbackData, article: Article
) -> tuple[str, bool, str | None]:
    assert update.callback_query is not None  # _act is only called for a button press
    user = update.callback_query.from_user
    chat = update.effective_chat
    if data.action == "ap":
        return (
            await _approve(context.bot, loa, article.id, data.revision, _actor(user)),
            False,
            None,
        )
    if data.action in ("at", "rj"):
        state = await _ask(update, context, loa, data, article)
        return texts.QUESTION_ASKED, False, state
    # pv: the exact text each channel would get
    if chat is not None:
        for name, draft in drafts_for(loa, article).items():
            await context.bot.send_message(chat.id, texts.PREVIEW_HEADER.format(channel=name))
            for part in _chunks(draft.text or draft.html or draft.title):
                await context.bot.send_message(chat.id, part)
    return texts.PREVIEW_SENT, False, None


async def _approve(
    bot: Bot, loa: Loa, article_id: int, revision: int, actor: Actor, *, at: str | None = None
) -> str:
    """Approve and close the cards; the answer says what happened (also when it lost a race)."""
    try:
        approved, skipped = await asyncio.to_thread(  # it prepares the channels: HTTP calls
            approve_article, loa, article_id, actor, at=at, expected_revision=revision
        )
    except IllegalTransition as exc:
        current = loa.store.get(article_id)
        if current.state != "pending":
            await close_cards(bot, loa, current)
            return texts.ALREADY_DECIDED.format(
                id=article_id, state=STATE_VI.get(current.state, current.state)
            )
        return str(exc)
    await close_cards(bot, loa, approved)
    answer = texts.APPROVED_ANSWER.format(
        id=article_id, slot=local_time(loa, approved.scheduled_at)
    )
    if skipped:
        answer += " " + texts.SKIPPED_CHANNELS.format(
            channels="; ".join(f"{k} ({v})" for k, v in skipped.items())
        )
    return answer


def _example_time(loa: Loa) -> str:
    tomorrow = datetime.now(loa.settings.schedule.tz) + timedelta(days=1)
    return tomorrow.strftime("%Y-%m-%d") + " 08:30"


def _chunks(text: str, size: int = 4000) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or ["—"]


async def _reject(
    bot: Bot, loa: Loa, article_id: int, revision: int, actor: Actor, reason: str
) -> str:
    try:
        current = loa.store.get(article_id)
        if current.state == "pending" and current.revision != revision:
            return texts.STALE_CARD.format(id=article_id, revision=current.revision)
        rejected = loa.store.reject(article_id, actor, reason)
    except (IllegalTransition, NotFound) as exc:
        current = loa.store.get(article_id)
        if current.state != "pending":
            await close_cards(bot, loa, current)
            return texts.ALREADY_DECIDED.format(
                id=article_id, state=STATE_VI.get(current.state, current.state)
            )
        return str(exc)
    await close_cards(bot, loa, rejected)
    return texts.REJECTED_ANSWER.format(id=article_id)


# ----- documents -----------------------------------------------------------------------------------
async def on_document(update: Update, context: Context) -> None:
    """An editor's (or admin's) .docx/.md/.html becomes a pending article.

    Writing the file and parsing it (in a worker process) run in a thread: the event loop, and
    so every other chat and job, never waits for a file.
    """
    loa = _loa(context)
    user = update.effective_user
    message = update.effective_message
    if message is None or message.document is None:
        return
    name = upload_name(message.document.file_name)
    role = role_of(loa, user.id if user else None)
    if role is None or user is None:
        if _stranger_verdict(context, loa, user, f"document {name}"):
            await _reply(update, texts.UNAUTHORISED)
        return
    if not name.lower().endswith(ACCEPTED_SUFFIXES):
        await _reply(update, texts.DOC_UNSUPPORTED.format(name=name))
        return
    try:
        file = await message.document.get_file()
        content = bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("could not download %s from Telegram: %s", name, exc)
        await _reply(update, texts.DOC_DOWNLOAD_FAILED.format(name=name))
        return
    result = await asyncio.to_thread(ingest_upload, loa, name, content, _actor(user))
    await _reply(update, result.message)


# ----- commands ------------------------------------------------------------------------------------
@guarded("editor")
async def cmd_start(update: Update, context: Context, loa: Loa) -> None:
    """Greeting."""
    await _reply(update, texts.START)


@guarded("editor")
async def cmd_help(update: Update, context: Context, loa: Loa) -> None:
    """Every command in one message."""
    await _reply(update, texts.HELP)


@guarded("editor")
async def cmd_cancel(update: Update, context: Context, loa: Loa) -> None:
    """/cancel with no question waiting (a waiting one is cancelled by the conversation)."""
    await _reply(update, texts.NOTHING_WAITING)


@guarded("editor")
async def cmd_queue(update: Update, context: Context, loa: Loa) -> None:
    """Pending articles."""
    pending = loa.store.list(["pending"])
    if not pending:
        await _reply(update, texts.QUEUE_EMPTY)
        return
    lines = [texts.QUEUE_HEADER.format(count=len(pending))]
    lines += [
        texts.QUEUE_LINE.format(
            id=a.id, title=a.title, topic=a.topic, at=local_time(loa, a.submitted_at)
        )
        for a in pending
    ]
    await _send_long(update, lines)


@guarded("editor")
async def cmd_scheduled(update: Update, context: Context, loa: Loa) -> None:
    """Approved articles waiting for their slot, with each channel's delivery state."""
    approved = loa.store.list(["approved"])
    if not approved:
        await _reply(update, texts.SCHEDULED_EMPTY)
        return
    lines = [texts.SCHEDULED_HEADER.format(count=len(approved))]
    for a in approved:
        states = ", ".join(f"{d.channel}: {d.state}" for d in a.deliveries) or "—"
        lines.append(
            texts.SCHEDULED_LINE.format(
                id=a.id, title=a.title, at=local_time(loa, a.scheduled_at), deliveries=states
            )
        )
    await _send_long(update, lines)


def posts_per_channel(loa: Loa, year: int, month: int) -> dict[str, int]:
    """Deliveries sent in the (local) month, per channel."""
    lo, hi = parse_period(f"{year}-{month:02d}").utc_bounds(loa.settings.schedule.timezone)
    return sent_per_channel(loa.store.engine, lo, hi)


@guarded("editor")
async def cmd_stats(update: Update, context: Context, loa: Loa) -> None:
    """This month: website articles against the minimum, and posts per channel."""
    now = datetime.now(loa.settings.schedule.tz)
    plan = loa.settings.plan
    status = month_status(
        loa.store.engine,
        now.year,
        now.month,
        monthly_minimum=plan.monthly_website_minimum,
        website_channels=plan.website_channels,
        tz=loa.settings.schedule.timezone,
    )
    lines = [
        texts.STATS.format(
            month=now.month,
            year=now.year,
            published=status.published,
            minimum=status.minimum,
            scheduled=status.scheduled,
            behind=texts.STATS_BEHIND if status.behind else "",
        )
    ]
    counts = posts_per_channel(loa, now.year, now.month)
    names = list(loa.settings.enabled_channels()) + [
        c for c in counts if c not in loa.settings.enabled_channels()
    ]
    if counts:
        lines += [texts.STATS_CHANNEL_LINE.format(channel=n, count=counts.get(n, 0)) for n in names]
    else:
        lines.append(texts.STATS_NO_POSTS)
    await _reply(update, "\n".join(lines))


@guarded("admin")
async def cmd_report(update: Update, context: Context, loa: Loa) -> None:
    """Send the plan's report for a period as a Word document."""
    from bot.reports.files import write_report

    if not context.args:
        await _reply(update, texts.REPORT_USAGE)
        return
    period = context.args[0].strip()
    with tempfile.TemporaryDirectory(prefix="loa-report-") as tmp:
        try:
            path, _ = await asyncio.to_thread(
                write_report, loa, period, "docx", Path(tmp) / f"bao-cao-cchc-{period}.docx"
            )
        except ValueError as exc:
            await _reply(update, str(exc))
            return
        assert path is not None
        message = update.effective_message
        if message is not None:
            with path.open("rb") as f:
                await message.reply_document(
                    f, filename=path.name, caption=texts.REPORT_CAPTION.format(period=period)
                )


@guarded("editor")
async def cmd_channels(update: Update, context: Context, loa: Loa) -> None:
    """Each configured channel: active, paused (why), needs re-authorisation, last check."""
    lines = [texts.CHANNELS_HEADER]
    for name, cfg in loa.settings.parsed_channels.items():
        st = loa.store.channel_status(name)
        if st.needs_reauth:
            status = texts.CHANNEL_REAUTH
        elif st.paused:
            status = texts.CHANNEL_PAUSED.format(reason=st.paused_reason or "—")
        else:
            status = texts.CHANNEL_OK
        if st.last_check_at is not None:
            status += texts.CHANNEL_LAST_CHECK.format(
                result=f"{local_time(loa, st.last_check_at)} – "
                f"{'tốt' if st.last_check_ok else (st.last_check_detail or 'lỗi')}"
            )
        lines.append(texts.CHANNEL_LINE.format(channel=name, type=cfg.type, status=status))
    await _reply(update, "\n".join(lines))


def _channel_arg(loa: Loa, context: Context, command: str) -> tuple[str | None, str | None]:
    """The channel named in the command, or an error text."""
    names = list(loa.settings.parsed_channels)
    if not context.args:
        example = instruction(command, channel=names[0] if names else "website", surface="telegram")
        return None, texts.NEED_CHANNEL.format(example=example, channels=", ".join(names))
    name = context.args[0].strip().lower()
    if name not in names:
        return None, texts.UNKNOWN_CHANNEL.format(name=name, channels=", ".join(names))
    return name, None


@guarded("admin")
async def cmd_pause(update: Update, context: Context, loa: Loa) -> None:
    """Stop posting to a channel."""
    name, error = _channel_arg(loa, context, "pause")
    if name is None:
        await _reply(update, error or "")
        return
    loa.store.set_paused(
        name,
        True,
        _actor(update.effective_user),
        texts.PAUSE_REASON,
    )
    await _reply(update, texts.PAUSED.format(channel=name))


@guarded("admin")
async def cmd_resume(update: Update, context: Context, loa: Loa) -> None:
    """Let a paused channel post again."""
    name, error = _channel_arg(loa, context, "resume")
    if name is None:
        await _reply(update, error or "")
        return
    loa.store.set_paused(name, False, _actor(update.effective_user))
    await _reply(update, texts.RESUMED.format(channel=name))


def _article_arg(context: Context) -> int | None:
    if not context.args:
        return None
    try:
        return int(context.args[0].lstrip("#"))
    except ValueError:
        return None


async def _on_delivery(update: Update, context: Context, loa: Loa, action: str) -> None:
    """``/ACTION ARTICLE [CHANNEL] [URL]``: the one delivery it names, or why not (with choices)."""
    article_id = _article_arg(context)
    if article_id is None:
        await _reply(
            update,
            texts.NEED_ARTICLE_ID.format(
                command=action, example=instruction(action, 12, surface="telegram")
            ),
        )
        return
    channel, url = split_channel_and_url(list(context.args or [])[1:])
    try:
        d = act_on_delivery(
            loa,
            action,
            article_id,
            channel,
            _actor(update.effective_user),
            url=url,
            surface="telegram",
        )
    except (IllegalTransition, NotFound, DeliveryChoiceError) as exc:
        await _reply(update, str(exc))
        return
    done = {
        "retry": texts.RETRY_DONE,
        "confirm": texts.CONFIRM_DONE,
        "notposted": texts.NOTPOSTED_DONE,
    }[action]
    await _reply(update, texts.ACTION_DONE.format(what=done, id=d.article_id, channels=d.channel))


@guarded("admin")
async def cmd_retry(update: Update, context: Context, loa: Loa) -> None:
    """Queue a failed delivery again: /retry ARTICLE [CHANNEL]."""
    await _on_delivery(update, context, loa, "retry")


@guarded("admin")
async def cmd_confirm(update: Update, context: Context, loa: Loa) -> None:
    """An admin checked: the in-doubt (or hand-off) post is online: /confirm ARTICLE [CHANNEL] [URL]."""
    await _on_delivery(update, context, loa, "confirm")


@guarded("admin")
async def cmd_notposted(update: Update, context: Context, loa: Loa) -> None:
    """An admin checked: the in-doubt post is not online (Loa posts it again): /notposted ARTICLE [CHANNEL]."""
    await _on_delivery(update, context, loa, "notposted")


@guarded("admin")
async def cmd_withdraw(update: Update, context: Context, loa: Loa) -> None:
    """Cancel an approved article before any channel posted it."""
    article_id = _article_arg(context)
    if article_id is None:
        await _reply(
            update,
            texts.NEED_ARTICLE_ID.format(
                command="withdraw", example=instruction("withdraw", 12, surface="telegram")
            ),
        )
        return
    try:
        loa.store.withdraw(article_id, _actor(update.effective_user))
    except (IllegalTransition, NotFound) as exc:
        await _reply(update, str(exc))
        return
    await _reply(update, texts.WITHDRAWN.format(id=article_id))


async def _send_long(update: Update, lines: list[str]) -> None:
    """Send lines as few messages as fit Telegram's limit."""
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 4000 and chunk:
            await _reply(update, "\n".join(chunk))
            chunk = []
        chunk.append(line[:4000])
    if chunk:
        await _reply(update, "\n".join(chunk))


async def on_unknown_update(update: Update, context: Context) -> None:
    """A stranger's plain message: refused once, then silence (admins' chatter is ignored)."""
    loa = _loa(context)
    user = update.effective_user
    message = update.effective_message
    if (
        user is not None
        and message is not None
        and role_of(loa, user.id) is None
        and _stranger_verdict(context, loa, user, message.text or "?")
    ):
        await _reply(update, texts.UNAUTHORISED)


async def on_error(update: object, context: Context) -> None:
    """Log the failure; tell the person something went wrong when there is someone to tell."""
    log.warning("telegram handler failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        with contextlib.suppress(TelegramError):
            await update.effective_message.reply_text(texts.ERROR_GENERIC)


COMMANDS: dict[str, Handler] = {
    "start": cmd_start,
    "help": cmd_help,
    "cancel": cmd_cancel,
    "queue": cmd_queue,
    "scheduled": cmd_scheduled,
    "stats": cmd_stats,
    "channels": cmd_channels,
    "pause": cmd_pause,
    "resume": cmd_resume,
    "retry": cmd_retry,
    "withdraw": cmd_withdraw,
    "confirm": cmd_confirm,
    "notposted": cmd_notposted,
    "report": cmd_report,
}


def register_handlers(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Attach every command, the buttons, documents, answers to questions and the error log."""
    app.add_handler(question_conversation(app.bot_data["loa"]))  # set by context.attach
    for name, handler in COMMANDS.items():
        app.add_handler(CommandHandler(name, handler))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document, block=False))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_unknown_update), group=1)
    app.add_error_handler(on_error)
