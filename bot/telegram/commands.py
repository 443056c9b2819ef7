"""The chat's commands (``/queue``, ``/stats``, ``/retry 12 facebook``…), each re-checked against
the sender's role."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import datetime
from pathlib import Path

from telegram import Update

import bot.telegram.texts as texts
from bot.context import Loa
from bot.delivery_commands import DeliveryChoiceError, act_on_delivery, split_channel_and_url
from bot.instructions import instruction
from bot.reports.files import kpis_for
from bot.reports.kpis import month_status
from bot.telegram.access import Context, Handler, actor_of, guarded, reply, send_long
from bot.telegram.cards import (
    local_time,
)
from bot.wording import CHANNEL_TYPE_VI, channel_labels, delivery_state_vi, vi_number
from content_queue.workflow import ArticleState, IllegalTransition, NotFound

__all__ = [
    "cmd_cancel",
    "cmd_channels",
    "cmd_confirm",
    "cmd_help",
    "cmd_notposted",
    "cmd_pause",
    "cmd_queue",
    "cmd_report",
    "cmd_resume",
    "cmd_retry",
    "cmd_scheduled",
    "cmd_start",
    "cmd_stats",
    "cmd_withdraw",
    "stats_lines",
]


@guarded("editor")
async def cmd_start(update: Update, context: Context, loa: Loa) -> None:
    """Greeting."""
    await reply(update, texts.START)


@guarded("editor")
async def cmd_help(update: Update, context: Context, loa: Loa) -> None:
    """Every command in one message."""
    await reply(update, texts.HELP)


@guarded("editor")
async def cmd_cancel(update: Update, context: Context, loa: Loa) -> None:
    """/cancel with no question waiting (a waiting one is cancelled by the conversation)."""
    await reply(update, texts.NOTHING_WAITING)


@guarded("editor")
async def cmd_queue(update: Update, context: Context, loa: Loa) -> None:
    """Pending articles."""
    pending = await asyncio.to_thread(loa.store.articles.list, [ArticleState.PENDING])
    if not pending:
        await reply(update, texts.QUEUE_EMPTY)
        return
    lines = [texts.QUEUE_HEADER.format(count=len(pending))]
    lines += [
        texts.QUEUE_LINE.format(
            id=a.id, title=a.title, topic=a.topic, at=local_time(loa, a.submitted_at)
        )
        for a in pending
    ]
    await send_long(update, lines)


@guarded("editor")
async def cmd_scheduled(update: Update, context: Context, loa: Loa) -> None:
    """Approved articles waiting for their slot, with each channel's delivery state."""
    approved = await asyncio.to_thread(loa.store.articles.list, [ArticleState.APPROVED])
    if not approved:
        await reply(update, texts.SCHEDULED_EMPTY)
        return
    lines = [texts.SCHEDULED_HEADER.format(count=len(approved))]
    for a in approved:
        states = (
            ", ".join(f"{d.channel}: {delivery_state_vi(d.state)}" for d in a.deliveries) or "—"
        )
        lines.append(
            texts.SCHEDULED_LINE.format(
                id=a.id, title=a.title, at=local_time(loa, a.scheduled_at), deliveries=states
            )
        )
    await send_long(update, lines)


@guarded("editor")
async def cmd_stats(update: Update, context: Context, loa: Loa) -> None:
    """This month: website articles against the minimum, and posts per channel."""
    now = datetime.now(loa.settings.schedule.tz)
    await reply(update, "\n".join(await asyncio.to_thread(stats_lines, loa, now)))


