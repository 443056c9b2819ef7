"""``loa knowledge import|list`` (the procedure catalogue) and ``loa ask`` (try the assistant)."""

from __future__ import annotations

import getpass
import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bot.context import Loa
from bot.settings import load_settings
from content_queue.knowledge import CatalogueError, read_catalogue
from content_queue.knowledge.catalogue import DEFAULT_MAX_BYTES
from content_queue.models import Actor

__all__ = ["ask", "knowledge_app"]

knowledge_app = typer.Typer(
    help="The assistant's knowledge: the procedure catalogue (thủ tục hành chính).",
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)


def _loa(ctx: typer.Context) -> Loa:
    from bot.logmask import install_secret_mask

    config = (ctx.find_root().params or {}).get("config")
    settings = load_settings(config)
    install_secret_mask(settings)
    return Loa(settings)


@knowledge_app.command("import")
def import_catalogue(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Catalogue file (.json or .csv, UTF-8)")],
    max_mb: Annotated[
        float, typer.Option("--max-mb", help="Refuse a file larger than this")
    ] = DEFAULT_MAX_BYTES / 1048576,
    by: Annotated[str | None, typer.Option("--by", help="Who imports (audit log)")] = None,
) -> None:
    """Import the procedure catalogue; a code already known is replaced (all or nothing)."""
    try:
        rows = read_catalogue(file, max_bytes=int(max_mb * 1048576))
    except CatalogueError as exc:
        for line in exc.problems[:50]:
            err.print(f"✗ {line}", markup=False, highlight=False)
        if len(exc.problems) > 50:
            err.print(f"… và {len(exc.problems) - 50} lỗi khác", markup=False)
        err.print("Không thủ tục nào được nhập.", markup=False)
        raise typer.Exit(1) from None
    loa = _loa(ctx)
    result = loa.store.knowledge.import_procedures(rows, Actor(by or getpass.getuser(), "cli"))
    console.print(result.summary_vi(), markup=False, highlight=False)


@knowledge_app.command("list")
def list_catalogue(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The procedures the assistant knows, and how many saved answers and articles it cites."""
    from content_queue.knowledge import procedure_as_dict

    loa = _loa(ctx)
    k = loa.store.knowledge
    procs = k.procedures()
    if as_json:
        print(json.dumps([procedure_as_dict(p) for p in procs], ensure_ascii=False, indent=2))
        return
    t = Table("Mã", "Tên thủ tục", "Lĩnh vực", "Cập nhật", "Đường dẫn")
    for p in procs:
        t.add_row(
            p.ma,
            p.ten[:70],
            p.linh_vuc[:30],
            p.cap_nhat.strftime("%d/%m/%Y") if p.cap_nhat else "—",
            p.url or "—",
        )
    console.print(t)
    articles = k.citable_articles(loa.settings.plan.website_channels)
    console.print(
        f"{len(procs)} thủ tục, {len(k.saved_qas())} câu hỏi đáp đã lưu, "
        f"{len(articles)} bài đã đăng trên website.",
        markup=False,
    )


def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question, as a citizen would write it")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Answer, sources and scores as JSON")
    ] = False,
    first: Annotated[bool, typer.Option("--first", help="As the first reply to a person")] = False,
) -> None:
    """Ask the assistant a question: its answer, its sources and the scores it decided on."""
    from bot.assistant.answering import Assistant

    loa = _loa(ctx)
    assistant = Assistant.for_settings(loa.store, loa.settings)
    a = assistant.answer(question, first_contact=first)
    s = loa.settings.assistant
    if as_json:
        data: dict[str, Any] = {
            "kind": a.kind,
            "text": a.text,
            "best": round(a.best, 3),
            "coverage": round(a.coverage, 3),
            "margin": round(a.margin, 3),
            "thresholds": {
                "min_score": s.min_score,
                "min_coverage": s.min_coverage,
                "min_margin": s.min_margin,
            },
            "hits": [{**asdict(h.source), "score": h.score, "passage": h.passage} for h in a.hits],
        }
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    kind = {"answer": "Trả lời", "greeting": "Chào hỏi", "abstain": "Chuyển cán bộ"}[a.kind]
    console.print(f"[bold]{kind}[/bold]")
    console.print(a.text, markup=False, highlight=False)
    console.print(
        f"điểm {a.best:.2f} (ngưỡng {s.min_score}), độ phủ {a.coverage:.2f} "
        f"(ngưỡng {s.min_coverage}), cách biệt {a.margin:.2f} (ngưỡng {s.min_margin})",
        markup=False,
        highlight=False,
    )
    for i, h in enumerate(a.hits, 1):
        console.print(
            f"{i}. [{h.source.kind}] {h.source.title[:70]} — {h.score:.2f} — {h.source.url or '—'}",
            markup=False,
            highlight=False,
        )
