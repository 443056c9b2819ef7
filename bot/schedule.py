"""The posting policy: slots, working days, holidays and the per-day cap."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta

from bot.context import Loa
from bot.settings import ScheduleSettings
from content_queue.models import Article
from content_queue.store import Store

__all__ = ["next_free_slot", "parse_local_time", "proposed_slot", "slot_times"]


def parse_local_time(text: str, policy: ScheduleSettings) -> datetime:
    """``YYYY-MM-DD HH:MM`` in the configured time zone, as an aware UTC datetime."""
    try:
        local = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise ValueError(f"Thời gian “{text}” không đúng dạng YYYY-MM-DD HH:MM.") from None
    return local.replace(tzinfo=policy.tz).astimezone(UTC)


def slot_times(policy: ScheduleSettings, after: datetime, days: int = 60) -> Iterable[datetime]:
    """Every posting slot after ``after`` (UTC), in order, on working days that are not holidays."""
    if policy.slot_interval_seconds:  # compressed time (demo): a slot every N seconds
        step = timedelta(seconds=policy.slot_interval_seconds)
        t = after + step
        for _ in range(days * 24 * 3600 // max(int(policy.slot_interval_seconds), 1)):
            yield t
            t += step
        return
    tz = policy.tz
    day = after.astimezone(tz).date()
    for _ in range(days):
        if day.isoweekday() in policy.working_days and day not in policy.holidays:
            for s in policy.slots:
                t = datetime.combine(day, time.fromisoformat(s), tz).astimezone(UTC)
                if t > after:
                    yield t
        day += timedelta(days=1)


def next_free_slot(store: Store, policy: ScheduleSettings, now: datetime) -> datetime:
    """The first slot after ``now`` that is not taken and whose day is under the daily cap."""
    taken = store.articles.scheduled_times_after(now)
    taken_set = set(taken)
    per_day: dict[object, int] = {}
    for t in taken:
        d = t.astimezone(policy.tz).date()
        per_day[d] = per_day.get(d, 0) + 1
    for slot in slot_times(policy, now):
        day = slot.astimezone(policy.tz).date()
        if slot in taken_set:
            continue
        if not policy.slot_interval_seconds and per_day.get(day, 0) >= policy.daily_cap:
            continue
        return slot
    raise ValueError("Không tìm được khung giờ đăng trống trong 60 ngày tới.")


def proposed_slot(loa: Loa, article: Article, now: datetime | None = None) -> datetime:
    """When the article would be posted if approved now with the approve button."""
    now = now or datetime.now(UTC)
    if article.publish_at and article.publish_at > now:
        return article.publish_at
    return next_free_slot(loa.store, loa.settings.schedule, now)
