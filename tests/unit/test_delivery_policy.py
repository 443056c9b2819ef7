"""Unit tier: what a failed attempt means, as a table of cases (pure, milliseconds, no sandbox)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.service.delivery_policy import AlertKind, Decision, Failure, Policy, decide
from channels.base import (
    AuthError,
    CannotTell,
    ChannelError,
    RateLimited,
    RejectedError,
    TransientError,
)
from content_queue.models import Delivery
from content_queue.workflow import DELIVERY_TRANSITIONS, DeliveryState, ErrorKind

NOW = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)
POLICY = Policy(
    max_attempts=4, retry_base_seconds=10, retry_max_seconds=100, reconcile_after_seconds=60
)
S = DeliveryState


def delivery(attempts: int = 1, *, doubt: bool = False) -> Delivery:
    return Delivery(
        id=5,
        article_id=12,
        channel="facebook",
        state="in_flight",
        after_channel="website",
        due_at=NOW,
        next_attempt_at=None,
        attempts=attempts,
        lease_owner="w",
        lease_expires_at=None,
        idempotency_key="k",
        remote_id=None,
        url=None,
        last_error=None,
        last_error_kind=None,
        sent_at=None,
        may_have_posted=doubt,
    )


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


TRANSIENT = TransientError("5xx")
MAYBE = TransientError("mất kết nối", may_have_posted=True)
THROTTLED = RateLimited("chậm lại", retry_after=30)
AUTH = AuthError("token hết hạn", reconnect_hint="loa channels connect facebook")
REJECTED = RejectedError("spam")
CANNOT = CannotTell("quá nhiều bài")

# (case, error, during a look?, attempts, earlier doubt?) → expected decision
CASES: list[tuple[str, BaseException, bool, int, bool, Decision]] = [
    (
        "transient, first attempt",
        TRANSIENT,
        False,
        1,
        False,
        Decision(S.RETRY, ErrorKind.TRANSIENT, at(10), False),
    ),
    (
        "transient backs off exponentially and alerts",
        TRANSIENT,
        False,
        3,
        False,
        Decision(S.RETRY, ErrorKind.TRANSIENT, at(40), False, alert=AlertKind.FAILING),
    ),
    (
        "transient after the last attempt fails",
        TRANSIENT,
        False,
        4,
        False,
        Decision(S.FAILED, ErrorKind.GAVE_UP, None, False, alert=AlertKind.FAILED),
    ),
    (
        "maybe posted: look only after the settle delay",
        MAYBE,
        False,
        1,
        False,
        Decision(S.RETRY, ErrorKind.TRANSIENT, at(60), True),
    ),
    (
        "maybe posted: the settle delay wins over a shorter backoff",
        MAYBE,
        False,
        3,
        False,
        Decision(S.RETRY, ErrorKind.TRANSIENT, at(60), True, alert=AlertKind.FAILING),
    ),
    (
        "maybe posted on the last attempt: a person decides, never failed",
        MAYBE,
        False,
        4,
        False,
        Decision(S.IN_DOUBT, ErrorKind.TRANSIENT, None, True, alert=AlertKind.IN_DOUBT),
    ),
    (
        "earlier doubt, plain transient now: still looks first",
        TRANSIENT,
        False,
        2,
        True,
        Decision(S.RETRY, ErrorKind.TRANSIENT, at(20), True, alert=AlertKind.FAILING),
    ),
    (
        "a failed look keeps the doubt",
        TRANSIENT,
        True,
        2,
        True,
        Decision(S.RETRY, ErrorKind.TRANSIENT, at(20), True, alert=AlertKind.FAILING),
    ),
    (
        "a refused look is not a refused post",
        REJECTED,
        True,
        1,
        True,
        Decision(S.RETRY, ErrorKind.REJECTED, at(10), True),
    ),
    (
        "a look failing until the last attempt: a person decides",
        TRANSIENT,
        True,
        4,
        True,
        Decision(S.IN_DOUBT, ErrorKind.TRANSIENT, None, True, alert=AlertKind.IN_DOUBT),
    ),
    (
        "throttled: the channel backs off, the attempt does not count",
        THROTTLED,
        False,
        1,
        False,
        Decision(
            S.RETRY,
            ErrorKind.RATE_LIMITED,
            at(30),
            False,
            count_attempt=False,
            backoff_until=at(30),
            alert=AlertKind.THROTTLED,
        ),
    ),
    (
        "throttled with an earlier doubt keeps it",
        THROTTLED,
        False,
        1,
        True,
        Decision(
            S.RETRY,
            ErrorKind.RATE_LIMITED,
            at(30),
            True,
            count_attempt=False,
            backoff_until=at(30),
            alert=AlertKind.THROTTLED,
        ),
    ),
    (
        "auth: pause the channel, hold the delivery",
        AUTH,
        False,
        1,
        False,
        Decision(
            S.RETRY,
            ErrorKind.AUTH,
            None,
            False,
            count_attempt=False,
            pause_channel=True,
            alert=AlertKind.AUTH,
        ),
    ),
    (
        "auth during a look keeps the doubt",
        AUTH,
        True,
        1,
        True,
        Decision(
            S.RETRY,
            ErrorKind.AUTH,
            None,
            True,
            count_attempt=False,
            pause_channel=True,
            alert=AlertKind.AUTH,
        ),
    ),
    (
        "rejected: failed for good",
        REJECTED,
        False,
        1,
        False,
        Decision(S.FAILED, ErrorKind.REJECTED, None, False, alert=AlertKind.FAILED),
    ),
    (
        "cannot tell: a person decides",
        CANNOT,
        True,
        1,
        True,
        Decision(
            S.IN_DOUBT,
            ErrorKind.CANNOT_TELL,
            None,
            True,
            count_attempt=False,
            alert=AlertKind.IN_DOUBT,
        ),
    ),
    (
        "a bug may have posted: look first",
        ValueError("boom"),
        False,
        1,
        False,
        Decision(S.RETRY, ErrorKind.BUG, at(60), True),
    ),
]


@pytest.mark.parametrize(
    ("case", "error", "looking", "attempts", "doubt", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_decide(
    case: str, error: BaseException, looking: bool, attempts: int, doubt: bool, expected: Decision
) -> None:
    got = decide(
        Failure.of(error, during_look=looking), delivery(attempts, doubt=doubt), POLICY, NOW
    )
    assert got == expected


@pytest.mark.parametrize(
    "error",
    [TRANSIENT, MAYBE, THROTTLED, AUTH, REJECTED, CANNOT, ValueError("boom")],
    ids=lambda e: type(e).__name__,
)
@pytest.mark.parametrize("doubt", [False, True])
@pytest.mark.parametrize("attempts", [1, 2, 4, 9])
@pytest.mark.parametrize("looking", [False, True])
def test_every_decision_is_a_legal_transition_and_never_drops_a_doubt(
    error: BaseException, doubt: bool, attempts: int, looking: bool
) -> None:
    d = delivery(attempts, doubt=doubt or looking)
    got = decide(Failure.of(error, during_look=looking), d, POLICY, NOW)
    assert got.state in DELIVERY_TRANSITIONS[S.IN_FLIGHT]
    maybe = (
        d.may_have_posted
        or (isinstance(error, ChannelError) and error.may_have_posted)
        or not isinstance(error, ChannelError)
    )
    if maybe and not looking or d.may_have_posted:
        assert got.may_have_posted, "a doubt is only settled by a look that answered"
        assert got.state is not S.FAILED
    if got.may_have_posted and got.retry_at is not None and not d.may_have_posted:
        assert got.retry_at >= at(POLICY.reconcile_after_seconds)  # never look too early
    if got.state is S.IN_DOUBT or got.state is S.FAILED:
        assert got.alert is not None and got.retry_at is None


def test_a_channel_may_settle_faster_than_the_default() -> None:
    fast = replace(POLICY, reconcile_after_seconds=5)
    assert decide(Failure.of(MAYBE), delivery(), fast, NOW).retry_at == at(10)
