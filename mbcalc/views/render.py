"""Report -> Rich renderables for the terminal. Reads the report; computes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from mbcalc.core.by_type import breakdown
from mbcalc.core.compare import Layout
from mbcalc.core.report import OpRow, Report, UnitRow
from mbcalc.views import deploy_views
from mbcalc.views.aux_text import mult_adds_text
from mbcalc.views.compare_export import (
    MISSING,
    compare_legend,
    counted_lines,
    layout_note,
    position_mark,
    ratio_text,
)
from mbcalc.views.convention import CONVENTION
from mbcalc.views.escape import for_terminal, visible
from mbcalc.views.fitted import KEEP, MULT_ADDS_FIT, NAME_FIT, ColumnFit, FittedTable, Give
from mbcalc.views.fitted_fixed import ColumnGroup, FittedFixedTable
from mbcalc.views.fixed_table import Cell, FixedColumn, FixedTable, Styled
from mbcalc.views.formats import (
    dims,
    exact,
    human,
    op_window,
    percent,
    ratio,
    unit_share,
)
from mbcalc.views.label_grid import label_grid
from mbcalc.views.report_lines import total_lines
from mbcalc.views.text import category_label, multipliers, reduction_text, setting

if TYPE_CHECKING:
    from mbcalc.core.compare import Change, Column, Comparison
    from mbcalc.core.profiles import Counted, CountedByType
    from mbcalc.deploy.deployment import Deployment


def report_view(
    report: Report, deployment: Deployment | None = None, counted: Counted | None = None
) -> RenderableType:
    """The per-op table with its totals footer and the summary beneath it.

    With a deployment, memory and roofline columns and summary lines are added.
    """
    return Group(
        fitted_op_table(report, deployment),
        Text(),
        summary(report, deployment, counted),
        convention_line(),
    )


def convention_line() -> Text:
    """The convention under a terminal report, dimmed."""
    return Text(CONVENTION, style="dim")


OP_FITS = (
    ColumnFit(Give.CUT, narrowest=10),  # layer
    ColumnFit(Give.CUT, narrowest=6),  # op
    ColumnFit(drop=3, name="kernel"),
    ColumnFit(drop=2, name="input → output"),
    KEEP,  # mult-adds
    ColumnFit(drop=5, name="%"),
    KEEP,  # params
    ColumnFit(drop=4, name="BN"),
    ColumnFit(drop=1, name="reduction"),
)
"""How each column of the per-op table yields to a narrow width; the deployment's never do."""


def fitted_op_table(report: Report, deployment: Deployment | None = None) -> FittedFixedTable:
    """The per-op table within the console's width; narrower than `SPLIT_BELOW`, the
    deployment columns move to a table of their own."""
    table = op_table(report, deployment)
    groups = [
        ColumnGroup(title, columns)
        for title, columns in deploy_views.column_groups(deployment, len(OP_FITS), for_terminal)
    ]
    fits = [*OP_FITS, *(KEEP for _ in range(len(table.columns) - len(OP_FITS)))]
    return FittedFixedTable(table, fits, groups, for_terminal(report.graph.spec.name))


