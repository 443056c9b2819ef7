"""Turns due deliveries into posts: leases, fan-out, looks before resends.

The database is the single source of truth. A delivery is leased before any call; an attempt
that may have reached the platform is looked for with ``find_existing`` before any resend. What a
failure means is :func:`bot.service.delivery_policy.decide`'s; this module only applies its decisions.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from bot.drafts import render_draft
from bot.notifier import Notifier
from bot.service.alert_texts import delivery_alert, lease_expired_alert, resolved_keys
from bot.service.delivery_policy import Failure, Policy, decide
from bot.service.lanes import FAST_DELIVERY, Lanes
from bot.service.leases import LeaseKeeper
from bot.settings import ScheduleSettings
from channels import metering
from channels.base import (
    Channel,
    Draft,
    RateLimited,
    Receipt,
    TransientError,
)
from channels.capabilities import HasSettings
from content_queue.models import Actor, Delivery
from content_queue.store import Store
from content_queue.workflow import DeliveryState, ErrorKind

__all__ = ["Dispatcher"]

log = logging.getLogger(__name__)


def _short_transient(exc: BaseException) -> bool:
    # Retry in the call only when a resend cannot duplicate: not throttling, not maybe-posted.
    return (
        isinstance(exc, TransientError)
        and not isinstance(exc, RateLimited)
        and not exc.may_have_posted
    )


class Dispatcher:
    """One worker's view of the queue; several may share a PostgreSQL database."""

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel],
        policy: ScheduleSettings,
        notifier: Notifier,
        *,
        owner: str | None = None,
        max_workers: int = 8,
        in_call_attempts: int = 3,
    ):
        self.store = store
        self.channels = dict(channels)
        self.policy = policy
        self.notifier = notifier
        self.pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="loa-post")
        self.batch = max_workers  # lease only what can start now
        self.leases = LeaseKeeper(
            store, owner or f"{socket.gethostname()}:{os.getpid()}", policy.lease_seconds
        )
        self._stopping = threading.Event()
        # One controller for all workers: tenacity keeps each call's state thread-local.
        self._retrying = Retrying(
            retry=retry_if_exception(_short_transient),
            reraise=True,
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
        at once, so they run side by side. The platform calls of each attempt are counted and
        stored with its outcome, in the same transaction (``loa show`` prints them).
        """
        done = 0
        for d in self.store.deliveries.expire_leases(
            self._now(), reconcile_after=self.policy.reconcile_after_seconds
        ):
            alert = lease_expired_alert(d)
            self.notifier.alert(alert.key, alert.text, alert.level)
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
        claimed = self.store.deliveries.claim_due(
            self.owner, self._now(), limit=limit, lease_seconds=self.policy.lease_seconds
        )
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
            onward = _Onward(time.monotonic(), lanes)
            lanes.busy(True)
            try:
                released = self._deliver(d, onward)
            finally:
                lanes.busy(False)
                self.leases.release(d.id)
            done += 1
            for _ in range(released - 1):  # this lane takes one of them itself
                if not lanes.open(None):
                    break
            if onward.asked:  # settled when the post was recorded, the next one claimed with it
                if onward.retired:
                    return done, True
                d = onward.claimed
                continue
            if time.monotonic() - onward.started < FAST_DELIVERY and lanes.retire():
                return done, True
            d = next(iter(self._claim(1)), None)
        return done, False

    def _now(self) -> datetime:
        return datetime.now(UTC)

    # ----- one delivery ----------------------------------------------------------------------
    def _draft(self, d: Delivery, channel: Channel) -> Draft:
        article, receipts, links = self.store.articles.draft_inputs(d.article_id)
        return render_draft(channel, article, receipts, links)

    def _publish(self, channel: Channel, draft: Draft, key: str) -> Receipt:
        """Publish, retrying in the call only errors that cannot have posted."""
        return self._retrying(channel.publish, draft, key)

    def _deliver(self, d: Delivery, onward: _Onward | None = None) -> int:
        """Post one leased delivery (see ``_deliver_counted``), counting its platform calls."""
        with metering.metered() as calls:
            return self._deliver_counted(d, calls, onward)

    def _deliver_counted(
        self, d: Delivery, calls: metering.CallCounter, onward: _Onward | None = None
    ) -> int:
        """Post one leased delivery and record the outcome; returns the dependents released.

        A delivery an earlier attempt may have posted is looked for first; the doubt is kept
        with any failure until a look has settled it.
        """
        channel = self.channels.get(d.channel)
        if channel is None:
            return self._failed(
                d,
                Failure(ErrorKind.UNKNOWN_CHANNEL, f"Kênh {d.channel} không còn trong cấu hình."),
                calls,
            )
        looking = d.may_have_posted
        try:
            draft = self._draft(d, channel)
            if looking:
                found = channel.find_existing(draft, d.idempotency_key, self._since(d))
                if found is not None:
                    return self._sent(d, found, calls, reconciled=True, onward=onward)
                d = replace(d, may_have_posted=False)  # looked: nothing there, send it
                looking = False
            receipt = self._publish(channel, draft, d.idempotency_key)
        except Exception as exc:  # noqa: BLE001 - classified once, a bug never kills the worker
            return self._failed(d, Failure.of(exc, during_look=looking), calls)
        return self._sent(
            d, receipt, calls, reconciled=bool(receipt.extra.get("reconciled")), onward=onward
        )

    def _since(self, d: Delivery) -> datetime:
        return (d.due_at or self._now()) - timedelta(hours=1)

    def _sent(
        self,
        d: Delivery,
        receipt: Receipt,
        calls: metering.CallCounter,
        *,
        reconciled: bool,
        onward: _Onward | None = None,
    ) -> int:
        """Record the post with the attempt's calls; returns the dependents it released. With
        ``onward``, a lane that goes on claims its next delivery in the same transaction."""
        extra = {k: v for k, v in receipt.extra.items() if _jsonable(v)}
        go_on = onward is not None and not self._stopping.is_set() and onward.go_on()
        released, claimed = self.store.deliveries.record_sent_and_claim(
            d.id,
            self.owner,
            remote_id=receipt.remote_id,
            url=receipt.url,
            awaiting_url=bool(extra.get("awaiting_url")),
            reconciled=reconciled,
            receipt=extra,
            calls=calls.as_dict(),
            lease_seconds=self.policy.lease_seconds if go_on else None,
        )
        if claimed is not None and onward is not None:
            self.leases.hold([claimed])
            onward.claimed = claimed
        if released is None:
            return 0  # the lease was lost meanwhile: another worker owns the delivery now
        if d.last_error_kind is not None:  # only a delivery that failed can have alerts open
            self.notifier.resolve(*resolved_keys(d))
        log.info("posted article %s on %s: %s", d.article_id, d.channel, receipt.url)
        return released

    def policy_for(self, channel: str) -> Policy:
        """The retry policy of ``channel``: ``[schedule]`` with the channel's own settle delay."""
        adapter = self.channels.get(channel)
        own = adapter.settings.reconcile_after_seconds if isinstance(adapter, HasSettings) else None
        p = self.policy
        return Policy(
            max_attempts=p.max_attempts,
            retry_base_seconds=p.retry_base_seconds,
            retry_max_seconds=p.retry_max_seconds,
            reconcile_after_seconds=p.reconcile_after_seconds if own is None else own,
        )

    def _failed(self, d: Delivery, failure: Failure, calls: metering.CallCounter) -> int:
        """Apply the decision for a failed attempt (recorded with its calls): the one place
        failures have effects."""
        decision = decide(failure, d, self.policy_for(d.channel), self._now())
        if decision.backoff_until is not None:
            self.store.channels.set_backoff(d.channel, decision.backoff_until)
        if decision.pause_channel:
            self.store.channels.set_paused(
                d.channel, True, Actor.service(), failure.message, needs_reauth=True
            )
        recorded = self.store.deliveries.record_failure(
            d.id,
            self.owner,
            state=decision.state,
            next_attempt_at=decision.retry_at,
            error=failure.message,
            kind=decision.kind,
            keep_attempts=not decision.count_attempt,
            may_have_posted=decision.may_have_posted,
            calls=calls.as_dict(),
        )
        alert = delivery_alert(d, failure, decision, self.policy.tz) if recorded else None
        if alert is not None:
            self.notifier.alert(alert.key, alert.text, alert.level)
        return 0

    def _reconcile_in_doubt(self) -> int:
        """In-doubt deliveries due for a look: record the post if it exists, else send again."""
        claimed = self.store.deliveries.claim_in_doubt(
            self.owner, self._now(), lease_seconds=self.policy.lease_seconds
        )
        self.leases.hold(claimed)
        for d in claimed:
            try:
                with metering.metered() as calls:
                    self._reconcile(d, calls)
            finally:
                self.leases.release(d.id)
        return len(claimed)

    def _reconcile(self, d: Delivery, calls: metering.CallCounter) -> None:
        channel = self.channels.get(d.channel)
        if channel is None:
            return  # the lease lapses; the delivery waits in doubt for its channel to return
        try:
            found = channel.find_existing(
                self._draft(d, channel), d.idempotency_key, self._since(d)
            )
        except Exception as exc:  # noqa: BLE001 - classified once
            self._failed(replace(d, may_have_posted=True), Failure.of(exc, during_look=True), calls)
            return
        if found is not None:
            self._sent(d, found, calls, reconciled=True)
        else:
            self.store.deliveries.record_failure(
                d.id,
                self.owner,
                state=DeliveryState.RETRY,
                next_attempt_at=self._now(),
                error="Chưa có trên nền tảng.",
                kind=ErrorKind.RECONCILED_ABSENT,
                keep_attempts=True,
                may_have_posted=False,
                calls=calls.as_dict(),
            )


@dataclass
class _Onward:
    """Whether a lane goes on after its delivery: asked when the post is recorded, so the next
    due delivery is claimed in the same transaction (a failure leaves it unasked: the lane
    claims on its own)."""

    started: float
    lanes: Lanes
    asked: bool = False
    retired: bool = False
    claimed: Delivery | None = None

    def go_on(self) -> bool:
        """False when the lane retires (a fast delivery while another lane can go on)."""
        self.asked = True
        self.retired = time.monotonic() - self.started < FAST_DELIVERY and self.lanes.retire()
        return not self.retired


def _jsonable(v: Any) -> bool:
    return isinstance(v, str | int | float | bool | list | dict | type(None))
