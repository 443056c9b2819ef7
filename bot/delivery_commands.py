"""``retry``, ``confirm`` and ``notposted`` on ``ARTICLE [CHANNEL]``, for the CLI and the chat alike.

A person names a delivery by its article and channel. The channel may be left out when exactly
one of the article's deliveries fits the action; otherwise the answer lists the choices as
commands to type (built by :mod:`bot.instructions` for the surface that asked).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.context import Loa
from bot.instructions import Surface, instruction
from bot.wording import delivery_state_vi
from content_queue.models import Actor, Delivery

__all__ = ["DELIVERY_ACTIONS", "DeliveryChoiceError", "act_on_delivery", "split_channel_and_url"]


@dataclass(frozen=True)
class DeliveryAction:
    states: tuple[str, ...]  # the delivery states the action applies to
    needs: str  # Vietnamese: "cần …" what the action does, for "nothing to do" answers


DELIVERY_ACTIONS: dict[str, DeliveryAction] = {
    "retry": DeliveryAction(("failed", "retry"), "đăng lại"),
    "confirm": DeliveryAction(("in_doubt", "awaiting_url"), "xác nhận đã đăng"),
    "notposted": DeliveryAction(("in_doubt",), "xác nhận chưa đăng"),
}


class DeliveryChoiceError(ValueError):
    """The article and channel do not name one delivery the action fits (Vietnamese message)."""


def split_channel_and_url(words: list[str]) -> tuple[str | None, str | None]:
    """``[CHANNEL] [URL]`` in either order: the word with ``://`` is the URL."""
    channel = url = None
    for word in words:
        if "://" in word:
            url = word
        elif channel is None:
            channel = word.strip().lower()
    return channel, url


def _pick(
    loa: Loa, action: str, article_id: int, channel: str | None, url: str | None, surface: Surface
) -> Delivery:
    spec = DELIVERY_ACTIONS[action]
    article = loa.store.articles.get(article_id)
    states = (
        ", ".join(f"{d.channel}: {delivery_state_vi(d.state)}" for d in article.deliveries)
        or "chưa có lượt đăng"
    )
    if channel is not None:
        mine = [d for d in article.deliveries if d.channel == channel]
        if not mine:
            raise DeliveryChoiceError(
                f"Bài #{article_id} không có lượt đăng lên kênh “{channel}” (các lượt đăng: "
                f"{states})."
            )
        if mine[0].state not in spec.states:
            raise DeliveryChoiceError(
                f"Lượt đăng bài #{article_id} lên {channel} đang ở trạng thái “{delivery_state_vi(mine[0].state)}”, "
                f"không cần {spec.needs}."
            )
        return mine[0]
    fits = [d for d in article.deliveries if d.state in spec.states]
    if not fits:
        raise DeliveryChoiceError(
            f"Bài #{article_id} không có lượt đăng nào cần {spec.needs} ({states})."
        )
    if len(fits) > 1:
        choices = "; ".join(
            instruction(action, article_id, d.channel, url=url, surface=surface) for d in fits
        )
        raise DeliveryChoiceError(
            f"Bài #{article_id} có {len(fits)} lượt đăng cần {spec.needs} "
            f"({', '.join(d.channel for d in fits)}). Hãy ghi rõ kênh: {choices}."
        )
    return fits[0]


def act_on_delivery(
    loa: Loa,
    action: str,
    article_id: int,
    channel: str | None,
    actor: Actor,
    *,
    url: str | None = None,
    surface: Surface = "cli",
) -> Delivery:
    """Apply ``action`` to the one delivery ``article_id [channel]`` names; returns it updated."""
    if action not in DELIVERY_ACTIONS:
        raise ValueError(f"unknown delivery action {action!r}")
    if url is not None:
        if action != "confirm":
            raise DeliveryChoiceError("Chỉ lệnh xác nhận đã đăng mới nhận địa chỉ (URL).")
        if (
            not url.startswith(("https://", "http://"))
            or len(url) > 2000
            or any(c.isspace() for c in url)
        ):
            raise DeliveryChoiceError(
                f"“{url[:80]}” không phải địa chỉ bài đã đăng: cần một địa chỉ bắt đầu bằng "
                "https:// (hoặc http://)."
            )
    delivery = _pick(loa, action, article_id, channel, url, surface)
    if action == "retry":
        return loa.store.deliveries.retry_delivery(delivery.id, actor)
    if action == "confirm":
        if delivery.state == "awaiting_url" and url is None:
            raise DeliveryChoiceError(
                f"Bài #{article_id} trên {delivery.channel} được đăng thủ công: cần ghi địa chỉ "
                "công khai của bài, ví dụ "
                + instruction(
                    "confirm", article_id, delivery.channel, url="https://…", surface=surface
                )
                + "."
            )
        return loa.store.deliveries.resolve_in_doubt(delivery.id, actor, posted=True, url=url)
    return loa.store.deliveries.resolve_in_doubt(delivery.id, actor, posted=False)
