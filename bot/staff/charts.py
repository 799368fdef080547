"""Charts for the staff pages as plain SVG, drawn on the server.

Why server-side SVG: the staff pages run under a strict Content-Security-Policy (no script, no
inline style) and must work on a reception tablet without a charting library from a CDN. Every
colour and size is an SVG presentation attribute, which the policy allows; the drawing scales
with its container through its viewBox.

A `Chart` holds the numbers once; `svg()` draws them (with a <title>, a <desc> and role="img"),
and `rows()` / `csv_text()` give the same numbers as a table for screen readers and as a
spreadsheet download, so the three can never disagree.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import List, Sequence, Tuple

from markupsafe import Markup, escape

from bot.staff.exports import safe_cell

COLUMNS, BARS, LINE = "columns", "bars", "line"
KINDS = (COLUMNS, BARS, LINE)
# Dark enough for 4.5:1 on white (so they also serve as text colour), and apart in hue.
PALETTE = ("#1f5f5b", "#b35900", "#1d4f91", "#7a3d8f", "#9b1c17", "#4d5a2a", "#5f6b6b")
INK, MUTED, GRID = "#1b1b1b", "#4a4a4a", "#d5dbda"
WIDTH = 600  # at the width of a tablet or half a desktop screen, text shows at about its own size
FONT = 14
SMALL = 12
MAX_AXIS_LABELS = 10


@dataclass(frozen=True)
class Series:
    """One row of numbers, one value per category; `colour` overrides the palette's."""

    name: str
    values: Tuple[float, ...]
    colour: str = ""


@dataclass(frozen=True)
class Chart:
    """The numbers of one chart and the words around them.

    COLUMNS: categories along the bottom (days), series stacked in each column.
    BARS: one horizontal bar per category (topics, steps), the first series only; `notes` are
    printed after each bar's value (a share, say) and get a column of their own in the table.
    LINE: categories along the bottom, one line per series.
    """

    key: str
    title: str
    description: str
    kind: str
    category_heading: str
    categories: Tuple[str, ...]
    series: Tuple[Series, ...]
    axis_labels: Tuple[str, ...] = ()
    notes: Tuple[str, ...] = ()
    note_heading: str = ""
    unit: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown chart kind {self.kind!r}")
        for series in self.series:
            if len(series.values) != len(self.categories):
                raise ValueError(f"series {series.name!r} has {len(series.values)} values for "
                                 f"{len(self.categories)} categories")

    @property
    def empty(self) -> bool:
        """Nothing to draw: no category, or every value is zero."""
        return not any(value for series in self.series for value in series.values)

    @property
    def headings(self) -> List[str]:
        return [self.category_heading] + [s.name for s in self.series] + ([self.note_heading] if self.notes else [])

    def rows(self) -> List[List[str]]:
        """One row per category: its name, each series' value, and its note."""
        return [[category] + [number(s.values[i]) for s in self.series] + ([self.notes[i]] if self.notes else [])
                for i, category in enumerate(self.categories)]

    def colours(self) -> List[str]:
        return [s.colour or PALETTE[i % len(PALETTE)] for i, s in enumerate(self.series)]


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def csv_text(chart: Chart) -> str:
    """The chart's table as CSV; a cell that a spreadsheet would read as a formula is quoted."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(chart.headings)
    for row in chart.rows():
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


def nice_ticks(top: float, count: int = 5) -> List[float]:
    """Round axis values from 0 past `top` (steps of 1, 2 or 5 times a power of ten)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / (count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(step, 1.0)
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(ticks[-1] + step)
    return ticks


def svg(chart: Chart) -> Markup:
    """The chart as an inline SVG element, scaled to its container's width."""
    draw = {COLUMNS: _columns, BARS: _bars, LINE: _line}[chart.kind]
    height, body = draw(chart)
    title_id, desc_id = f"chart-{chart.key}-title", f"chart-{chart.key}-desc"
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" role="img" aria-label="{escape(chart.title)}" '
        f'aria-describedby="{desc_id}" focusable="false" class="chart-svg" font-size="{FONT}" fill="{INK}">'
        f'<title id="{title_id}">{escape(chart.title)}</title><desc id="{desc_id}">{escape(chart.description)}</desc>'
        f'{body}</svg>')


# -- drawing ------------------------------------------------------------------------------------

@dataclass
class _Frame:
    """The plotting area inside the margins, and the value scale."""

    left: float
    top: float
    width: float
    height: float
    ticks: List[float] = field(default_factory=list)

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def y(self, value: float) -> float:
        return self.bottom - (value / self.ticks[-1]) * self.height


def _text(x: float, y: float, content: str, anchor: str = "start", size: int = FONT, colour: str = INK,
          extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{colour}"{extra}>'
            f'{escape(content)}</text>')


def _legend(chart: Chart, top: float) -> Tuple[float, str]:
    """Swatches with the series names, in stacking order, wrapped onto more lines when needed;
    (the height it takes, the markup). One series needs no legend."""
    if len(chart.series) < 2:
        return 0.0, ""
    parts, x, y = [], 0.0, top + 14
    for series, colour in zip(chart.series, chart.colours()):
        width = 20 + 7.6 * len(series.name)
        if x > 0 and x + width > WIDTH:
            x, y = 0.0, y + 24
        parts.append(f'<rect x="{x:.1f}" y="{y - 12:.1f}" width="14" height="14" rx="2" fill="{colour}"/>')
        parts.append(_text(x + 20, y, series.name))
        x += width + 24
    return y - top + 14, f'<g class="chart-legend">{"".join(parts)}</g>'


