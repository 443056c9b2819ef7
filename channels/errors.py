"""The errors an adapter raises, which the host understands.

Error tree::

    ChannelError               ``may_have_posted``: the request may have acted (look before resend)
     ├── TransientError        network trouble, 5xx, timeouts: retry with backoff
     │    └── RateLimited      platform throttling: back off the whole channel for ``retry_after``
     ├── AuthError             token invalid/expired/missing permission: refresh once, else pause
     ├── RejectedError         the platform refused this content: fail the delivery, alert admins
     └── CannotTell            ``find_existing`` cannot say whether a post exists: a person decides
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "AuthError",
    "CannotTell",
    "ChannelError",
    "RateLimited",
    "RejectedError",
    "TransientError",
]


class ChannelError(Exception):
    """Base of every error an adapter raises; ``message`` is safe to show to an admin."""

    def __init__(
        self, message: str, *, code: str | int | None = None, may_have_posted: bool = False
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        # True when the request may have reached the platform (timeout after sending, dropped
        # connection): the dispatcher must reconcile with find_existing before any resend.
        self.may_have_posted = may_have_posted
        self.raw: Mapping[str, Any] = {}  # the platform's error object, for the adapter itself


class TransientError(ChannelError):
    """Network trouble, 5xx, timeouts: retry later."""


class RateLimited(TransientError):
    """Platform throttling: the whole channel waits ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float, code: str | int | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after


class AuthError(ChannelError):
    """Credentials invalid, expired, or missing a permission: a person must act."""

    def __init__(
        self,
        message: str,
        *,
        code: str | int | None = None,
        refreshable: bool = False,
        reconnect_hint: str | None = None,
    ):
        super().__init__(message, code=code)
        self.refreshable = refreshable
        self.reconnect_hint = reconnect_hint


class RejectedError(ChannelError):
    """The platform refused this content for good (bad parameter, spam, too large)."""


class CannotTell(ChannelError):
    """``find_existing`` cannot decide whether an earlier attempt created a post."""
