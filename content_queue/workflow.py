"""Workflow rules: which article state changes are legal, with messages an admin can read."""

from __future__ import annotations

__all__ = ["ARTICLE_TRANSITIONS", "IllegalTransition", "NotFound", "check_transition"]

# action → (states it may start from, state it leads to)
ARTICLE_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({"pending"}), "approved"),
    "reject": (frozenset({"pending"}), "rejected"),
    "revise": (frozenset({"pending"}), "pending"),
    "withdraw": (frozenset({"approved"}), "withdrawn"),
    "retract": (frozenset({"published", "partial"}), "retracted"),
    "retry": (frozenset({"partial", "approved"}), "approved"),
}

_ACTION_VI = {
    "approve": "duyệt",
    "reject": "từ chối",
    "revise": "thay bằng bản sửa",
    "withdraw": "rút lại (trước khi đăng)",
    "retract": "gỡ bài đã đăng",
    "retry": "đăng lại",
}
STATE_VI = {
    "pending": "chờ duyệt",
    "approved": "đã duyệt, chờ đăng",
    "published": "đã đăng",
    "partial": "đăng chưa đủ kênh",
    "rejected": "đã bị từ chối",
    "withdrawn": "đã rút lại",
    "retracted": "đã gỡ",
}


class IllegalTransition(Exception):
    """A state change the workflow forbids; ``str()`` is one readable Vietnamese line."""


class NotFound(Exception):
    """No such article or delivery."""


def check_transition(article_id: int, state: str, action: str) -> str:
    """The new state for ``action`` from ``state``, or IllegalTransition."""
    allowed, target = ARTICLE_TRANSITIONS[action]
    if state not in allowed:
        raise IllegalTransition(
            f"Không thể {_ACTION_VI[action]} bài #{article_id}: bài đang ở trạng thái "
            f"“{STATE_VI.get(state, state)}”."
        )
    return target