def _value_axis(frame: _Frame, unit: str) -> str:
    parts = []
    for tick in frame.ticks:
        y = frame.y(tick)
        parts.append(f'<line x1="{frame.left:.1f}" x2="{frame.left + frame.width:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="{GRID}" stroke-width="1"/>')
        parts.append(_text(frame.left - 8, y + 4, number(tick), "end", SMALL, MUTED))
    parts.append(f'<line x1="{frame.left:.1f}" x2="{frame.left + frame.width:.1f}" y1="{frame.bottom:.1f}" '
                 f'y2="{frame.bottom:.1f}" stroke="{MUTED}" stroke-width="1.5"/>')
    if unit:
        parts.append(_text(0, frame.top - 14, unit, "start", SMALL, MUTED))
    return f'<g class="chart-axis">{"".join(parts)}</g>'


def _category_axis(chart: Chart, frame: _Frame, centres: Sequence[float]) -> str:
    """Every category's label when they fit, else evenly spaced ones (the table has them all)."""
    labels = chart.axis_labels or chart.categories
    every = max(1, math.ceil(len(labels) / MAX_AXIS_LABELS))
    parts = [_text(centres[i], frame.bottom + 20, labels[i], "middle", SMALL, MUTED)
             for i in range(0, len(labels), every)]
    return f'<g class="chart-categories">{"".join(parts)}</g>'


def _day_frame(chart: Chart, top_value: float) -> Tuple[_Frame, float, str]:
    """The plotting area below the legend; (frame, total height, legend markup)."""
    legend_height, legend = _legend(chart, 0)
    frame = _Frame(left=52, top=legend_height + 36, width=WIDTH - 52 - 12, height=220)
    frame.ticks = nice_ticks(top_value)
    return frame, frame.bottom + 36, legend


def _columns(chart: Chart) -> Tuple[float, str]:
    totals = [sum(s.values[i] for s in chart.series) for i in range(len(chart.categories))]
    frame, height, legend = _day_frame(chart, max(totals, default=0))
    slot = frame.width / max(1, len(chart.categories))
    bar = max(1.0, min(48.0, slot * 0.7))
    centres = [frame.left + slot * (i + 0.5) for i in range(len(chart.categories))]
    labels = chart.axis_labels or chart.categories
    parts = [_value_axis(frame, chart.unit), legend]
    for i, centre in enumerate(centres):
        base = 0.0
        for series, colour in zip(chart.series, chart.colours()):
            value = series.values[i]
            if value <= 0:
                continue
            top, bottom = frame.y(base + value), frame.y(base)
            parts.append(f'<rect x="{centre - bar / 2:.1f}" y="{top:.1f}" width="{bar:.1f}" height="{bottom - top:.1f}" '
                         f'fill="{colour}" stroke="#ffffff" stroke-width="0.75" data-series="{escape(series.name)}" '
                         f'data-value="{number(value)}"><title>{escape(labels[i])} · {escape(series.name)}: '
                         f'{number(value)}</title></rect>')
            base += value
    parts.append(_category_axis(chart, frame, centres))
    return height, "".join(parts)


def _line(chart: Chart) -> Tuple[float, str]:
    top_value = max((v for s in chart.series for v in s.values), default=0)
    frame, height, legend = _day_frame(chart, top_value)
    count = len(chart.categories)
    step = frame.width / max(1, count - 1) if count > 1 else 0
    xs = [frame.left + step * i if count > 1 else frame.left + frame.width / 2 for i in range(count)]
    labels = chart.axis_labels or chart.categories
    parts = [_value_axis(frame, chart.unit), legend]
    for series, colour in zip(chart.series, chart.colours()):
        points = " ".join(f"{x:.1f},{frame.y(v):.1f}" for x, v in zip(xs, series.values))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5" '
                     f'stroke-linejoin="round" data-series="{escape(series.name)}"/>')
        radius = 3.5 if count <= 31 else 2
        for x, value, label in zip(xs, series.values, labels):
            parts.append(f'<circle cx="{x:.1f}" cy="{frame.y(value):.1f}" r="{radius}" fill="{colour}" '
                         f'data-value="{number(value)}"><title>{escape(label)} · {escape(series.name)}: '
                         f'{number(value)}</title></circle>')
    parts.append(_category_axis(chart, frame, xs))
    return height, "".join(parts)


def _bars(chart: Chart) -> Tuple[float, str]:
    """Horizontal bars with the label on the left and the value (and note) at the bar's end."""
    series = chart.series[0] if chart.series else Series("", tuple(0 for _ in chart.categories))
    colour = chart.colours()[0] if chart.series else PALETTE[0]
    label_width, row, value_space = 220.0, 34.0, 90.0
    top = 8.0
    width = WIDTH - label_width - value_space
    largest = max(series.values, default=0) or 1
    parts = []
    for i, (category, value) in enumerate(zip(chart.categories, series.values)):
        y = top + i * row
        length = width * value / largest
        label = chart.axis_labels[i] if chart.axis_labels else category
        parts.append(_text(label_width - 10, y + 19, _shorten(label, 28), "end"))
        parts.append(f'<rect x="{label_width:.1f}" y="{y + 5:.1f}" width="{max(length, 0):.1f}" height="{row - 12:.1f}" '
                     f'rx="3" fill="{colour}" data-value="{number(value)}"><title>{escape(label)}: '
                     f'{number(value)}</title></rect>')
        shown = number(value) + (f" · {chart.notes[i]}" if chart.notes and chart.notes[i] else "")
        parts.append(_text(label_width + length + 8, y + 19, shown, "start", FONT, INK, ' font-weight="600"'))
    parts.append(f'<line x1="{label_width:.1f}" x2="{label_width:.1f}" y1="{top:.1f}" '
                 f'y2="{top + row * len(chart.categories):.1f}" stroke="{MUTED}" stroke-width="1.5"/>')
    return top * 2 + row * max(1, len(chart.categories)), "".join(parts)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