def op_table(report: Report, deployment: Deployment | None = None) -> FixedTable:
    """One row per op under its unit's row, with the totals as the footer."""
    graph = report.graph
    total = report.total.cost
    columns = [
        FixedColumn("layer", footer="total"),
        FixedColumn("op"),
        FixedColumn("kernel"),
        FixedColumn("input → output"),
        FixedColumn("mult-adds", human(total.mult_adds), "right"),
        FixedColumn("%", "100.00%", "right"),
        FixedColumn("params", human(total.params), "right"),
        FixedColumn("BN", human(total.bn_params), "right"),
        FixedColumn("reduction"),
    ]
    columns += [
        FixedColumn(heading, footer, "right")
        for heading, footer in zip(
            deploy_views.columns(deployment), deploy_views.footers(deployment), strict=True
        )
    ]
    table = FixedTable(
        f"{for_terminal(graph.spec.name)} — {multipliers(graph)}, "
        f"{graph.resolution[0]}x{graph.resolution[1]}",
        columns,
    )
    unit_cells: dict[object, Cells] = {}  # units and ops alike: cells made once
    op_cells: dict[object, Cells] = {}
    for section in report.sections():
        unit = section.unit
        if unit is not None:
            name = Styled(visible(unit.unit.name), "bold")
            extra = deploy_views.unit_cells(deployment, unit)
            table.add_row(name, *_unit_cells(report, unit, unit_cells), *extra)
        for row in section.rows:
            op = row.op
            if unit is None:
                name = Styled(visible(op.name), "")
            else:
                name = Styled(visible(f"  {op.name.removeprefix(op.unit)}"), "dim")
            extra = deploy_views.op_cells(deployment, op.index)
            table.add_row(name, *_op_cells(report, row, op_cells), *extra)
    return table


Cells = tuple[Cell, ...]


def _unit_cells(report: Report, unit: UnitRow, known: dict[object, Cells]) -> Cells:
    """A unit row's cells after its name; `known` holds those of the units seen."""
    first, last, cost = unit.rows[0].op, unit.rows[-1].op, unit.cost
    terms = unit.reduction_terms
    key = (unit.unit.type, first.input, last.output, id(cost), unit.standard_mult_adds, terms)
    cells = known.get(key)
    if cells is None:
        cells = known[key] = (
            Styled(unit.unit.type.value, "bold"),
            "",
            f"{dims(first.input)} → {dims(last.output)}",
            Styled(mult_adds_text(cost, first.aux, human), "bold"),
            Styled("" if first.aux else unit_share(report.share(cost.mult_adds)), "bold"),
            Styled(human(cost.params), "bold"),
            Styled(human(cost.bn_params), "bold"),
            reduction_text(unit),
        )
    return cells


def _op_cells(report: Report, row: OpRow, known: dict[object, Cells]) -> Cells:
    """An op row's cells after its name; `known` holds those of the ops seen."""
    op, cost = row.op, row.cost
    key = (op.kind, op.kernel, op.stride, op.partition, op.input, op.output, id(cost))
    cells = known.get(key)
    if cells is None:
        cells = known[key] = (
            op.kind.value,
            op_window(op),
            f"{dims(op.input)} → {dims(op.output)}",
            mult_adds_text(cost, op.aux, human),
            "" if op.aux else percent(report.share(cost.mult_adds)),
            human(cost.params),
            human(cost.bn_params),
            "",
        )
    return cells


def summary(
    report: Report, deployment: Deployment | None = None, counted: Counted | None = None
) -> Table:
    """Totals, the standard-convolution twin, the settings and the counting convention."""
    grid = label_grid()
    for label, text in total_lines(report):
        grid.add_row(label, text)
    rows = deploy_views.profile_rows(counted) + deploy_views.summary_rows(deployment, visible)
    for label, text in rows:
        grid.add_row(label, Text(text))
    return grid


# --- mult-adds and params by layer type ------------------------------------------------------


