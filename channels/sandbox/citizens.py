"""Citizens who write to the sandbox OA / Page, and the reply endpoints they read answers from.

:class:`ZaloInbox` and :class:`MessengerInbox` are composed into the Zalo and Facebook sandboxes:
``citizen_writes(...)`` builds the platform's webhook event for a citizen's message, signs it as
the platform does (Zalo: ``mac=sha256(app_id + body + timestamp + oa_secret_key)``; Meta:
``sha256=HMAC-SHA256(app_secret, body)``) and POSTs it to Loa's web hook; the reply endpoint
(Zalo ``POST /v3.0/oa/message/cs``, Graph ``POST /{page}/messages``) checks the reply window and
the free replies like the platform (error -230 / code 10 subcode 2018278) and records what the
citizen received (``records["replies"]``). Faults are the sandbox's usual ones (``after:http_500``
acts then fails, ``drop_after``, ``after:html_502``, ``error:-230`` …) on the reply path.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MessengerInbox", "PostResult", "ZaloInbox", "post_webhook"]


@dataclass
class PostResult:
    status: int
    body: str
    seconds: float


def post_webhook(
    url: str, body: bytes, headers: dict[str, str], timeout: float = 10.0
) -> PostResult:
    """POST a webhook body to Loa (only ever a 127.0.0.1 address in tests and the demo)."""
    req = urllib.request.Request(url, data=body, method="POST")
    req.add_header("Content-Type", "application/json")
    for k, v in headers.items():
        req.add_header(k, v)
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return PostResult(
                resp.status, resp.read().decode("utf-8", "replace"), time.perf_counter() - start
            )
    except urllib.error.HTTPError as exc:
        return PostResult(
            exc.code, exc.read().decode("utf-8", "replace"), time.perf_counter() - start
        )


@dataclass
class _Person:
    last_message: float = 0.0
    replies_since: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)


class _Inbox:
    """What both platforms' inboxes share: people, their last message, their replies."""

    window_hours = 48.0
    free_replies: int | None = 8

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.people: dict[str, _Person] = {}
        self._seq = itertools.count(1)

    def _wrote(self, user_id: str, at: float) -> None:
        p = self.people.setdefault(user_id, _Person())
        p.last_message = at
        p.replies_since = 0

    def _refusal(self, user_id: str, now: float) -> str | None:
        p = self.people.get(user_id)
        if p is None:
            return "unknown"
        if now - p.last_message > self.window_hours * 3600:
            return "window"
        if self.free_replies is not None and p.replies_since >= self.free_replies:
            return "quota"
        return None

    def received(self, user_id: str) -> list[dict[str, Any]]:
        """What the person received from the OA/Page, oldest first."""
        with self.sandbox.lock:
            return list(self.people.get(user_id, _Person()).received)

    def _deliver(self, user_id: str, text: str, extra: dict[str, Any]) -> str:
        p = self.people[user_id]
        p.replies_since += 1
        message_id = secrets.token_hex(12)
        p.received.append({"message_id": message_id, "text": text, **extra})
        return message_id


class ZaloInbox(_Inbox):
    """The OA's conversations in the Zalo sandbox (``sandbox.inbox``)."""

    OA_SECRET_KEY = "sandbox-oa-secret-key"

    def event(
        self,
        user_id: str,
        text: str | None,
        *,
        event_name: str = "user_send_text",
        msg_id: str | None = None,
        timestamp_ms: int | None = None,
    ) -> dict[str, Any]:
        """A webhook event as Zalo sends it."""
        ts = timestamp_ms if timestamp_ms is not None else int(self.sandbox.now() * 1000)
        message: dict[str, Any] = {"msg_id": msg_id or f"msg{secrets.token_hex(10)}"}
        if text is not None:
            message["text"] = text
        return {
            "app_id": self.sandbox.APP_ID,
            "user_id_by_app": f"app-{user_id}",
            "event_name": event_name,
            "timestamp": str(ts),
            "sender": {"id": user_id},
            "recipient": {"id": self.sandbox.OA_ID},
            "message": message,
        }

    def sign(self, body: bytes, timestamp: str, secret: str | None = None) -> str:
        data = self.sandbox.APP_ID.encode() + body + timestamp.encode()
        return "mac=" + hashlib.sha256(data + (secret or self.OA_SECRET_KEY).encode()).hexdigest()

    def signed(
        self, user_id: str, text: str | None, *, secret: str | None = None, **kw: Any
    ) -> tuple[bytes, dict[str, str]]:
        """A citizen writes to the OA: the webhook body and headers Zalo would send."""
        event = self.event(user_id, text, **kw)
        if not event["event_name"].startswith("oa_send_"):
            with self.sandbox.lock:
                self._wrote(user_id, self.sandbox.now())
        body = json.dumps(event, ensure_ascii=False).encode()
        return body, {"X-ZEvent-Signature": self.sign(body, event["timestamp"], secret)}

    def citizen_writes(self, url: str, user_id: str, text: str | None, **kw: Any) -> PostResult:
        """A citizen writes to the OA: the signed webhook POSTed to Loa's ``url``."""
        return post_webhook(url, *self.signed(user_id, text, **kw))

    def handle_cs(self, req: Any, error: Any) -> Any:
        """``POST /v3.0/oa/message/cs`` (after the sandbox checked the token)."""
        from channels.sandbox.base import Response

        body = req.json() or {}
        user_id = str((body.get("recipient") or {}).get("user_id") or "")
        message = body.get("message") or {}
        text = message.get("text")
        if not user_id or not isinstance(text, str) or not text:
            raise error(-201, "Parameters are invalid: recipient.user_id, message.text")
        if len(text) > 2000:
            raise error(-201, "Parameters are invalid: message.text is too long")
        with self.sandbox.lock:
            why = self._refusal(user_id, self.sandbox.now())
            if why == "unknown":
                raise error(-213, "User has not followed the OA")
            if why == "window":
                raise error(-230, "User has not interacted with the OA in the past 7 days")
            if why == "quota":
                raise error(-211, "Out of quota")
            quote = {k: v for k, v in message.items() if k != "text"}
            message_id = self._deliver(user_id, text, quote)
            self.sandbox.record("replies", {"user_id": user_id, "text": text, **quote})
        return Response(
            200,
            {
                "error": 0,
                "message": "Success",
                "data": {"message_id": message_id, "user_id": user_id},
            },
        )


