"""Turns due deliveries into posts: leases, fan-out, retries, reconciliation, alerts.

The database is the single source of truth. A delivery is leased before any call; an attempt
that may have reached the platform is reconciled with ``find_existing`` before any resend.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from bot.lanes import FAST_DELIVERY, Lanes
from bot.leases import LeaseKeeper
from bot.notifier import Notifier
from bot.settings import ScheduleSettings
from channels.base import (
    ArticleView,
    AuthError,
    CannotTell,
    Channel,
    ChannelError,
    Draft,
    ImageRef,
    RateLimited,
    Receipt,
    RejectedError,
    TransientError,
)
from content_queue.models import Actor, Article, Delivery
from content_queue.store import Store
from content_queue.topics import Topic, default_topics

__all__ = ["Dispatcher", "article_view"]

log = logging.getLogger(__name__)

_RECONCILE_KINDS = frozenset({"may_have_posted", "lease_expired"})


def _image(d: Mapping[str, Any], urls: Mapping[str, str]) -> ImageRef:
    return ImageRef(path=d["path"], mime_type=d.get("mime_type", "image/jpeg"),
                    width=d.get("width", 0), height=d.get("height", 0),
                    size_bytes=d.get("size_bytes", 0), public_url=urls.get(d["path"]),
                    caption=d.get("caption", ""))


def article_view(article: Article, topics: Mapping[str, Topic] | None = None,
                 receipts: Mapping[str, Mapping[str, Any]] | None = None) -> ArticleView:
    """What channels see of an article; images carry the website's public URLs once known."""
    topics = topics or default_topics()
    urls: dict[str, str] = {}
    for extra in (receipts or {}).values():
        urls.update(extra.get("media") or {})
    cover = _image(article.cover, urls) if article.cover else None
    return ArticleView(
        id=article.id, title=article.title, summary=article.summary, body_html=article.body_html,
        body_text=article.body_text, topic=article.topic,
        topic_label=topics[article.topic].label if article.topic in topics else article.topic,
        cover=cover, images=tuple(_image(i, urls) for i in article.images))


def _short_transient(exc: BaseException) -> bool:
    # Retry in the call only when a resend cannot duplicate: not throttling, not maybe-posted.
    return (isinstance(exc, TransientError) and not isinstance(exc, RateLimited)
            and not exc.may_have_posted)


