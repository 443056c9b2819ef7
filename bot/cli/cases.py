"""``loa takedown`` and ``loa cases``: the register of takedown requests and petitions from the
command line (the same rules as the chat's cards and the web page: the first decision wins)."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.cases import (
    CASE_STATE_VI,
    act_on_takedown,
    move_petition,
    open_takedown,
    parse_deadline,
)
from bot.context import Loa
from bot.settings import load_settings
from content_queue.cases import OPEN, Case
from content_queue.models import Actor

__all__ = ["cases_app", "takedown_app"]

takedown_app = typer.Typer(help="Takedown requests (Decree 147/2024): add, list, act.")
cases_app = typer.Typer(
    help="Petitions and takedown requests: list, move.", invoke_without_command=True
)
console = Console()


def _loa(ctx: typer.Context) -> Loa:
    from bot.logmask import install_secret_mask

    config = (ctx.find_root().params or {}).get("config")
    settings = load_settings(config)
    install_secret_mask(settings)
    return Loa(settings)


def _actor(by: str | None) -> Actor:
    return Actor(by or getpass.getuser(), "cli")


def _local(loa: Loa, when: datetime | None) -> str:
    return when.astimezone(loa.settings.schedule.tz).strftime("%Y-%m-%d %H:%M") if when else "—"


def _table(loa: Loa, items: list[Case], as_json: bool) -> None:
    now = datetime.now(UTC)
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "number": c.number,
                        "kind": c.kind,
                        "state": c.state,
                        "due_at": c.due_at.isoformat(),
                        "overdue": c.overdue(now),
                        "owner": c.owner,
                        "requester": c.requester,
                        "action_taken": c.action_taken,
                    }
                    for c in items
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    t = Table("Số", "Trạng thái", "Hạn", "Người xử lý / bên yêu cầu", "Nội dung")
    for c in items:
        due = _local(loa, c.due_at) + (" QUÁ HẠN" if c.overdue(now) else "")
        t.add_row(
            c.number,
            CASE_STATE_VI.get(c.state, c.state),
            due,
            c.owner or c.requester or "—",
            c.subject[:60],
        )
    console.print(t)


@takedown_app.command("add")
def takedown_add(
    ctx: typer.Context,
    url: Annotated[
        str, typer.Argument(help="Address of the item (comment or article), or a comment id")
    ],
    from_: Annotated[
        str, typer.Option("--from", help="Who asks: an authority's name, or «người dân»")
    ],
    deadline: Annotated[
        str | None, typer.Option(help="e.g. 24h, 48h (default: by requester)")
    ] = None,
    by: Annotated[str | None, typer.Option(help="Who records it")] = None,
) -> None:
    """Register a takedown request: clock, evidence (text and API snapshot, with time)."""
    loa = _loa(ctx)
    hours = parse_deadline(deadline) if deadline else None
    case = open_takedown(loa, url, from_, _actor(by), deadline_hours=hours)
    kind = "cơ quan có thẩm quyền" if case.requester_kind == "authority" else "người dân"
    console.print(
        f"Đã ghi yêu cầu gỡ {case.number} của {case.requester} ({kind}); hạn xử lý "
        f"{_local(loa, case.due_at)}. Bằng chứng đã lưu lúc {_local(loa, case.evidence_at)}.",
        markup=False,
    )


@takedown_app.command("list")
def takedown_list(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Closed ones too")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Takedown requests by due time."""
    loa = _loa(ctx)
    _table(loa, loa.store.cases.listed(kind="takedown", states=None if all_ else OPEN), as_json)


@takedown_app.command("act")
def takedown_act(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="e.g. YCG-2026-0001")],
    action: Annotated[str, typer.Argument(help="hide | delete | retract | manual | decline")],
    reason: Annotated[str | None, typer.Option(help="Why (required for decline)")] = None,
    by: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Act on a takedown request: hide/delete the comment, retract the article, or decline."""
    loa = _loa(ctx)
    case = loa.store.cases.by_number(number)
    if case is None:
        raise ValueError(f"Không có yêu cầu {number}.")
    ok, msg = act_on_takedown(loa, case.id, action, _actor(by), reason=reason)
    console.print(msg, markup=False)
    if not ok:
        raise typer.Exit(1)


@cases_app.callback()
def cases_list(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Closed ones too")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Open petitions and takedown requests by due time."""
    if ctx.invoked_subcommand is not None:
        return
    loa = _loa(ctx)
    _table(loa, loa.store.cases.listed(states=None if all_ else OPEN), as_json)


@cases_app.command("from-question")
def cases_from_question(
    ctx: typer.Context,
    question_id: Annotated[int, typer.Argument(help="A Hỏi đáp question id (loa citizens)")],
    by: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Mark a citizen's message as a petition (numbered; the citizen is told)."""
    from bot.petition_intake import petition_from_question

    ok, msg = petition_from_question(_loa(ctx), question_id, _actor(by))
    console.print(msg, markup=False)
    if not ok:
        raise typer.Exit(1)


@cases_app.command("move")
def cases_move(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="e.g. PA-2026-0001")],
    state: Annotated[
        str, typer.Argument(help="in_progress | answered | transferred | out_of_scope")
    ],
    answer: Annotated[
        str | None, typer.Option(help="The answer sent to the citizen, or the reason")
    ] = None,
    by: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Move a petition (an answer is sent to the citizen through its channel)."""
    loa = _loa(ctx)
    case = loa.store.cases.by_number(number)
    if case is None:
        raise ValueError(f"Không có phản ánh {number}.")
    ok, msg = move_petition(loa, case.id, state, _actor(by), answer=answer)
    console.print(msg, markup=False)
    if not ok:
        raise typer.Exit(1)