class MessengerInbox(_Inbox):
    """The Page's conversations in the Facebook sandbox (``sandbox.inbox``)."""

    window_hours = 24.0
    free_replies = None
    HUMAN_AGENT_HOURS = 24.0 * 7

    def event(
        self,
        psid: str,
        text: str | None,
        *,
        mid: str | None = None,
        timestamp_ms: int | None = None,
        is_echo: bool = False,
    ) -> dict[str, Any]:
        ts = timestamp_ms if timestamp_ms is not None else int(self.sandbox.now() * 1000)
        message: dict[str, Any] = {"mid": mid or f"m_{secrets.token_hex(12)}"}
        if text is not None:
            message["text"] = text
        if is_echo:
            message["is_echo"] = True
        page = self.sandbox.PAGE_ID
        sender, recipient = (page, psid) if is_echo else (psid, page)
        return {
            "object": "page",
            "entry": [
                {
                    "id": page,
                    "time": ts,
                    "messaging": [
                        {
                            "sender": {"id": sender},
                            "recipient": {"id": recipient},
                            "timestamp": ts,
                            "message": message,
                        }
                    ],
                }
            ],
        }

    def sign(self, body: bytes, secret: str | None = None) -> str:
        key = (secret or self.sandbox.APP_SECRET).encode()
        return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()

    def signed(
        self, psid: str, text: str | None, *, secret: str | None = None, **kw: Any
    ) -> tuple[bytes, dict[str, str]]:
        """A person writes to the Page: the webhook body and headers Meta would send."""
        event = self.event(psid, text, **kw)
        if not kw.get("is_echo"):
            with self.sandbox.lock:
                self._wrote(psid, self.sandbox.now())
        body = json.dumps(event, ensure_ascii=False).encode()
        return body, {"X-Hub-Signature-256": self.sign(body, secret)}

    def citizen_writes(self, url: str, psid: str, text: str | None, **kw: Any) -> PostResult:
        """A person writes to the Page: the signed webhook POSTed to Loa's ``url``."""
        return post_webhook(url, *self.signed(psid, text, **kw))

    def handle_send(self, req: Any, error: Any) -> Any:
        """``POST /{page-id}/messages`` (after the sandbox checked the token)."""
        from channels.sandbox.base import Response

        body = req.values()
        recipient = body.get("recipient")
        if isinstance(recipient, str):
            recipient = json.loads(recipient)
        message = body.get("message")
        if isinstance(message, str):
            message = json.loads(message)
        psid = str((recipient or {}).get("id") or "")
        text = (message or {}).get("text")
        kind = body.get("messaging_type")
        if (
            not psid
            or not isinstance(text, str)
            or not text
            or kind not in ("RESPONSE", "UPDATE", "MESSAGE_TAG")
        ):
            raise error(100, "(#100) Param recipient, message and messaging_type are required")
        with self.sandbox.lock:
            p = self.people.get(psid)
            if p is None:
                raise error(100, "(#100) No matching user found", 2018001)
            age = self.sandbox.now() - p.last_message
            limit = (
                self.HUMAN_AGENT_HOURS if body.get("tag") == "HUMAN_AGENT" else self.window_hours
            )
            if age > limit * 3600:
                raise error(10, "(#10) This message is sent outside of allowed window.", 2018278)
            message_id = self._deliver(psid, text, {"messaging_type": kind})
            self.sandbox.record("replies", {"psid": psid, "text": text, "messaging_type": kind})
        return Response(200, {"recipient_id": psid, "message_id": f"m_{message_id}"})
