"""Sweep grids and rooflines drawn as images with matplotlib (the optional extra `mbcalc[plot]`).

`grid_figure` and `roofline_figure` build the matplotlib `Figure` (no pyplot, no global state);
`plot_grid` and `plot_roofline` render it as PNG or SVG bytes for the caller to write. Both
plots have log axes labelled at each decade (1k, 10k, … 1M, 10M; at 1, 2 and 5 of each decade
where the data spans less than two), axis labels with units, a title naming the spec and every
point annotated.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

from mbcalc.core.settings import res_for, res_text
from mbcalc.errors import OutputError
from mbcalc.grid.sweep import Grid
from mbcalc.kinds import PlotBy
from mbcalc.views.escape import for_plot
from mbcalc.views.formats import multiplier
from mbcalc.views.text import setting

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Annotation
    from matplotlib.transforms import Bbox

    from mbcalc.deploy.deployment import Deployment

IMAGE_SUFFIXES = (".png", ".svg")

_PREFIXES = ("", "k", "M", "G", "T", "P", "E")
"""SI prefixes of the tick labels, one per power of 1,000."""


def plot_grid(grid: Grid, suffix: str, by: PlotBy = PlotBy.RES) -> bytes:
    """`grid_figure` as PNG or SVG bytes (by `suffix`), for the caller to write atomically."""
    check_suffix(suffix)
    return _image(grid_figure(grid, by), suffix)


def plot_roofline(deployment: Deployment, suffix: str) -> bytes:
    """`roofline_figure` as PNG or SVG bytes (by `suffix`), for the caller to write atomically."""
    check_suffix(suffix)
    return _image(roofline_figure(deployment), suffix)


def grid_figure(grid: Grid, by: PlotBy = PlotBy.RES) -> Figure:
    """Mult-adds against params on log axes, one line per resolution (or per alpha); each
    point labelled with its setting, `alpha/res` (`0.5/160`, `0.5/128x96`)."""
    figure, axes = _figure()
    resolutions = [res_text(res_for(size, grid.spec.input_size)) for size in grid.resolutions]
    lines = range(len(grid.resolutions)) if by is PlotBy.RES else range(len(grid.alphas))
    for line in lines:
        cells = (
            [(a, line) for a in range(len(grid.alphas))]
            if by is PlotBy.RES
            else [(line, r) for r in range(len(grid.resolutions))]
        )
        cells = [cell for cell in cells if grid.valid[cell]]
        if not cells:
            continue
        label = (
            f"{grid.resolutions[line][0]}x{grid.resolutions[line][1]}"
            if by is PlotBy.RES
            else f"alpha {multiplier(grid.alphas[line])}"
        )
        points = [(int(grid.params[cell]), int(grid.mult_adds[cell])) for cell in cells]
        axes.plot(*zip(*points, strict=True), marker="o", markersize=3, label=label)
        for (a, r), point in zip(cells, points, strict=True):
            _label(axes, f"{multiplier(grid.alphas[a])}/{resolutions[r]}", point)
    _log_axes(axes, *_spans(axes))
    axes.set_xlabel("parameters (count, log scale)")
    axes.set_ylabel("mult-adds per image (log scale)")
    axes.set_title(f"{for_plot(grid.spec.name)}: mult-adds against parameters")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(title="resolution" if by is PlotBy.RES else "width", fontsize="small")
    return figure


def roofline_figure(deployment: Deployment) -> Figure:
    """The device's roofline (log axes) with every op of the network at its intensity, labelled
    with the op's name where the label leaves the others readable (the most mult-adds first)."""
    estimate = deployment.roofline
    assert estimate is not None
    device = estimate.device
    figure, axes = _figure()
    report = deployment.memory.report
    points = [
        (float(time.intensity), float(time.attained), row)
        for row, time in zip(report.rows, estimate.ops, strict=True)
        if time.mult_adds and time.seconds
    ]
    ridge = float(device.ridge)
    low = min([p[0] for p in points] + [ridge]) / 4
    high = max([p[0] for p in points] + [ridge]) * 4
    peak, bandwidth = float(device.mult_adds_per_second), float(device.bandwidth)
    axes.plot([low, ridge, high], [low * bandwidth, peak, peak], color="black", label="roofline")
    if device.depthwise_mult_adds_per_second is not None:
        slower = float(device.depthwise_mult_adds_per_second)
        axes.axhline(slower, color="gray", linestyle="--", label="depthwise peak")
    for kind in sorted({p[2].op.kind.value for p in points}):
        chosen = [p for p in points if p[2].op.kind.value == kind]
        axes.scatter([p[0] for p in chosen], [p[1] for p in chosen], s=18, label=kind)
    by_size = sorted(points, key=lambda point: -point[2].cost.mult_adds)
    labels = [_label(axes, for_plot(row.op.name), (x, y)) for x, y, row in by_size]
    axes.axvline(ridge, color="gray", linestyle=":", linewidth=1)
    _log_axes(axes, *_spans(axes))
    axes.set_xlabel("arithmetic intensity (mult-adds per byte, log scale)")
    axes.set_ylabel("attained rate (mult-adds per second, log scale)")
    title = f"{for_plot(report.graph.spec.name)} on {for_plot(device.name)}"
    axes.set_title(f"{title} ({setting(report)}, {deployment.memory.dtype.value})")
    axes.legend(fontsize="small")
    _drop_covered(labels)
    return figure


