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
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from telegram import Bot, ForceReply, Message, Update, User
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.approval import approve_article, drafts_for
from bot.context import Loa
from bot.intake import ingest_path
from bot.kpis import month_status, parse_period
from bot.schedule import parse_local_time
from bot.telegram import texts
from bot.telegram.cards import (
    CallbackData,
    card_keyboard,
    card_text,
    closed_card_text,
    local_time,
    parse_callback,
)
from content_queue.models import Actor, Article
from content_queue.tables import bot_cards, deliveries
from content_queue.workflow import STATE_VI, IllegalTransition, NotFound

__all__ = ["ACCEPTED_SUFFIXES", "register_handlers", "role_of", "sync_cards"]

log = logging.getLogger(__name__)

ACCEPTED_SUFFIXES = (".docx", ".md", ".html", ".htm")
Context = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Update, Context], Awaitable[None]]
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


def _actor(user: User) -> Actor:
    return Actor(f"tg:{user.id}", "telegram")


def _loa(context: Context) -> Loa:
    return context.application.bot_data["loa"]


def _audit_unauthorised(loa: Loa, user: User | None, what: str) -> None:
    with loa.store.tx() as conn:
        loa.store.audit(conn, Actor(f"tg:{user.id if user else '?'}", "telegram"),
                        "unauthorised", None, user_id=user.id if user else None, what=what)


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
                _audit_unauthorised(loa, user, what or "?")
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
def _card_row(loa: Loa, chat_id: int, message_id: int) -> Any:
    with loa.store.read() as conn:
        return conn.execute(sa.select(bot_cards).where(
            bot_cards.c.chat_id == chat_id, bot_cards.c.message_id == message_id)).first()


async def _edit_quietly(bot: Bot, chat_id: int, message_id: int, text: str) -> None:
    """Show ``text`` without buttons; "message is not modified" is harmless and ignored."""
    try:
        await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id,
                                    parse_mode=ParseMode.HTML, reply_markup=None)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def close_cards(bot: Bot, loa: Loa, article: Article) -> None:
    """Edit every open card of the article to its closed form and mark them closed."""
    with loa.store.read() as conn:
        rows = conn.execute(sa.select(bot_cards).where(
            bot_cards.c.article_id == article.id, bot_cards.c.closed_at.is_(None),
            bot_cards.c.message_id.is_not(None))).all()
    for row in rows:
        if article.state == "pending" and row.revision == article.revision:
            continue
        text = closed_card_text(loa, article)
        if article.state == "pending":  # an older revision's card
            text += "\n" + texts.SUPERSEDED.format(revision=article.revision)
        try:
            await _edit_quietly(bot, row.chat_id, row.message_id, text)
        except TelegramError as exc:
            log.warning("could not close the card of article %s: %s", article.id, exc)
            continue
        with loa.store.tx() as conn:
            conn.execute(bot_cards.update().where(bot_cards.c.id == row.id).values(
                closed_at=datetime.now(UTC)))


async def sync_cards(bot: Bot, loa: Loa) -> int:
    """Post a card for every pending article revision not yet shown; close decided ones.

    The ``bot_cards`` row is inserted before sending, so two workers never post the same card;
    a send that fails gives the claim back so the next round tries again. Returns cards sent.
    """
    chat_id = loa.settings.telegram.chat_id
    if chat_id is None:
        return 0
    sent = 0
    for article in loa.store.list(["pending"]):
        try:
            with loa.store.tx() as conn:
                claim = conn.execute(bot_cards.insert().values(
                    article_id=article.id, revision=article.revision, chat_id=chat_id,
                    created_at=datetime.now(UTC))).inserted_primary_key[0]
        except IntegrityError:
            continue
        try:
            message = await bot.send_message(chat_id, card_text(loa, article),
                                             parse_mode=ParseMode.HTML,
                                             reply_markup=card_keyboard(article))
        except (TelegramError, ValueError) as exc:
            with loa.store.tx() as conn:
                conn.execute(bot_cards.delete().where(bot_cards.c.id == claim))
            log.warning("could not send the card of article %s: %s", article.id, exc)
            if isinstance(exc, RetryAfter):
                break
            continue
        with loa.store.tx() as conn:
            conn.execute(bot_cards.update().where(bot_cards.c.id == claim).values(
                message_id=message.message_id))
        sent += 1
    with loa.store.read() as conn:
        open_ids = set(conn.execute(sa.select(bot_cards.c.article_id).where(
            bot_cards.c.closed_at.is_(None), bot_cards.c.message_id.is_not(None))).scalars())
    for article_id in sorted(open_ids):
        await close_cards(bot, loa, loa.store.get(article_id))
    return sent