def breakdown_view(report: Report, counted: CountedByType | None = None) -> RenderableType:
    """The paper's Table 2 for any network: mult-adds and params by layer type; under a
    counting profile, each type's operations as it counts them, and the profile's lines."""
    graph = report.graph
    total = report.total.cost
    table = Table(
        title=Text(
            f"{visible(graph.spec.name)} — {setting(report)}: mult-adds and params by layer type"
        ),
        show_footer=True,
        header_style="bold",
        footer_style="bold",
    )
    table.add_column("type", footer="total", no_wrap=True)
    table.add_column("ops", justify="right", no_wrap=True)
    table.add_column("mult-adds", footer=human(total.mult_adds), justify="right", no_wrap=True)
    table.add_column("%", footer="100.00%", justify="right", no_wrap=True)
    table.add_column("params", footer=human(total.params), justify="right", no_wrap=True)
    table.add_column("%", footer="100.00%", justify="right", no_wrap=True)
    table.add_column("BN", footer=human(total.bn_params), justify="right", no_wrap=True)
    if counted is not None:
        footer = human(counted.total.operations)
        table.add_column("operations", footer=footer, justify="right", no_wrap=True)
    for row in breakdown(report):
        cost = row.cost
        added = [] if counted is None else [human(counted.types[row.category].operations)]
        table.add_row(
            category_label(row.category),
            str(row.ops),
            human(cost.mult_adds),
            percent(report.share(cost.mult_adds)),
            human(cost.params),
            percent(report.param_share(cost.params)),
            human(cost.bn_params),
            *added,
        )
    exact_total = (
        f"total: {exact(total.mult_adds)} mult-adds · {exact(total.params)} params · "
        f"{exact(total.bn_params)} BN params"
    )
    fits = [ColumnFit(Give.FOLD, narrowest=8), *(KEEP for _ in table.columns[1:])]
    parts: list[RenderableType] = [FittedTable(table, fits), Text(), Text(exact_total)]
    if counted is not None:
        parts.append(profile_grid(counted.total))
    return Group(*parts, convention_line())


def profile_grid(counted: Counted) -> Table:
    """The counting profile in force and what it counts, as labelled lines."""
    grid = label_grid()
    for label, text in deploy_views.profile_rows(counted):
        grid.add_row(Text(label), Text(visible(text)))
    return grid


# --- several networks side by side -----------------------------------------------------------

WINNER = "bold green"
"""How the column with the fewest mult-adds (or params) shows its total."""


def compare_view(
    comparison: Comparison,
    deployments: list[Deployment] | None = None,
    layout: Layout = Layout.LAYERS,
) -> RenderableType:
    """The aligned units of every column, the totals against the first, and the legend.

    With deployments (one per column), each column's peak memory, weights and latency too.
    `layout` TYPES shows the layer types side by side instead of the units, TOTALS the totals
    alone; a counting profile other than the paper's adds each column's totals under it.
    """
    legend = " · ".join(compare_legend(comparison))
    parts: list[RenderableType] = []
    if layout is Layout.LAYERS:
        parts += [_fitted_compare_table(comparison), Text()]
    parts.append(compare_summary(comparison))
    if layout is Layout.TYPES:
        from mbcalc.views.compare_types import by_type_table

        parts += [Text(), by_type_table(comparison)]
    lines = [(visible(label), visible(text)) for label, text in counted_lines(comparison)]
    if deployments:
        arguments = [visible(column.target.argument) for column in comparison.columns]
        lines += deploy_views.compare_lines(arguments, deployments, visible)
    if lines:
        grid = label_grid()
        for label, text in lines:
            grid.add_row(Text(label), Text(text))
        parts += [Text(), grid]
    note = layout_note(layout)
    if note is not None:
        parts.append(Text(note, style="yellow"))
    if layout is Layout.LAYERS:
        parts.append(Text(legend, style="dim"))
    return Group(*parts, convention_line())


COMPARED_COLUMNS = 4
"""Columns of each compared network but the first: name, mult-adds, params, ratio."""


def _fitted_compare_table(comparison: Comparison) -> FittedTable:
    """The aligned units, fitted to the width: names fold, and a table still too wide is split
    by network, each part repeating the first network's columns."""
    table = compare_table(comparison)
    fits = [_compare_fit(column.header, column.overflow) for column in table.columns]
    first = len(table.columns) - COMPARED_COLUMNS * (len(comparison.columns) - 1)
    return FittedTable(table, fits, keys=first, step=COMPARED_COLUMNS)