def tick_label(value: float) -> str:
    """A log axis's tick: 1, 2, 5, 10, 500, 1k, 20k, 1M, 10M, 1G; below 1, 0.5, 0.1, 0.01."""
    if value <= 0:
        return ""
    group = min(max(0, math.floor(math.log10(value) / 3 + 1e-9)), len(_PREFIXES) - 1)
    return f"{value / 1000**group:.3g}{_PREFIXES[group]}"


def _tick_text(value: float, _position: int | None) -> str:
    return tick_label(value)


def check_suffix(suffix: str) -> None:
    """Refuse an image suffix other than PNG or SVG, and a missing matplotlib, clearly."""
    if suffix not in IMAGE_SUFFIXES:
        raise OutputError(
            f"plots are written as PNG or SVG, not {suffix or 'a file without suffix'}"
        )
    try:
        import matplotlib  # noqa: F401 (only its presence is checked here)
    except ImportError:
        raise OutputError("--plot needs matplotlib", hint="pip install 'mbcalc[plot]'") from None


def _figure() -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 5), dpi=120)
    return figure, figure.add_subplot()


def _label(axes: Axes, text: str, point: tuple[float, float]) -> Annotation:
    """Label a point: small text just above and right of it."""
    return axes.annotate(
        text, point, xytext=(3, 3), textcoords="offset points", fontsize=6, alpha=0.8
    )


def _drop_covered(labels: list[Annotation]) -> None:
    """Remove each label that would overlap one kept before it, so that every label shown
    can be read; the first labels are kept first."""
    kept: list[Bbox] = []
    for label in labels:
        box = label.get_window_extent()
        if any(box.overlaps(other) for other in kept):
            label.remove()
        else:
            kept.append(box)


def _spans(axes: Axes) -> tuple[float, float]:
    """How many decades the data spans along x and along y."""
    axes.relim()
    (x0, y0), (x1, y1) = axes.dataLim.get_points()
    return _decades(x0, x1), _decades(y0, y1)


def _decades(low: float, high: float) -> float:
    return math.log10(high / low) if low > 0 and high > 0 else math.inf


def _log_axes(axes: Axes, x_decades: float, y_decades: float) -> None:
    """Log scales labelled by `tick_label`: at every decade, and at 2 and 5 of each decade
    along an axis whose data spans less than two decades (else it might show one label)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axes.set_xscale("log")
    axes.set_yscale("log")
    for axis, decades in ((axes.xaxis, x_decades), (axes.yaxis, y_decades)):
        subs = (1.0,) if decades >= 2 else (1.0, 2.0, 5.0)
        axis.set_major_locator(LogLocator(base=10, subs=subs, numticks=30))
        axis.set_major_formatter(FuncFormatter(_tick_text))
        axis.set_minor_formatter(NullFormatter())
    axes.grid(True, which="both", alpha=0.3)


def _image(figure: Figure, suffix: str) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format=suffix.lstrip("."), bbox_inches="tight")
    return buffer.getvalue()
