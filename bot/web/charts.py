"""Charts drawn on the server as inline SVG shapes: no script, no library, no CDN.

Each function returns a :class:`Chart` (a list of shapes with coordinates already computed);
the template ``_chart.svg`` draws it, escaping every label. Colours come from CSS classes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from math import ceil

from bot.wording import vi_number

__all__ = ["Chart", "Shape", "bars", "heat_map", "lines", "stacked_bars", "ticks"]

MONTHS_VI = tuple(f"T{m}" for m in range(1, 13))


@dataclass(frozen=True)
class Shape:
    kind: str  # rect | line | text | polyline | circle
    cls: str = ""
    x: float = 0
    y: float = 0
    w: float = 0
    h: float = 0
    x2: float = 0
    y2: float = 0
    text: str = ""
    title: str = ""  # tooltip (SVG <title>), also read by screen readers
    points: str = ""
    anchor: str = "middle"


@dataclass
class Chart:
    width: int
    height: int
    label: str  # what the chart shows, for screen readers
    shapes: list[Shape] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css class, label)


def ticks(value: float, *, most: int = 4) -> list[int]:
    """Whole-number ticks from 0 covering ``value``, at most ``most`` steps (counts are whole:
    never 0, 0, 1, 2, 2)."""
    top = max(1, ceil(value))
    step = 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000):
        if ceil(top / step) <= most:
            break
    else:
        magnitude = 10 ** (len(str(top)) - 1)
        step = magnitude * ceil(top / magnitude / most)
    return list(range(0, step * ceil(top / step) + 1, step))


def _axes(
    chart: Chart,
    left: float,
    top: float,
    plot_w: float,
    plot_h: float,
    marks: Sequence[int],
    labels: Sequence[str],
) -> float:
    """Grid lines and labels at ``marks``; returns the value at the top of the plot."""
    vmax = marks[-1]
    for v in marks:
        y = top + plot_h - plot_h * v / vmax
        chart.shapes.append(Shape("line", "grid", left, y, x2=left + plot_w, y2=y))
        chart.shapes.append(Shape("text", "axis", left - 6, y + 4, text=vi_number(v), anchor="end"))
    step = plot_w / max(1, len(labels))
    for i, label in enumerate(labels):
        chart.shapes.append(
            Shape("text", "axis", left + step * (i + 0.5), top + plot_h + 22, text=label)
        )
    return vmax


def bars(
    values: Sequence[int | None],
    labels: Sequence[str],
    *,
    label: str,
    target: float | None = None,
    target_label: str = "",
    width: int = 640,
    height: int = 220,
    ok_at: float | None = None,
) -> Chart:
    """One bar per label; with ``target`` a dashed line, and bars below it drawn as "below"."""
    chart = Chart(width, height, label)
    left, top, right, bottom = 64, 26, 12, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    marks = ticks(max([v or 0 for v in values] + [target or 0]))
    vmax = _axes(chart, left, top, plot_w, plot_h, marks, labels)
    step = plot_w / max(1, len(values))
    for i, v in enumerate(values):
        if v is None:
            continue
        h = plot_h * v / vmax
        cls = "bar"
        if ok_at is not None:
            cls = "bar ok" if v >= ok_at else "bar below"
        chart.shapes.append(
            Shape(
                "rect",
                cls,
                left + step * i + step * 0.18,
                top + plot_h - h,
                step * 0.64,
                max(h, 0.5),
                title=f"{labels[i]}: {vi_number(v)}",
            )
        )
        chart.shapes.append(
            Shape("text", "value", left + step * (i + 0.5), top + plot_h - h - 5, text=vi_number(v))
        )
    if target is not None:
        y = top + plot_h - plot_h * target / vmax
        chart.shapes.append(
            Shape("line", "target", left, y, x2=left + plot_w, y2=y, title=target_label)
        )
        chart.legend.append(("target", target_label))
    return chart


def stacked_bars(
    series: Sequence[tuple[str, str, Sequence[int | None]]],
    labels: Sequence[str],
    *,
    label: str,
    width: int = 640,
    height: int = 220,
) -> Chart:
    """Bars stacked from ``series`` (css class, legend, values), bottom first, with a legend
    and whole-number ticks; each segment's tooltip and the bar's total say the counts."""
    chart = Chart(width, height, label)
    left, top, right, bottom = 64, 26, 12, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(vs[i] or 0 for _, _, vs in series) for i in range(len(labels))]
    vmax = _axes(chart, left, top, plot_w, plot_h, ticks(max(totals + [0])), labels)
    step = plot_w / max(1, len(labels))
    for i, total in enumerate(totals):
        if all(vs[i] is None for _, _, vs in series):
            continue
        base: float = top + plot_h
        for cls, name, vs in series:
            v = vs[i] or 0
            if not v:
                continue
            h = plot_h * v / vmax
            base -= h
            chart.shapes.append(
                Shape(
                    "rect",
                    f"bar {cls}",
                    left + step * i + step * 0.18,
                    base,
                    step * 0.64,
                    h,
                    title=f"{labels[i]} · {name}: {vi_number(v)}",
                )
            )
        chart.shapes.append(
            Shape("text", "value", left + step * (i + 0.5), base - 5, text=vi_number(total))
        )
    chart.legend.extend((f"bar-{cls}", name) for cls, name, _ in series)
    return chart


def lines(
    series: Mapping[str, Sequence[int | None]],
    labels: Sequence[str],
    *,
    label: str,
    width: int = 640,
    height: int = 240,
) -> Chart:
    """One polyline per series (e.g. reach per channel per month), dots with values."""
    chart = Chart(width, height, label)
    left, top, right, bottom = 84, 16, 12, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    marks = ticks(max([v or 0 for vs in series.values() for v in vs] + [0]))
    vmax = _axes(chart, left, top, plot_w, plot_h, marks, labels)
    step = plot_w / max(1, len(labels))
    for n, (name, values) in enumerate(series.items()):
        cls = f"series s{n % 6}"
        points = []
        for i, v in enumerate(values):
            if v is None:
                continue
            x, y = left + step * (i + 0.5), top + plot_h - plot_h * v / vmax
            points.append(f"{x:.1f},{y:.1f}")
            chart.shapes.append(
                Shape("circle", cls, x, y, w=3, title=f"{name} · {labels[i]}: {vi_number(v)}")
            )
        if len(points) > 1:
            chart.shapes.append(Shape("polyline", cls, points=" ".join(points)))
        chart.legend.append((cls, name))
    return chart


def heat_map(
    rows: Sequence[tuple[str, str]],
    counts: Mapping[tuple[str, int], int],
    *,
    label: str,
    current_month: int | None,
    width: int = 640,
) -> Chart:
    """Topics (rows: key, label) × months: a cell's shade says how many articles covered it."""
    left, top, cell_h = 44, 30, 30
    height = top + cell_h * len(rows) + 8
    chart = Chart(width, height, label)
    cell_w = (width - left - 8) / 12
    vmax = max([*counts.values(), 1])
    for m in range(12):
        chart.shapes.append(Shape("text", "axis", left + cell_w * (m + 0.5), 22, text=MONTHS_VI[m]))
    for r, (key, topic_label) in enumerate(rows):
        y = top + r * cell_h
        chart.shapes.append(Shape("text", "axis", left - 8, y + 21, text=f"{key})", anchor="end"))
        for m in range(1, 13):
            n = counts.get((key, m), 0)
            future = current_month is not None and m > current_month
            if future:
                cls = "heat future"
            else:
                cls = "heat h0" if n == 0 else f"heat h{min(4, 1 + (3 * n) // vmax)}"
            chart.shapes.append(
                Shape(
                    "rect",
                    cls,
                    left + cell_w * (m - 1) + 1,
                    y + 1,
                    cell_w - 2,
                    cell_h - 2,
                    title=f"{key}) {topic_label} · tháng {m}: {n} bài",
                )
            )
            if n:
                chart.shapes.append(
                    Shape("text", "cell", left + cell_w * (m - 0.5), y + 21, text=str(n))
                )
    return chart
