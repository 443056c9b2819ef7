"""The ability to read and moderate comments under a channel's own posts (Facebook Page).

Declared, not discovered: the host asks ``isinstance(channel, CommentModerator)`` once, at wiring
time. Platform facts: ``../shared/contracts/facebook.md`` ("Comments on the Page's posts").

Never twice (:mod:`channels.http` states the rule; here is what it means for each write):

* ``hide_comment`` / ``delete_comment`` act on a known id: idempotent, retried freely; a delete
  of a comment that is already gone counts as done (it returns normally).
* ``reply_comment`` creates a new comment: a lost answer raises with ``may_have_posted``; the host
  then calls ``find_reply`` (the parent's replies written by the Page with the same text) after a
  settle delay, before any resend. ``find_reply`` raises ``CannotTell`` when it cannot say.
* ``private_reply`` sends one Messenger message: the platform has no look-up, so a lost answer is
  in doubt for good and a person decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from channels.errors import RejectedError

__all__ = [
    "CommentChange",
    "CommentModerator",
    "CommentRead",
    "CommentsUnreadable",
    "PrivateReplyUsed",
    "RemoteComment",
]


@dataclass(frozen=True)
class RemoteComment:
    """One comment as the platform shows it (text as written; the host bounds what it keeps)."""

    id: str
    post_id: str
    parent_id: str | None
    author_id: str | None
    author_name: str | None
    message: str
    created_at: datetime
    is_hidden: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CommentRead:
    """The comments read from many posts, and what it cost."""

    comments: tuple[RemoteComment, ...]
    calls: int
    unreadable: tuple[str, ...] = ()  # posts that answered an error (gone, no permission)


class PrivateReplyUsed(RejectedError):
    """The platform says this comment's one private reply was already sent (a look-up after all:
    an earlier attempt whose answer was lost did go out)."""


@dataclass(frozen=True)
class CommentChange:
    """A pushed change of a comment: ``add``, ``edited`` or ``remove``."""

    verb: str
    comment: RemoteComment


@runtime_checkable
class CommentModerator(Protocol):
    """Read, answer and moderate the comments under the channel's posts."""

    name: str

    def own_author_id(self) -> str:
        """The id comments written by the channel itself carry (the Page's id)."""
        ...

    def comment_change(self, payload: Mapping[str, Any]) -> CommentChange | None:
        """The comment change a stored webhook event carries (None: not about a comment)."""
        ...

    def read_comments(self, post_ids: Sequence[str], since: datetime | None) -> CommentRead:
        """Every comment (replies included) on ``post_ids`` since ``since``, in few calls."""
        ...

    def reply_comment(self, comment_id: str, text: str) -> str:
        """Post a public reply; returns its id. A lost answer: ``may_have_posted``."""
        ...

    def find_reply(self, comment_id: str, text: str, since: datetime) -> str | None:
        """Our reply with ``text`` under ``comment_id`` written since ``since``, or None."""
        ...

    def hide_comment(self, comment_id: str, hidden: bool) -> None:
        """Hide (or show again) a comment; idempotent."""
        ...

    def delete_comment(self, comment_id: str) -> None:
        """Delete a comment; one already gone counts as deleted."""
        ...

    def private_reply(self, comment_id: str, text: str) -> str:
        """One private message to the comment's author; no look-up exists."""
        ...

    def comment_snapshot(self, comment_id: str) -> dict[str, Any]:
        """The comment as the API shows it now (evidence for a takedown); {} when gone."""
        ...


@runtime_checkable
class CommentsUnreadable(Protocol):
    """A channel whose platform shows comments Loa can neither read nor moderate (Zalo OA)."""

    name: str

    def comments_note(self) -> str:
        """One plain Vietnamese sentence for staff: what Loa cannot do and who must look."""
        ...
