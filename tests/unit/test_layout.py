"""Unit tier: where things live, checked from the imports (one home for each thing)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "channels", "content_queue")


def modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


def imports(path: Path) -> Iterator[str]:
    """Every absolute module name ``path`` imports (``from a import b`` yields a and a.b)."""
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {m: {i for i in imports(p) if i in mods} for m, p in mods.items()}


def test_no_module_imports_one_that_imports_it_back() -> None:
    g = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in g:
        if v not in index:
            visit(v)
    assert cycles == []


def test_dependencies_point_from_bot_to_channels_and_content_queue() -> None:
    back = sorted(
        (m, i)
        for m, targets in graph().items()
        for i in targets
        if (m.startswith(("channels", "content_queue")) and i.startswith("bot"))
        or (m.startswith("channels") and i.startswith("content_queue"))
    )
    assert back == []


def test_every_sql_statement_lives_in_content_queue() -> None:
    outside = sorted(
        f"{m} imports {i}"
        for m, p in modules().items()
        if m.startswith(("bot", "channels")) and not m.startswith("channels.sandbox")
        for i in imports(p)
        if i.startswith("sqlalchemy") or i in ("content_queue.tables", "content_queue.db")
    )
    assert outside == []


def test_nothing_outside_content_queue_touches_an_engine_or_a_connection() -> None:
    """One door to the database: ``store.<subject>.<query>(…)``; the engine stays inside."""
    outside = sorted(
        f"{m}:{node.lineno} .{node.attr}"
        for m, p in modules().items()
        if m.startswith(("bot", "channels")) and not m.startswith("channels.sandbox")
        for node in ast.walk(ast.parse(p.read_text("utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in ("engine", "tx")
    )
    assert outside == []


# bot/'s layers, top to bottom: a module imports its own layer or the ones below, never above. The
# packages of one layer marked "peers" never import one another (the admins' chat, the web page
# and the running service each stand on the shared operations, not on each other).
BOT_LAYERS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("entry points", ("bot.run", "bot.cli", "bot.devtools"), False),
    ("interfaces and the service", ("bot.telegram", "bot.web", "bot.service"), True),
    (
        "shared operations",
        (
            "bot.approval",
            "bot.assistant",
            "bot.broadcasts",
            "bot.case_clock",
            "bot.cases",
            "bot.citizens",
            "bot.comment_flags",
            "bot.comments",
            "bot.delivery_commands",
            "bot.drafts",
            "bot.followers",
            "bot.intake",
            "bot.petition_intake",
            "bot.prepare",
            "bot.reports",
            "bot.schedule",
        ),
        False,
    ),
    ("wiring", ("bot.context",), False),
    (
        "ground",
        ("bot.settings", "bot.logmask", "bot.instructions", "bot.notifier", "bot.parsing", "bot"),
        False,
    ),
)


def _place(module: str) -> tuple[int, str]:
    """The layer (0 = top) and the package of a module of bot/."""
    for level, (_, packages, _) in enumerate(BOT_LAYERS):
        for package in packages:
            if module == package or module.startswith(package + "."):
                return level, package
    raise AssertionError(f"{module} is in no layer of BOT_LAYERS: place it there")


def test_no_arrow_goes_up_inside_bot() -> None:
    wrong = []
    for m, targets in graph().items():
        if not m.startswith("bot"):
            continue
        level, package = _place(m)
        for i in targets:
            if not i.startswith("bot"):
                continue
            to_level, to_package = _place(i)
            peers = BOT_LAYERS[level][2]
            if to_level < level or (to_level == level and peers and to_package != package):
                wrong.append(
                    f"{m} ({BOT_LAYERS[level][0]}) imports {i} ({BOT_LAYERS[to_level][0]})"
                )
    assert sorted(wrong) == []
