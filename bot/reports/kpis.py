"""The plan's figures for a period, read straight from the tables: quota, topics, reach, failures.

Definitions (each count in ``Kpis.as_json()`` carries the article ids behind it):

* A website article is published in a month when one of its deliveries to a website channel is
  in state ``sent`` with ``sent_at`` in that month (local time); it counts once per article.
* A post on a channel is a delivery in state ``sent`` with ``sent_at`` in the period.
* Reach of a delivery = the latest *available* sample of the first metric of ``REACH_METRICS``
  that the channel serves (Facebook people reached, Zalo/website views). An article's reach is the
  sum over its channels; the top articles are ranked by it. Engagement = sum of
  ``ENGAGEMENT_METRICS``. A metric with only ``available = false`` samples is unavailable (None),
  never zero.
* Failures: deliveries ``failed`` (whose first failure, or last update, falls in the period), and
  deliveries that failed once and were then sent (time to fix = ``sent_at - first_failure_at``).
* Followers of a channel: the first and the last available sample of each count in the period
  (the start is the last sample before the period when there is one); growth = end - start.
* Broadcasts: those sent in the period, and those in doubt (they may have reached followers).
"""

from __future__ import annotations

import logging
import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.reports.citizens import CitizenSection, citizen_section
from bot.reports.intake_section import IntakeFigures, intake_figures
from bot.reports.metric_labels import metric_vi
from content_queue.kpi_reads import FailedRow, FixedRow, PeriodRows, SentRow
from content_queue.store import Store
from content_queue.topics import Topic, default_topics

__all__ = [
    "ENGAGEMENT_METRICS",
    "REACH_METRICS",
    "ArticleReach",
    "BroadcastSent",
    "ChannelGrowth",
    "ChannelPosts",
    "ChannelReach",
    "FailedDelivery",
    "Failures",
    "FixedFailure",
    "KPI_SECTIONS",
    "Kpis",
    "MetricTotal",
    "MonthQuota",
    "MonthStatus",
    "Period",
    "TopicCoverage",
    "compute_kpis",
    "month_status",
    "parse_period",
]

log = logging.getLogger(__name__)

# The "views/reach" family, in order of preference: the first one a delivery has is its reach.
REACH_METRICS: tuple[str, ...] = ("post_total_media_view_unique", "reach", "views")
ENGAGEMENT_METRICS: tuple[str, ...] = ("reactions", "comments", "shares", "post_clicks")
TOP_ARTICLES = 5

_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
_PERIOD_RE = re.compile(r"^(\d{4})(?:-(?:(\d{1,2})|[Qq]([1-4])|[Hh]([12])))?$")

STATUS_VI = {
    "met": "Đạt",
    "below": "Chưa đạt",
    "in_progress": "Đang thực hiện",
    "not_due": "Chưa đến hạn",
}


@dataclass(frozen=True)
class Period:
    """A reporting period; ``start`` and ``end`` are the first and last local days (inclusive)."""

    key: str
    kind: str  # month | quarter | half | year
    year: int
    start: date
    end: date
    label_vi: str

    @property
    def months(self) -> list[tuple[int, int]]:
        """The (year, month) pairs the period covers, in order."""
        return [(self.year, m) for m in range(self.start.month, self.end.month + 1)]

    def utc_bounds(self, tz: str = "Asia/Ho_Chi_Minh") -> tuple[datetime, datetime]:
        """The half-open [from, to) instants of the period, local midnights given in UTC."""
        zone = ZoneInfo(tz)
        lo = datetime.combine(self.start, datetime.min.time(), zone)
        hi = datetime.combine(self.end + timedelta(days=1), datetime.min.time(), zone)
        return lo.astimezone(UTC), hi.astimezone(UTC)


