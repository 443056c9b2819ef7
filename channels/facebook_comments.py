"""Comments under the Page's posts: read in batches, reply, hide, delete, private reply.

Composed into :class:`channels.facebook_page.FacebookPageChannel` (it provides ``_call`` and the
settings). Platform facts: ``../shared/contracts/facebook.md``, "Comments on the Page's posts" and
"Reading many objects in one call":

* Read: ``GET /{post-id}/comments?filter=stream&order=reverse_chronological&fields=...`` — one
  such read per post, up to 50 of them in one batch call (``POST /`` with ``batch=[...]``), so
  the catch-up read of N posts costs ``ceil(N/50)`` calls (plus one call per post that has more
  than ``COMMENTS_PER_READ`` new comments: its next pages are read alone).
* Reply ``POST /{comment-id}/comments`` (``message``); hide ``POST /{comment-id}``
  (``is_hidden``); delete ``DELETE /{comment-id}``; private reply ``POST /{page-id}/messages``
  with ``recipient.comment_id`` (one per comment, within 7 days).

What each write means when its answer is lost: :mod:`channels.comments`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from channels import render
from channels.comments import CommentChange, CommentRead, PrivateReplyUsed, RemoteComment
from channels.errors import CannotTell, RejectedError, TransientError

__all__ = ["COMMENT_SCOPES", "FacebookComments", "comment_from_graph"]

log = logging.getLogger(__name__)

# Permissions the comment ability needs (besides the posting ones).
COMMENT_SCOPES = ("pages_read_user_content", "pages_manage_engagement", "pages_messaging")
ALREADY_REPLIED = 10900  # Graph: "Activity already replied to" (one private reply per comment)
BATCH_MAX = 50
COMMENTS_PER_READ = 100
MAX_EXTRA_PAGES = 5  # pages read alone per post beyond the batched first one
REPLY_LOOKUP_PAGES = 5  # a parent with more than 500 replies: cannot tell
FIELDS = "id,message,from,created_time,parent{id},is_hidden"
_GONE_CODES = (100, 803)  # "does not exist" (subcode 33) / "aliases do not exist"


def _time(value: Any) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)
    except ValueError:
        return datetime.now(UTC)


def comment_from_graph(post_id: str, item: dict[str, Any]) -> RemoteComment | None:
    """A comment from a Graph read item (None when it has no id)."""
    if not isinstance(item, dict) or not item.get("id"):
        return None
    author: dict[str, Any] = item["from"] if isinstance(item.get("from"), dict) else {}
    parent: dict[str, Any] = item["parent"] if isinstance(item.get("parent"), dict) else {}
    return RemoteComment(
        id=str(item["id"]),
        post_id=post_id,
        parent_id=str(parent["id"]) if parent.get("id") else None,
        author_id=str(author["id"]) if author.get("id") else None,
        author_name=str(author["name"]) if author.get("name") else None,
        message=str(item.get("message") or ""),
        created_at=_time(item.get("created_time")),
        is_hidden=bool(item.get("is_hidden")),
        raw=item,
    )


class FacebookComments:
    """The :class:`channels.comments.CommentModerator` ability of the Facebook Page channel."""

    name: str
    settings: Any  # FacebookSettings (page_id)

    if TYPE_CHECKING:  # provided by the channel this ability is composed into

        def _call(self, method: str, path: str, *, write: bool = False, **kw: Any) -> Any: ...

    def own_author_id(self) -> str:
        return str(self.settings.page_id)

    def comment_change(self, payload: Mapping[str, Any]) -> CommentChange | None:
        """A ``feed`` webhook change (``item: comment``) as a comment and its verb."""
        if payload.get("item") != "comment" or not payload.get("comment_id"):
            return None
        verb = str(payload.get("verb") or "")
        if verb not in ("add", "edited", "remove"):
            return None
        author: dict[str, Any] = payload["from"] if isinstance(payload.get("from"), dict) else {}
        post_id = str(payload.get("post_id") or "")[:200]
        parent = str(payload.get("parent_id") or "")[:200]
        return CommentChange(
            verb,
            RemoteComment(
                id=str(payload["comment_id"])[:200],
                post_id=post_id,
                parent_id=parent if parent and parent != post_id else None,
                author_id=str(author["id"]) if author.get("id") else None,
                author_name=str(author["name"]) if author.get("name") else None,
                message=str(payload.get("message") or ""),
                created_at=_time(payload.get("created_time")),
            ),
        )

    # ----- reading ---------------------------------------------------------------------------
    def _edge_query(self, since: datetime | None, after: str | None = None) -> str:
        q = f"filter=stream&order=reverse_chronological&limit={COMMENTS_PER_READ}&fields={FIELDS}"
        if since is not None:
            q += f"&since={int(since.timestamp())}"
        if after:
            q += f"&after={after}"
        return q

    def read_comments(self, post_ids: Sequence[str], since: datetime | None) -> CommentRead:
        """Comments of every post since ``since``: one batch call per 50 posts."""
        ids = list(dict.fromkeys(str(p) for p in post_ids))
        found: list[RemoteComment] = []
        unreadable: list[str] = []
        calls = 0
        for i in range(0, len(ids), BATCH_MAX):
            chunk = ids[i : i + BATCH_MAX]
            batch = [
                {"method": "GET", "relative_url": f"{pid}/comments?{self._edge_query(since)}"}
                for pid in chunk
            ]
            items = self._call("POST", "", data={"batch": json.dumps(batch)})
            calls += 1
            if not isinstance(items, list):
                raise TransientError("Facebook trả lời lô đọc bình luận không đúng dạng.")
            for pid, item in zip(chunk, items, strict=False):
                if not isinstance(item, dict) or item.get("code") != 200:
                    unreadable.append(pid)
                    continue
                try:
                    body = json.loads(item.get("body") or "{}")
                except ValueError:
                    unreadable.append(pid)
                    continue
                found.extend(self._page_of(pid, body))
                after = _next_cursor(body)
                for _ in range(MAX_EXTRA_PAGES):
                    if not after:
                        break
                    more = self._call("GET", f"{pid}/comments?{self._edge_query(since, after)}")
                    calls += 1
                    found.extend(self._page_of(pid, more))
                    after = _next_cursor(more)
        return CommentRead(tuple(found), calls, tuple(unreadable))

    @staticmethod
    def _page_of(post_id: str, body: Any) -> list[RemoteComment]:
        data = body.get("data") if isinstance(body, dict) else None
        out = []
        for item in data if isinstance(data, list) else []:
            c = comment_from_graph(post_id, item)
            if c is not None:
                out.append(c)
        return out

    # ----- writes ----------------------------------------------------------------------------
    def reply_comment(self, comment_id: str, text: str) -> str:
        """A public reply from the Page (a write: a lost answer may have posted)."""
        created = self._call("POST", f"{comment_id}/comments", data={"message": text}, write=True)
        return str(created.get("id") or "")

    def find_reply(self, comment_id: str, text: str, since: datetime) -> str | None:
        """The Page's reply with this text under the comment since ``since``, or None."""
        want = render.fingerprint(text)
        after: str | None = None
        for _ in range(REPLY_LOOKUP_PAGES):
            q = f"filter=stream&limit={COMMENTS_PER_READ}&fields=id,message,from,created_time"
            if after:
                q += f"&after={after}"
            try:
                page = self._call("GET", f"{comment_id}/comments?{q}")
            except RejectedError as e:
                if e.code in _GONE_CODES:
                    raise CannotTell(
                        "Bình luận gốc không còn trên Facebook; không kiểm tra được câu trả lời."
                    ) from e
                raise
            for item in page.get("data") or []:
                author = item.get("from") or {}
                if (
                    str(author.get("id")) == self.own_author_id()
                    and render.fingerprint(str(item.get("message") or "")) == want
                    and _time(item.get("created_time")) >= since
                ):
                    return str(item["id"])
            after = _next_cursor(page)
            if not after:
                return None
        raise CannotTell(
            "Bình luận có quá nhiều trả lời; không xác định được câu trả lời đã đăng hay chưa."
        )

    def hide_comment(self, comment_id: str, hidden: bool) -> None:
        """``is_hidden`` on a known id: idempotent, so never "maybe"."""
        self._call("POST", comment_id, data={"is_hidden": "true" if hidden else "false"})

    def delete_comment(self, comment_id: str) -> None:
        """Delete; a comment that is already gone counts as deleted."""
        try:
            self._call("DELETE", comment_id)
        except RejectedError as e:
            if e.code not in _GONE_CODES:
                raise
            log.info("comment %s was already gone when deleting", comment_id)

    def private_reply(self, comment_id: str, text: str) -> str:
        """One Messenger message to the comment's author (no look-up: a lost answer is in doubt)."""
        try:
            sent = self._call(
                "POST",
                f"{self.settings.page_id}/messages",
                json={"recipient": {"comment_id": comment_id}, "message": {"text": text}},
                write=True,
            )
        except RejectedError as e:
            if e.code == ALREADY_REPLIED:
                raise PrivateReplyUsed(
                    "Người viết bình luận này đã nhận tin nhắn riêng của Trang.", code=e.code
                ) from e
            raise
        return str(sent.get("message_id") or "")

    def comment_snapshot(self, comment_id: str) -> dict[str, Any]:
        """The comment as Graph shows it now; {} when it is gone."""
        try:
            data = self._call(
                "GET", comment_id, params={"fields": "id,message,from,created_time,is_hidden"}
            )
        except RejectedError as e:
            if e.code in _GONE_CODES:
                return {}
            raise
        return dict(data) if isinstance(data, dict) else {}


def _next_cursor(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    paging = body.get("paging") or {}
    if not paging.get("next"):
        return None
    after = (paging.get("cursors") or {}).get("after")
    return str(after) if after else None
