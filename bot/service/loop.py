"""``loa run``: one asyncio process; APScheduler wakes the jobs, blocking work runs in threads.

The periodic jobs are a table (:data:`JOBS`); the service is built, with the Telegram bot and the
web page as its companions, by the composition root :mod:`bot.run`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.broadcasts import broadcast_tick
from bot.cases import cases_tick
from bot.citizens import CITIZENS_INTERVAL, citizen_job, purge_citizens
from bot.comments import catch_up_comments
from bot.context import Loa
from bot.followers import collect_followers
from bot.instructions import either
from bot.intake import inbox_poller, poll_inbox
from bot.petition_intake import handle_feed_event  # registers the intake's handlers
from bot.prepare import PREPARE_INTERVAL, STARTUP_PREPARE_WAIT, prepare_unsent
from bot.reports.kpis import month_status
from bot.service.covers import ensure_default_covers
from bot.service.dispatcher import Dispatcher
from bot.service.followups import FOLLOW_UP_INTERVAL, complete_follow_ups
from bot.service.janitor import JANITOR_INTERVAL_MINUTES
from bot.service.janitor import sweep as janitor_sweep
from bot.service.reach import collect_reach
from bot.settings import Settings
from channels.base import ChannelError
from channels.capabilities import RenewsOwnTokens
from content_queue.workflow import ArticleState

__all__ = ["JOBS", "Companion", "Job", "Service"]

log = logging.getLogger(__name__)


Companion = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
"""A task that runs beside the jobs until the event is set (the Telegram bot, the web page)."""


@dataclass(frozen=True)
class Job:
    """One periodic job: its name, how often (a settings key such as ``"queue.poll_seconds"``,
    in seconds unless it ends with ``_minutes``; or a number of seconds), and what it runs."""

    name: str
    every: str | float | None  # None: once, when the service starts
    run: Callable[[Service], object]
    at_start: bool = False  # also run at once, not only after the first interval
    daily_at: time | None = None  # instead of an interval: every day at this local time
    when: Callable[[Settings], bool] | None = None  # scheduled only when the settings say so


def _now() -> datetime:
    return datetime.now(UTC)


def _seconds(settings: Settings, every: str | float) -> float:
    if not isinstance(every, str):
        return every
    value: Any = settings
    for part in every.split("."):
        value = getattr(value, part)
    return float(value) * (60 if every.endswith("_minutes") else 1)


def _trigger(job: Job, settings: Settings) -> dict[str, Any]:
    """APScheduler's arguments for ``job``."""
    if job.daily_at is not None:
        return {"trigger": "cron", "hour": job.daily_at.hour, "minute": job.daily_at.minute}
    if job.every is None:
        return {"trigger": "date", "run_date": _now()}
    start = {"next_run_time": _now()} if job.at_start else {}
    return {"trigger": "interval", "seconds": _seconds(settings, job.every), **start}


