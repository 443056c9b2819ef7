"""Messenger: messages from citizens to the Page (webhook) and replies through the Send API.

Platform facts (``../shared/contracts/facebook.md``, "Messages from citizens"): the subscription
handshake ``GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`` answers the challenge
when the token matches; every POST carries ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256
(app_secret, raw body)>``; a body holds ``entry[].messaging[]`` (``sender.id`` = PSID,
``message.mid``, ``message.text``, ``message.is_echo``) and ``entry[].changes[]`` (``field =
"feed"``: comments on the Page's posts, handed to the comments' handler). Replies: ``POST
/{page-id}/messages`` with ``messaging_type: RESPONSE`` within 24 h of the person's last message;
after that only ``MESSAGE_TAG`` / ``HUMAN_AGENT`` (7 days, a human's answer, needs App Review: the
``human_agent`` switch, off). Outside the window Graph answers code 10 / subcode 2018278.
Meta signs no timestamp: freshness is the newest ``time``/``timestamp`` in the signed body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from channels.errors import ChannelError
from channels.messaging import IncomingEvent, WebhookRefused

__all__ = [
    "OUTSIDE_WINDOW",
    "messenger_refusal_line",
    "parse_messenger_webhook",
    "send_body",
    "subscription_challenge",
    "verify_messenger_webhook",
]

OUTSIDE_WINDOW = (10, 2018278)


def subscription_challenge(params: Mapping[str, str], verify_token: str | None) -> str | None:
    """``hub.challenge`` when the handshake names our verify token, else None."""
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    given = params.get("hub.verify_token", "")
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    challenge = params.get("hub.challenge", "")
    return challenge[:200] if challenge else None


def _body(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRefused("body is not JSON", 400) from None
    if not isinstance(data, dict) or not isinstance(data.get("entry"), list):
        raise WebhookRefused("body is not a Page event", 400)
    return data


def _newest_ms(data: dict[str, Any]) -> int | None:
    stamps: list[int] = []
    for entry in data["entry"]:
        if not isinstance(entry, dict):
            continue
        for value in [entry.get("time")] + [
            m.get("timestamp") for m in entry.get("messaging") or [] if isinstance(m, dict)
        ]:
            if isinstance(value, int | float):
                stamps.append(int(value))
    return max(stamps) if stamps else None


def verify_messenger_webhook(
    body: bytes,
    headers: Mapping[str, str],
    now: float,
    *,
    app_secret: str | None,
    max_age_seconds: float,
) -> None:
    """Raise :class:`WebhookRefused` unless Meta signed ``body`` and it is fresh."""
    if not app_secret:
        raise WebhookRefused("no app_secret configured: every event is refused", 403)
    raw = headers.get("x-hub-signature-256", "").strip()
    if not raw.startswith("sha256="):
        raise WebhookRefused("unsigned event", 403)
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(raw.removeprefix("sha256=").lower().encode(), expected.encode()):
        raise WebhookRefused("wrong signature", 403)
    data = _body(body)
    if data.get("object") != "page":
        raise WebhookRefused("not a Page event", 400)
    newest = _newest_ms(data)
    if newest is None:
        raise WebhookRefused("event without a timestamp", 400)
    age = now - newest / 1000
    if abs(age) > max_age_seconds:
        raise WebhookRefused(f"stale event ({age:.0f} s old)", 403)


def parse_messenger_webhook(body: bytes) -> list[IncomingEvent]:
    """Citizens' messages and Page feed changes of a verified body (echoes left out)."""
    data = _body(body)
    out: list[IncomingEvent] = []
    for entry in data["entry"]:
        if not isinstance(entry, dict):
            continue
        for m in entry.get("messaging") or []:
            message = m.get("message") if isinstance(m, dict) else None
            if not isinstance(message, dict) or message.get("is_echo"):
                continue  # delivery/read receipts, postbacks, the Page's own messages
            mid = str(message.get("mid") or "")
            if not mid:
                continue
            sender = m.get("sender") if isinstance(m.get("sender"), dict) else {}
            text = message.get("text")
            out.append(
                IncomingEvent(
                    kind="message",
                    external_id=mid,
                    sender=str(sender.get("id") or "") or None,
                    text=text if isinstance(text, str) else None,
                    payload={"page_id": entry.get("id"), **m},
                )
            )
        for change in entry.get("changes") or []:
            if not isinstance(change, dict) or change.get("field") != "feed":
                continue
            value = change.get("value") if isinstance(change.get("value"), dict) else {}
            assert isinstance(value, dict)
            ident = value.get("comment_id") or value.get("post_id")
            if not ident:
                continue
            frm = value.get("from") if isinstance(value.get("from"), dict) else {}
            out.append(
                IncomingEvent(
                    kind="feed",
                    external_id=f"{ident}:{value.get('verb') or ''}:{value.get('created_time') or ''}",
                    sender=str(frm.get("id") or "") or None if isinstance(frm, dict) else None,
                    text=value.get("message") if isinstance(value.get("message"), str) else None,
                    payload={"page_id": entry.get("id"), **value},
                )
            )
    return out


def send_body(psid: str, text: str, *, human_agent: bool) -> dict[str, Any]:
    """The Send API body: a ``RESPONSE``, or a ``HUMAN_AGENT`` tagged message."""
    body: dict[str, Any] = {"recipient": {"id": psid}, "message": {"text": text}}
    if human_agent:
        body.update(messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    else:
        body["messaging_type"] = "RESPONSE"
    return body


def messenger_refusal_line(exc: ChannelError) -> str:
    """One Vietnamese line saying why Messenger did not deliver a reply."""
    raw = exc.raw if isinstance(exc.raw, Mapping) else {}
    code, sub = raw.get("code", exc.code), raw.get("error_subcode")
    if (code, sub) == OUTSIDE_WINDOW or sub == OUTSIDE_WINDOW[1]:
        return (
            "Facebook không gửi câu trả lời: đã quá 24 giờ kể từ tin nhắn cuối của người dân "
            "(mã 10/2018278)."
        )
    if code == 551 or sub == 1545041:
        return "Facebook không gửi câu trả lời: người này hiện không nhận tin nhắn (mã 551)."
    return f"Facebook không gửi câu trả lời: {exc.message}"
