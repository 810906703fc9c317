"""The roofline in the terminal: each op's arithmetic intensity against the ridge point."""

from __future__ import annotations

import math
from fractions import Fraction

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from mbcalc.deploy.deployment import Deployment
from mbcalc.deploy.roofline import Bound, Roofline
from mbcalc.views import deploy_views
from mbcalc.views.escape import for_terminal, visible
from mbcalc.views.fitted import KEEP, NAME_FIT, ColumnFit, FittedTable
from mbcalc.views.formats import duration, percent, rate
from mbcalc.views.label_grid import label_grid

STRIP = 32
"""Characters of the log-scale intensity strip."""


def _scale(estimate: Roofline) -> tuple[float, float]:
    """log10 of the strip's ends: every nonzero intensity and the ridge, with some margin."""
    points = [float(op.intensity) for op in estimate.ops if op.intensity > 0]
    points.append(float(estimate.device.ridge))
    return math.log10(min(points)) - 0.15, math.log10(max(points)) + 0.15


def _strip(intensity: Fraction, ridge: Fraction, ends: tuple[float, float], bound: Bound) -> Text:
    low, high = ends
    cells = [" "] * STRIP

    def place(value: Fraction) -> int:
        if value <= 0:
            return 0
        fraction = (math.log10(float(value)) - low) / (high - low)
        return min(STRIP - 1, max(0, round(fraction * (STRIP - 1))))

    cells[place(ridge)] = "┃"
    text = Text("".join(cells), style="dim")
    marker = "◂" if intensity <= 0 else "●"
    text.stylize("bold " + ("yellow" if bound is Bound.MEMORY else "cyan"), place(intensity))
    position = place(intensity)
    return Text.assemble(
        text[:position], Text(marker, style="yellow" if bound is Bound.MEMORY else "cyan"),
        text[position + 1 :],
    )  # fmt: skip


def roofline_view(deployment: Deployment) -> RenderableType:
    """Per op: intensity on a log strip with the ridge marked ┃, bound, attainable rate, time."""
    estimate = deployment.roofline
    assert estimate is not None
    report = deployment.memory.report
    device = estimate.device
    ends = _scale(estimate)
    table = Table(
        title=for_terminal(
            f"{report.graph.spec.name} on {device.name} — "
            f"{deployment.memory.dtype.value}, batch {deployment.memory.batch}"
        ),  # escaped whole: `[` in one name and `]` in the other would make a tag
        header_style="bold",
    )
    table.add_column("layer", no_wrap=True)
    table.add_column("op", no_wrap=True)
    table.add_column("MAC/B", justify="right", no_wrap=True)
    table.add_column(
        f"intensity (log), ridge {float(device.ridge):.1f}", no_wrap=True, min_width=STRIP
    )
    table.add_column("bound", no_wrap=True)
    table.add_column("attains", justify="right", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("% time", justify="right", no_wrap=True)
    table.add_column("% mult-adds", justify="right", no_wrap=True)
    for index, (row, time) in enumerate(zip(report.rows, estimate.ops, strict=True)):
        seconds = estimate.op_time(index)  # a calibrated device's estimate, else the bound
        table.add_row(
            Text(visible(row.op.name)),
            row.op.kind.value,
            f"{float(time.intensity):.1f}",
            _strip(time.intensity, device.ridge, ends, time.bound),
            Text(time.bound.value, style="yellow" if time.bound is Bound.MEMORY else "cyan"),
            rate(float(time.attained), "MAC/s") if time.mult_adds else "—",
            duration(float(seconds)),
            percent(estimate.share(seconds)),
            percent(report.share(row.cost.mult_adds)),
        )
    grid = label_grid()
    for label, text in deploy_views.summary_rows(deployment, visible):
        grid.add_row(label, Text(text))
    return Group(FittedTable(table, ROOFLINE_FITS), Text(), grid)


ROOFLINE_FITS = (
    NAME_FIT,  # layer
    ColumnFit(drop=2, name="op"),
    KEEP,  # MAC/B
    ColumnFit(drop=3, name="intensity"),
    KEEP,  # bound
    ColumnFit(drop=1, name="attains"),
    KEEP,  # time
    KEEP,  # % time
    ColumnFit(drop=4, short="% MACs", name="% mult-adds"),
)
"""How the roofline table's columns yield to a narrow width: the strip goes last but one."""
