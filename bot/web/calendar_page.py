"""Lịch đăng: a month or a week of posts, one card per article with its channels' states.

As Buffer and Mixpost show a post once with the networks it goes to, a card is one article on
one day with a chip per channel (state in words and colour). A pending article without a time
asked for is shown on the slot the approve button would give it, marked as proposed.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.schedule import next_free_slot
from bot.web import texts
from bot.web.site import Site, site_of
from content_queue.calendar_reads import CalendarEntry
from content_queue.workflow import ArticleState

__all__ = ["CalendarCard", "CalendarView", "calendar_view", "routes"]

PROPOSED_PER_SLOT = 20  # pending articles drawn on their proposed slot; the rest in Chờ duyệt


@dataclass(frozen=True)
class CalendarCard:
    """One article on one day: its time, and each channel's state (empty while pending)."""

    article_id: int
    title: str
    at: datetime
    state: str  # the first entry's state: "pending" for an article awaiting a decision
    channels: tuple[tuple[str, str], ...]  # (channel, delivery state)
    proposed: bool = False  # pending without a time: drawn on the slot it would get


def _cards(entries: list[CalendarEntry]) -> list[CalendarCard]:
    order: dict[int, list[CalendarEntry]] = {}
    for e in entries:
        order.setdefault(e.article_id, []).append(e)
    cards = []
    for aid, group in order.items():
        first = group[0]
        chans = tuple((e.channel, e.state) for e in group if e.channel)
        cards.append(CalendarCard(aid, first.title, first.at, first.state, chans))
    return cards


PER_DAY = {"month": 6, "week": 40}  # chips drawn in a day's cell; the rest as "+ N more"
WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


@dataclass(frozen=True)
class CalendarView:
    mode: str  # month | week
    title: str
    weeks: list[list[date]]
    month: int
    today: date
    by_day: dict[date, list[CalendarCard]]
    totals: dict[date, int]  # posts on the day, shown or not
    shown: dict[date, int]  # posts drawn on the day's cards
    prev_link: str
    next_link: str
    filters: dict[str, str]


# Days the calendar can show (and step a week either side of) without leaving ``date``'s range.
FIRST_YEAR, LAST_YEAR = 2000, 2100


class BadDate(ValueError):
    """A day outside the calendar's years (the page answers 400)."""


def _parse_day(text: str | None, default: date) -> date:
    try:
        day = date.fromisoformat(text) if text else default
    except ValueError:
        return default
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise BadDate(text)
    return day


def _parse_month(text: str | None, default: date) -> date:
    try:
        y, m = (int(x) for x in (text or "").split("-"))
        return date(y, m, 1) if 2000 <= y <= 2100 and 1 <= m <= 12 else default.replace(day=1)
    except ValueError:
        return default.replace(day=1)


def _query(params: dict[str, str], **extra: str) -> str:
    merged = {**{k: v for k, v in params.items() if v}, **extra}
    return "?" + "&".join(f"{k}={v}" for k, v in merged.items())


def calendar_view(
    site: Site, mode: str, params: dict[str, str], now: datetime | None = None
) -> CalendarView:
    """The days to draw and the chips on each, read in one query for the range shown."""
    tz = site.tz
    today = (now or datetime.now(UTC)).astimezone(tz).date()
    channels = [
        c for c in params.get("kenh", "").split(",") if c in site.loa.settings.parsed_channels
    ]
    topic = params.get("chu-de") or None
    if topic not in site.loa.topics:
        topic = None
    filters = {"kenh": ",".join(channels), "chu-de": topic or ""}
    if mode == "week":
        day = _parse_day(params.get("ngay"), today)
        first = day - timedelta(days=day.weekday())
        weeks = [[first + timedelta(days=i) for i in range(7)]]
        month = day.month
        last = first + timedelta(days=6)
        title = f"Tuần {first:%d/%m} – {last:%d/%m/%Y}"
        prev_link = _query({**filters, "xem": "tuan"}, ngay=str(first - timedelta(days=7)))
        next_link = _query({**filters, "xem": "tuan"}, ngay=str(first + timedelta(days=7)))
    else:
        start = _parse_month(params.get("thang"), today)
        month = start.month
        weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(start.year, start.month)
        title = f"Tháng {start.month}/{start.year}"
        prev_m = (start - timedelta(days=1)).replace(day=1)
        next_m = (start + timedelta(days=32)).replace(day=1)
        prev_link = _query(filters, thang=f"{prev_m:%Y-%m}")
        next_link = _query(filters, thang=f"{next_m:%Y-%m}")
    days = [d for week in weeks for d in week]
    bounds = [
        datetime.combine(d, time.min, tz).astimezone(UTC)
        for d in [*days, days[-1] + timedelta(days=1)]
    ]
    per_day = site.loa.store.reads.calendar_days(
        bounds, per_day=PER_DAY[mode], channels=channels or None, topic=topic
    )
    by_day = {d: _cards(entries) for d, (entries, _) in zip(days, per_day, strict=True) if entries}
    totals = {d: n for d, (_, n) in zip(days, per_day, strict=True) if n}
    shown = {d: len(entries) for d, (entries, _) in zip(days, per_day, strict=True)}
    if not channels:
        _add_proposed(site, by_day, days, topic, now)
    return CalendarView(
        mode, title, weeks, month, today, by_day, totals, shown, prev_link, next_link, filters
    )


def _add_proposed(
    site: Site,
    by_day: dict[date, list[CalendarCard]],
    days: list[date],
    topic: str | None,
    now: datetime | None,
) -> None:
    """Pending articles without a requested time, on the slot the approve button would give."""
    loa = site.loa
    undated = [q for q in loa.store.reads.pending_queue() if q.publish_at is None]
    undated = [q for q in undated if topic is None or q.topic == topic]
    if not undated:
        return
    try:
        slot = next_free_slot(loa.store, loa.settings.schedule, now or datetime.now(UTC))
    except ValueError:
        return
    day = slot.astimezone(site.tz).date()
    if day not in days:
        return
    cards = [
        CalendarCard(q.article_id, q.title, slot, ArticleState.PENDING, (), proposed=True)
        for q in undated[:PROPOSED_PER_SLOT]
    ]
    by_day[day] = by_day.get(day, []) + cards


async def calendar_page(request: Request) -> Response:
    site = site_of(request)
    sess = await site.session(request)
    if sess is None:
        return site.login_redirect(request)
    params: dict[str, Any] = {k: v[:40] for k, v in request.query_params.items()}
    mode = "week" if params.get("xem") == "tuan" else "month"
    key = (
        "calendar",
        mode,
        datetime.now(site.tz).date(),
        tuple(sorted((k, str(v)) for k, v in params.items())),
    )
    try:
        view = await run_in_threadpool(
            site.cache.get, key, lambda: calendar_view(site, mode, params)
        )
    except BadDate:
        return site.refusal(sess, texts.BAD_DATE.format(first=FIRST_YEAR, last=LAST_YEAR), 400)
    return site.page(
        "calendar.html",
        sess,
        view=view,
        weekdays=WEEKDAYS_VI,
        channels=list(site.loa.settings.parsed_channels),
        topics=site.loa.topics,
    )


routes = [Route("/lich", calendar_page, methods=["GET"])]
