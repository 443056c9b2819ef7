"""Reach collection: batched reads per channel on a decaying schedule, stored as a time series."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from bot.context import Loa
from channels.base import AuthError, ChannelError, RateLimited, Receipt
from content_queue.reach import DueForReach

__all__ = ["collect_reach", "next_sample_at"]

log = logging.getLogger(__name__)


def next_sample_at(loa: Loa, sent_at: datetime, now: datetime) -> datetime | None:
    """When to sample a post next: every few minutes while fresh, daily later, then never."""
    r = loa.settings.reach
    age = now - sent_at
    if age < timedelta(hours=r.fresh_hours):
        return now + timedelta(minutes=r.fresh_interval_minutes)
    if age < timedelta(days=r.daily_until_days):
        return now + timedelta(days=1)
    return None


def collect_reach(loa: Loa, now: datetime) -> int:
    """Sample every post that is due; returns the number of samples stored."""
    by_channel: dict[str, list[DueForReach]] = defaultdict(list)
    for item in loa.store.reach.due_for_reach(now):
        by_channel[item.channel].append(item)
    stored = 0
    channels = loa.channels()
    for name, items in by_channel.items():
        channel = channels.get(name)
        st = loa.store.channels.channel_status(name)
        if channel is None or st.paused or (st.backoff_until and st.backoff_until > now):
            continue
        try:
            reach = channel.fetch_reach([Receipt(i.remote_id, i.url) for i in items])
        except RateLimited as exc:
            loa.store.channels.set_backoff(name, now + timedelta(seconds=exc.retry_after))
            log.warning("reach: %s throttled, backing off %.0f s", name, exc.retry_after)
            continue
        except AuthError as exc:
            log.warning("reach: %s refused the credentials: %s", name, exc.message)
            continue
        except ChannelError as exc:
            log.warning("reach: %s failed: %s", name, exc.message)
            continue
        stored += loa.store.reach.record_reach(
            items, reach, now, lambda i: next_sample_at(loa, i.sent_at, now)
        )
    return stored