# ----- buttons -------------------------------------------------------------------------------------
async def on_button(update: Update, context: Context) -> None:
    """Check the sender, the card, the state and the revision, then act on one press."""
    query = update.callback_query
    if query is None:
        return
    loa = _loa(context)
    user = query.from_user
    answer = texts.BAD_DATA
    show_alert = True
    try:
        if role_of(loa, user.id) != "admin":
            _audit_unauthorised(loa, user, f"button {query.data}")
            answer = texts.NOT_ADMIN if role_of(loa, user.id) else texts.UNAUTHORISED
            return
        data = parse_callback(query.data)
        message = query.message
        row = _card_row(loa, message.chat.id, message.message_id) if message else None
        if data is None or row is None or (row.article_id, row.revision) != (
                data.article_id, data.revision):
            log.warning("refused a button press that does not match its card: %r by %s",
                        query.data, user.id)
            with loa.store.tx() as conn:
                loa.store.audit(conn, _actor(user), "forged_callback", None, user_id=user.id,
                                data=query.data)
            return
        try:
            article = loa.store.get(data.article_id)
        except NotFound as exc:
            answer = str(exc)
            return
        if article.state != "pending":
            answer = texts.ALREADY_DECIDED.format(
                id=article.id, state=STATE_VI.get(article.state, article.state))
            await close_cards(context.bot, loa, article)
            return
        if article.revision != data.revision:
            answer = texts.STALE_CARD.format(id=article.id, revision=article.revision)
            return
        answer, show_alert = await _act(update, context, loa, data, article)
    finally:
        with contextlib.suppress(TelegramError):
            await query.answer(answer[:200], show_alert=show_alert)


async def _act(update: Update, context: Context, loa: Loa, data: CallbackData,
               article: Article) -> tuple[str, bool]:
    user = update.callback_query.from_user  # type: ignore[union-attr]
    chat = update.effective_chat
    if data.action == "ap":
        return await _approve(context.bot, loa, article.id, data.revision, _actor(user)), False
    if data.action in ("at", "rj"):
        context.user_data["waiting"] = {"kind": data.action, "id": article.id,  # type: ignore[index]
                                        "revision": data.revision}
        if data.action == "at":
            prompt = texts.ASK_TIME.format(id=article.id, example=_example_time(loa))
        else:
            prompt = texts.ASK_REASON.format(id=article.id)
        if chat is not None:
            await context.bot.send_message(chat.id, prompt, reply_markup=ForceReply())
        return prompt, False
    # pv: the exact text each channel would get
    if chat is not None:
        for name, draft in drafts_for(loa, article).items():
            await context.bot.send_message(chat.id, texts.PREVIEW_HEADER.format(channel=name))
            for part in _chunks(draft.text or draft.html or draft.title):
                await context.bot.send_message(chat.id, part)
    return texts.PREVIEW_SENT, False


async def _approve(bot: Bot, loa: Loa, article_id: int, revision: int, actor: Actor, *,
                   at: str | None = None) -> str:
    """Approve and close the cards; the answer says what happened (also when it lost a race)."""
    try:
        approved, skipped = await asyncio.to_thread(  # it prepares the channels: HTTP calls
            approve_article, loa, article_id, actor, at=at, expected_revision=revision)
    except IllegalTransition as exc:
        current = loa.store.get(article_id)
        if current.state != "pending":
            await close_cards(bot, loa, current)
            return texts.ALREADY_DECIDED.format(
                id=article_id, state=STATE_VI.get(current.state, current.state))
        return str(exc)
    await close_cards(bot, loa, approved)
    answer = texts.APPROVED_ANSWER.format(id=article_id,
                                          slot=local_time(loa, approved.scheduled_at))
    if skipped:
        answer += " " + texts.SKIPPED_CHANNELS.format(
            channels="; ".join(f"{k} ({v})" for k, v in skipped.items()))
    return answer


