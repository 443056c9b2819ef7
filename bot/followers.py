"""Follower counts: sampled once a day from every channel that gives one; this month's growth.

A channel gives follower counts when its adapter has ``follower_count() -> {metric: value}``
(Facebook Page: ``followers_count``, ``fan_count``; Zalo OA: ``followers``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.context import Loa
from bot.reports.metric_labels import metric_vi
from bot.wording import vi_number
from channels.base import ChannelError
from channels.capabilities import CountsFollowers
from content_queue.followers import (
    FollowerGrowth,
)

__all__ = ["collect_followers", "growth_lines"]

log = logging.getLogger(__name__)

SAMPLE_EVERY = timedelta(hours=20)  # daily, with slack for a job that runs a little early


def collect_followers(loa: Loa, now: datetime, *, force: bool = False) -> int:
    """Sample every channel not sampled in the last day; returns the samples stored."""
    stored = 0
    for name, channel in loa.channels().items():
        if not isinstance(channel, CountsFollowers):
            continue
        last = loa.store.followers.last_follower_sample_at(name)
        if not force and last is not None and now - last < SAMPLE_EVERY:
            continue
        try:
            counts = channel.follower_count()
        except ChannelError as exc:
            log.warning("followers: %s failed: %s", name, exc.message)
            continue
        stored += loa.store.followers.record_follower_counts(name, counts, now)
    return stored


def _number(n: int) -> str:
    return vi_number(n)


def growth_lines(loa: Loa, now: datetime) -> list[str]:
    """This month's follower growth per channel, one Vietnamese line each (for ``/stats``)."""
    tz = loa.settings.schedule.tz
    local = now.astimezone(tz)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    rows: list[FollowerGrowth] = loa.store.followers.follower_growth(
        start, now + timedelta(seconds=1)
    )
    lines = []
    for g in rows:
        if g.end is None:
            continue
        if g.growth is None:
            change = "chưa có số đầu tháng"
        else:
            sign = "+" if g.growth >= 0 else "−"
            change = f"{sign}{_number(abs(g.growth))} so với đầu tháng"
        lines.append(
            f"👥 {g.channel} — {metric_vi(g.metric)} ({g.metric}): {_number(g.end)} ({change})"
        )
    return lines
