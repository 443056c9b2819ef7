"""Ready before the slot: each channel prepares an approved article as soon as it is approved.

Everything that publishes nothing is done ahead (see :mod:`channels.preparation`): the drafts are
rendered and checked, WordPress resolves or creates its terms, Zalo refreshes a token that would
expire near the slot, media are uploaded ahead where configured. The outcome of each channel is
stored (``content_queue.preparations``) with the calls it made; the channel's facts (term ids) are
kept so a restart looks nothing up again. A preparation that fails alerts the admins at once,
hours before the slot, and is tried again by the service's ``prepare`` job until the slot.

Runs: right after an approval (``bot.approval.approve_article``), on service start and every
:data:`PREPARE_INTERVAL` seconds for approved articles not yet sent (which hands the stored facts
back to the adapters of this process, and catches approvals made by another process).
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime

from bot.context import Loa
from bot.drafts import article_view
from channels import metering
from channels.base import ArticleView, ChannelError, Draft
from channels.preparation import Prepared, Preparer
from content_queue.preparations import (
    Preparation,
    ToPrepare,
)

__all__ = [
    "PREPARE_INTERVAL",
    "STARTUP_PREPARE_WAIT",
    "draft_fingerprint",
    "prepare_approved",
    "prepare_unsent",
]

log = logging.getLogger(__name__)

PREPARE_INTERVAL = 60.0  # seconds between the service's preparation rounds
STARTUP_PREPARE_WAIT = 10.0  # seconds the service's first post may wait for the first round


def draft_fingerprint(draft: Draft) -> str:
    """What identifies a draft's content for preparation (title, text, payload, image files)."""
    blob = json.dumps(
        [
            draft.title,
            draft.html or draft.text,
            dict(draft.payload),
            [img.path for img in draft.images],
        ],
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


def prepare_approved(loa: Loa, article_id: int) -> dict[str, Preparation]:
    """Prepare every unsent delivery of one approved article; the outcome by channel."""
    return _prepare(loa, loa.store.preparations.to_prepare([article_id]))


def prepare_unsent(loa: Loa) -> dict[int, dict[str, Preparation]]:
    """Prepare (or re-hand to this process's adapters) every approved article not yet sent."""
    out: dict[int, dict[str, Preparation]] = {}
    rows = loa.store.preparations.to_prepare()
    for article_id in dict.fromkeys(r.article_id for r in rows):
        out[article_id] = _prepare(loa, [r for r in rows if r.article_id == article_id])
    return out


def _prepare(loa: Loa, rows: list[ToPrepare]) -> dict[str, Preparation]:
    if not rows:
        return {}
    article_id = rows[0].article_id
    article, receipts, links = loa.store.articles.draft_inputs(article_id)
    # Rendered as the dispatcher renders at the slot, so what is prepared is what is posted.
    view = article_view(article, receipts=receipts)
    previous = loa.store.preparations.preparations_of(article_id)
    out: dict[str, Preparation] = {}
    enabled = loa.settings.enabled_channels()
    for row in rows:
        name, due_at = row.channel, row.due_at
        if name not in enabled:
            continue
        out[name] = _prepare_channel(
            loa, article_id, article.revision, name, due_at, view, links, previous.get(name)
        )
    return out


def _prepare_channel(
    loa: Loa,
    article_id: int,
    revision: int,
    name: str,
    due_at: datetime | None,
    view: ArticleView,
    links: dict[str, str],
    before: Preparation | None,
) -> Preparation:
    channel = loa.channel(name)
    error: str | None = None
    prepared = Prepared()
    fingerprint = ""
    with metering.metered() as calls:
        try:
            draft = channel.render(view, links)
            fingerprint = draft_fingerprint(draft)
            if draft.refusals:
                error = " ".join(c.message for c in draft.refusals)
            elif isinstance(channel, Preparer):
                same = before is not None and before.fingerprint == fingerprint and before.ready
                prepared = channel.prepare(
                    draft,
                    due_at=due_at,
                    known=loa.store.preparations.facts_of(name),
                    previous=before.data if same and before else {},
                )
        except ChannelError as exc:
            error = exc.message
        except Exception as exc:  # a bug must not stop the other channels' preparation
            log.exception("preparing article %s for %s failed", article_id, name)
            error = f"Lỗi không mong đợi khi chuẩn bị: {type(exc).__name__}"
    data = {**prepared.data, "notes": list(prepared.notes)} if not error else {}
    if (
        error is None
        and before is not None
        and before.ready
        and before.fingerprint == fingerprint
        and before.data == data
        and not calls.total
    ):
        return before  # nothing new: no write
    if prepared.facts:
        loa.store.preparations.save_facts(name, prepared.facts)
    result = loa.store.preparations.record_preparation(
        article_id,
        name,
        revision=revision,
        fingerprint=fingerprint,
        due_at=due_at,
        data=data,
        error=error,
        calls=calls.as_dict(),
    )
    key = f"prepare:{article_id}:{name}"
    if error:
        slot = (due_at or datetime.now(UTC)).astimezone(loa.settings.schedule.tz)
        loa.notifier.alert(
            key,
            f"Chưa chuẩn bị được bài #{article_id} cho kênh {name} trước giờ "
            f"đăng ({slot:%H:%M %d/%m}): {error} Loa sẽ thử lại trước giờ "
            "đăng; nếu lỗi do cấu hình hoặc tài khoản, hãy khắc phục ngay.",
            "error",
        )
    elif before is not None and not before.ready:
        loa.notifier.resolve(key)
    log.info(
        "prepared article %s for %s: %s (%d calls)",
        article_id,
        name,
        "ready" if not error else "failed",
        calls.total,
    )
    return result
