"""The admins' alerts about deliveries: key, level and Vietnamese text, built in one place.

A key names what the alert is about, so repeated failures update one alert instead of sending
many (Telegram's limits), and a success resolves it. Every instruction in a text names the
article and the channel, as the CLI and the Telegram commands read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from bot.instructions import either
from bot.service.delivery_policy import AlertKind, Decision, Failure
from content_queue.models import Delivery

__all__ = ["DeliveryAlert", "delivery_alert", "lease_expired_alert", "resolved_keys"]


@dataclass(frozen=True)
class DeliveryAlert:
    key: str
    text: str
    level: str  # info | warning | error


def resolved_keys(d: Delivery) -> tuple[str, ...]:
    """The alerts a successful post of ``d`` closes."""
    return f"failing:{d.id}", f"in_doubt:{d.id}", f"failed:{d.id}"


def delivery_alert(
    d: Delivery, failure: Failure, decision: Decision, tz: tzinfo
) -> DeliveryAlert | None:
    """The alert ``decision`` raises for ``d``, if any."""
    where = f"Bài #{d.article_id} trên kênh {d.channel}"
    msg = failure.message
    match decision.alert:
        case None:
            return None
        case AlertKind.FAILING:
            return DeliveryAlert(
                f"failing:{d.id}", f"{where} chưa đăng được ({msg}); Loa đang thử lại.", "info"
            )
        case AlertKind.FAILED:
            return DeliveryAlert(
                f"failed:{d.id}",
                f"Không đăng được bài #{d.article_id} lên "
                f"{d.channel}: {msg} Sau khi khắc phục, dùng {either('retry', d.article_id, d.channel)}.",
                "error",
            )
        case AlertKind.THROTTLED:
            until = decision.backoff_until
            when = f" đến {until.astimezone(tz):%H:%M %d/%m}" if until else ""
            return DeliveryAlert(
                f"throttled:{d.channel}",
                f"Kênh {d.channel} đang bị giới hạn tần suất; Loa tạm dừng kênh này{when}.",
                "info",
            )
        case AlertKind.AUTH:
            return DeliveryAlert(
                f"auth:{d.channel}",
                f"Kênh {d.channel} đã tạm dừng: {msg} Cách "
                f"khắc phục: chạy {either('connect', channel=d.channel)}, rồi "
                f"{either('resume', channel=d.channel)}.",
                "error",
            )
        case AlertKind.IN_DOUBT:
            return DeliveryAlert(
                f"in_doubt:{d.id}",
                f"Không xác định được bài #{d.article_id} đã lên {d.channel} hay chưa ({msg}). "
                f"Hãy kiểm tra trên {d.channel} rồi trả lời: {either('confirm', d.article_id, d.channel)} nếu đã đăng, "
                f"hoặc {either('notposted', d.article_id, d.channel)} nếu chưa.",
                "error",
            )
    return None


def lease_expired_alert(d: Delivery) -> DeliveryAlert:
    """A worker died while posting ``d``: Loa looks on the platform before posting again."""
    return DeliveryAlert(
        f"in_doubt:{d.id}",
        f"Bài #{d.article_id} trên kênh {d.channel}: tiến "
        "trình đăng bị ngắt giữa chừng; Loa sẽ kiểm tra trên nền tảng trước khi "
        "đăng lại.",
        "warning",
    )