def stats_lines(loa: Loa, now: datetime) -> list[str]:
    """/stats for the month of ``now``: the report's own figures (``kpis_for``), so the bot,
    the web page and the DOCX/XLSX say the same numbers."""
    plan = loa.settings.plan
    kpis = kpis_for(loa, f"{now.year}-{now.month:02d}")
    status = month_status(
        loa.store,
        now.year,
        now.month,
        monthly_minimum=plan.monthly_website_minimum,
        website_channels=plan.website_channels,
        tz=loa.settings.schedule.timezone,
    )
    published = kpis.months[0].published
    lines = [
        texts.STATS.format(
            month=now.month,
            year=now.year,
            published=vi_number(published),
            minimum=plan.monthly_website_minimum,
            scheduled=vi_number(status.scheduled),
            behind=texts.STATS_BEHIND if status.behind else "",
        )
    ]
    counts = {c.channel: c.posts for c in kpis.channels}
    enabled = loa.settings.enabled_channels()
    names = list(enabled) + [c for c in counts if c not in enabled]
    labels = channel_labels(loa.settings.parsed_channels)
    if counts:
        lines += [
            texts.STATS_CHANNEL_LINE.format(
                channel=labels.get(n, n), count=vi_number(counts.get(n, 0))
            )
            for n in names
        ]
    else:
        lines.append(texts.STATS_NO_POSTS)
    return lines


@guarded("admin")
async def cmd_report(update: Update, context: Context, loa: Loa) -> None:
    """Send the plan's report for a period as a Word document."""
    from bot.reports.files import write_report

    if not context.args:
        await reply(update, texts.REPORT_USAGE)
        return
    period = context.args[0].strip()
    with tempfile.TemporaryDirectory(prefix="loa-report-") as tmp:
        try:
            path, _ = await asyncio.to_thread(
                write_report, loa, period, "docx", Path(tmp) / f"bao-cao-cchc-{period}.docx"
            )
        except ValueError as exc:
            await reply(update, str(exc))
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
        st = await asyncio.to_thread(loa.store.channels.channel_status, name)
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
        kind = CHANNEL_TYPE_VI.get(cfg.type, cfg.type)
        lines.append(texts.CHANNEL_LINE.format(channel=name, type=kind, status=status))
    await reply(update, "\n".join(lines))


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
        await reply(update, error or "")
        return
    await asyncio.to_thread(
        loa.store.channels.set_paused,
        name,
        True,
        actor_of(update.effective_user),
        texts.PAUSE_REASON,
    )
    await reply(update, texts.PAUSED.format(channel=name))


@guarded("admin")
async def cmd_resume(update: Update, context: Context, loa: Loa) -> None:
    """Let a paused channel post again."""
    name, error = _channel_arg(loa, context, "resume")
    if name is None:
        await reply(update, error or "")
        return
    await asyncio.to_thread(
        loa.store.channels.set_paused, name, False, actor_of(update.effective_user)
    )
    await reply(update, texts.RESUMED.format(channel=name))


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
        await reply(
            update,
            texts.NEED_ARTICLE_ID.format(
                command=action, example=instruction(action, 12, surface="telegram")
            ),
        )
        return
    channel, url = split_channel_and_url(list(context.args or [])[1:])
    try:
        d = await asyncio.to_thread(
            act_on_delivery,
            loa,
            action,
            article_id,
            channel,
            actor_of(update.effective_user),
            url=url,
            surface="telegram",
        )
    except (IllegalTransition, NotFound, DeliveryChoiceError) as exc:
        await reply(update, str(exc))
        return
    done = {
        "retry": texts.RETRY_DONE,
        "confirm": texts.CONFIRM_DONE,
        "notposted": texts.NOTPOSTED_DONE,
    }[action]
    await reply(update, texts.ACTION_DONE.format(what=done, id=d.article_id, channels=d.channel))


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
        await reply(
            update,
            texts.NEED_ARTICLE_ID.format(
                command="withdraw", example=instruction("withdraw", 12, surface="telegram")
            ),
        )
        return
    try:
        await asyncio.to_thread(
            loa.store.articles.withdraw, article_id, actor_of(update.effective_user)
        )
    except (IllegalTransition, NotFound) as exc:
        await reply(update, str(exc))
        return
    await reply(update, texts.WITHDRAWN.format(id=article_id))


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
