"""Report -> Rich renderables for the terminal. Reads the report; computes nothing."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from mbcalc.convention import CONVENTION
from mbcalc.numbers import dims, exact, human, multiplier, percent, ratio, reciprocals, window
from mbcalc.report import OpRow, Report, UnitRow


def report_view(report: Report) -> RenderableType:
    """The per-op table with its totals footer and the summary beneath it."""
    return Group(op_table(report), Text(), summary(report), Text(CONVENTION, style="dim"))


def _geometry(row: OpRow) -> str:
    op = row.op
    if op.kernel is None or op.stride is None:
        return ""
    return window(op.kernel, op.stride)


def op_table(report: Report) -> Table:
    graph = report.graph
    total = report.total.cost
    table = Table(
        title=f"{graph.spec.name} — alpha {multiplier(graph.alpha)}, "
        f"{graph.resolution[0]}x{graph.resolution[1]}",
        show_footer=True,
        header_style="bold",
        footer_style="bold",
    )
    table.add_column("layer", footer="total", no_wrap=True)
    table.add_column("op", no_wrap=True)
    table.add_column("kernel", no_wrap=True)
    table.add_column("input → output", no_wrap=True)
    table.add_column("mult-adds", footer=human(total.mult_adds), justify="right", no_wrap=True)
    table.add_column("%", footer="100.00%", justify="right", no_wrap=True)
    table.add_column("params", footer=human(total.params), justify="right", no_wrap=True)
    table.add_column("BN", footer=human(total.bn_params), justify="right", no_wrap=True)
    table.add_column("reduction", no_wrap=True)

    for section in report.sections():
        if section.unit is not None:
            _add_unit_row(table, report, section.unit)
        for row in section.rows:
            _add_op_row(table, report, row, indent=section.unit is not None)
    return table


def _add_unit_row(table: Table, report: Report, unit: UnitRow) -> None:
    first, last = unit.rows[0].op, unit.rows[-1].op
    reduction = ""
    if unit.reduction is not None and unit.reduction_terms is not None:
        reduction = f"{ratio(unit.reduction)} = {reciprocals(*unit.reduction_terms)}"
    table.add_row(
        Text(unit.unit.name, style="bold"),
        Text(unit.unit.type.value, style="bold"),
        "",
        f"{dims(first.input)} → {dims(last.output)}",
        Text(human(unit.cost.mult_adds), style="bold"),
        Text(percent(report.share(unit.cost.mult_adds)), style="bold"),
        Text(human(unit.cost.params), style="bold"),
        Text(human(unit.cost.bn_params), style="bold"),
        reduction,
    )


def _add_op_row(table: Table, report: Report, row: OpRow, *, indent: bool) -> None:
    op = row.op
    name = f"  {op.name.removeprefix(op.unit)}" if indent else op.name
    table.add_row(
        Text(name, style="dim" if indent else ""),
        op.kind.value,
        _geometry(row),
        f"{dims(op.input)} → {dims(op.output)}",
        human(row.cost.mult_adds),
        percent(report.share(row.cost.mult_adds)),
        human(row.cost.params),
        human(row.cost.bn_params),
        "",
    )


def summary(report: Report) -> Table:
    """Totals, the standard-convolution twin, the settings and the counting convention."""
    graph = report.graph
    total = report.total
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row(
        "total",
        f"{exact(total.cost.mult_adds)} mult-adds · {exact(total.cost.params)} params · "
        f"{exact(total.cost.bn_params)} BN params",
    )
    grid.add_row(
        "standard conv",
        f"{exact(total.standard_mult_adds)} mult-adds with every separable unit a full conv",
    )
    speedup = f" ({float(1 / total.reduction):.2f}x fewer mult-adds)" if total.reduction else ""
    grid.add_row("reduction", f"{ratio(total.reduction)}{speedup}")
    grid.add_row(
        "settings",
        f"alpha {multiplier(graph.alpha)} · rho {multiplier(graph.rho)} · input "
        f"{dims(graph.input_shape)} · rounding {graph.spec.rounding}",
    )
    return grid
