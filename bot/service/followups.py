"""Completes receipts after their posts: the reads a channel left for later (channels.followup).

The service runs :func:`complete_follow_ups` every :data:`FOLLOW_UP_INTERVAL` seconds, off the
posting lanes, so a permalink or link read never delays a post. A read that keeps failing is given
up after :data:`MAX_ATTEMPTS` (the post stands, with the URL the channel gave at posting time).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from bot.context import Loa
from channels import metering
from channels.base import ChannelError, Receipt
from channels.followup import FOLLOW_UP, FollowsUp

__all__ = ["FOLLOW_UP_INTERVAL", "MAX_ATTEMPTS", "complete_follow_ups"]

log = logging.getLogger(__name__)

FOLLOW_UP_INTERVAL = 5.0  # seconds
MAX_ATTEMPTS = 10
WINDOW = timedelta(days=2)  # posts older than this are not followed up any more
_ATTEMPTS = "follow_up_attempts"


def complete_follow_ups(loa: Loa) -> int:
    """Read what recent posts left for later; returns the receipts completed."""
    done = 0
    channels = loa.channels()
    for item in loa.store.follow_ups.pending_follow_ups(FOLLOW_UP, datetime.now(UTC) - WINDOW):
        channel = channels.get(item.channel)
        if not isinstance(channel, FollowsUp):
            continue
        with metering.metered() as calls:
            try:
                receipt = channel.follow_up(Receipt(item.remote_id, item.url, extra=item.receipt))
            except ChannelError as exc:
                receipt = None
                attempts = int(item.receipt.get(_ATTEMPTS) or 0) + 1
                extra = {**item.receipt, _ATTEMPTS: attempts}
                if attempts >= MAX_ATTEMPTS:
                    extra.pop(FOLLOW_UP, None)
                    log.warning(
                        "gave up reading %s of delivery %s: %s",
                        item.receipt.get(FOLLOW_UP),
                        item.delivery_id,
                        exc.message,
                    )
                loa.store.follow_ups.save_receipt(item.delivery_id, extra)
        loa.store.preparations.add_delivery_calls({item.delivery_id: calls.as_dict()})
        if receipt is not None:
            extra = {k: v for k, v in receipt.extra.items() if k != _ATTEMPTS}
            done += loa.store.follow_ups.complete_follow_up(item.delivery_id, receipt.url, extra)
    return done
