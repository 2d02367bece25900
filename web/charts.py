"""Attention over time as an inline SVG drawn on the server: no chart framework, no script,
readable at a glance (one line per query, distinguished by colour and by dash pattern),
with a title, axis labels and a table alternative in the page."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 44
#: Colours at 3:1 or more against white (WCAG non-text contrast), and dash patterns.
STYLES = (("#1f5fa8", ""), ("#b3471d", "6 3"), ("#2d7a3a", "2 3"), ("#7a3f9d", "10 3 2 3"))


@dataclass
class Line:
    label: str
    values: list[float | None]


def _number(value: float, share: bool) -> str:
    return f"{value * 100:.1f}%" if share else f"{value:,.0f}".replace(",", "٬")


def line_chart(title: str, periods: list[str], lines: list[Line], share: bool, labels: list[str]) -> Markup:
    """An SVG line chart: ``periods`` along the x axis (time runs left to right, as charts
    are read in Arabic too), one polyline per line. ``labels`` are the x-axis labels shown
    (first, middle, last period, as readers read them)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    peak = max((v for line in lines for v in line.values if v is not None), default=0) or 1
    step = plot_w / max(len(periods) - 1, 1)

    def x(i: int) -> float:
        return LEFT + i * step

    def y(v: float) -> float:
        return TOP + plot_h - v / peak * plot_h
    parts = [Markup('<svg class="chart" viewBox="0 0 {} {}" role="img" aria-labelledby="chart-title" '
                    'xmlns="http://www.w3.org/2000/svg" direction="ltr">').format(WIDTH, HEIGHT),
             Markup('<title id="chart-title">{}</title>').format(title)]
    for fraction in (0, 0.5, 1):  # horizontal grid and y-axis labels
        level = TOP + plot_h - fraction * plot_h
        parts.append(Markup('<line x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}" stroke="#d8dee4"/>')
                     .format(LEFT, WIDTH - RIGHT, level, level))
        parts.append(Markup('<text x="{}" y="{:.1f}" text-anchor="end" font-size="12" fill="#57606a">{}</text>')
                     .format(LEFT - 6, level + 4, _number(fraction * peak, share)))
    positions = [0, (len(periods) - 1) // 2, len(periods) - 1] if len(periods) > 2 else list(range(len(periods)))
    for i, label in zip(positions, labels):
        # (the first and last labels hang inwards from the ends of the axis, not past them)
        anchor = "start" if i == 0 and len(periods) > 1 else "end" if i == len(periods) - 1 and i else "middle"
        parts.append(Markup('<text x="{:.1f}" y="{}" text-anchor="{}" font-size="12" fill="#57606a">{}</text>')
                     .format(x(i), HEIGHT - BOTTOM + 18, anchor, label))
    parts.append(Markup('<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#8c959f"/>')
                 .format(LEFT, WIDTH - RIGHT, TOP + plot_h, TOP + plot_h))
    for (colour, dash), line in zip(STYLES, lines):
        # A period without a value (nothing published, so no share) breaks the line: a
        # straight stroke across it would draw figures that were never measured.
        for run in _runs(line.values):
            if len(run) == 1:
                (i, v), = run
                parts.append(Markup('<circle cx="{:.1f}" cy="{:.1f}" r="3" fill="{}"><title>{}</title></circle>')
                             .format(x(i), y(v), colour, line.label))
                continue
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in run)
            parts.append(Markup('<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5" '
                                'stroke-dasharray="{}"><title>{}</title></polyline>')
                         .format(points, colour, dash or "none", line.label))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _runs(values: list[float | None]) -> list[list[tuple[int, float]]]:
    """The stretches of consecutive periods that have a value, as (period index, value)."""
    runs: list[list[tuple[int, float]]] = []
    previous = None
    for i, value in enumerate(values):
        if value is None:
            continue
        if previous != i - 1:
            runs.append([])
        runs[-1].append((i, value))
        previous = i
    return runs


def legend(lines: list[Line]) -> Markup:
    """The key of the chart: each query with its colour and dash pattern."""
    items = []
    for (colour, dash), line in zip(STYLES, lines):
        swatch = Markup('<svg width="28" height="10" aria-hidden="true"><line x1="0" x2="28" y1="5" y2="5" '
                        'stroke="{}" stroke-width="3" stroke-dasharray="{}"/></svg>').format(colour, dash or "none")
        items.append(Markup("<li>{} <bdi>{}</bdi></li>").format(swatch, escape(line.label)))
    return Markup('<ul class="legend">{}</ul>').format(Markup("").join(items))
