"""Comments on the Facebook sandbox's posts: list, reply, hide, delete, private reply, webhooks.

Attached to :class:`channels.sandbox.facebook.FacebookSandbox` as ``sandbox.comments``. Facts it
honours: ``../shared/contracts/facebook.md`` ("Comments on the Page's posts"). Comment ids look
like Graph's, ``{post number}_{comment number}``; routes for them are registered before the
post routes, which would take any ``N_M`` id. The generic faults of the sandbox apply to these
routes too (``after:http_500`` on a reply: the reply exists, the answer is an error).

Test helpers: :meth:`CommentBoard.add` (a citizen comments; ``notify`` posts the signed ``feed``
webhook to a URL), :meth:`CommentBoard.edit`, :meth:`CommentBoard.remove`,
:meth:`CommentBoard.webhook_body` and :func:`sign` (``X-Hub-Signature-256``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.request
from collections.abc import Callable
from typing import Any

from channels.sandbox.base import PassOn, Request, Response

__all__ = ["CommentBoard", "sign"]

_CID = r"(?P<cid>[0-9]+_7[0-9]{14})"
_PID = r"(?P<pid>[0-9]+_[0-9]+)"
PRIVATE_REPLY_DAYS = 7


def sign(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` header value of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class CommentBoard:
    """The comments of one sandbox Page (state guarded by the sandbox's lock)."""

    def __init__(self, sb: Any, version: str, error: Callable[..., Exception]):
        """``version``: the sandbox's versioned path prefix regex; ``error(code, message,
        subcode=None)``: its Graph error (both given by the sandbox, which imports this module)."""
        self.sb = sb
        self._error = error
        self.items: dict[str, dict[str, Any]] = {}  # comment id → comment (creation order)
        self.private_replies: dict[str, dict[str, Any]] = {}  # comment id → message
        self._seq = 0
        _V = version
        g = sb._graph
        for method, pattern, handler in [
            ("GET", _V + "/" + _PID + r"/comments", self._list),
            ("POST", _V + "/" + _CID + r"/comments", self._reply),
            ("POST", _V + "/" + _CID, self._hide),
            ("DELETE", _V + "/" + _CID, self._delete),
            ("GET", _V + "/" + _CID, self._read),
            ("POST", _V + r"/(?P<page>[0-9]+)/messages", self._private_reply),
        ]:
            sb.route(method, pattern, g(handler), first=True)

    # ----- test helpers ----------------------------------------------------------------------
    def add(
        self,
        post_id: str,
        message: str,
        *,
        author: tuple[str, str] = ("3000000000003", "Nguyễn Văn Dân"),
        parent_id: str | None = None,
        notify: str | None = None,
        at: float | None = None,
    ) -> str:
        """A comment (or a reply to ``parent_id``) written by ``author`` (id, name)."""
        with self.sb.lock:
            c = self._new(post_id, message, author, parent_id, at)
        if notify:
            self.notify(notify, c, "add")
        return str(c["id"])

    def edit(self, comment_id: str, message: str, *, notify: str | None = None) -> None:
        with self.sb.lock:
            c = self.items[comment_id]
            c["message"] = message
        if notify:
            self.notify(notify, c, "edited")

    def remove(self, comment_id: str, *, notify: str | None = None) -> None:
        with self.sb.lock:
            c = self.items.pop(comment_id)
        if notify:
            self.notify(notify, c, "remove")

    def webhook_body(self, changes: list[tuple[dict[str, Any], str]]) -> bytes:
        """A ``feed`` webhook POST body carrying ``(comment, verb)`` changes."""
        entry = {
            "id": self.sb.PAGE_ID,
            "time": int(self.sb.now() * 1000),
            "changes": [
                {
                    "field": "feed",
                    "value": {
                        "item": "comment",
                        "verb": verb,
                        "comment_id": c["id"],
                        "post_id": c["post_id"],
                        "parent_id": c["parent_id"] or c["post_id"],
                        "from": {"id": c["from"][0], "name": c["from"][1]},
                        "message": c["message"],
                        "created_time": int(c["created"]),
                    },
                }
                for c, verb in changes
            ],
        }
        return json.dumps({"object": "page", "entry": [entry]}, ensure_ascii=False).encode()

    def notify(self, url: str, comment: dict[str, Any], verb: str) -> int:
        """POST the signed webhook for one change to ``url``; returns the HTTP status."""
        body = self.webhook_body([(comment, verb)])
        req = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": sign(self.sb.APP_SECRET, body),
            },
        )
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 - a local test URL
            return int(r.status)

    # ----- plumbing --------------------------------------------------------------------------
    def _new(
        self,
        post_id: str,
        message: str,
        author: tuple[str, str],
        parent_id: str | None,
        at: float | None = None,
    ) -> dict[str, Any]:
        self._seq += 1
        cid = f"{post_id.split('_')[-1]}_{700000000000000 + self._seq}"
        c = {
            "id": cid,
            "post_id": post_id,
            "parent_id": parent_id,
            "from": author,
            "message": message,
            "created": at if at is not None else self.sb.now(),
            "is_hidden": False,
        }
        self.items[cid] = c
        return c

    def _comment(self, cid: str) -> dict[str, Any]:

        if cid not in self.items:
            raise self._error(
                100,
                f"Unsupported request. Object with ID '{cid}' does not exist, cannot be loaded "
                "due to missing permissions, or does not support this operation.",
                subcode=33,
            )
        return self.items[cid]

    def _render(self, c: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": c["id"],
            "message": c["message"],
            "from": {"id": c["from"][0], "name": c["from"][1]},
            "created_time": self.sb._iso(c["created"]),
            "is_hidden": c["is_hidden"],
            "can_hide": c["from"][0] != self.sb.PAGE_ID,
        }
        if c["parent_id"]:
            out["parent"] = {"id": c["parent_id"]}
        return out

    # ----- routes ----------------------------------------------------------------------------
    def _list(self, req: Request) -> Response:

        sb = self.sb
        sb._need(req, "page", "pages_read_engagement")
        p = sb._params(req, {"filter", "order", "fields", "since", "limit", "after", "summary"})
        limit = int(p.get("limit") or 25)
        if not 1 <= limit <= 100:
            raise self._error(100, "(#100) The parameter limit must be between 1 and 100")
        target = req.params["pid"]
        with sb.lock:
            if target.startswith(sb.PAGE_ID + "_"):
                sb._post(target)
                if p.get("filter") == "stream":
                    rows = [c for c in self.items.values() if c["post_id"] == target]
                else:  # toplevel: comments on the post itself
                    rows = [
                        c
                        for c in self.items.values()
                        if c["post_id"] == target and not c["parent_id"]
                    ]
            else:
                self._comment(target)
                rows = [c for c in self.items.values() if c["parent_id"] == target]
            if p.get("since"):
                rows = [c for c in rows if c["created"] >= float(p["since"])]
            rows.sort(
                key=lambda c: (c["created"], c["id"]),
                reverse=p.get("order") == "reverse_chronological",
            )
            start = 0
            if p.get("after"):
                last = base64.urlsafe_b64decode(str(p["after"]).encode()).decode()
                ids = [c["id"] for c in rows]
                start = ids.index(last) + 1 if last in ids else len(ids)
            page = rows[start : start + limit]
            body: dict[str, Any] = {"data": [self._render(c) for c in page]}
        if page:
            after = base64.urlsafe_b64encode(page[-1]["id"].encode()).decode()
            body["paging"] = {"cursors": {"after": after}}
            if start + limit < len(rows):
                body["paging"]["next"] = f"{sb.url}{req.path}?after={after}"
        return Response(200, body)

    def _reply(self, req: Request) -> Response:
        sb = self.sb
        sb._need(req, "page", "pages_manage_engagement")
        p = sb._params(req, {"message", "attachment_url"}, ("message",))
        with sb.lock:
            parent = self._comment(req.params["cid"])
            c = self._new(
                parent["post_id"], str(p["message"]), (sb.PAGE_ID, sb.PAGE_NAME), parent["id"]
            )
            sb.record(
                "comment_replies", {"id": c["id"], "parent": parent["id"], "message": p["message"]}
            )
        return Response(200, {"id": c["id"]})

    def _hide(self, req: Request) -> Response:

        sb = self.sb
        sb._need(req, "page", "pages_manage_engagement")
        p = sb._params(req, {"is_hidden"}, ("is_hidden",))
        value = str(p["is_hidden"]).lower()
        if value not in ("true", "false"):
            raise self._error(100, "(#100) Param is_hidden must be a boolean")
        with sb.lock:
            c = self._comment(req.params["cid"])
            c["is_hidden"] = value == "true"
            sb.record("comment_hides", {"id": c["id"], "is_hidden": c["is_hidden"]})
        return Response(200, {"success": True})

    def _delete(self, req: Request) -> Response:
        sb = self.sb
        sb._need(req, "page", "pages_manage_engagement")
        sb._params(req, set())
        with sb.lock:
            c = self._comment(req.params["cid"])
            del self.items[c["id"]]
            sb.record("comment_deletes", {"id": c["id"]})
        return Response(200, {"success": True})

    def _read(self, req: Request) -> Response:
        sb = self.sb
        sb._need(req, "page", "pages_read_engagement")
        sb._params(req, {"fields"})
        with sb.lock:
            return Response(200, self._render(self._comment(req.params["cid"])))

    def _private_reply(self, req: Request) -> Response:

        sb = self.sb
        body = req.json() if req.content_type == "application/json" else None
        recipient = body.get("recipient") if isinstance(body, dict) else None
        if not isinstance(recipient, dict) or "comment_id" not in recipient:
            raise PassOn  # a Messenger send to a person: not ours
        assert isinstance(body, dict)
        sb._need(req, "page", "pages_messaging")
        text = (body.get("message") or {}).get("text")
        if not text:
            raise self._error(100, "(#100) The parameter message is required")
        with sb.lock:
            c = self._comment(str(recipient["comment_id"]))
            if c["id"] in self.private_replies:
                raise self._error(10900, "(#10900) Activity already replied to")
            if sb.now() - c["created"] > PRIVATE_REPLY_DAYS * 86400:
                raise self._error(
                    10, "(#10) This message is sent outside of allowed window", subcode=2018278
                )
            mid = f"m_{len(self.private_replies) + 1:08d}"
            self.private_replies[c["id"]] = {"message_id": mid, "text": text}
            sb.record("private_replies", {"comment_id": c["id"], "text": text, "message_id": mid})
        return Response(200, {"recipient_id": c["from"][0], "message_id": mid})
