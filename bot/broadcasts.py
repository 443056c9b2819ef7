"""The broadcast plan: which published Zalo articles go to followers, when, within the quota.

``[channels.NAME] broadcast``:

* ``off`` (default): Loa never proposes a broadcast.
* ``each``: every article posted on the OA is proposed, as soon as the spread quota allows; those
  that wait are grouped (up to 5, most recent first) into the next proposal.
* ``digest``: on ``digest_weekday`` from ``digest_time`` (local), the week's best articles (most
  viewed, then most recent; up to 5), presented most recent first.

The quota is a plan: by day ``d`` of a month with ``D`` days, at most ``ceil(quota * d / D)``
broadcasts are used (a quota of 4 opens one about every week), never more than one a day (Zalo
delivers one a day to a follower), never more than ``broadcast_quota_per_month``. Every proposal
waits for an admin's approval in Telegram; a broadcast whose answer was lost is ``in_doubt`` and
is never sent again by Loa (Zalo has no look-up): an admin says whether it went out.
"""

from __future__ import annotations

import calendar
import logging
import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from bot.context import Loa
from channels.base import ChannelError, RejectedError
from channels.capabilities import BroadcastSettings, CountsFollowers, SendsBroadcasts
from content_queue.broadcasts import COUNTED, Broadcast, BroadcastCandidate
from content_queue.models import Actor

__all__ = [
    "BROADCAST_MAX_ARTICLES",
    "QuotaStatus",
    "broadcast_channels",
    "broadcast_tick",
    "decide_broadcast",
    "plan_broadcast",
    "quota_status",
    "send_broadcast",
    "spread_allowance",
]

log = logging.getLogger(__name__)

BROADCAST_MAX_ARTICLES = 5
EACH_WINDOW = timedelta(days=14)  # "each": articles posted this recently may still be proposed
DIGEST_WINDOW = timedelta(days=7)  # "digest": the week's articles
SENDING_STALE = timedelta(minutes=10)  # a send this old without an outcome: its worker died


@dataclass(frozen=True)
class QuotaStatus:
    """A channel's broadcasts this month: used (or pending), the quota, what remains."""

    channel: str
    month: str
    used: int
    quota: int
    allowed_now: int  # the spread allowance today

    @property
    def remaining(self) -> int:
        return max(self.quota - self.used, 0)


def broadcast_channels(loa: Loa) -> dict[str, Any]:
    """Enabled channels whose settings turn broadcasts on, with those settings."""
    return {
        name: s
        for name, s in loa.settings.enabled_channels().items()
        if isinstance(s, BroadcastSettings) and s.broadcast != "off"
    }


def spread_allowance(quota: int, local_day: datetime) -> int:
    """Broadcasts the month may have used by the end of ``local_day`` (see the module docstring)."""
    days = calendar.monthrange(local_day.year, local_day.month)[1]
    return min(quota, math.ceil(quota * local_day.day / days))


def _month(local: datetime) -> str:
    return f"{local.year}-{local.month:02d}"


def quota_status(loa: Loa, channel: str, now: datetime) -> QuotaStatus:
    s = loa.settings.parsed_channels[channel]
    quota = s.broadcast_quota_per_month if isinstance(s, BroadcastSettings) else 0
    local = now.astimezone(loa.settings.schedule.tz)
    used = loa.store.broadcasts.used(channel, _month(local))
    return QuotaStatus(channel, _month(local), used, quota, spread_allowance(quota, local))


def _followers(loa: Loa, channel: str, now: datetime) -> int | None:
    """The latest follower count of the channel (a stored sample, else asked now)."""
    growth = loa.store.followers.follower_growth(
        now - timedelta(days=3), now + timedelta(seconds=1)
    )
    for g in growth:
        if g.channel == channel and g.metric == "followers" and g.end is not None:
            return g.end
    counter = loa.channel(channel)
    if not isinstance(counter, CountsFollowers):
        log.warning(
            "broadcast: follower count of %s unavailable: no count on this channel", channel
        )
        return None
    try:
        return counter.follower_count().get("followers")
    except ChannelError as exc:
        log.warning("broadcast: follower count of %s unavailable: %s", channel, exc)
        return None


def _choose(
    mode: str, candidates: list[BroadcastCandidate], now: datetime
) -> list[BroadcastCandidate]:
    if mode == "digest":
        week = [c for c in candidates if c.sent_at >= now - DIGEST_WINDOW]
        best = sorted(week, key=lambda c: (-(c.reach or 0), -c.sent_at.timestamp(), c.article_id))
        chosen = best[:BROADCAST_MAX_ARTICLES]
    else:
        chosen = candidates[:BROADCAST_MAX_ARTICLES]
    return sorted(chosen, key=lambda c: (-c.sent_at.timestamp(), -c.article_id))


