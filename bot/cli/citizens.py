"""``loa citizens``: citizens' personal data on request (Decree 13/2023/NĐ-CP)."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.console import Console

from bot.citizens import forget_citizen, purge_citizens
from bot.context import Loa
from bot.settings import load_settings
from content_queue.models import Actor

__all__ = ["citizens_app"]

citizens_app = typer.Typer(
    help="Citizens' messages: forget one person, delete what is past the retention time.",
    no_args_is_help=True,
)
console = Console()


def _loa(ctx: typer.Context) -> Loa:
    from bot.logmask import install_secret_mask

    config = (ctx.find_root().params or {}).get("config")
    settings = load_settings(config)
    install_secret_mask(settings)
    return Loa(settings)


@citizens_app.command("forget")
def forget(
    ctx: typer.Context,
    citizen_id: Annotated[str, typer.Argument(help="The person's id on Zalo or Messenger")],
    by: Annotated[str | None, typer.Option(help="Who asked for it (kept in the audit log)")] = None,
) -> None:
    """Delete every message, question and reply of one person, on every channel."""
    loa = _loa(ctx)
    n = forget_citizen(loa, citizen_id.strip(), Actor(by or getpass.getuser(), "cli"))
    console.print(f"Đã xoá {n} bản ghi về người này.")


@citizens_app.command("purge")
def purge(ctx: typer.Context) -> None:
    """Delete what is older than [assistant] retention_days now (the service does it daily)."""
    loa = _loa(ctx)
    n = purge_citizens(loa)
    console.print(f"Đã xoá {n} bản ghi quá {loa.settings.assistant.retention_days} ngày lưu giữ.")