def _example_time(loa: Loa) -> str:
    tomorrow = datetime.now(loa.settings.schedule.tz) + timedelta(days=1)
    return tomorrow.strftime("%Y-%m-%d") + " 08:30"


def _chunks(text: str, size: int = 4000) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or ["—"]


async def on_text(update: Update, context: Context) -> None:
    """A plain message: the time or the reason an admin was asked for (anything else: ignored)."""
    loa = _loa(context)
    user = update.effective_user
    waiting = (context.user_data or {}).get("waiting")
    if user is None or waiting is None or update.effective_message is None:
        return
    if role_of(loa, user.id) != "admin":
        context.user_data.pop("waiting", None)  # type: ignore[union-attr]
        return
    text = update.effective_message.text or ""
    if waiting["kind"] == "at":
        try:
            parse_local_time(text, loa.settings.schedule)
        except ValueError as exc:
            await _reply(update, texts.BAD_TIME.format(error=exc, example=_example_time(loa)))
            return
        context.user_data.pop("waiting", None)  # type: ignore[union-attr]
        answer = await _approve(context.bot, loa, waiting["id"], waiting["revision"],
                                _actor(user), at=text.strip())
        await _reply(update, answer)
        return
    context.user_data.pop("waiting", None)  # type: ignore[union-attr]
    await _reply(update, await _reject(context.bot, loa, waiting["id"], waiting["revision"],
                                       _actor(user), text))


async def _reject(bot: Bot, loa: Loa, article_id: int, revision: int, actor: Actor,
                  reason: str) -> str:
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
                id=article_id, state=STATE_VI.get(current.state, current.state))
        return str(exc)
    await close_cards(bot, loa, rejected)
    return texts.REJECTED_ANSWER.format(id=article_id)