class Service:
    """The jobs of the running service; each runs in the bounded pool, never two at once."""

    def __init__(
        self,
        loa: Loa,
        dispatcher: Dispatcher,
        *,
        companions: Sequence[Companion] = (),
        jobs: Sequence[Job] | None = None,
        workers: int = 4,
    ):
        self.loa = loa
        self.dispatcher = dispatcher
        self.companions = tuple(companions)
        self.jobs = tuple(JOBS if jobs is None else jobs)
        self.poller = inbox_poller(loa)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="loa-job")
        self.stopping = asyncio.Event()
        self._running: set[str] = set()
        self.sched: AsyncIOScheduler | None = None

    async def _job(self, name: str, fn: Callable[[], Any]) -> None:
        if name in self._running or self.stopping.is_set():
            return  # the previous run of this job is still busy
        self._running.add(name)
        try:
            await asyncio.get_running_loop().run_in_executor(self.pool, fn)
        except Exception:
            log.exception("job %s failed", name)
        finally:
            self._running.discard(name)
        if name == "dispatch":
            await self._arm_wakeup()

    async def _arm_wakeup(self) -> None:
        """An exact-time wake-up for the next due delivery, so slots are kept to the second."""
        if self.sched is None or self.stopping.is_set():
            return
        loop = asyncio.get_running_loop()
        nxt = await loop.run_in_executor(self.pool, self.loa.store.deliveries.next_wakeup)
        if nxt is not None and nxt > datetime.now(UTC):
            self.sched.add_job(
                self._job,
                "date",
                run_date=nxt,
                id="dispatch-wakeup",
                args=["dispatch", self.dispatcher.tick],
                replace_existing=True,
            )

    def check_quota(self) -> None:
        """On the plan's check day, alert admins when this month's website articles are behind."""
        s = self.loa.settings
        today = datetime.now(s.schedule.tz)
        if today.day < s.plan.quota_check_day:
            return
        ms = month_status(
            self.loa.store,
            today.year,
            today.month,
            monthly_minimum=s.plan.monthly_website_minimum,
            website_channels=s.plan.website_channels,
            tz=s.schedule.timezone,
        )
        if ms.behind:
            self.loa.notifier.alert(
                f"quota:{today:%Y-%m}",
                f"Tháng {today:%m/%Y} mới đăng {ms.published}/{ms.minimum} bài CCHC trên website "
                f"theo kế hoạch; đang có {ms.scheduled} bài chờ đăng. Cần thêm bài trước cuối tháng.",
            )

    def check_health(self) -> None:
        """Check each channel's credentials; alert when a token expires within a week."""
        now = datetime.now(UTC)
        for name, channel in self.loa.channels().items():
            try:
                h = channel.check()
            except ChannelError as exc:
                log.warning("health check of %s failed: %s", name, exc.message)
                continue
            self.loa.store.channels.record_health(name, h.ok, h.detail, h.expires_at)
            if not h.ok:
                self.loa.notifier.alert(f"health:{name}", f"Kênh {name} không sẵn sàng: {h.detail}")
            elif (
                h.expires_at
                and h.expires_at - now < timedelta(days=7)
                and not (isinstance(channel, RenewsOwnTokens) and channel.refreshes_own_tokens)
            ):
                self.loa.notifier.alert(
                    f"expiry:{name}:{h.expires_at:%Y%m%d}",
                    f"Mã truy cập kênh {name} hết hạn lúc "
                    f"{h.expires_at.astimezone(self.loa.settings.schedule.tz):%H:%M %d/%m/%Y}; "
                    f"hãy chạy {either('connect', channel=name)}.",
                )

    def _catch_up(self) -> None:
        overdue = [
            a
            for a in self.loa.store.articles.list([ArticleState.APPROVED])
            if a.scheduled_at and a.scheduled_at < datetime.now(UTC)
        ]
        if overdue:
            self.loa.notifier.alert(
                "catch_up:" + datetime.now(UTC).strftime("%Y%m%d%H%M"),
                f"Loa vừa khởi động lại; {len(overdue)} bài đã quá giờ đăng sẽ được đăng ngay, "
                "theo thứ tự thời gian: " + ", ".join(f"#{a.id}" for a in overdue),
                "info",
            )

    async def run(self, *, stop_after: float | None = None) -> None:
        loa = self.loa
        s = loa.settings
        tasks = [asyncio.create_task(companion(self.stopping)) for companion in self.companions]
        await asyncio.get_running_loop().run_in_executor(self.pool, self._catch_up)
        # Hand the stored preparations (term ids, media) to this process's adapters before the
        # first post; bounded, so a platform that hangs cannot hold the slot (it goes on behind).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.shield(self._job("prepare", lambda: prepare_unsent(loa))),
                STARTUP_PREPARE_WAIT,
            )
        logging.getLogger("apscheduler").setLevel(logging.ERROR)  # our jobs guard overlaps
        sched = AsyncIOScheduler(
            timezone=s.schedule.tz, job_defaults={"coalesce": True, "max_instances": 3}
        )
        for job in self.jobs:
            if job.when is not None and not job.when(s):
                continue
            sched.add_job(
                self._job, args=[job.name, lambda job=job: job.run(self)], **_trigger(job, s)
            )
        sched.start()
        self.sched = sched
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stopping.set)
        try:
            if stop_after is None:
                await self.stopping.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), stop_after)
        finally:
            self.stopping.set()
            self.dispatcher.stop()  # a tick in progress claims nothing more
            sched.shutdown(wait=False)
            await asyncio.gather(*tasks, return_exceptions=True)
            if "parsing" in vars(loa):  # uploads waiting to be parsed are dropped (re-sent)
                loa.parsing.close()
            # in-flight calls finish and are recorded; nothing is left half-written
            self.pool.shutdown(wait=True)
            self.dispatcher.close()


def _assistant(settings: Settings) -> bool:
    return settings.assistant.enabled


JOBS: tuple[Job, ...] = (
    Job("dispatch", "schedule.dispatch_interval_seconds", lambda s: s.dispatcher.tick(), True),
    Job("prepare", PREPARE_INTERVAL, lambda s: prepare_unsent(s.loa)),
    Job("follow_up", FOLLOW_UP_INTERVAL, lambda s: complete_follow_ups(s.loa)),
    Job("inbox", "queue.poll_seconds", lambda s: poll_inbox(s.loa, s.poller), True),
    Job("reach", "reach.collect_interval_minutes", lambda s: collect_reach(s.loa, _now())),
    Job("quota", None, lambda s: s.check_quota(), daily_at=time(9, 0)),
    Job("health", 6 * 3600, lambda s: s.check_health()),
    Job("followers", 30 * 60, lambda s: collect_followers(s.loa, _now()), True),
    Job("broadcasts", 5 * 60, lambda s: broadcast_tick(s.loa, _now()), True),
    Job("covers", None, lambda s: ensure_default_covers(s.loa)),
    Job("janitor", JANITOR_INTERVAL_MINUTES * 60, lambda s: janitor_sweep(s.loa)),
    # Citizens in: stored webhook events answered, replies sent; personal data purged daily.
    Job("citizens", CITIZENS_INTERVAL, lambda s: citizen_job(s.loa).tick(), True, when=_assistant),
    # Comments the webhook missed (at start: the hours it was down); the cases' clock.
    Job(
        "comments_catchup",
        "comments.catchup_interval_minutes",
        lambda s: catch_up_comments(s.loa),
        True,
    ),
    Job("cases", 30, lambda s: cases_tick(s.loa)),
    Job(
        "citizens_retention",
        None,
        lambda s: purge_citizens(s.loa),
        daily_at=time(3, 15),
        when=_assistant,
    ),
)

assert handle_feed_event is not None  # imported for its registration
