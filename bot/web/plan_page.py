"""Kế hoạch: the plan's progress for a year, as charts people would rather look at than read."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.reports.files import kpis_for
from bot.reports.intake_section import intake_rows
from bot.reports.kpis import Kpis, MonthStatus, month_status
from bot.web.charts import MONTHS_VI, Chart, bars, heat_map, lines, stacked_bars
from bot.web.site import Site, site_of

__all__ = ["PlanView", "plan_view", "routes"]


@dataclass(frozen=True)
class FailureMonth:
    month: int
    failed: int  # still failed (gave up)
    fixed: int  # failed once, then sent
    hours_to_fix_avg: float | None
    hours_to_fix_max: float | None


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
    reach_totals: dict[str, int | None]  # None: no post of the channel had the figure
    citizens: list[tuple[str, str, Any]] = field(default_factory=list)  # counts only


def month_bounds(year: int, tz: Any) -> list[datetime]:
    """The 13 UTC instants at which the local months of ``year`` start (and the next year)."""
    starts = [date(year, m, 1) for m in range(1, 13)] + [date(year + 1, 1, 1)]
    return [datetime.combine(d, time.min, tz).astimezone(UTC) for d in starts]


def _failure_months(kpis: Kpis, tz: Any) -> list[FailureMonth]:
    """The report's failures (``kpis.failures``) per local month of their first failure."""
    failed: dict[int, int] = defaultdict(int)
    hours: dict[int, list[float]] = defaultdict(list)
    for d in kpis.failures.failed:
        if d.failed_at is not None:
            failed[d.failed_at.astimezone(tz).month] += 1
    for x in kpis.failures.fixed:
        hours[x.first_failure_at.astimezone(tz).month].append(x.hours_to_fix)
    return [
        FailureMonth(
            m,
            failed.get(m, 0),
            len(hours.get(m, [])),
            round(sum(hours[m]) / len(hours[m]), 1) if hours.get(m) else None,
            round(max(hours[m]), 1) if hours.get(m) else None,
        )
        for m in sorted(set(failed) | set(hours))
    ]


def plan_view(site: Site, year: int, now: datetime | None = None) -> PlanView:
    """The year's charts, drawn from the report's own figures (``kpis_for``): the plan page,
    /bao-cao, /stats and the DOCX/XLSX never disagree."""
    loa = site.loa
    plan = loa.settings.plan
    local_now = (now or datetime.now(UTC)).astimezone(site.tz)
    kpis = kpis_for(loa, str(year))
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
    published = {m.month: m.published for m in kpis.months}
    web_values = [published.get(m, 0) if m <= current else None for m in range(1, 13)]
    website = bars(
        web_values,
        MONTHS_VI,
        label=f"Bài CCHC trên website theo tháng, năm {year}",
        target=plan.monthly_website_minimum,
        ok_at=plan.monthly_website_minimum,
        target_label=f"Chỉ tiêu {plan.monthly_website_minimum} bài/tháng",
    )
    rows = [(t.key, t.label) for t in loa.topics.values()]
    per_topic = {(t.key, int(mk[5:])): n for t in kpis.topics for mk, n in t.per_month.items() if n}
    topics = heat_map(
        rows,
        per_topic,
        label=f"Chủ đề a)–i) đã có bài theo tháng, năm {year}",
        current_month=current,
    )
    labels = site.channel_labels
    reach = lines(
        {
            labels.get(r.channel, r.channel): [
                r.reach_per_month.get(f"{year}-{m:02d}") if m <= current else None
                for m in range(1, 13)
            ]
            for r in kpis.reach
        },
        MONTHS_VI,
        label=f"Lượt tiếp cận theo kênh và tháng, năm {year}",
    )
    failure_rows = _failure_months(kpis, site.tz)
    by_month = {f.month: f for f in failure_rows}
    failures = stacked_bars(
        [
            (
                "failed",
                "Lỗi chưa khắc phục",
                [
                    by_month[m].failed if m in by_month else (0 if m <= current else None)
                    for m in range(1, 13)
                ],
            ),
            (
                "fixed",
                "Lỗi đã khắc phục",
                [
                    by_month[m].fixed if m in by_month else (0 if m <= current else None)
                    for m in range(1, 13)
                ],
            ),
        ],
        MONTHS_VI,
        height=200,
        label=f"Lượt đăng bị lỗi theo tháng, năm {year}",
    )
    covered = {t.key for t in kpis.topics if t.articles}
    uncovered = [(k, label) for k, label in rows if k not in covered]
    totals = {labels.get(r.channel, r.channel): r.reach for r in kpis.reach}
    return PlanView(
        year,
        this_month,
        website,
        topics,
        reach,
        failures,
        failure_rows,
        uncovered,
        totals,
        intake_rows(kpis.intake) if kpis.intake is not None else [],
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
