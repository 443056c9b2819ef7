"""Workflow rules: which article and delivery state changes are legal, with messages an admin
can read."""

from __future__ import annotations

import enum

__all__ = [
    "ARTICLE_TRANSITIONS",
    "ArticleState",
    "DELIVERY_TRANSITIONS",
    "DeliveryState",
    "ErrorKind",
    "IllegalTransition",
    "NotFound",
    "check_delivery_transition",
    "check_transition",
    "sources_of",
]


class ArticleState(enum.StrEnum):
    """Where an article stands (``articles.state``); its deliveries have :class:`DeliveryState`."""

    PENDING = "pending"  # submitted, waiting for an admin's decision
    APPROVED = "approved"  # its deliveries are queued for the slot
    PUBLISHED = "published"  # every delivery sent
    PARTIAL = "partial"  # every delivery finished, not all sent
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # approved, then cancelled before any post
    RETRACTED = "retracted"  # posted, then taken down


_A = ArticleState
# action → (states it may start from, state it leads to)
ARTICLE_TRANSITIONS: dict[str, tuple[frozenset[ArticleState], ArticleState]] = {
    "approve": (frozenset({_A.PENDING}), _A.APPROVED),
    "reject": (frozenset({_A.PENDING}), _A.REJECTED),
    "revise": (frozenset({_A.PENDING}), _A.PENDING),
    "withdraw": (frozenset({_A.APPROVED}), _A.WITHDRAWN),
    "retract": (frozenset({_A.PUBLISHED, _A.PARTIAL}), _A.RETRACTED),
    "retry": (frozenset({_A.PARTIAL, _A.APPROVED}), _A.APPROVED),
}


class DeliveryState(enum.StrEnum):
    """Where one (article, channel) delivery stands."""

    WAITING = "waiting"  # for its due time, or for the channel it links to
    RETRY = "retry"  # due again at next_attempt_at (NULL: held, e.g. channel paused)
    IN_FLIGHT = "in_flight"  # leased by a worker
    SENT = "sent"
    AWAITING_URL = "awaiting_url"  # handoff: a person publishes and records the URL
    FAILED = "failed"  # for good, admins alerted; an admin may retry
    IN_DOUBT = "in_doubt"  # an attempt may have posted: looked for before any resend
    CANCELLED = "cancelled"
    RETRACTED = "retracted"


class ErrorKind(enum.StrEnum):
    """Why the last attempt of a delivery failed (``deliveries.last_error_kind``). Whether an
    earlier attempt may have posted is a separate fact (``deliveries.may_have_posted``)."""

    TRANSIENT = "transient"  # network, 5xx: retried with backoff
    RATE_LIMITED = "rate_limited"  # the channel backs off
    AUTH = "auth"  # the channel is paused until a person reconnects it
    REJECTED = "rejected"  # the platform refused the content
    GAVE_UP = "gave_up"  # too many attempts
    CANNOT_TELL = "cannot_tell"  # a look could not say whether the post exists
    LEASE_EXPIRED = "lease_expired"  # the worker died mid-call
    RECONCILED_ABSENT = "reconciled_absent"  # looked: not on the platform, will be sent
    UNKNOWN_CHANNEL = "unknown_channel"  # the channel left the configuration
    BUG = "bug"  # an unexpected exception in Loa or an adapter


_D = DeliveryState
# state → the states it may move to; the store refuses anything else.
DELIVERY_TRANSITIONS: dict[DeliveryState, frozenset[DeliveryState]] = {
    _D.WAITING: frozenset({_D.IN_FLIGHT, _D.CANCELLED}),
    _D.RETRY: frozenset({_D.IN_FLIGHT, _D.RETRY, _D.CANCELLED}),
    _D.IN_FLIGHT: frozenset(
        {_D.SENT, _D.AWAITING_URL, _D.RETRY, _D.FAILED, _D.IN_DOUBT, _D.WAITING}
    ),
    _D.IN_DOUBT: frozenset({_D.IN_FLIGHT, _D.SENT, _D.RETRY, _D.CANCELLED}),
    _D.AWAITING_URL: frozenset({_D.SENT, _D.RETRY, _D.CANCELLED}),
    _D.FAILED: frozenset({_D.RETRY, _D.CANCELLED}),
    _D.SENT: frozenset({_D.RETRACTED}),
    _D.CANCELLED: frozenset(),
    _D.RETRACTED: frozenset(),
}


def sources_of(target: DeliveryState) -> frozenset[DeliveryState]:
    """Every state a delivery may move to ``target`` from."""
    return frozenset(s for s, targets in DELIVERY_TRANSITIONS.items() if target in targets)


def check_delivery_transition(delivery_id: int, state: str, target: str) -> DeliveryState:
    """``target`` as a state if a delivery in ``state`` may move there, else IllegalTransition."""
    new = DeliveryState(target)
    if new not in DELIVERY_TRANSITIONS[DeliveryState(state)]:
        raise IllegalTransition(
            f"Lượt đăng #{delivery_id} không thể chuyển từ “{DELIVERY_STATE_VI[DeliveryState(state)]}” "
            f"sang “{DELIVERY_STATE_VI[new]}”."
        )
    return new


DELIVERY_STATE_VI = {
    _D.WAITING: "chờ đến giờ",
    _D.RETRY: "chờ thử lại",
    _D.IN_FLIGHT: "đang đăng",
    _D.SENT: "đã đăng",
    _D.AWAITING_URL: "chờ ghi địa chỉ bài",
    _D.FAILED: "không đăng được",
    _D.IN_DOUBT: "chưa rõ đã đăng hay chưa",
    _D.CANCELLED: "đã huỷ",
    _D.RETRACTED: "đã gỡ",
}

_ACTION_VI = {
    "approve": "duyệt",
    "reject": "từ chối",
    "revise": "thay bằng bản sửa",
    "withdraw": "rút lại (trước khi đăng)",
    "retract": "gỡ bài đã đăng",
    "retry": "đăng lại",
}
STATE_VI: dict[str, str] = {
    _A.PENDING: "chờ duyệt",
    _A.APPROVED: "đã duyệt, chờ đăng",
    _A.PUBLISHED: "đã đăng",
    _A.PARTIAL: "đăng chưa đủ kênh",
    _A.REJECTED: "đã bị từ chối",
    _A.WITHDRAWN: "đã rút lại",
    _A.RETRACTED: "đã gỡ",
}


class IllegalTransition(Exception):
    """A state change the workflow forbids; ``str()`` is one readable Vietnamese line."""


class NotFound(Exception):
    """No such article or delivery."""


def check_transition(article_id: int, state: str, action: str) -> ArticleState:
    """The new state for ``action`` from ``state``, or IllegalTransition."""
    allowed, target = ARTICLE_TRANSITIONS[action]
    if state not in allowed:
        raise IllegalTransition(
            f"Không thể {_ACTION_VI[action]} bài #{article_id}: bài đang ở trạng thái "
            f"“{STATE_VI.get(state, state)}”."
        )
    return target
