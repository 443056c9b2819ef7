"""``loa broadcasts``: the broadcast plan from the command line (headless setups, or no Telegram).

The same rules as the chat's cards: the first decision wins, an approved broadcast is sent once,
and one in doubt is never sent again — a person says whether it went out.
"""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.broadcasts import broadcast_channels, decide_broadcast, quota_status
from bot.context import Loa
from bot.settings import load_settings
from content_queue.broadcasts import Broadcast
from content_queue.models import Actor

__all__ = ["broadcasts_app"]

broadcasts_app = typer.Typer(
    help="Broadcasts to Zalo followers: list, approve, reject, confirm.",
    invoke_without_command=True,
)
console = Console()

STATE_VI = {
    "proposed": "chờ duyệt",
    "approved": "đã duyệt",
    "sending": "đang gửi",
    "sent": "đã gửi",
    "failed": "Zalo không nhận",
    "rejected": "không gửi",
    "in_doubt": "không rõ đã gửi",
    "not_sent": "chưa gửi",
    "expired": "hết hạn",
}


def _loa(ctx: typer.Context) -> Loa:
    from bot.logmask import install_secret_mask

    root = ctx.find_root()
    config = (root.params or {}).get("config")
    settings = load_settings(config)
    install_secret_mask(settings)
    return Loa(settings)


def _actor(by: str | None) -> Actor:
    return Actor(by or getpass.getuser(), "cli")


def _get(loa: Loa, broadcast_id: int) -> Broadcast:
    b = loa.store.broadcasts.get(broadcast_id)
    if b is None:
        raise ValueError(f"Không có tin truyền thông #{broadcast_id}.")
    return b


@broadcasts_app.callback()
def broadcasts_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every broadcast, and what remains of each channel's quota this month."""
    if ctx.invoked_subcommand:
        return
    loa = _loa(ctx)
    items = loa.store.broadcasts.in_states(tuple(STATE_VI))
    now = datetime.now(UTC)
    quotas = [quota_status(loa, ch, now) for ch in broadcast_channels(loa)]
    if as_json:
        print(
            json.dumps(
                {
                    "broadcasts": [
                        {
                            "id": b.id,
                            "channel": b.channel,
                            "kind": b.kind,
                            "state": b.state,
                            "month": b.month,
                            "recipients": b.recipients,
                            "article_ids": list(b.article_ids),
                            "message_id": b.message_id,
                            "moderation_state": b.moderation_state,
                            "last_error": b.last_error,
                        }
                        for b in items
                    ],
                    "quota": [
                        {
                            "channel": q.channel,
                            "month": q.month,
                            "used": q.used,
                            "quota": q.quota,
                            "remaining": q.remaining,
                        }
                        for q in quotas
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    t = Table("Mã", "Kênh", "Loại", "Trạng thái", "Bài", "Người theo dõi", "Zalo báo")
    for b in items:
        t.add_row(
            str(b.id),
            b.channel,
            b.kind,
            STATE_VI.get(b.state, b.state),
            ", ".join(f"#{a}" for a in b.article_ids),
            str(b.recipients) if b.recipients is not None else "—",
            b.moderation_state or "—",
        )
    console.print(t)
    for q in quotas:
        console.print(
            f"{q.channel}: tháng {q.month} đã dùng {q.used}/{q.quota} lượt, còn lại "
            f"{q.remaining} lượt."
        )


@broadcasts_app.command("approve")
def broadcasts_approve(
    ctx: typer.Context, broadcast_id: int, by: Annotated[str | None, typer.Option()] = None
) -> None:
    """Approve a proposal and send it now (once)."""
    loa = _loa(ctx)
    won, b = decide_broadcast(loa, broadcast_id, _actor(by), approve=True, now=datetime.now(UTC))
    b = b or _get(loa, broadcast_id)
    if not won:
        raise ValueError(
            f"Tin truyền thông #{b.id} đã được xử lý: {STATE_VI.get(b.state, b.state)}."
        )
    console.print(
        f"Tin truyền thông #{b.id}: {STATE_VI.get(b.state, b.state)}"
        + (f" — {b.last_error}" if b.last_error else "")
        + (f" (Zalo báo: {b.moderation_state})" if b.moderation_state else "")
    )


@broadcasts_app.command("reject")
def broadcasts_reject(
    ctx: typer.Context, broadcast_id: int, by: Annotated[str | None, typer.Option()] = None
) -> None:
    """Do not send a proposal (its articles are not proposed again)."""
    loa = _loa(ctx)
    won, b = decide_broadcast(loa, broadcast_id, _actor(by), approve=False, now=datetime.now(UTC))
    b = b or _get(loa, broadcast_id)
    if not won:
        raise ValueError(
            f"Tin truyền thông #{b.id} đã được xử lý: {STATE_VI.get(b.state, b.state)}."
        )
    console.print(f"Đã quyết định không gửi tin truyền thông #{b.id}.")


@broadcasts_app.command("confirm")
def broadcasts_confirm(
    ctx: typer.Context,
    broadcast_id: int,
    not_sent: Annotated[bool, typer.Option("--not-sent")] = False,
    by: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Say whether a broadcast in doubt reached followers (checked on the OA manager)."""
    loa = _loa(ctx)
    broadcasts = loa.store.broadcasts
    if not broadcasts.resolve_in_doubt(
        broadcast_id, _actor(by), sent=not not_sent, now=datetime.now(UTC)
    ):
        b = _get(loa, broadcast_id)
        raise ValueError(
            f"Tin truyền thông #{b.id} không ở trạng thái “không rõ đã gửi” "
            f"({STATE_VI.get(b.state, b.state)})."
        )
    console.print(
        f"Đã ghi nhận: tin truyền thông #{broadcast_id} "
        + ("chưa được gửi; các bài sẽ được đề xuất lại." if not_sent else "đã được gửi.")
    )
