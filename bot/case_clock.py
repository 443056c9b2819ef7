"""Due dates of cases on the calendar of working days, and when their reminders are due.

A petition received on day D is due ``due_working_days`` working days later (D itself does not
count; weekends by ``[schedule] working_days``, holidays by ``[schedule] holidays``), at
``[petitions] due_time`` local. A takedown request is due a number of clock hours after it was
received (Decree 147/2024: 24 h for an authority, 48 h for a citizen). Reminders: at half time,
one day before the due time (for a takedown: ``alert_before_hours`` before it), and once overdue.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bot.settings import ScheduleSettings

__all__ = ["add_working_days", "petition_due", "reminders_due", "takedown_due"]


def add_working_days(start: date, days: int, policy: ScheduleSettings) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself does not count)."""
    holidays = set(policy.holidays)
    d, left = start, days
    for _ in range(days * 7 + 400):  # bounded: even a year of holidays ends
        d += timedelta(days=1)
        if d.isoweekday() in policy.working_days and d not in holidays:
            left -= 1
            if left == 0:
                return d
    raise ValueError("Không tính được hạn xử lý: lịch không có ngày làm việc.")


def petition_due(
    received: datetime, working_days: int, due_time: str, policy: ScheduleSettings
) -> datetime:
    """The due time (UTC) of a petition received at ``received``."""
    tz = policy.tz
    day = add_working_days(received.astimezone(tz).date(), working_days, policy)
    return datetime.combine(day, time.fromisoformat(due_time), tz).astimezone(UTC)


def takedown_due(received: datetime, hours: float) -> datetime:
    return received + timedelta(hours=hours)


def reminders_due(
    received: datetime, due: datetime, now: datetime, *, last_before: timedelta
) -> list[str]:
    """Which reminders are due at ``now``: ``half``, ``last`` (``last_before`` the due time) and
    ``overdue``; the caller fires each once (the store remembers)."""
    out = []
    if now >= received + (due - received) / 2:
        out.append("half")
    if now >= due - last_before:
        out.append("last")
    if now > due:
        out.append("overdue")
    return out
