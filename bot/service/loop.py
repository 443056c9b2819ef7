"""``loa run``: one asyncio process; APScheduler wakes the jobs, blocking work runs in threads."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.context import Loa
from bot.instructions import either
from bot.reports.kpis import month_status
from bot.service.broadcasts import broadcast_tick
from bot.service.cases import cases_tick
from bot.service.citizens import CITIZENS_INTERVAL, citizen_job, purge_citizens
from bot.service.comments import catch_up_comments
from bot.service.covers import ensure_default_covers
from bot.service.followers import collect_followers
from bot.service.followups import FOLLOW_UP_INTERVAL, complete_follow_ups
from bot.service.intake import inbox_poller, poll_inbox
from bot.service.petition_intake import handle_feed_event  # registers the intake's handlers
from bot.service.prepare import PREPARE_INTERVAL, STARTUP_PREPARE_WAIT, prepare_unsent
from bot.service.reach import collect_reach
from bot.telegram.app import run_bot
from bot.web.app import serve_web
from channels.base import ChannelError

__all__ = ["Service", "run_service"]

log = logging.getLogger(__name__)


class Service:
    """The jobs of the running service; each runs in the bounded pool, never two at once."""

    def __init__(self, loa: Loa, *, workers: int = 4):
        self.loa = loa
        self.dispatcher = loa.dispatcher()
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
        nxt = await loop.run_in_executor(self.pool, self.loa.store.next_wakeup)
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
            self.loa.store.engine,
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
            self.loa.store.record_health(name, h.ok, h.detail, h.expires_at)
            if not h.ok:
                self.loa.notifier.alert(f"health:{name}", f"Kênh {name} không sẵn sàng: {h.detail}")
            elif (
                h.expires_at
                and h.expires_at - now < timedelta(days=7)
                and not getattr(channel, "refreshes_own_tokens", False)
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
            for a in self.loa.store.list(["approved"])
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
        bot_task = None
        if s.telegram.token and s.telegram.chat_id is not None:
            bot_task = asyncio.create_task(run_bot(loa, self.stopping))
        else:
            log.warning(
                "no Telegram token/chat configured: running headless (alerts go to the log)"
            )
        web_task = None
        if s.web.enabled:
            web_task = asyncio.create_task(serve_web(loa, self.stopping))
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
        sched.add_job(
            self._job,
            "interval",
            args=["dispatch", self.dispatcher.tick],
            seconds=s.schedule.dispatch_interval_seconds,
            next_run_time=datetime.now(UTC),
        )
        sched.add_job(
            self._job,
            "interval",
            args=["prepare", lambda: prepare_unsent(loa)],
            seconds=PREPARE_INTERVAL,
        )
        sched.add_job(
            self._job,
            "interval",
            args=["follow_up", lambda: complete_follow_ups(loa)],
            seconds=FOLLOW_UP_INTERVAL,
        )
        sched.add_job(
            self._job,
            "interval",
            args=["inbox", lambda: poll_inbox(loa, self.poller)],
            seconds=s.queue.poll_seconds,
            next_run_time=datetime.now(UTC),
        )
        sched.add_job(
            self._job,
            "interval",
            args=["reach", lambda: collect_reach(loa, datetime.now(UTC))],
            minutes=s.reach.collect_interval_minutes,
        )
        sched.add_job(self._job, "cron", args=["quota", self.check_quota], hour=9, minute=0)
        sched.add_job(self._job, "interval", args=["health", self.check_health], hours=6)
        sched.add_job(
            self._job,
            "interval",
            minutes=30,
            next_run_time=datetime.now(UTC),
            args=["followers", lambda: collect_followers(loa, datetime.now(UTC))],
        )
        sched.add_job(
            self._job,
            "interval",
            minutes=5,
            next_run_time=datetime.now(UTC),
            args=["broadcasts", lambda: broadcast_tick(loa, datetime.now(UTC))],
        )
        sched.add_job(
            self._job,
            "date",
            run_date=datetime.now(UTC),
            args=["covers", lambda: ensure_default_covers(loa)],
        )
        sched.add_job(  # comments the webhook missed (also at start: the hours it was down)
            self._job,
            "interval",
            minutes=s.comments.catchup_interval_minutes,
            next_run_time=datetime.now(UTC),
            args=["comments_catchup", lambda: catch_up_comments(loa)],
        )
        sched.add_job(self._job, "interval", seconds=30, args=["cases", lambda: cases_tick(loa)])
        assert handle_feed_event is not None
        if s.assistant.enabled:  # citizens in: stored webhook events answered, replies sent
            sched.add_job(
                self._job,
                "interval",
                seconds=CITIZENS_INTERVAL,
                next_run_time=datetime.now(UTC),
                args=["citizens", lambda: citizen_job(loa).tick()],
            )
            sched.add_job(
                self._job,
                "cron",
                hour=3,
                minute=15,
                args=["citizens_retention", lambda: purge_citizens(loa)],
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
            if bot_task is not None:
                await asyncio.gather(bot_task, return_exceptions=True)
            if web_task is not None:
                await asyncio.gather(web_task, return_exceptions=True)
            # in-flight calls finish and are recorded; nothing is left half-written
            self.pool.shutdown(wait=True)
            self.dispatcher.close()


def run_service(loa: Loa, *, stop_after: float | None = None) -> None:
    """Run until SIGINT/SIGTERM (or ``stop_after`` seconds)."""
    asyncio.run(Service(loa).run(stop_after=stop_after))