# ----- documents -----------------------------------------------------------------------------------
async def on_document(update: Update, context: Context) -> None:
    """An editor's (or admin's) .docx/.md/.html becomes a pending article."""
    loa = _loa(context)
    user = update.effective_user
    message = update.effective_message
    if message is None or message.document is None:
        return
    name = Path(message.document.file_name or "bai-viet").name
    role = role_of(loa, user.id if user else None)
    if role is None:
        _audit_unauthorised(loa, user, f"document {name}")
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
    with tempfile.TemporaryDirectory(prefix="loa-tg-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        result = ingest_path(loa, path, _actor(user), move=False)  # type: ignore[arg-type]
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
    """Forget a question the bot asked (time or reason)."""
    context.user_data.pop("waiting", None)  # type: ignore[union-attr]
    await _reply(update, texts.WAITING_CANCELLED)


@guarded("editor")
async def cmd_queue(update: Update, context: Context, loa: Loa) -> None:
    """Pending articles."""
    pending = loa.store.list(["pending"])
    if not pending:
        await _reply(update, texts.QUEUE_EMPTY)
        return
    lines = [texts.QUEUE_HEADER.format(count=len(pending))]
    lines += [texts.QUEUE_LINE.format(id=a.id, title=a.title, topic=a.topic,
                                      at=local_time(loa, a.submitted_at)) for a in pending]
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
        lines.append(texts.SCHEDULED_LINE.format(id=a.id, title=a.title,
                                                 at=local_time(loa, a.scheduled_at),
                                                 deliveries=states))
    await _send_long(update, lines)


def posts_per_channel(loa: Loa, year: int, month: int) -> dict[str, int]:
    """Deliveries sent in the (local) month, per channel."""
    lo, hi = parse_period(f"{year}-{month:02d}").utc_bounds(loa.settings.schedule.timezone)
    with loa.store.read() as conn:
        rows = conn.execute(sa.select(deliveries.c.channel, sa.func.count()).where(
            deliveries.c.state == "sent", deliveries.c.sent_at >= lo, deliveries.c.sent_at < hi)
            .group_by(deliveries.c.channel).order_by(deliveries.c.channel)).all()
    return {channel: int(count) for channel, count in rows}


@guarded("editor")
async def cmd_stats(update: Update, context: Context, loa: Loa) -> None:
    """This month: website articles against the minimum, and posts per channel."""
    now = datetime.now(loa.settings.schedule.tz)
    plan = loa.settings.plan
    status = month_status(loa.store.engine, now.year, now.month,
                          monthly_minimum=plan.monthly_website_minimum,
                          website_channels=plan.website_channels,
                          tz=loa.settings.schedule.timezone)
    lines = [texts.STATS.format(month=now.month, year=now.year, published=status.published,
                                minimum=status.minimum, scheduled=status.scheduled,
                                behind=texts.STATS_BEHIND if status.behind else "")]
    counts = posts_per_channel(loa, now.year, now.month)
    names = list(loa.settings.enabled_channels()) + [c for c in counts
                                                      if c not in loa.settings.enabled_channels()]
    if counts:
        lines += [texts.STATS_CHANNEL_LINE.format(channel=n, count=counts.get(n, 0))
                  for n in names]
    else:
        lines.append(texts.STATS_NO_POSTS)
    await _reply(update, "\n".join(lines))


@guarded("admin")
async def cmd_report(update: Update, context: Context, loa: Loa) -> None:
    """Send the plan's report for a period as a Word document."""
    from bot.reports import write_report

    if not context.args:
        await _reply(update, texts.REPORT_USAGE)
        return
    period = context.args[0].strip()
    with tempfile.TemporaryDirectory(prefix="loa-report-") as tmp:
        try:
            path, _ = await asyncio.to_thread(write_report, loa, period, "docx",
                                              Path(tmp) / f"bao-cao-cchc-{period}.docx")
        except ValueError as exc:
            await _reply(update, str(exc))
            return
        assert path is not None
        message = update.effective_message
        if message is not None:
            with path.open("rb") as f:
                await message.reply_document(f, filename=path.name,
                                             caption=texts.REPORT_CAPTION.format(period=period))


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
                       f"{'tốt' if st.last_check_ok else (st.last_check_detail or 'lỗi')}")
        lines.append(texts.CHANNEL_LINE.format(channel=name, type=cfg.type, status=status))
    await _reply(update, "\n".join(lines))


def _channel_arg(loa: Loa, context: Context, command: str) -> tuple[str | None, str | None]:
    """The channel named in the command, or an error text."""
    names = list(loa.settings.parsed_channels)
    if not context.args:
        return None, texts.NEED_CHANNEL.format(command=command, example=names[0] if names else "",
                                               channels=", ".join(names))
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
    loa.store.set_paused(name, True, _actor(update.effective_user),  # type: ignore[arg-type]
                         texts.PAUSE_REASON)
    await _reply(update, texts.PAUSED.format(channel=name))


@guarded("admin")
async def cmd_resume(update: Update, context: Context, loa: Loa) -> None:
    """Let a paused channel post again."""
    name, error = _channel_arg(loa, context, "resume")
    if name is None:
        await _reply(update, error or "")
        return
    loa.store.set_paused(name, False, _actor(update.effective_user))  # type: ignore[arg-type]
    await _reply(update, texts.RESUMED.format(channel=name))


def _article_arg(context: Context) -> int | None:
    if not context.args:
        return None
    try:
        return int(context.args[0].lstrip("#"))
    except ValueError:
        return None


