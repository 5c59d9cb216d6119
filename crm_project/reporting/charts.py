"""
Chart geometry for the dashboard's inline SVG: plain numbers in, rectangles and labels out.

The server draws every chart (``templates/admin/crm/bar_chart.html`` and ``ring.html``); the
browser needs no JavaScript and loads nothing. Coordinates are in a fixed ``viewBox``, so a
chart scales with its panel; colours come from CSS classes (``tone``), so they follow the
admin's light and dark themes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

VIEW_WIDTH = 680
LABEL_WIDTH = 150  # Row labels, right-aligned before the bars.
BAR_SPACE = 300  # The longest bar.
ROW_HEIGHT = 30
BAR_HEIGHT = 18
GAP = 8  # Between a bar and its text.

Number = int | float | Decimal


@dataclass(frozen=True)
class BarInput:
    """One row of a bar chart, as the caller knows it."""

    label: str
    value: Number
    text: str  # Written beside the bar, e.g. "12 · 1.2M".
    title: str = ""  # The exact figures, shown on hover and read by screen readers.
    url: str = ""
    tone: str = "primary"  # A CSS modifier: crm-chart__bar--<tone>.
    inner: Number | None = None  # A part of the value drawn darker inside the bar (weighted value).
    marker: Number | None = None  # A target drawn as a line across the bar's row (a quota).


@dataclass(frozen=True)
class Bar:
    label: str
    text: str
    title: str
    url: str
    tone: str
    y: float  # Top of the bar.
    x: float
    width: float
    inner_width: float
    text_x: float
    marker_x: float | None = None  # Where the target line stands; None without a target.

    @property
    def label_y(self) -> float:
        return self.y + BAR_HEIGHT / 2


@dataclass(frozen=True)
class BarChart:
    bars: tuple[Bar, ...]
    summary: str  # The chart in one sentence (aria-label).
    width: int = VIEW_WIDTH
    label_x: int = LABEL_WIDTH - GAP
    bar_height: int = BAR_HEIGHT

    @property
    def height(self) -> int:
        return len(self.bars) * ROW_HEIGHT + 4

    @property
    def is_empty(self) -> bool:
        return not self.bars


def _length(value: Number, largest: Number) -> float:
    if not largest or not value or value < 0:
        return 0.0
    # Any non-zero value gets a visible sliver; the largest fills the space.
    return round(max(2.0, float(value) / float(largest) * BAR_SPACE), 1)


def bar_chart(rows: Sequence[BarInput], *, summary: str) -> BarChart:
    """
    Horizontal bars from the left edge of the bar space, lengths relative to the largest value
    (or target: a quota beyond every bar still fits).
    """
    largest = max((value for row in rows for value in (row.value, row.marker) if value is not None), default=0)
    bars = []
    for index, row in enumerate(rows):
        width = _length(row.value, largest)
        inner = min(width, _length(row.inner, largest)) if row.inner is not None else 0.0
        marker_x = LABEL_WIDTH + _length(row.marker, largest) if row.marker is not None else None
        # The figures are written after the bar or the target line, whichever ends further right.
        text_x = max(LABEL_WIDTH + width, marker_x or 0) + GAP
        bars.append(
            Bar(
                label=row.label,
                text=row.text,
                title=row.title or f"{row.label}: {row.text}",
                url=row.url,
                tone=row.tone,
                y=index * ROW_HEIGHT + 2,
                x=LABEL_WIDTH,
                width=width,
                inner_width=inner,
                text_x=text_x,
                marker_x=marker_x,
            )
        )
    return BarChart(bars=tuple(bars), summary=summary)


def funnel_chart(rows: Sequence[BarInput], *, summary: str) -> BarChart:
    """Bars centred on one axis, widest first in the caller's order: a funnel."""
    chart = bar_chart(rows, summary=summary)
    centre = LABEL_WIDTH + BAR_SPACE / 2
    bars = tuple(
        replace(bar, x=round(centre - bar.width / 2, 1), inner_width=0.0, text_x=LABEL_WIDTH + BAR_SPACE + GAP)
        for bar in chart.bars
    )
    return BarChart(bars=bars, summary=summary)


@dataclass(frozen=True)
class Ring:
    """A percentage as a ring: the arc's length is the share of the circumference."""

    percent: Decimal
    radius: int = 56
    stroke: int = 12

    @property
    def size(self) -> int:
        return 2 * (self.radius + self.stroke)

    @property
    def centre(self) -> int:
        return self.radius + self.stroke

    @property
    def circumference(self) -> float:
        return round(2 * math.pi * self.radius, 2)

    @property
    def arc(self) -> float:
        share = min(max(float(self.percent), 0.0), 100.0) / 100
        return round(self.circumference * share, 2)


def compact_number(value: Number) -> str:
    """1234567 → "1.2M", 45000 → "45K", 980 → "980": short labels for charts."""
    amount = Decimal(value)
    for limit, suffix in ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**3), "K")):
        if abs(amount) >= limit:
            scaled = amount / limit
            text = f"{scaled:.1f}" if abs(scaled) < 100 else f"{scaled:.0f}"
            return text.removesuffix(".0") + suffix
    return f"{amount:,.0f}"


def full_number(value: Number) -> str:
    """1234567.5 → "1,234,567.50": exact figures for titles and tables."""
    return f"{Decimal(value):,.2f}"
