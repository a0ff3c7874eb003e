"""Server-side SVG bar charts for the staff reports (no script, no CDN: CSP allows self only)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 16, 48
# Beyond this many groups the labels would overlap: every n-th is shown.
MAX_LABELS = 16


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]
    css_class: str  # the bar colour lives in static/console/staff.css


def _nice_max(value: float) -> float:
    """Return a round upper bound for the axis (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def bar_chart(
    *,
    title: str,
    labels: list[str],
    series: list[Series],
    value_label=lambda v: f"{v:g}",
    stacked: bool = False,
) -> SafeString:
    """Return an accessible inline SVG: grouped (or stacked) bars, one group per label.

    Screen readers get the title and a one-line summary (role="img"); the same figures are
    in the table beside every chart.
    """
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    if stacked:
        totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
    else:
        totals = [v or 0 for s in series for v in s.values]
    top = _nice_max(max(totals, default=0))
    slot = plot_w / max(len(labels), 1)
    bars_per_slot = 1 if stacked else len(series)
    bar_w = max(slot * 0.7 / bars_per_slot, 1.0)
    parts: list[str] = []
    for tick in range(5):
        value = top * tick / 4
        y = TOP + plot_h - plot_h * tick / 4
        parts.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="chart-tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(value_label(value))}</text>"
        )
    every = max(1, -(-len(labels) // MAX_LABELS))
    for i, label in enumerate(labels):
        x0 = LEFT + slot * i + slot * 0.15
        base = TOP + plot_h
        for j, s in enumerate(series):
            value = s.values[i]
            if value is None:
                continue
            h = plot_h * value / top
            x = x0 if stacked else x0 + j * bar_w
            parts.append(
                f'<rect class="{escape(s.css_class)}" x="{x:.1f}" y="{base - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}"><title>{escape(label)} · '
                f"{escape(s.name)}: {escape(value_label(value))}</title></rect>"
            )
            if stacked:
                base -= h
        if i % every == 0:
            parts.append(
                f'<text class="chart-label" x="{LEFT + slot * (i + 0.5):.1f}" '
                f'y="{TOP + plot_h + 16}" text-anchor="middle">{escape(label[-10:])}</text>'
            )
    legend_y = HEIGHT - 10
    for j, s in enumerate(series):
        x = LEFT + j * 170
        parts.append(
            f'<rect class="{escape(s.css_class)}" x="{x}" y="{legend_y - 9}" width="10" '
            f'height="10"/><text class="chart-legend" x="{x + 14}" y="{legend_y}">'
            f"{escape(s.name)}</text>"
        )
    summary = f"{title}: {len(labels)} groups, " + ", ".join(s.name for s in series) + "."
    svg = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(summary)}" focusable="false">'
        f"<title>{escape(title)}</title>{''.join(parts)}</svg>"
    )
    # Every text in it went through escape() above.
    return mark_safe(svg)  # noqa: S308
