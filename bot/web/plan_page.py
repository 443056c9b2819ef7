"""Kế hoạch: the plan's progress for a year, as charts people would rather look at than read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.reports.intake_section import intake_figures, intake_rows
from bot.reports.kpis import MonthStatus, month_status
from bot.web.charts import MONTHS_VI, Chart, bars, heat_map, lines
from bot.web.site import Site, site_of
from content_queue.plan_reads import FailureMonth

__all__ = ["PlanView", "plan_view", "routes"]


@dataclass(frozen=True)
class PlanView:
    year: int
    this_month: MonthStatus | None
    website: Chart
    topics: Chart
    reach: Chart
    failures: Chart
    failure_rows: list[FailureMonth]
    uncovered: list[tuple[str, str]]
    reach_totals: dict[str, int]
    citizens: list[tuple[str, str, Any]] = field(default_factory=list)  # counts only


def month_bounds(year: int, tz: Any) -> list[datetime]:
    """The 13 UTC instants at which the local months of ``year`` start (and the next year)."""
    starts = [date(year, m, 1) for m in range(1, 13)] + [date(year + 1, 1, 1)]
    return [datetime.combine(d, time.min, tz).astimezone(UTC) for d in starts]


def plan_view(site: Site, year: int, now: datetime | None = None) -> PlanView:
    loa = site.loa
    plan = loa.settings.plan
    local_now = (now or datetime.now(UTC)).astimezone(site.tz)
    bounds = month_bounds(year, site.tz)
    figures = loa.store.reads.year_figures(bounds, website_channels=plan.website_channels)
    current = local_now.month if year == local_now.year else (12 if year < local_now.year else 0)
    this_month = None
    if year == local_now.year:
        this_month = month_status(
            loa.store,
            year,
            local_now.month,
            monthly_minimum=plan.monthly_website_minimum,
            website_channels=plan.website_channels,
            tz=loa.settings.schedule.timezone,
        )
    web_values = [
        figures.website_articles.get(m, 0) if m <= current else None for m in range(1, 13)
    ]
    website = bars(
        web_values,
        MONTHS_VI,
        label=f"Bài CCHC trên website theo tháng, năm {year}",
        target=plan.monthly_website_minimum,
        ok_at=plan.monthly_website_minimum,
        target_label=f"Chỉ tiêu {plan.monthly_website_minimum} bài/tháng",
    )
    rows = [(t.key, t.label) for t in loa.topics.values()]
    topics = heat_map(
        rows,
        figures.topics,
        label=f"Chủ đề a)–i) đã có bài theo tháng, năm {year}",
        current_month=current,
    )
    channels = sorted(
        {c for c, _ in figures.posts} | {c for c, _ in figures.reach},
        key=lambda c: (c not in plan.website_channels, c),
    )
    reach = lines(
        {
            c: [figures.reach.get((c, m)) if m <= current else None for m in range(1, 13)]
            for c in channels
        },
        MONTHS_VI,
        label=f"Lượt tiếp cận theo kênh và tháng, năm {year}",
    )
    failures = bars(
        [
            (figures.failures[m].failed + figures.failures[m].fixed)
            if m in figures.failures
            else (0 if m <= current else None)
            for m in range(1, 13)
        ],
        MONTHS_VI,
        height=160,
        label=f"Lượt đăng bị lỗi theo tháng, năm {year}",
    )
    covered = {k for (k, m), n in figures.topics.items() if n}
    uncovered = [(k, label) for k, label in rows if k not in covered]
    totals = {c: sum(v for (ch, _), v in figures.reach.items() if ch == c) for c in channels}
    return PlanView(
        year,
        this_month,
        website,
        topics,
        reach,
        failures,
        [figures.failures[m] for m in sorted(figures.failures)],
        uncovered,
        totals,
        intake_rows(intake_figures(loa.store, bounds[0], bounds[12], local_now)),
    )


async def plan_page(request: Request) -> Response:
    site = site_of(request)
    sess = await site.session(request)
    if sess is None:
        return site.login_redirect(request)
    this_year = datetime.now(site.tz).year
    try:
        year = int(request.query_params.get("nam", this_year))
    except ValueError:
        year = this_year
    year = min(max(year, 2000), 2100)
    today = datetime.now(site.tz).date()
    view = await run_in_threadpool(
        site.cache.get, ("plan", year, today), lambda: plan_view(site, year)
    )
    return site.page(
        "plan.html", sess, view=view, minimum=site.loa.settings.plan.monthly_website_minimum
    )


routes = [Route("/ke-hoach", plan_page, methods=["GET"])]
