"""`mbcalc roofline --format html`: each op against a device's roofline, as a page.

An inline SVG (log axes: arithmetic intensity against attained rate; the roof, its ridge, each
op a point whose hover text gives its figures), the per-op table and the device's lines.
Formatting only: the points are the roofline's figures, placed on the axes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from mbcalc.kinds import Bound
from mbcalc.views import deploy_views, html_page
from mbcalc.views.escape import for_html
from mbcalc.views.formats import decimal, duration, exact, percent, rate
from mbcalc.views.html_table import setting_line
from mbcalc.views.plot import tick_label

if TYPE_CHECKING:
    from mbcalc.core.graph import Op
    from mbcalc.core.profiles import Counted
    from mbcalc.deploy.deployment import Deployment
    from mbcalc.deploy.roofline import OpTime

WIDTH, HEIGHT = 760, 440
LEFT, RIGHT, TOP, BOTTOM = 72, 24, 16, 52
"""The drawing's size and its margins, in SVG units."""

COLUMNS = (
    html_page.Column("layer"),
    html_page.Column("op"),
    html_page.Column("MAC/B", True, hover="arithmetic intensity: mult-adds per byte moved"),
    html_page.Column("bound"),
    html_page.Column("attains", True, hover="mult-adds per second at the roofline's time"),
    html_page.Column("time", True),
    html_page.Column("% time", True),
    html_page.Column("% mult-adds", True),
)


def roofline_html(deployment: Deployment, counted: Counted | None = None) -> str:
    """The page of `mbcalc roofline`: the drawing, the table, the device's lines."""
    estimate = deployment.roofline
    assert estimate is not None
    report = deployment.memory.report
    title = f"{report.graph.spec.name} on {estimate.device.name}"
    rows = deploy_views.profile_rows(counted) + deploy_views.summary_rows(deployment, str)
    drawn = len(_points(deployment))
    note = html_page.paragraph(
        f"Each op with mult-adds is a point (its figures on hover); the "
        f"{len(report.rows) - drawn} others (pools, merges, views) are in the table only.",
        note=True,
    )
    sections = [
        html_page.section("Roofline", roofline_svg(deployment), note),
        html_page.section("Per op", _table(deployment)),
        html_page.section("Device and latency", html_page.lines(rows)),
    ]
    return html_page.page(title, title, setting_line(report, deployment, counted), sections)


def _table(deployment: Deployment) -> str:
    estimate = deployment.roofline
    assert estimate is not None
    report = deployment.memory.report
    rows = []
    for index, (op_row, time) in enumerate(zip(report.rows, estimate.ops, strict=True)):
        op = op_row.op
        seconds = estimate.op_time(index)
        share = estimate.share(seconds)
        attained = rate(float(time.attained), "MAC/s") if time.mult_adds else "—"
        bound = time.bound.value
        mult_adds = op_row.cost.mult_adds
        cell = html_page.cell
        cells = [
            cell(op.name, op.name),
            cell(op.kind.value, op.kind.value),
            cell(f"{float(time.intensity):.1f}", decimal(time.intensity), numeric=True),
            cell(bound, bound, classes=bound),
            cell(attained, float(time.attained), numeric=True),
            cell(duration(float(seconds)), float(seconds), numeric=True),
            cell(percent(share), float(share), numeric=True),
            html_page.count_cell(
                mult_adds, percent(report.share(mult_adds)), hover=f"{exact(mult_adds)} mult-adds"
            ),
        ]
        rows.append(html_page.row(cells, "op"))
    return html_page.table(COLUMNS, rows)


class _Axis:
    """A log axis from 10**low to 10**high, drawn from `start` to `end` (SVG units)."""

    def __init__(self, values: list[float], start: float, end: float) -> None:
        self.low = math.floor(math.log10(min(values)))
        self.high = max(self.low + 1, math.ceil(math.log10(max(values))))
        self.start, self.end = start, end

    def at(self, value: float) -> float:
        fraction = (math.log10(value) - self.low) / (self.high - self.low)
        return self.start + fraction * (self.end - self.start)

    @property
    def decades(self) -> range:
        return range(self.low, self.high + 1)