class Dispatcher:
    """One worker's view of the queue; several may share a PostgreSQL database."""

    def __init__(self, store: Store, channels: Mapping[str, Channel], policy: ScheduleSettings,
                 notifier: Notifier, *, owner: str | None = None, max_workers: int = 8,
                 in_call_attempts: int = 3):
        self.store = store
        self.channels = dict(channels)
        self.policy = policy
        self.notifier = notifier
        self.pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="loa-post")
        self.batch = max_workers  # lease only what can start now
        self.leases = LeaseKeeper(store, owner or f"{socket.gethostname()}:{os.getpid()}",
                                  policy.lease_seconds)
        self._stopping = threading.Event()
        # One controller for all workers: tenacity keeps each call's state thread-local.
        self._retrying = Retrying(
            retry=retry_if_exception(_short_transient), reraise=True,
            stop=stop_after_attempt(in_call_attempts),
            wait=wait_exponential_jitter(multiplier=0.2, max=5),
        )

    @property
    def owner(self) -> str:
        """This worker's name on its leases."""
        return self.leases.owner

    def stop(self) -> None:
        """Claim nothing more: calls in flight finish and are recorded, then ``tick`` returns."""
        self._stopping.set()

    def close(self) -> None:
        self.stop()
        self.pool.shutdown(wait=True)
        self.leases.close()

    # ----- the tick --------------------------------------------------------------------------
    def tick(self) -> int:
        """Process everything due now (dependents released in this tick included).

        Up to ``max_workers`` lanes run at once. A lane delivers, records, and claims the next due
        delivery itself, so a finished call starts the next one without a round trip through this
        thread; a post that releases dependents (the website's URL is known) opens lanes for them
        at once, so they run side by side.
        """
        done = 0
        for d in self.store.expire_leases(self._now(),
                                          reconcile_after=self.policy.reconcile_after_seconds):
            self.notifier.alert(f"in_doubt:{d.id}",
                                f"Bài #{d.article_id} trên kênh {d.channel}: tiến trình đăng bị ngắt "
                                "giữa chừng; Loa sẽ kiểm tra trên nền tảng trước khi đăng lại.")
        done += self._reconcile_in_doubt()
        if self._stopping.is_set():
            return done
        lanes = Lanes(self.pool, self.batch, self._lane)
        for d in self._claim(self.batch):
            lanes.open(d)
        return done + lanes.join()

    def _claim(self, limit: int) -> list[Delivery]:
        if self._stopping.is_set():
            return []
        claimed = self.store.claim_due(self.owner, self._now(), limit=limit,
                                       lease_seconds=self.policy.lease_seconds)
        self.leases.hold(claimed)
        return claimed

    def _lane(self, lanes: Lanes, d: Delivery | None) -> tuple[int, bool]:
        """Deliver ``d`` (or a claimed one), then claim and deliver until nothing is due.

        Returns the deliveries processed and whether the lane retired early (see FAST_DELIVERY).
        """
        done = 0
        if d is None:
            d = next(iter(self._claim(1)), None)
        while d is not None:
            started = time.monotonic()
            lanes.busy(True)
            try:
                released = self._deliver(d)
            finally:
                lanes.busy(False)
                self.leases.release(d.id)
            took = time.monotonic() - started
            done += 1
            for _ in range(released - 1):  # this lane takes one of them itself
                if not lanes.open(None):
                    break
            if took < FAST_DELIVERY and lanes.retire():
                return done, True
            d = next(iter(self._claim(1)), None)
        return done, False

    def _now(self) -> datetime:
        return datetime.now(UTC)

    # ----- one delivery ----------------------------------------------------------------------
    def _draft(self, d: Delivery, channel: Channel) -> Draft:
        article, receipts, links = self.store.draft_inputs(d.article_id)
        return channel.render(article_view(article, receipts=receipts), links)

    def _publish(self, channel: Channel, draft: Draft, key: str) -> Receipt:
        """Publish, retrying in the call only errors that cannot have posted."""
        return self._retrying(channel.publish, draft, key)

    def _deliver(self, d: Delivery) -> int:
        """Post one leased delivery and record the outcome; returns the dependents released.

        A delivery an earlier attempt may have posted (``doubt``) is looked for first; the doubt
        is recorded again with any failure until a look has settled it.
        """
        doubt = d.last_error_kind if d.last_error_kind in _RECONCILE_KINDS else None
        channel = self.channels.get(d.channel)
        if channel is None:
            self.store.record_failure(d.id, self.owner, state="retry", next_attempt_at=None,
                                      error=f"Kênh {d.channel} không còn trong cấu hình.",
                                      kind=doubt or "unknown_channel", keep_attempts=True)
            return 0
        try:
            draft = self._draft(d, channel)
            if doubt:
                found = channel.find_existing(draft, d.idempotency_key, self._since(d))
                if found is not None:
                    return self._sent(d, found, reconciled=True)
                doubt = None  # looked: the earlier attempt left nothing on the platform
            receipt = self._publish(channel, draft, d.idempotency_key)
        except CannotTell as exc:
            self._in_doubt(d, exc)
            return 0
        except ChannelError as exc:
            return self._failed_attempt(d, channel, exc, doubt)
        except Exception as exc:  # a bug must not kill the worker or lose the delivery
            log.exception("unexpected error publishing delivery %s", d.id)
            return self._failed_attempt(d, channel, TransientError(
                f"Lỗi không mong đợi: {type(exc).__name__}", may_have_posted=True), doubt)
        return self._sent(d, receipt, reconciled=bool(receipt.extra.get("reconciled")))

    def _since(self, d: Delivery) -> datetime:
        return (d.due_at or self._now()) - timedelta(hours=1)

    def _sent(self, d: Delivery, receipt: Receipt, *, reconciled: bool) -> int:
        """Record the post; returns the dependents it released."""
        extra = {k: v for k, v in receipt.extra.items() if _jsonable(v)}
        released = self.store.record_sent(
            d.id, self.owner, remote_id=receipt.remote_id, url=receipt.url,
            awaiting_url=bool(extra.get("awaiting_url")), reconciled=reconciled, receipt=extra)
        if released is None:
            return 0  # the lease was lost meanwhile: another worker owns the delivery now
        if d.last_error_kind is not None:  # only a delivery that failed can have alerts open
            self.notifier.resolve(f"failing:{d.id}", f"in_doubt:{d.id}")
        log.info("posted article %s on %s: %s", d.article_id, d.channel, receipt.url)
        return released

    def _in_doubt(self, d: Delivery, exc: ChannelError) -> None:
        self.store.record_failure(d.id, self.owner, state="in_doubt", next_attempt_at=None,
                                  error=exc.message, kind="cannot_tell", keep_attempts=True)
        self.notifier.alert(
            f"in_doubt:{d.id}",
            f"Không xác định được bài #{d.article_id} đã lên {d.channel} hay chưa. Hãy kiểm tra "
            f"trên {d.channel} rồi trả lời: `loa confirm {d.id}` (đã đăng) hoặc "
            f"`loa notposted {d.id}` (chưa đăng); trong Telegram: /confirm {d.id} hoặc "
            f"/notposted {d.id}.")

    def _failed_attempt(self, d: Delivery, channel: Channel, exc: ChannelError,
                        doubt: str | None = None) -> int:
        """Record a failed attempt (retry, back off, pause or fail); returns dependents released
        (a "duplicate" refusal whose post is found is a success). ``doubt``, an earlier attempt
        that may have posted and no look has settled, is kept as the recorded kind."""
        now = self._now()
        msg = exc.message
        if isinstance(exc, RejectedError) and exc.code in (506, 1366051):
            found = self._safe_find(channel, d)
            if found is not None:
                return self._sent(d, found, reconciled=True)
        if isinstance(exc, RateLimited):
            until = now + timedelta(seconds=max(exc.retry_after, 1))
            self.store.set_backoff(d.channel, until)
            self.store.record_failure(d.id, self.owner, state="retry", next_attempt_at=until,
                                      error=msg, kind=doubt or "rate_limited", keep_attempts=True)
            self.notifier.alert(f"throttled:{d.channel}",
                                f"Kênh {d.channel} đang bị giới hạn tần suất; Loa tạm dừng kênh này "
                                f"đến {until.astimezone(self.policy.tz):%H:%M %d/%m}.", "info")
        elif isinstance(exc, AuthError):
            hint = exc.reconnect_hint or f"loa channels connect {d.channel}"
            self.store.set_paused(d.channel, True, Actor.service(), msg, needs_reauth=True)
            self.store.record_failure(d.id, self.owner, state="retry", next_attempt_at=None,
                                      error=msg, kind=doubt or "auth", keep_attempts=True)
            self.notifier.alert(f"auth:{d.channel}",
                                f"Kênh {d.channel} đã tạm dừng: {msg} Cách khắc phục: chạy "
                                f"`{hint}`, rồi `loa channels resume {d.channel}`.", "error")
        elif isinstance(exc, RejectedError) or d.attempts >= self.policy.max_attempts:
            self.store.record_failure(
                d.id, self.owner, state="failed", error=msg,
                kind=doubt or ("rejected" if isinstance(exc, RejectedError) else "gave_up"))
            self.notifier.alert(f"failed:{d.id}",
                                f"Không đăng được bài #{d.article_id} lên {d.channel}: {msg} "
                                f"Sau khi khắc phục, dùng `loa retry {d.id}` (/retry {d.id}).",
                                "error")
        else:
            delay = min(self.policy.retry_base_seconds * 2 ** (d.attempts - 1),
                        self.policy.retry_max_seconds)
            kind = "may_have_posted" if exc.may_have_posted else doubt or "transient"
            if exc.may_have_posted:  # the platform may still be finishing it: look later
                delay = max(delay, self.policy.reconcile_after_seconds)
            self.store.record_failure(d.id, self.owner, state="retry",
                                      next_attempt_at=now + timedelta(seconds=delay),
                                      error=msg, kind=kind)
            if d.attempts >= 2:
                self.notifier.alert(f"failing:{d.id}",
                                    f"Bài #{d.article_id} chưa đăng được lên {d.channel} ({msg}); "
                                    "Loa đang thử lại.", "info")
        return 0

    def _safe_find(self, channel: Channel, d: Delivery) -> Receipt | None:
        try:
            return channel.find_existing(self._draft(d, channel), d.idempotency_key, self._since(d))
        except ChannelError:
            return None

    def _reconcile_in_doubt(self) -> int:
        """In-doubt deliveries: record the post if it exists, else let them be sent again."""
        claimed = self.store.claim_in_doubt(self.owner, self._now(),
                                            lease_seconds=self.policy.lease_seconds)
        self.leases.hold(claimed)
        for d in claimed:
            try:
                self._reconcile(d)
            finally:
                self.leases.release(d.id)
        return len(claimed)

    def _reconcile(self, d: Delivery) -> None:
        channel = self.channels.get(d.channel)
        if channel is None:
            return  # the lease lapses; the delivery waits in doubt for its channel to return
        try:
            found = channel.find_existing(self._draft(d, channel), d.idempotency_key,
                                          self._since(d))
        except CannotTell as exc:
            self._in_doubt(d, exc)
            return
        except ChannelError as exc:
            self.store.record_failure(d.id, self.owner, state="in_doubt",
                                      next_attempt_at=self._now() + timedelta(seconds=30),
                                      error=exc.message, kind="lease_expired", keep_attempts=True)
            return
        if found is not None:
            self._sent(d, found, reconciled=True)
        else:
            self.store.record_failure(d.id, self.owner, state="retry", next_attempt_at=self._now(),
                                      error="Chưa có trên nền tảng.", kind="reconciled_absent",
                                      keep_attempts=True)


def _jsonable(v: Any) -> bool:
    return isinstance(v, str | int | float | bool | list | dict | type(None))