async def _for_deliveries(update: Update, context: Context, loa: Loa, command: str,
                          states: tuple[str, ...], what: str, done: str,
                          act: Callable[[int, Actor], object]) -> None:
    """Apply ``act`` to the article's deliveries in ``states`` (optionally one channel)."""
    article_id = _article_arg(context)
    if article_id is None:
        await _reply(update, texts.NEED_ARTICLE_ID.format(command=command))
        return
    only = context.args[1].lower() if len(context.args or []) > 1 else None
    try:
        article = loa.store.get(article_id)
        targets = [d for d in article.deliveries
                   if d.state in states and (only is None or d.channel == only)]
        if not targets:
            await _reply(update, texts.NOTHING_TO_DO.format(id=article_id, what=what))
            return
        actor = _actor(update.effective_user)  # type: ignore[arg-type]
        for d in targets:
            act(d.id, actor)
    except (IllegalTransition, NotFound) as exc:
        await _reply(update, str(exc))
        return
    await _reply(update, texts.ACTION_DONE.format(
        what=done, id=article_id, channels=", ".join(d.channel for d in targets)))


@guarded("admin")
async def cmd_retry(update: Update, context: Context, loa: Loa) -> None:
    """Queue the failed deliveries of an article again."""
    await _for_deliveries(update, context, loa, "retry", ("failed", "retry"), texts.RETRY_WHAT,
                          texts.RETRY_DONE, loa.store.retry_delivery)


@guarded("admin")
async def cmd_confirm(update: Update, context: Context, loa: Loa) -> None:
    """An admin checked: the in-doubt (or hand-off) post is on the platform."""
    url = context.args[-1] if len(context.args or []) > 1 and "://" in context.args[-1] else None
    if url:
        context.args = context.args[:-1]  # type: ignore[index]

    def confirm(delivery_id: int, actor: Actor) -> object:
        return loa.store.resolve_in_doubt(delivery_id, actor, posted=True, url=url)

    await _for_deliveries(update, context, loa, "confirm", ("in_doubt", "awaiting_url"),
                          texts.CONFIRM_WHAT, texts.CONFIRM_DONE, confirm)


@guarded("admin")
async def cmd_notposted(update: Update, context: Context, loa: Loa) -> None:
    """An admin checked: the in-doubt post is not on the platform (Loa posts it again)."""
    def not_posted(delivery_id: int, actor: Actor) -> object:
        return loa.store.resolve_in_doubt(delivery_id, actor, posted=False)

    await _for_deliveries(update, context, loa, "notposted", ("in_doubt",),
                          texts.CONFIRM_WHAT, texts.NOTPOSTED_DONE, not_posted)


@guarded("admin")
async def cmd_withdraw(update: Update, context: Context, loa: Loa) -> None:
    """Cancel an approved article before any channel posted it."""
    article_id = _article_arg(context)
    if article_id is None:
        await _reply(update, texts.NEED_ARTICLE_ID.format(command="withdraw"))
        return
    try:
        loa.store.withdraw(article_id, _actor(update.effective_user))  # type: ignore[arg-type]
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
    """A stranger's plain message: refused and logged (admins' chatter is ignored)."""
    loa = _loa(context)
    user = update.effective_user
    if user is not None and role_of(loa, user.id) is None and update.effective_message:
        _audit_unauthorised(loa, user, update.effective_message.text or "?")
        await _reply(update, texts.UNAUTHORISED)


async def on_error(update: object, context: Context) -> None:
    """Log the failure; tell the person something went wrong when there is someone to tell."""
    log.warning("telegram handler failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        with contextlib.suppress(TelegramError):
            await update.effective_message.reply_text(texts.ERROR_GENERIC)


COMMANDS: dict[str, Handler] = {
    "start": cmd_start, "help": cmd_help, "cancel": cmd_cancel, "queue": cmd_queue,
    "scheduled": cmd_scheduled, "stats": cmd_stats, "channels": cmd_channels,
    "pause": cmd_pause, "resume": cmd_resume, "retry": cmd_retry, "withdraw": cmd_withdraw,
    "confirm": cmd_confirm, "notposted": cmd_notposted, "report": cmd_report,
}


def register_handlers(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Attach every command, the buttons, documents, answers to questions and the error log."""
    for name, handler in COMMANDS.items():
        app.add_handler(CommandHandler(name, handler))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_unknown_update), group=1)
    app.add_error_handler(on_error)