def roofline_svg(deployment: Deployment) -> str:
    """The roofline as an inline SVG: intensity (x) against attained rate (y), both log."""
    estimate = deployment.roofline
    assert estimate is not None
    device = estimate.device
    report = deployment.memory.report
    points = _points(deployment)
    ridge, peak = float(device.ridge), float(device.mult_adds_per_second)
    bandwidth = float(device.bandwidth)
    x = _Axis([p[0] for p in points] + [ridge], LEFT, WIDTH - RIGHT)
    y = _Axis([p[1] for p in points] + [peak * 1.5], HEIGHT - BOTTOM, TOP)
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img">',
        f"<title>{for_html(report.graph.spec.name)} on {for_html(device.name)}: roofline</title>",
        *_grid(x, y),
        _roof(x, y, bandwidth, peak, "roof"),
    ]
    slower = device.depthwise_mult_adds_per_second
    if slower is not None:
        parts.append(_roof(x, y, bandwidth, float(slower), "slower"))
        parts.append(_text(x.end - 4, y.at(float(slower)) - 4, "depthwise peak", "end"))
    parts += [
        _line("ridge", (x.at(ridge), y.start), (x.at(ridge), y.end)),
        _text(x.at(ridge) + 4, y.end + 12, f"ridge {ridge:.1f} MAC/B", "start"),
    ]
    for intensity, attained, op, time, index in points:
        seconds = estimate.op_time(index)
        hover = (
            f"{op.name} ({op.kind.value}): {intensity:.1f} MAC/B · {rate(attained, 'MAC/s')} · "
            f"{time.bound.value}-bound · {duration(float(seconds))}"
        )
        parts.append(
            f'<circle class="{time.bound.value}" cx="{x.at(intensity):.1f}" '
            f'cy="{y.at(attained):.1f}" r="4"><title>{for_html(hover)}</title></circle>'
        )
    parts += [*_legend(points), "</svg>"]
    return "\n".join(parts)


Point = tuple[float, float, "Op", "OpTime", int]
"""An op on the drawing: its intensity, its attained rate, the op, its time, its index."""


def _points(deployment: Deployment) -> list[Point]:
    """The ops drawn: those with mult-adds and a time (a rate to place on the log axes)."""
    estimate = deployment.roofline
    assert estimate is not None
    rows = deployment.memory.report.rows
    return [
        (float(time.intensity), float(time.attained), op_row.op, time, index)
        for index, (op_row, time) in enumerate(zip(rows, estimate.ops, strict=True))
        if time.mult_adds and time.seconds
    ]


def _roof(x: _Axis, y: _Axis, bandwidth: float, peak: float, kind: str) -> str:
    """The roof under `peak`: bandwidth x intensity up to its ridge, then flat."""
    floor = 10.0**y.low
    start = max(10.0**x.low, floor / bandwidth)
    ridge = peak / bandwidth
    corners = [(start, start * bandwidth), (ridge, peak), (10.0**x.high, peak)]
    if ridge <= start:
        corners = [(start, peak), (10.0**x.high, peak)]
    path = " ".join(f"{x.at(a):.1f},{y.at(b):.1f}" for a, b in corners)
    return f'<polyline class="{kind}" points="{path}"/>'


def _grid(x: _Axis, y: _Axis) -> list[str]:
    """The axes, a line and a label at each decade, and the axes' titles."""
    parts = []
    for power in x.decades:
        at = x.at(10.0**power)
        parts.append(_line("grid", (at, y.start), (at, y.end)))
        parts.append(_text(at, y.start + 16, tick_label(10.0**power), "middle"))
    for power in y.decades:
        at = y.at(10.0**power)
        parts.append(_line("grid", (x.start, at), (x.end, at)))
        parts.append(_text(x.start - 6, at + 4, tick_label(10.0**power), "end"))
    parts += [
        _line("axis", (x.start, y.start), (x.end, y.start)),
        _line("axis", (x.start, y.start), (x.start, y.end)),
        _text((x.start + x.end) / 2, HEIGHT - 12,
              "arithmetic intensity (mult-adds per byte, log scale)", "middle"),
        f'<text transform="translate(16 {(y.start + y.end) / 2:.1f}) rotate(-90)" '
        'text-anchor="middle">attained rate (mult-adds per second, log scale)</text>',
    ]  # fmt: skip
    return parts


def _legend(points: list[Point]) -> list[str]:
    """Which colour is which bound, and how many of the points are of each."""
    parts = []
    for line, kind in enumerate((Bound.COMPUTE, Bound.MEMORY)):
        count = sum(1 for point in points if point[3].bound is kind)
        top = TOP + 10 + 16 * line
        parts.append(f'<circle class="{kind.value}" cx="{LEFT + 14}" cy="{top}" r="4"/>')
        parts.append(_text(LEFT + 24, top + 4, f"{kind.value}-bound ({count} ops)", "start"))
    return parts


def _line(kind: str, start: tuple[float, float], end: tuple[float, float]) -> str:
    (x1, y1), (x2, y2) = start, end
    return f'<line class="{kind}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"/>'


def _text(x: float, y: float, text: str, anchor: str) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{for_html(text)}</text>'
