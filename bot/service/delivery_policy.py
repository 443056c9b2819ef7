"""What a failed attempt means for its delivery, decided in one pure function.

``decide(failure, delivery, policy, now)`` returns a :class:`Decision` (the next state, when to
look again, whether an earlier attempt may have posted, pause the channel, back it off, which
alert); the dispatcher applies it and does nothing else with errors. Like procrastinate's
``RetryDecision``, it is a value: the table of cases in ``tests/unit/test_delivery_policy.py``
runs in milliseconds, without a sandbox.

The rule that matters most: a delivery that *may have posted* (an answer lost after sending, any
5xx, a body that is not the platform's JSON, a worker that died mid-call) is never sent again
before a look (``find_existing``) has settled the doubt, and that look waits
``reconcile_after_seconds``: the platform may still be finishing the request. A delivery in doubt
is never marked ``failed``: when Loa gives up, a person decides (``in_doubt``).
"""

from __future__ import annotations

import enum
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from channels.base import AuthError, CannotTell, ChannelError, RateLimited, RejectedError
from content_queue.models import Delivery
from content_queue.workflow import DeliveryState, ErrorKind

__all__ = ["AlertKind", "Decision", "Failure", "Policy", "decide"]

log = logging.getLogger(__name__)


class AlertKind(enum.StrEnum):
    """The admins' alert a decision raises (texts: :mod:`bot.service.alert_texts`)."""

    FAILING = "failing"  # still retrying after several attempts (info)
    FAILED = "failed"  # given up: a person fixes the cause, then retries
    THROTTLED = "throttled"  # the channel backs off (info)
    AUTH = "auth"  # the channel is paused until it is reconnected
    IN_DOUBT = "in_doubt"  # a person must say whether the post exists


@dataclass(frozen=True)
class Failure:
    """One failed attempt, classified once from what the adapter raised."""

    kind: ErrorKind
    message: str
    may_have_posted: bool = False  # this attempt may have posted
    retry_after: float | None = None
    reconnect_hint: str | None = None
    during_look: bool = False  # failed while looking for an earlier attempt's post

    @classmethod
    def of(cls, exc: BaseException, *, during_look: bool = False) -> Failure:
        """The failure an exception from an adapter (or from Loa itself) stands for."""
        if not isinstance(exc, ChannelError):
            # A bug: nothing says whether the request left, so it may have posted.
            error_id = uuid.uuid4().hex[:8]
            log.error("unexpected %s (error id %s)", type(exc).__name__, error_id, exc_info=exc)
            return cls(
                ErrorKind.BUG,
                f"Lỗi không mong đợi trong Loa (mã lỗi {error_id}).",
                may_have_posted=not during_look,
                during_look=during_look,
            )
        maybe = exc.may_have_posted and not during_look  # a look posts nothing
        if isinstance(exc, CannotTell):
            return cls(ErrorKind.CANNOT_TELL, exc.message, during_look=during_look)
        if isinstance(exc, RateLimited):
            return cls(
                ErrorKind.RATE_LIMITED,
                exc.message,
                maybe,
                retry_after=exc.retry_after,
                during_look=during_look,
            )
        if isinstance(exc, AuthError):
            return cls(
                ErrorKind.AUTH,
                exc.message,
                maybe,
                reconnect_hint=exc.reconnect_hint,
                during_look=during_look,
            )
        if isinstance(exc, RejectedError):
            return cls(ErrorKind.REJECTED, exc.message, maybe, during_look=during_look)
        return cls(ErrorKind.TRANSIENT, exc.message, maybe, during_look=during_look)


@dataclass(frozen=True)
class Policy:
    """The retry policy of one channel (``[schedule]``, with the channel's own settle delay)."""

    max_attempts: int = 6
    retry_base_seconds: float = 60.0
    retry_max_seconds: float = 6 * 3600.0
    reconcile_after_seconds: float = 60.0


@dataclass(frozen=True)
class Decision:
    """What to do with a delivery after a failed attempt."""

    state: DeliveryState  # RETRY, FAILED or IN_DOUBT
    kind: ErrorKind
    retry_at: datetime | None  # None: held until a person acts
    may_have_posted: bool  # look (find_existing) before anything is sent again
    count_attempt: bool = True
    pause_channel: bool = False
    backoff_until: datetime | None = None  # the whole channel waits
    alert: AlertKind | None = None


def decide(failure: Failure, delivery: Delivery, policy: Policy, now: datetime) -> Decision:
    """The decision for ``delivery`` after ``failure``; ``delivery.may_have_posted`` says whether
    an earlier attempt may have posted with no look settling it since."""
    doubt = failure.may_have_posted or delivery.may_have_posted
    settle = now + timedelta(seconds=policy.reconcile_after_seconds)
    kind = failure.kind
    if kind is ErrorKind.CANNOT_TELL:
        return Decision(
            DeliveryState.IN_DOUBT, kind, None, True, count_attempt=False, alert=AlertKind.IN_DOUBT
        )
    if kind is ErrorKind.RATE_LIMITED:
        until = now + timedelta(seconds=max(failure.retry_after or 0.0, 1.0))
        retry_at = max(until, settle) if failure.may_have_posted else until
        return Decision(
            DeliveryState.RETRY,
            kind,
            retry_at,
            doubt,
            count_attempt=False,
            backoff_until=until,
            alert=AlertKind.THROTTLED,
        )
    if kind is ErrorKind.AUTH:
        return Decision(
            DeliveryState.RETRY,
            kind,
            None,
            doubt,
            count_attempt=False,
            pause_channel=True,
            alert=AlertKind.AUTH,
        )
    if kind is ErrorKind.UNKNOWN_CHANNEL:
        return Decision(DeliveryState.RETRY, kind, None, doubt, count_attempt=False)
    final = kind is ErrorKind.REJECTED and not failure.during_look
    if final or delivery.attempts >= policy.max_attempts:
        if doubt:  # never "failed" while a post may exist: a person looks
            return Decision(DeliveryState.IN_DOUBT, kind, None, True, alert=AlertKind.IN_DOUBT)
        return Decision(
            DeliveryState.FAILED,
            kind if final else ErrorKind.GAVE_UP,
            None,
            False,
            alert=AlertKind.FAILED,
        )
    delay = min(
        policy.retry_base_seconds * 2 ** max(delivery.attempts - 1, 0), policy.retry_max_seconds
    )
    retry_at = now + timedelta(seconds=delay)
    if failure.may_have_posted:  # the platform may still be finishing it: look after it settles
        retry_at = max(retry_at, settle)
    return Decision(
        DeliveryState.RETRY,
        kind,
        retry_at,
        doubt,
        alert=AlertKind.FAILING if delivery.attempts >= 2 else None,
    )