def _last_day(year: int, month: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return nxt - timedelta(days=1)


def parse_period(text: str) -> Period:
    """``2026-03`` (month), ``2026-Q1`` (quarter), ``2026-H1`` (half) or ``2026`` (year)."""
    m = _PERIOD_RE.match(text.strip())
    month = int(m.group(2)) if m and m.group(2) else None
    if not m or (month is not None and not 1 <= month <= 12) or not 2000 <= int(m.group(1)) <= 2100:
        raise ValueError(
            f"Kỳ báo cáo không hợp lệ: «{text}». Hãy dùng dạng 2026-03 (tháng), 2026-Q1 (quý), "
            "2026-H1 (6 tháng) hoặc 2026 (năm)."
        )
    year = int(m.group(1))
    if month is not None:
        return Period(
            f"{year}-{month:02d}",
            "month",
            year,
            date(year, month, 1),
            _last_day(year, month),
            f"tháng {month} năm {year}",
        )
    if m.group(3):
        q = int(m.group(3))
        return Period(
            f"{year}-Q{q}",
            "quarter",
            year,
            date(year, 3 * q - 2, 1),
            _last_day(year, 3 * q),
            f"quý {_ROMAN[q]} năm {year}",
        )
    if m.group(4):
        h = int(m.group(4))
        label = f"6 tháng đầu năm {year}" if h == 1 else f"6 tháng cuối năm {year}"
        return Period(
            f"{year}-H{h}", "half", year, date(year, 6 * h - 5, 1), _last_day(year, 6 * h), label
        )
    return Period(str(year), "year", year, date(year, 1, 1), date(year, 12, 31), f"năm {year}")


@dataclass(frozen=True)
class MonthQuota:
    year: int
    month: int
    published: int
    minimum: int
    status: str  # met | below | in_progress | not_due
    status_vi: str
    article_ids: list[int]


@dataclass(frozen=True)
class ChannelPosts:
    channel: str
    posts: int
    article_ids: list[int]
    per_month: dict[str, int]  # "2026-03" -> posts


@dataclass(frozen=True)
class TopicCoverage:
    key: str
    label: str
    articles: int
    article_ids: list[int]
    per_month: dict[str, int] = field(default_factory=dict)  # "2026-03" -> first posted then


@dataclass(frozen=True)
class MetricTotal:
    """A metric summed over a channel's posts; ``total`` None = no post had it available."""

    metric: str
    total: int | None
    posts_with_value: int
    posts_unavailable: int
    article_ids: list[int]


@dataclass(frozen=True)
class ChannelReach:
    channel: str
    posts: int
    reach: int | None
    engagement: int | None
    metrics: list[MetricTotal]
    reach_per_month: dict[str, int]
    unavailable: list[str]  # metrics with no available value on any post


@dataclass(frozen=True)
class ArticleReach:
    article_id: int
    title: str
    topic: str
    reach: int
    per_channel: dict[str, int]


@dataclass(frozen=True)
class FailedDelivery:
    delivery_id: int
    article_id: int
    channel: str
    title: str
    last_error: str | None
    failed_at: datetime | None = None  # its first failure (or its last change)


@dataclass(frozen=True)
class FixedFailure:
    delivery_id: int
    article_id: int
    channel: str
    first_failure_at: datetime
    sent_at: datetime
    hours_to_fix: float


@dataclass(frozen=True)
class Failures:
    failed: list[FailedDelivery]
    fixed: list[FixedFailure]
    median_hours_to_fix: float | None
    max_hours_to_fix: float | None


@dataclass(frozen=True)
class ChannelGrowth:
    """Followers of a channel at the start and end of the period (None = no sample)."""

    channel: str
    metric: str  # the platform's name (followers_count, fan_count, followers)
    label: str  # in Vietnamese
    start: int | None
    end: int | None
    growth: int | None
    growth_percent: float | None
    points: list[tuple[date, int]]  # the last count of each local day with a sample


@dataclass(frozen=True)
class BroadcastSent:
    """A broadcast to followers that went out (or may have: ``in_doubt``) in the period."""

    broadcast_id: int
    channel: str
    at: datetime
    state: str
    moderation_state: str | None
    recipients: int | None
    article_ids: list[int]


@dataclass(frozen=True)
class Kpis:
    """Everything a report shows for one period; ``as_json()`` keeps the ids behind each count."""

    period: Period
    generated_at: datetime
    timezone: str
    monthly_minimum: int
    website_channels: list[str]
    months: list[MonthQuota]
    website_articles: int
    channels: list[ChannelPosts]
    topics: list[TopicCoverage]
    uncovered_topics: list[str]
    reach: list[ChannelReach]
    top_articles: list[ArticleReach]
    failures: Failures
    definitions: dict[str, Any] = field(default_factory=dict)
    followers: list[ChannelGrowth] = field(default_factory=list)
    broadcasts: list[BroadcastSent] = field(default_factory=list)
    intake: IntakeFigures | None = None  # comments, petitions, takedowns (counts only)
    citizens: CitizenSection | None = None  # Hỏi đáp (bot.reports.citizens): counts only

    @property
    def months_below(self) -> list[MonthQuota]:
        return [m for m in self.months if m.status == "below"]

    def as_json(self) -> dict[str, Any]:
        """Plain JSON-ready data (ISO dates), including the article ids behind every count."""
        data: dict[str, Any] = _jsonable(asdict(self))
        return data | {"period": _jsonable(asdict(self.period)) | {"months": self.period.months}}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class MonthStatus:
    """Where a month stands against the minimum; behind = even the scheduled ones do not fill it."""

    year: int
    month: int
    published: int
    minimum: int
    scheduled: int
    behind: bool
    published_article_ids: list[int]
    scheduled_article_ids: list[int]


def _month_key(year: int, month: int) -> str:
    return f"{year}-{month:02d}"


def _now(now: datetime | None) -> datetime:
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now or datetime.now(UTC)


def _reach_of(samples: Mapping[str, int | None]) -> int | None:
    for metric in REACH_METRICS:
        if samples.get(metric) is not None:
            return samples[metric]
    return None


def _engagement_of(samples: Mapping[str, int | None]) -> int | None:
    values = [samples[m] for m in ENGAGEMENT_METRICS if samples.get(m) is not None]
    return sum(values) if values else None  # type: ignore[arg-type]


def _failures(failed: list[FailedRow], fixed_rows: list[FixedRow]) -> Failures:
    fixed = [
        FixedFailure(
            r.id,
            r.article_id,
            r.channel,
            r.first_failure_at,
            r.sent_at,
            round((r.sent_at - r.first_failure_at).total_seconds() / 3600, 2),
        )
        for r in fixed_rows
    ]
    hours = [f.hours_to_fix for f in fixed]
    return Failures(
        [
            FailedDelivery(r.id, r.article_id, r.channel, r.title, r.last_error, r.failed_at)
            for r in failed
        ],
        fixed,
        round(statistics.median(hours), 2) if hours else None,
        max(hours) if hours else None,
    )


@dataclass(frozen=True)
class PeriodInputs:
    """What every figure of a period is computed from (read once, shared by the sections)."""

    store: Store
    period: Period
    now: datetime
    zone: ZoneInfo
    topics: Mapping[str, Topic]
    website_channels: Collection[str]
    monthly_minimum: int
    lo: datetime
    hi: datetime
    rows: PeriodRows

    def month_of(self, at: datetime) -> str:
        local = at.astimezone(self.zone)
        return _month_key(local.year, local.month)


# A section computes some of the ``Kpis`` fields from the period's inputs. To add a figure to
# the report: one function here, one line in ``KPI_SECTIONS`` (and its field on ``Kpis``).
KpiSection = Callable[[PeriodInputs], dict[str, Any]]


def _quota_section(p: PeriodInputs) -> dict[str, Any]:
    """Website articles per month against the monthly minimum."""
    web_by_month: dict[str, set[int]] = defaultdict(set)
    for r in p.rows.sent:
        if r.channel in p.website_channels:
            web_by_month[p.month_of(r.sent_at)].add(r.article_id)
    local_now = p.now.astimezone(p.zone)
    months: list[MonthQuota] = []
    for y, m in p.period.months:
        ids = sorted(web_by_month.get(_month_key(y, m), ()))
        if (y, m) > (local_now.year, local_now.month):
            status = "not_due"
        elif len(ids) >= p.monthly_minimum:
            status = "met"
        elif (y, m) == (local_now.year, local_now.month):
            status = "in_progress"
        else:
            status = "below"
        months.append(MonthQuota(y, m, len(ids), p.monthly_minimum, status, STATUS_VI[status], ids))
    return {
        "months": months,
        "website_articles": len(set().union(*web_by_month.values())) if web_by_month else 0,
    }


def _channel_names(p: PeriodInputs) -> list[str]:
    names = {r.channel for r in p.rows.sent}
    return sorted(names, key=lambda c: (c not in p.website_channels, c))


def _posts_section(p: PeriodInputs) -> dict[str, Any]:
    """Posts per channel (and per month)."""
    channels = []
    for ch in _channel_names(p):
        rows = [r for r in p.rows.sent if r.channel == ch]
        per_month: dict[str, int] = defaultdict(int)
        for r in rows:
            per_month[p.month_of(r.sent_at)] += 1
        channels.append(
            ChannelPosts(ch, len(rows), sorted({r.article_id for r in rows}), dict(per_month))
        )
    return {"channels": channels}


def _metric_totals(p: PeriodInputs, rows: list[SentRow]) -> list[MetricTotal]:
    values: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
    for r in rows:
        for metric, value in p.rows.samples.get(r.id, {}).items():
            values[metric].append((r.article_id, value))
    out = []
    for metric in sorted(values):
        vals = values[metric]
        got = [v for _, v in vals if v is not None]
        out.append(
            MetricTotal(
                metric,
                sum(got) if got else None,
                len(got),
                len(vals) - len(got),
                sorted({a for a, v in vals if v is not None}),
            )
        )
    return out


def _reach_section(p: PeriodInputs) -> dict[str, Any]:
    """Reach and engagement per channel (None: no post had the figure), per month too."""
    reach = []
    for ch in _channel_names(p):
        rows = [r for r in p.rows.sent if r.channel == ch]
        reach_month: dict[str, int] = defaultdict(int)
        reach_total: int | None = None
        engagement_total: int | None = None
        for r in rows:
            s = p.rows.samples.get(r.id, {})
            rv = _reach_of(s)
            if rv is not None:
                reach_total = (reach_total or 0) + rv
                reach_month[p.month_of(r.sent_at)] += rv
            ev = _engagement_of(s)
            if ev is not None:
                engagement_total = (engagement_total or 0) + ev
        metrics = _metric_totals(p, rows)
        reach.append(
            ChannelReach(
                ch,
                len(rows),
                reach_total,
                engagement_total,
                metrics,
                dict(reach_month),
                [m.metric for m in metrics if m.total is None],
            )
        )
    return {"reach": reach}


def _top_articles_section(p: PeriodInputs) -> dict[str, Any]:
    """The articles with the most reach, summed over their channels."""
    article_reach: dict[int, dict[str, int]] = defaultdict(dict)
    titles: dict[int, tuple[str, str]] = {}
    for r in p.rows.sent:
        titles[r.article_id] = (r.title, r.topic)
        rv = _reach_of(p.rows.samples.get(r.id, {}))
        if rv is not None:
            per = article_reach[r.article_id]
            per[r.channel] = per.get(r.channel, 0) + rv
    top = sorted(
        (
            ArticleReach(aid, titles[aid][0], titles[aid][1], sum(pc.values()), pc)
            for aid, pc in article_reach.items()
        ),
        key=lambda a: (-a.reach, a.article_id),
    )[:TOP_ARTICLES]
    return {"top_articles": top}


def _topics_section(p: PeriodInputs) -> dict[str, Any]:
    """Articles per plan topic a)–i), each counted in the month of its first post."""
    first: dict[int, tuple[datetime, str]] = {}
    for r in p.rows.sent:
        if r.article_id not in first or r.sent_at < first[r.article_id][0]:
            first[r.article_id] = (r.sent_at, r.topic)
    by_topic: dict[str, list[int]] = defaultdict(list)
    months: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for aid, (at, topic) in sorted(first.items()):
        by_topic[topic].append(aid)
        months[topic][p.month_of(at)] += 1
    coverage = [
        TopicCoverage(
            t.key,
            t.label,
            len(by_topic.get(t.key, [])),
            by_topic.get(t.key, []),
            dict(months.get(t.key, {})),
        )
        for t in p.topics.values()
    ]
    return {"topics": coverage, "uncovered_topics": [c.key for c in coverage if c.articles == 0]}


def _failures_section(p: PeriodInputs) -> dict[str, Any]:
    return {"failures": _failures(p.rows.failed, p.rows.fixed)}


def _followers_section(p: PeriodInputs) -> dict[str, Any]:
    return {"followers": _growth(p.store, p.lo, p.hi, p.zone)}


def _broadcasts_section(p: PeriodInputs) -> dict[str, Any]:
    sent = [
        BroadcastSent(
            b.id,
            b.channel,
            b.sent_at or b.proposed_at,
            b.state,
            b.moderation_state,
            b.recipients,
            list(b.article_ids),
        )
        for b in p.store.broadcasts.broadcasts_between(p.lo, p.hi)
    ]
    return {"broadcasts": sent}


def _intake_section(p: PeriodInputs) -> dict[str, Any]:
    """Comments, petitions and takedowns (counts only)."""
    return {"intake": intake_figures(p.store, p.lo, p.hi, p.now)}


def _citizens_section(p: PeriodInputs) -> dict[str, Any]:
    """Hỏi đáp: citizens' questions and how they were answered (counts only)."""
    return {"citizens": citizen_section(p.store, p.lo, p.hi)}


KPI_SECTIONS: list[KpiSection] = [
    _quota_section,
    _posts_section,
    _reach_section,
    _top_articles_section,
    _topics_section,
    _failures_section,
    _followers_section,
    _broadcasts_section,
    _intake_section,
    _citizens_section,
]

DEFINITIONS = {
    "reach_metrics": list(REACH_METRICS),
    "engagement_metrics": list(ENGAGEMENT_METRICS),
    "reach": "latest available sample of the first reach metric a post has, summed",
    "followers": "first and last available follower count in the period; the start is "
    "the last count before the period when there is one",
}


def compute_kpis(
    store: Store,
    period: Period,
    *,
    monthly_minimum: int = 2,
    website_channels: Collection[str] = ("website",),
    topics: Mapping[str, Topic] | None = None,
    tz: str = "Asia/Ho_Chi_Minh",
    now: datetime | None = None,
) -> Kpis:
    """The plan's figures for ``period``: the one place every page, /stats and file reads.

    The period's rows are read once (three queries: sent posts, latest samples, failures), then
    each of ``KPI_SECTIONS`` computes its fields from them.
    """
    now = _now(now)
    lo, hi = period.utc_bounds(tz)
    inputs = PeriodInputs(
        store,
        period,
        now,
        ZoneInfo(tz),
        topics or default_topics(),
        website_channels,
        monthly_minimum,
        lo,
        hi,
        store.reads.period_rows(lo, hi),
    )
    fields: dict[str, Any] = {}
    for section in KPI_SECTIONS:
        fields.update(section(inputs))
    return Kpis(
        period=period,
        generated_at=now,
        timezone=tz,
        monthly_minimum=monthly_minimum,
        website_channels=list(website_channels),
        definitions=DEFINITIONS,
        **fields,
    )


def _growth(store: Store, lo: datetime, hi: datetime, zone: ZoneInfo) -> list[ChannelGrowth]:
    out = []
    for g in store.followers.follower_growth(lo, hi):
        daily: dict[date, int] = {}
        for at, value in g.points:
            daily[at.astimezone(zone).date()] = value  # points are in time order: last one wins
        out.append(
            ChannelGrowth(
                g.channel,
                g.metric,
                metric_vi(g.metric),
                g.start,
                g.end,
                g.growth,
                g.growth_percent,
                sorted(daily.items()),
            )
        )
    return out


def month_status(
    store: Store,
    year: int,
    month: int,
    *,
    monthly_minimum: int = 2,
    website_channels: Collection[str] = ("website",),
    tz: str = "Asia/Ho_Chi_Minh",
) -> MonthStatus:
    """Website articles published so far in the month, and approved ones still due in it."""
    period = parse_period(f"{year}-{month:02d}")
    lo, hi = period.utc_bounds(tz)
    done, planned = store.reads.month_article_ids(lo, hi, website_channels)
    return MonthStatus(
        year,
        month,
        len(done),
        monthly_minimum,
        len(planned),
        len(done) + len(planned) < monthly_minimum,
        done,
        planned,
    )
