"""Webhook verification and parsing of citizens' messages (pure: no network, no database)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from bot.reports.citizens import gap_topics
from channels.errors import RejectedError
from channels.messaging import WebhookRefused
from channels.messenger import (
    messenger_refusal_line,
    parse_messenger_webhook,
    send_body,
    subscription_challenge,
    verify_messenger_webhook,
)
from channels.zalo_messages import (
    cs_body,
    parse_zalo_webhook,
    validate_formula,
    verify_zalo_webhook,
    zalo_refusal_line,
)

APP, OA, SECRET = "app-1", "oa-9", "oa-secret"


def zalo_event(name: str = "user_send_text", ts: int | None = None, **message: object) -> bytes:
    ts = ts if ts is not None else int(time.time() * 1000)
    return json.dumps(
        {
            "app_id": APP,
            "event_name": name,
            "timestamp": str(ts),
            "sender": {"id": "u1"},
            "recipient": {"id": OA},
            "message": {"msg_id": "m1", "text": "xin chào", **message},
        }
    ).encode()


@pytest.mark.parametrize(
    ("formula", "sign"),
    [
        (
            "app_id+body+timestamp+secret",
            lambda b, ts: hashlib.sha256(APP.encode() + b + ts + SECRET.encode()).hexdigest(),
        ),
        (
            "oa_id+body+timestamp+secret",
            lambda b, ts: hashlib.sha256(OA.encode() + b + ts + SECRET.encode()).hexdigest(),
        ),
        (
            "hmac:app_id+body+timestamp",
            lambda b, ts: hmac.new(
                SECRET.encode(), APP.encode() + b + ts, hashlib.sha256
            ).hexdigest(),
        ),
    ],
)
def test_zalo_signature_formulas(formula: str, sign: object) -> None:
    body = zalo_event()
    ts = json.loads(body)["timestamp"].encode()
    good = sign(body, ts)  # type: ignore[operator]
    verify_zalo_webhook(
        body,
        {"x-zevent-signature": f"mac={good}"},
        time.time(),
        formula=formula,
        app_id=APP,
        oa_id=OA,
        secret=SECRET,
        max_age_seconds=600,
    )
    with pytest.raises(WebhookRefused):
        verify_zalo_webhook(
            body + b" ",
            {"x-zevent-signature": f"mac={good}"},
            time.time(),
            formula=formula,
            app_id=APP,
            oa_id=OA,
            secret=SECRET,
            max_age_seconds=600,
        )


def test_zalo_refuses_unsigned_stale_unconfigured_and_other_apps() -> None:
    kw = dict(formula="app_id+body+timestamp+secret", app_id=APP, oa_id=OA, max_age_seconds=600)
    body = zalo_event()
    ts = json.loads(body)["timestamp"].encode()
    sig = "mac=" + hashlib.sha256(APP.encode() + body + ts + SECRET.encode()).hexdigest()
    with pytest.raises(WebhookRefused, match="unsigned"):
        verify_zalo_webhook(body, {}, time.time(), secret=SECRET, **kw)  # type: ignore[arg-type]
    with pytest.raises(WebhookRefused, match="no oa_secret_key"):
        verify_zalo_webhook(body, {"x-zevent-signature": sig}, time.time(), secret=None, **kw)  # type: ignore[arg-type]
    with pytest.raises(WebhookRefused, match="stale"):
        verify_zalo_webhook(
            body,
            {"x-zevent-signature": sig},
            time.time() + 3600,
            secret=SECRET,
            **kw,  # type: ignore[arg-type]
        )
    other = body.replace(APP.encode(), b"app-2")
    sig2 = "mac=" + hashlib.sha256(APP.encode() + other + ts + SECRET.encode()).hexdigest()
    with pytest.raises(WebhookRefused, match="another app"):
        verify_zalo_webhook(other, {"x-zevent-signature": sig2}, time.time(), secret=SECRET, **kw)  # type: ignore[arg-type]


def test_formula_validation_names_the_unknown_part() -> None:
    assert validate_formula("oa_id+body+timestamp+secret")
    with pytest.raises(ValueError, match="'appid'"):
        validate_formula("appid+body+timestamp+secret")
    with pytest.raises(ValueError, match="must contain 'secret'"):
        validate_formula("app_id+body+timestamp")


def test_zalo_events_keep_citizens_messages_only() -> None:
    (e,) = parse_zalo_webhook(zalo_event())
    assert (e.kind, e.external_id, e.sender, e.text) == ("message", "m1", "u1", "xin chào")
    assert parse_zalo_webhook(zalo_event("oa_send_text")) == []
    assert parse_zalo_webhook(zalo_event("user_seen_message")) == []
    (img,) = parse_zalo_webhook(zalo_event("user_send_image"))
    assert img.text is None
    with pytest.raises(WebhookRefused):
        parse_zalo_webhook(zalo_event(msg_id=""))
    with pytest.raises(WebhookRefused):
        parse_zalo_webhook(b"[1, 2]")


def test_zalo_reply_body_and_refusal_lines() -> None:
    assert cs_body("u1", "chào", "quote_message_id", "m1") == {
        "recipient": {"user_id": "u1"},
        "message": {"text": "chào", "quote_message_id": "m1"},
    }
    assert "quote_message_id" not in cs_body("u1", "chào", "", "m1")["message"]
    assert "7 ngày" in zalo_refusal_line(RejectedError("x", code=-230))
    assert "quan tâm" in zalo_refusal_line(RejectedError("x", code=-213))


def fb_body(*messaging: dict, changes: list | None = None, ts: int | None = None) -> bytes:
    ts = ts if ts is not None else int(time.time() * 1000)
    entry: dict = {"id": "page", "time": ts, "messaging": list(messaging)}
    if changes:
        entry["changes"] = changes
    return json.dumps({"object": "page", "entry": [entry]}).encode()


def test_messenger_signature_and_freshness() -> None:
    body = fb_body({"sender": {"id": "p1"}, "message": {"mid": "m_1", "text": "hi"}})
    sig = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    verify_messenger_webhook(
        body, {"x-hub-signature-256": sig}, time.time(), app_secret="s3cret", max_age_seconds=60
    )
    for headers, now in (({}, time.time()), ({"x-hub-signature-256": "sha256=00"}, time.time())):
        with pytest.raises(WebhookRefused):
            verify_messenger_webhook(body, headers, now, app_secret="s3cret", max_age_seconds=60)
    with pytest.raises(WebhookRefused, match="stale"):
        verify_messenger_webhook(
            body,
            {"x-hub-signature-256": sig},
            time.time() + 120,
            app_secret="s3cret",
            max_age_seconds=60,
        )


def test_messenger_events_skip_echoes_and_hand_feed_changes_on() -> None:
    body = fb_body(
        {"sender": {"id": "p1"}, "message": {"mid": "m_1", "text": "hi"}},
        {"sender": {"id": "page"}, "message": {"mid": "m_2", "text": "echo", "is_echo": True}},
        {"sender": {"id": "p1"}, "read": {"watermark": 1}},
        changes=[
            {
                "field": "feed",
                "value": {
                    "item": "comment",
                    "verb": "add",
                    "comment_id": "c1",
                    "post_id": "p",
                    "from": {"id": "p9"},
                    "message": "bình luận",
                    "created_time": 1,
                },
            }
        ],
    )
    msg, feed = parse_messenger_webhook(body)
    assert (msg.kind, msg.external_id, msg.text) == ("message", "m_1", "hi")
    assert (feed.kind, feed.external_id, feed.sender, feed.text) == (
        "feed",
        "c1:add:1",
        "p9",
        "bình luận",
    )


def test_messenger_handshake_send_body_and_window_refusal() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "123"}
    assert subscription_challenge(params, "tok") == "123"
    assert subscription_challenge(params, "other") is None
    assert subscription_challenge(params, None) is None
    assert send_body("p1", "x", human_agent=False)["messaging_type"] == "RESPONSE"
    tagged = send_body("p1", "x", human_agent=True)
    assert (tagged["messaging_type"], tagged["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    exc = RejectedError("x", code=10)
    exc.raw = {"code": 10, "error_subcode": 2018278}
    assert "quá 24 giờ" in messenger_refusal_line(exc)


def test_report_topics_are_shared_phrases_never_one_persons_words() -> None:
    texts = ["Giá vàng hôm nay?", "gia vang tuan nay the nao", "Tôi tên Nguyễn Văn A hỏi visa"]
    assert gap_topics(texts) == [("giá vàng", 2)]


def test_logs_show_a_citizens_id_masked_and_never_their_words() -> None:
    from bot.logmask import mask_citizen, mask_message

    assert mask_citizen("8400000000001234") == "…1234"
    assert mask_citizen("123") == "***" and mask_citizen(None) == "—"
    assert mask_message("Giá vàng hôm nay?") == "<17 ký tự>"