def plan_broadcast(loa: Loa, channel: str, now: datetime) -> Broadcast | None:
    """Propose the next broadcast of ``channel`` if its mode, the time and the quota allow."""
    s = loa.settings.parsed_channels[channel]
    if not isinstance(s, BroadcastSettings) or s.broadcast == "off":
        return None
    mode = s.broadcast
    tz = loa.settings.schedule.tz
    local = now.astimezone(tz)
    status = quota_status(loa, channel, now)
    if status.used >= min(status.quota, status.allowed_now):
        return None
    broadcasts = loa.store.broadcasts
    today = [
        b
        for b in broadcasts.in_states((*COUNTED, "rejected"), channel)
        if b.proposed_at.astimezone(tz).date() == local.date()
    ]
    if today:
        return None  # one a day at most
    if mode == "digest":
        at = time.fromisoformat(s.digest_time)
        if local.isoweekday() != s.digest_weekday or local.time() < at:
            return None
    window = DIGEST_WINDOW if mode == "digest" else EACH_WINDOW
    chosen = _choose(mode, broadcasts.candidates(channel, now - window), now)
    if not chosen:
        return None
    proposal = broadcasts.propose(
        channel, mode, status.month, status.quota, chosen, _followers(loa, channel, now), now
    )
    if proposal is not None:
        log.info(
            "broadcast %s proposed on %s: articles %s",
            proposal.id,
            channel,
            list(proposal.article_ids),
        )
    return proposal


def send_broadcast(loa: Loa, broadcast_id: int, now: datetime) -> Broadcast | None:
    """Send an approved broadcast once; its outcome is recorded (sent, failed or in doubt).

    Only the caller that moves it from ``approved`` to ``sending`` calls Zalo; a lost answer
    makes it ``in_doubt`` and admins are alerted: Loa never sends it again on its own.
    """
    broadcasts = loa.store.broadcasts
    if not broadcasts.begin_send(broadcast_id, now):
        return broadcasts.get(broadcast_id)
    b = broadcasts.get(broadcast_id)
    assert b is not None
    channel = loa.channel(b.channel)
    try:
        if not isinstance(channel, SendsBroadcasts):
            raise RejectedError(f"Kênh {b.channel} không gửi được tin truyền thông.")
        receipt = channel.broadcast(list(b.remote_ids))
    except ChannelError as exc:
        if exc.may_have_posted:
            broadcasts.record_in_doubt(b.id, exc.message, now)
            loa.notifier.alert(
                f"broadcast_in_doubt:{b.id}",
                f"Không rõ tin truyền thông #{b.id} ({b.channel}) đã được gửi tới người theo dõi hay "
                f"chưa: {exc.message} Loa sẽ không tự gửi lại. Hãy xem trang quản lý Zalo OA rồi "
                "bấm «Đã gửi» hoặc «Chưa gửi» trên thẻ của tin này.",
            )
        else:
            broadcasts.record_failed(b.id, exc.message, now)
            loa.notifier.alert(
                f"broadcast_failed:{b.id}",
                f"Zalo không nhận tin truyền thông #{b.id}: {exc.message} Các bài "
                "trong tin sẽ được đề xuất lại ở lần sau.",
            )
    except Exception:
        # A bug after the request may have left: the same rule as a lost answer.
        broadcasts.record_in_doubt(b.id, "Lỗi nội bộ khi gửi; không rõ Zalo đã nhận.", now)
        raise
    else:
        broadcasts.record_sent(
            b.id, message_id=receipt.message_id, moderation_state=receipt.moderation_state, now=now
        )
    return broadcasts.get(broadcast_id)


def broadcast_tick(loa: Loa, now: datetime) -> list[Broadcast]:
    """The service's job: stale sends → in doubt, approved ones sent, new proposals made."""
    broadcasts = loa.store.broadcasts
    broadcasts.expire_sending(now - SENDING_STALE, now)
    broadcasts.expire_proposals(_month(now.astimezone(loa.settings.schedule.tz)), now)
    for b in broadcasts.in_states(("approved",)):
        send_broadcast(loa, b.id, now)
    proposed = []
    for channel in broadcast_channels(loa):
        p = plan_broadcast(loa, channel, now)
        if p is not None:
            proposed.append(p)
    return proposed


def decide_broadcast(
    loa: Loa, broadcast_id: int, actor: Actor, *, approve: bool, now: datetime
) -> tuple[bool, Broadcast | None]:
    """Approve (and send at once) or reject; ``won`` is False when another decision came first."""
    broadcasts = loa.store.broadcasts
    won = broadcasts.decide(broadcast_id, actor, approve=approve, now=now)
    if won and approve:
        return True, send_broadcast(loa, broadcast_id, now)
    return won, broadcasts.get(broadcast_id)
