"""``/stats``, second part: this month's follower growth and broadcasts left, per channel.

It answers in handler group 1, after the main ``/stats`` answer (group 0), so it adds a message
without touching the main command. Editors and admins only; the main handler refuses others.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.broadcasts import broadcast_channels, quota_status
from bot.context import Loa
from bot.followers import growth_lines
from bot.telegram.context import LoaContext

__all__ = ["GROUP", "register_stats_growth", "stats_growth_text"]

GROUP = 1
HEADER = "Người theo dõi các kênh tháng {month:02d}/{year}:"
NO_SAMPLES = "Chưa có số liệu người theo dõi trong tháng."
QUOTA = "📣 {channel}: đã dùng {used}/{quota} lượt gửi tin truyền thông, còn lại {remaining} lượt."


def stats_growth_text(loa: Loa, now: datetime) -> str:
    """The follower lines and, where broadcasts are on, the month's remaining quota."""
    local = now.astimezone(loa.settings.schedule.tz)
    lines = [HEADER.format(month=local.month, year=local.year)]
    lines += growth_lines(loa, now) or [NO_SAMPLES]
    for channel in broadcast_channels(loa):
        q = quota_status(loa, channel, now)
        lines.append(
            QUOTA.format(channel=channel, used=q.used, quota=q.quota, remaining=q.remaining)
        )
    return "\n".join(lines)


async def on_stats_growth(update: Update, context: LoaContext) -> None:
    """Send this month's follower growth after the main ``/stats`` answer."""
    loa = context.loa
    user = update.effective_user
    tg = loa.settings.telegram
    if (
        user is None
        or update.effective_message is None
        or (user.id not in tg.admins and user.id not in tg.editors)
    ):
        return
    await update.effective_message.reply_text(stats_growth_text(loa, datetime.now(UTC)))


def register_stats_growth(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler("stats", on_stats_growth), group=GROUP)