def _compare_fit(header: RenderableType, overflow: str) -> ColumnFit:
    """How a column of the comparison yields to a narrow width: names fold, numbers never."""
    if overflow == "fold":
        return NAME_FIT
    return MULT_ADDS_FIT if header == "mult-adds" else KEEP


def _total(text: str, winner: bool) -> Text:
    return Text(text, style=WINNER if winner else "")


def compare_table(comparison: Comparison) -> Table:
    columns = comparison.columns
    fewest_mult_adds, fewest_params = comparison.fewest_mult_adds(), comparison.fewest_params()
    table = Table(
        title=Text(" vs ".join(visible(column.report.graph.spec.name) for column in columns)),
        show_footer=True,
        header_style="bold",
        footer_style="bold",
    )
    marks = any(position_mark(row) for row in comparison.rows)
    if marks:
        table.add_column("", no_wrap=True)
    for k, column in enumerate(columns):
        total = column.report.total.cost
        heading = Text(f"{_argument(column)}\n{setting(column.report, ' · ')}")
        table.add_column(heading, footer="total", overflow="fold")
        table.add_column(
            "mult-adds",
            footer=_total(human(total.mult_adds), k in fewest_mult_adds),
            justify="right",
            no_wrap=True,
        )
        table.add_column(
            "params",
            footer=_total(human(total.params), k in fewest_params),
            justify="right",
            no_wrap=True,
        )
        if k:
            table.add_column(
                "ratio", footer=ratio_text(column.versus), justify="right", no_wrap=True
            )
    for row in comparison.rows:
        cells: list[RenderableType] = [position_mark(row)] if marks else []
        for k, (unit, against) in enumerate(zip(row.units, row.versus, strict=True)):
            if unit is None:
                cells += [Text(MISSING, style="dim"), "", ""]
            else:
                cost = unit.cost
                cells += [Text(visible(unit.unit.name)), human(cost.mult_adds), human(cost.params)]
            if k:
                cells.append(ratio_text(against))
        table.add_row(*cells)
    return table


def _argument(column: Column) -> str:
    """The argument as typed, its settings on a line of their own: `mobilenet_v1\n@alpha=0.5`."""
    target = column.target
    if target.argument == target.spec:
        return visible(target.argument)
    return f"{visible(target.spec)}\n{visible(target.argument.removeprefix(target.spec))}"


def _against(change: Change) -> str:
    if change.ratio is None:
        return f" ({change.delta:+,})"
    return f" ({change.delta:+,}, {ratio(change.ratio)}x)"


def compare_summary(comparison: Comparison) -> Table:
    """Each column's exact totals, against the first column's, and the winners."""
    columns = comparison.columns
    fewest_mult_adds, fewest_params = comparison.fewest_mult_adds(), comparison.fewest_params()
    grid = label_grid()
    for k, column in enumerate(columns):
        total, against = column.report.total.cost, column.versus
        line = Text(f"{visible(column.report.graph.spec.name)} · ")
        line.append(f"{exact(total.mult_adds)} mult-adds", WINNER if k in fewest_mult_adds else "")
        line.append("" if against is None else _against(against.mult_adds))
        line.append(" · ")
        line.append(f"{exact(total.params)} params", WINNER if k in fewest_params else "")
        line.append("" if against is None else _against(against.params))
        line.append(f" · {exact(total.bn_params)} BN params")
        line.append("" if against is None else _against(against.bn_params))
        line.append(f" · {exact(column.report.total.activations)} activations")
        activations = column.activations_versus
        line.append("" if activations is None else _against(activations))
        grid.add_row(Text(visible(column.target.argument)), line)
    winners = Text()
    for what, fewest in (("mult-adds", fewest_mult_adds), ("params", fewest_params)):
        names = ", ".join(visible(columns[k].target.argument) for k in fewest)
        winners.append(f"{' · ' if winners else ''}fewest {what}: ")
        winners.append(names, WINNER)
    grid.add_row("winner", winners)
    return grid
