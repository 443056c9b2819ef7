"""Zalo OA messages from citizens (webhook) and replies ("tin tư vấn"): signature, events, bodies.

Platform facts (``../shared/contracts/zalo.md``, "Messages from citizens"): the webhook body is
JSON with ``app_id``, ``event_name``, ``timestamp`` (ms, a string), ``sender.id``,
``recipient.id`` and, for text, ``message.msg_id`` / ``message.text``; header
``X-ZEvent-Signature: mac=<hex>`` with hex = ``sha256(app_id + raw_body + timestamp +
oa_secret_key)`` (plain SHA-256 of the concatenation, the OA secret key, not the app secret).
Unverified, hence the key ``webhook_signature``: a formula of ``app_id``, ``oa_id``, ``body``,
``timestamp``, ``secret`` joined by ``+``, optionally prefixed ``hmac:`` (HMAC-SHA256 keyed with
the secret over the others); ``webhook_timestamp_header`` takes the timestamp from a header.
Replies: ``POST {api_url}/v3.0/oa/message/cs`` (``reply_path``) with ``{"recipient":
{"user_id"}, "message": {"text", <quote_field>}}``; answer ``data.message_id``. There is no
look-up of a sent reply: a lost answer is never resent (a person decides).
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
    "FORMULA_PARTS",
    "SITE_VERIFICATION_META",
    "cs_body",
    "parse_zalo_webhook",
    "signature_of",
    "validate_formula",
    "verify_zalo_webhook",
    "zalo_refusal_line",
]

SITE_VERIFICATION_META = "zalo-platform-site-verification"  # the domain check's meta tag name
FORMULA_PARTS = frozenset({"app_id", "oa_id", "body", "timestamp", "secret"})
_TEXT_EVENTS = ("user_send_text", "anonymous_send_text")
# Events of the OA's own messages, and receipts: nothing a citizen asked (not stored).
_IGNORED_PREFIXES = ("oa_send_", "user_received_", "user_seen_", "follow", "unfollow")


def validate_formula(formula: str) -> str:
    """``formula`` if every part is known (raises ValueError naming the unknown part)."""
    parts = formula.removeprefix("hmac:").split("+")
    unknown = [p for p in parts if p not in FORMULA_PARTS]
    if unknown or "secret" not in parts and not formula.startswith("hmac:"):
        raise ValueError(
            f"unknown part {unknown[0]!r} in the signature formula; known: "
            f"{', '.join(sorted(FORMULA_PARTS))} joined by '+', optionally 'hmac:' first"
            if unknown
            else "the signature formula must contain 'secret' (or start with 'hmac:')"
        )
    return formula


def signature_of(formula: str, values: Mapping[str, bytes]) -> str:
    """The hex signature ``formula`` gives over ``values`` (bytes of each part)."""
    keyed = formula.startswith("hmac:")
    parts = formula.removeprefix("hmac:").split("+")
    if keyed:
        data = b"".join(values[p] for p in parts if p != "secret")
        return hmac.new(values["secret"], data, hashlib.sha256).hexdigest()
    return hashlib.sha256(b"".join(values[p] for p in parts)).hexdigest()


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRefused("body is not JSON", 400) from None
    if not isinstance(data, dict):
        raise WebhookRefused("body is not a JSON object", 400)
    return data


def verify_zalo_webhook(
    body: bytes,
    headers: Mapping[str, str],
    now: float,
    *,
    formula: str,
    app_id: str,
    oa_id: str,
    secret: str | None,
    max_age_seconds: float,
    timestamp_header: str = "",
) -> None:
    """Raise :class:`WebhookRefused` unless the body is Zalo's, signed and fresh.

    ``headers`` are looked up in lower case.
    """
    if not secret:
        raise WebhookRefused("no oa_secret_key configured: every event is refused", 403)
    raw_sig = headers.get("x-zevent-signature", "")
    if not raw_sig:
        raise WebhookRefused("unsigned event", 403)
    data = _json_object(body)
    stamp = headers.get(timestamp_header.lower(), "") if timestamp_header else data.get("timestamp")
    try:
        ms = int(str(stamp))
    except ValueError:
        raise WebhookRefused("event without a readable timestamp", 400) from None
    got = raw_sig.strip().removeprefix("mac=").strip().lower()
    expected = signature_of(
        formula,
        {
            "app_id": app_id.encode(),
            "oa_id": oa_id.encode(),
            "body": body,
            "timestamp": str(stamp).encode(),
            "secret": secret.encode(),
        },
    )
    if not hmac.compare_digest(got.encode(), expected.encode()):
        raise WebhookRefused("wrong signature", 403)
    if app_id and str(data.get("app_id", app_id)) != app_id:
        raise WebhookRefused("event of another app", 403)
    age = now - ms / 1000
    if abs(age) > max_age_seconds:
        raise WebhookRefused(f"stale event ({age:.0f} s old)", 403)


def parse_zalo_webhook(body: bytes) -> list[IncomingEvent]:
    """The citizen's message in a verified body (a list of at most one), echoes left out."""
    data = _json_object(body)
    name = str(data.get("event_name") or "")
    if not name.startswith(("user_send_", "anonymous_send_")):
        return []  # echoes (oa_send_*), receipts, follow/unfollow: nothing to answer
    message = data.get("message") if isinstance(data.get("message"), dict) else {}
    sender = data.get("sender") if isinstance(data.get("sender"), dict) else {}
    assert isinstance(message, dict) and isinstance(sender, dict)
    msg_id = str(message.get("msg_id") or "")
    if not msg_id:
        raise WebhookRefused("message event without msg_id", 400)
    text = message.get("text") if name in _TEXT_EVENTS else None
    return [
        IncomingEvent(
            kind="message",
            external_id=msg_id,
            sender=str(sender.get("id") or "") or None,
            text=str(text) if isinstance(text, str) else None,
            payload=data,
        )
    ]


def cs_body(user_id: str, text: str, quote_field: str, quote_id: str | None) -> dict[str, Any]:
    """The ``message/cs`` body answering ``user_id`` (quoting their message when configured)."""
    message: dict[str, Any] = {"text": text}
    if quote_field and quote_id:
        message[quote_field] = quote_id
    return {"recipient": {"user_id": user_id}, "message": message}


_REFUSALS = {
    -230: "người dân không nhắn tin cho OA trong 7 ngày qua nên Zalo không cho trả lời",
    -232: "đã quá thời hạn trả lời tin nhắn của người dân",
    -213: "người dân chưa quan tâm (theo dõi) OA hoặc đã bỏ quan tâm",
    -211: "OA đã hết hạn mức gửi tin",
    -218: "đã gửi quá số tin cho phép tới người này",
    -32: "gọi API quá nhanh, Zalo tạm chặn",
    -216: "mã truy cập Zalo không hợp lệ",
    -220: "mã truy cập Zalo đã hết hạn",
    -221: "OA chưa được xác thực nên không gửi được tin tư vấn",
    -224: "gói dịch vụ OA không có quyền gửi tin này",
    -234: "Zalo không cho gửi tin vào ban đêm",
}


def zalo_refusal_line(exc: ChannelError) -> str:
    """One Vietnamese line saying why Zalo did not deliver a reply."""
    try:
        code = int(exc.code) if exc.code is not None else None
    except (TypeError, ValueError):
        code = None
    if code in _REFUSALS:
        return f"Zalo không gửi câu trả lời: {_REFUSALS[code]} (mã {code})."
    return f"Zalo không gửi câu trả lời: {exc.message}"
