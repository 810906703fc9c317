"""Sweep grids drawn as images with matplotlib (the optional extra `mbcalc[plot]`)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from mbcalc.errors import OutputError
from mbcalc.grid.sweep import Grid
from mbcalc.kinds import PlotBy
from mbcalc.views.escape import for_plot
from mbcalc.views.formats import multiplier

if TYPE_CHECKING:
    from mbcalc.deploy.deployment import Deployment

IMAGE_SUFFIXES = (".png", ".svg")


def plot_grid(grid: Grid, suffix: str, by: PlotBy = PlotBy.RES) -> bytes:
    """Mult-adds against params on log axes, one line per resolution (or per alpha).

    Returns the image as PNG or SVG bytes, so that the caller can write it atomically.
    """
    plt = _pyplot(suffix)
    figure, axes = plt.subplots(figsize=(7, 5), dpi=120)
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
        axes.plot(
            [int(grid.params[cell]) for cell in cells],
            [int(grid.mult_adds[cell]) for cell in cells],
            marker="o",
            markersize=3,
            label=label,
        )
    _log_axes(axes)
    axes.set_xlabel("parameters")
    axes.set_ylabel("mult-adds")
    axes.set_title(f"{for_plot(grid.spec.name)}: mult-adds against parameters")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(title="resolution" if by is PlotBy.RES else "width", fontsize="small")
    return _image(plt, figure, suffix)


def plot_roofline(deployment: Deployment, suffix: str) -> bytes:
    """The device's roofline (log axes) with every op of the network at its intensity."""
    estimate = deployment.roofline
    assert estimate is not None
    plt = _pyplot(suffix)
    device = estimate.device
    figure, axes = plt.subplots(figsize=(7, 5), dpi=120)
    points = [
        (float(time.intensity), float(time.mult_adds / time.seconds), row.op.kind.value)
        for row, time in zip(deployment.memory.report.rows, estimate.ops, strict=True)
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
    for kind in sorted({p[2] for p in points}):
        chosen = [p for p in points if p[2] == kind]
        axes.scatter([p[0] for p in chosen], [p[1] for p in chosen], s=18, label=kind)
    axes.axvline(ridge, color="gray", linestyle=":", linewidth=1)
    _log_axes(axes)
    axes.set_xlabel("arithmetic intensity (mult-adds per byte)")
    axes.set_ylabel("attained mult-adds per second")
    report = deployment.memory.report
    title = f"{for_plot(report.graph.spec.name)} on {for_plot(device.name)}"
    axes.set_title(f"{title} ({deployment.memory.dtype.value})")
    axes.legend(fontsize="small")
    return _image(plt, figure, suffix)


def _pyplot(suffix: str) -> Any:
    """matplotlib's pyplot on the Agg backend, or a clear error without the plot extra."""
    if suffix not in IMAGE_SUFFIXES:
        raise OutputError(
            f"plots are written as PNG or SVG, not {suffix or 'a file without suffix'}"
        )
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise OutputError("--plot needs matplotlib", hint="pip install 'mbcalc[plot]'") from None
    return plt


def _log_axes(axes: Any) -> None:
    from matplotlib.ticker import NullFormatter

    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.yaxis.set_minor_formatter(NullFormatter())
    axes.grid(True, which="both", alpha=0.3)


def _image(plt: Any, figure: Any, suffix: str) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format=suffix.lstrip("."), bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()
