"""Draw the report's plots as inline SVG strings (no plotting library, no scripts)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 720
MARGIN_LEFT = 96
MARGIN_RIGHT = 24
MARGIN_TOP = 12
AXIS_HEIGHT = 44
ROW_HEIGHT = 30
PLOT_HEIGHT = 180

POINT_COLOUR = "#2563a8"
MEAN_COLOUR = "#b4233c"
GRID_COLOUR = "#e3e6ea"
AXIS_COLOUR = "#6b7280"


@dataclass(frozen=True)
class StripRow:
    """One candidate's row in a strip plot: its per-example values and their summary."""

    label: str
    values: Sequence[float]
    mean: float
    std: float


def strip_plot(rows: Sequence[StripRow], axis_label: str, title: str) -> str:
    """Draw one row of dots per candidate (one dot per dev example) with mean and ± std marks."""
    values = [value for row in rows for value in row.values] + [row.mean + sign * row.std for row in rows for sign in (-1, 1)]
    low, high, ticks = _axis(values)
    height = MARGIN_TOP + ROW_HEIGHT * len(rows) + AXIS_HEIGHT
    scale = _Scale(low, high, MARGIN_LEFT, WIDTH - MARGIN_RIGHT)
    parts = [_open(height, title), _x_grid(ticks, scale, MARGIN_TOP, height - AXIS_HEIGHT)]
    for index, row in enumerate(rows):
        centre = MARGIN_TOP + ROW_HEIGHT * index + ROW_HEIGHT / 2
        parts.append(f'<text x="{MARGIN_LEFT - 10}" y="{centre + 4:.1f}" text-anchor="end" class="label">{escape(row.label)}</text>')
        for position, value in enumerate(row.values):
            # Golden-ratio offsets spread tied values over the row the same way on every render.
            jitter = ((position * 0.618034) % 1.0 - 0.5) * (ROW_HEIGHT * 0.55)
            parts.append(
                f'<circle cx="{scale(value):.1f}" cy="{centre + jitter:.1f}" r="3.5" fill="{POINT_COLOUR}" fill-opacity="0.55">'
                f"<title>{escape(row.label)}, example {position + 1}: {_number(value)}</title></circle>"
            )
        left, right = scale(row.mean - row.std), scale(row.mean + row.std)
        parts.append(f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{centre:.1f}" y2="{centre:.1f}" stroke="{MEAN_COLOUR}" stroke-width="2"/>')
        parts.append(
            f'<line x1="{scale(row.mean):.1f}" x2="{scale(row.mean):.1f}" y1="{centre - 10:.1f}" y2="{centre + 10:.1f}" stroke="{MEAN_COLOUR}" stroke-width="3">'
            f"<title>{escape(row.label)}: mean {_number(row.mean)} ± {_number(row.std)}</title></line>"
        )
    parts.append(_x_axis(ticks, scale, height - AXIS_HEIGHT, axis_label))
    parts.append("</svg>")
    return "".join(parts)


def histogram(values: Sequence[float], axis_label: str, title: str, bins: int = 20) -> str:
    """Draw a histogram of ``values`` with ``bins`` equal-width bins over the axis range."""
    low, high, ticks = _axis(values)
    height = MARGIN_TOP + PLOT_HEIGHT + AXIS_HEIGHT
    scale = _Scale(low, high, MARGIN_LEFT, WIDTH - MARGIN_RIGHT)
    counts = [0] * bins
    width = (high - low) / bins
    for value in values:
        counts[min(int((value - low) / width), bins - 1)] += 1
    tallest = max(counts) or 1
    count_ticks = _integer_ticks(tallest)
    top, bottom = MARGIN_TOP, MARGIN_TOP + PLOT_HEIGHT
    count_scale = _Scale(0, max(count_ticks[-1], tallest), bottom, top)

    parts = [_open(height, title), _x_grid(ticks, scale, top, bottom)]
    for tick in count_ticks:
        y = count_scale(tick)
        parts.append(f'<text x="{MARGIN_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" class="tick">{tick}</text>')
    for index, count in enumerate(counts):
        if not count:
            continue
        left, right = scale(low + index * width), scale(low + (index + 1) * width)
        y = count_scale(count)
        parts.append(
            f'<rect x="{left + 1:.1f}" y="{y:.1f}" width="{max(right - left - 2, 1):.1f}" height="{bottom - y:.1f}" fill="{POINT_COLOUR}" fill-opacity="0.75">'
            f"<title>{count} candidate(s) from {_number(low + index * width)} to {_number(low + (index + 1) * width)}</title></rect>"
        )
    parts.append(f'<text x="14" y="{(top + bottom) / 2:.1f}" text-anchor="middle" transform="rotate(-90 14 {(top + bottom) / 2:.1f})" class="axis-label">candidates</text>')
    parts.append(_x_axis(ticks, scale, bottom, axis_label))
    parts.append("</svg>")
    return "".join(parts)


def step_plot(points: Sequence[tuple[float, float]], x_label: str, y_label: str, title: str) -> str:
    """Draw a running best as a step line: each value stays until the next point."""
    x_low, x_high, x_ticks = _axis([x for x, _ in points])
    y_low, y_high, y_ticks = _axis([y for _, y in points])
    height = MARGIN_TOP + PLOT_HEIGHT + AXIS_HEIGHT
    top, bottom = MARGIN_TOP, MARGIN_TOP + PLOT_HEIGHT
    x_scale = _Scale(x_low, x_high, MARGIN_LEFT, WIDTH - MARGIN_RIGHT)
    y_scale = _Scale(y_low, y_high, bottom, top)

    parts = [_open(height, title), _x_grid(x_ticks, x_scale, top, bottom)]
    for tick in y_ticks:
        y = y_scale(tick)
        parts.append(f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID_COLOUR}"/>')
        parts.append(f'<text x="{MARGIN_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" class="tick">{_number(tick)}</text>')
    path = []
    for index, (x, y) in enumerate(points):
        if index == 0:
            path.append(f"M{x_scale(x):.1f},{y_scale(y):.1f}")
        else:
            path.append(f"H{x_scale(x):.1f}V{y_scale(y):.1f}")
    parts.append(f'<path d="{"".join(path)}" fill="none" stroke="{POINT_COLOUR}" stroke-width="2"/>')
    for x, y in points:
        parts.append(
            f'<circle cx="{x_scale(x):.1f}" cy="{y_scale(y):.1f}" r="3.5" fill="{POINT_COLOUR}">'
            f"<title>{escape(x_label)} {_number(x)}: {escape(y_label)} {_number(y)}</title></circle>"
        )
    parts.append(f'<text x="14" y="{(top + bottom) / 2:.1f}" text-anchor="middle" transform="rotate(-90 14 {(top + bottom) / 2:.1f})" class="axis-label">{escape(y_label)}</text>')
    parts.append(_x_axis(x_ticks, x_scale, bottom, x_label))
    parts.append("</svg>")
    return "".join(parts)


class _Scale:
    """Map data values linearly from ``[low, high]`` onto pixels ``[start, end]``."""

    def __init__(self, low: float, high: float, start: float, end: float) -> None:
        self.low, self.high, self.start, self.end = low, high, start, end

    def __call__(self, value: float) -> float:
        return self.start + (value - self.low) / (self.high - self.low) * (self.end - self.start)


def _axis(values: Sequence[float]) -> tuple[float, float, list[float]]:
    """Return an axis range that covers ``values`` and ends on round ticks, and the ticks."""
    finite = [value for value in values if math.isfinite(value)] or [0.0]
    low, high = min(finite), max(finite)
    if high - low < 1e-12:
        # A single value (or all equal) still needs a range to draw on.
        pad = abs(low) * 0.1 or 0.5
        low, high = low - pad, high + pad
    step = _round_step((high - low) / 5)
    first = math.floor(low / step) * step
    last = math.ceil(high / step) * step
    count = round((last - first) / step)
    # Rounding drops float noise such as 0.30000000000000004 from the tick values.
    return first, last, [round(first + i * step, 10) for i in range(count + 1)]


def _round_step(raw: float) -> float:
    """Return the step of 1, 2 or 5 times a power of ten nearest above ``raw``."""
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power


def _integer_ticks(maximum: int) -> list[int]:
    step = max(1, int(_round_step(maximum / 4)))
    return list(range(0, maximum + step, step))


def _open(height: float, title: str) -> str:
    return (
        f'<svg class="plot" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" height="{height:.0f}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )


def _x_grid(ticks: Sequence[float], scale: _Scale, top: float, bottom: float) -> str:
    return "".join(
        f'<line x1="{scale(tick):.1f}" x2="{scale(tick):.1f}" y1="{top}" y2="{bottom}" stroke="{GRID_COLOUR}"/>' for tick in ticks
    )


def _x_axis(ticks: Sequence[float], scale: _Scale, y: float, label: str) -> str:
    parts = [f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y}" y2="{y}" stroke="{AXIS_COLOUR}"/>']
    for tick in ticks:
        parts.append(f'<text x="{scale(tick):.1f}" y="{y + 16}" text-anchor="middle" class="tick">{_number(tick)}</text>')
    middle = (MARGIN_LEFT + WIDTH - MARGIN_RIGHT) / 2
    parts.append(f'<text x="{middle:.1f}" y="{y + 36}" text-anchor="middle" class="axis-label">{escape(label)}</text>')
    return "".join(parts)


def _number(value: float) -> str:
    """Format a value with up to four significant digits, without float noise like 0.30000000000000004."""
    if value == 0:
        return "0"
    return f"{value:.4g}"
