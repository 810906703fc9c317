"""Sweep grids drawn as images with matplotlib (the optional extra `mbcalc[plot]`)."""

from __future__ import annotations

import io
from typing import Literal

from mbcalc.errors import OutputError
from mbcalc.numbers import multiplier
from mbcalc.sweep import Grid

IMAGE_SUFFIXES = (".png", ".svg")
By = Literal["res", "alpha"]


def plot_grid(grid: Grid, suffix: str, by: By = "res") -> bytes:
    """Mult-adds against params on log axes, one line per resolution (or per alpha).

    Returns the image as PNG or SVG bytes, so that the caller can write it atomically.
    """
    if suffix not in IMAGE_SUFFIXES:
        raise OutputError(
            f"plots are written as PNG or SVG, not {suffix or 'a file without suffix'}"
        )
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import NullFormatter
    except ImportError:
        raise OutputError("--plot needs matplotlib", hint="pip install 'mbcalc[plot]'") from None

    figure, axes = plt.subplots(figsize=(7, 5), dpi=120)
    lines = range(len(grid.resolutions)) if by == "res" else range(len(grid.alphas))
    for line in lines:
        cells = (
            [(a, line) for a in range(len(grid.alphas))]
            if by == "res"
            else [(line, r) for r in range(len(grid.resolutions))]
        )
        cells = [cell for cell in cells if grid.valid[cell]]
        if not cells:
            continue
        label = (
            f"{grid.resolutions[line][0]}x{grid.resolutions[line][1]}"
            if by == "res"
            else f"alpha {multiplier(grid.alphas[line])}"
        )
        axes.plot(
            [int(grid.params[cell]) for cell in cells],
            [int(grid.mult_adds[cell]) for cell in cells],
            marker="o",
            markersize=3,
            label=label,
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.yaxis.set_minor_formatter(NullFormatter())
    axes.set_xlabel("parameters")
    axes.set_ylabel("mult-adds")
    axes.set_title(f"{grid.spec.name}: mult-adds against parameters")
    axes.grid(True, which="both", alpha=0.3)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(title="resolution" if by == "res" else "width", fontsize="small")
    buffer = io.BytesIO()
    figure.savefig(buffer, format=suffix.lstrip("."), bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()
