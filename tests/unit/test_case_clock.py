"""Due dates on the calendar of working days and holidays; reminders at half time, one day
before and overdue; flags on comments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.case_clock import add_working_days, petition_due, reminders_due, takedown_due
from bot.comment_flags import BUILT_IN, flags_of
from bot.settings import ScheduleSettings

TET = [date(2027, 2, d) for d in range(5, 12)]  # a week of Tết holidays
POLICY = ScheduleSettings(holidays=[date(2026, 9, 2), date(2027, 1, 1), *TET])


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (date(2026, 12, 7), 1, date(2026, 12, 8)),  # Monday → Tuesday
        (date(2026, 12, 11), 1, date(2026, 12, 14)),  # Friday → Monday (weekend skipped)
        (date(2026, 12, 12), 1, date(2026, 12, 14)),  # Saturday → Monday
        (date(2026, 12, 7), 10, date(2026, 12, 21)),  # two working weeks
        (date(2026, 8, 31), 2, date(2026, 9, 3)),  # 2 September is a holiday
        (date(2026, 12, 31), 1, date(2027, 1, 4)),  # New Year's Day, then the weekend
        (date(2027, 2, 4), 1, date(2027, 2, 12)),  # across Tết
    ],
)
def test_due_date_counts_working_days_skipping_weekends_and_holidays(
    start: date, days: int, due: date
) -> None:
    assert add_working_days(start, days, POLICY) == due


def test_petition_is_due_at_the_configured_local_time() -> None:
    received = datetime(2026, 12, 11, 9, 0, tzinfo=UTC)  # Friday 16:00 in Hà Nội
    due = petition_due(received, 10, "17:00", POLICY)
    assert due == datetime(2026, 12, 25, 10, 0, tzinfo=UTC)  # Friday 17:00 local


def test_a_calendar_without_working_days_is_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(
            date(2026, 1, 1),
            1,
            ScheduleSettings(
                working_days=[1],
                holidays=[
                    date(2026, 1, 1) + timedelta(days=7 * k + (0 - date(2026, 1, 1).weekday()) % 7)
                    for k in range(60)
                ],
            ),
        )


def test_reminders_at_half_time_one_day_before_and_overdue() -> None:
    r = datetime(2026, 12, 7, 2, tzinfo=UTC)
    d = r + timedelta(days=10)
    day = timedelta(days=1)
    assert reminders_due(r, d, r + timedelta(days=4), last_before=day) == []
    assert reminders_due(r, d, r + timedelta(days=5), last_before=day) == ["half"]
    assert reminders_due(r, d, d - day, last_before=day) == ["half", "last"]
    assert reminders_due(r, d, d + timedelta(seconds=1), last_before=day) == [
        "half",
        "last",
        "overdue",
    ]


def test_takedown_clock_is_in_hours() -> None:
    r = datetime(2026, 12, 12, 22, tzinfo=UTC)  # a Saturday night: the law's clock still runs
    assert takedown_due(r, 24) == r + timedelta(hours=24)


@pytest.mark.parametrize(
    ("text", "flags"),
    [
        ("Cảm ơn Sở đã hướng dẫn tận tình", []),
        ("Làm ăn như đồ chó", ["insult"]),
        ("Mua hàng giá rẻ tại https://shop.example.com", ["spam"]),
        ("Vay tiền nhanh không thế chấp, liên hệ 0912.345.678", ["scam"]),
        ("Bọn ngu, xem tại bit.ly/x", ["insult", "spam"]),
        ("Nguyễn Văn Ngữ hỏi về thủ tục", []),  # "ngu" only as a whole word
    ],
)
def test_flags_from_the_word_lists(text: str, flags: list[str]) -> None:
    assert flags_of(text, BUILT_IN) == flags


def test_links_to_safe_hosts_are_not_flagged() -> None:
    safe = ("gov.vn",)
    assert flags_of("Xem https://dichvucong.gov.vn/p/home", BUILT_IN, safe) == []
    assert flags_of("Xem https://gov.vn.evil.example/x", BUILT_IN, safe) == ["spam"]


def test_flags_scan_a_bounded_prefix_of_hostile_input() -> None:
    assert flags_of("a" * 1_000_000 + " đồ chó", BUILT_IN) == []
