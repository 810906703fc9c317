"""`mbcalc compare --format html`: several networks side by side as a page. Formatting only.

The aligned units of every column (or their layer types), then each column's totals against
the first, the winners, and the counting profile's and deployment's lines, as the terminal
shows them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mbcalc.core.compare import Layout
from mbcalc.views import deploy_views
from mbcalc.views.compare_export import (
    MISSING,
    change_text,
    compare_legend,
    counted_lines,
    layout_note,
    position_mark,
    ratio_text,
)
from mbcalc.views.formats import decimal, exact
from mbcalc.views.html_page import Column, cell, count_cell, lines, page, paragraph, row, section
from mbcalc.views.html_page import table as html_table
from mbcalc.views.text import category_label, setting

if TYPE_CHECKING:
    from mbcalc.core.compare import Change, Comparison, Versus
    from mbcalc.core.compare import Column as Compared
    from mbcalc.deploy.deployment import Deployment


def compare_html(
    comparison: Comparison,
    deployments: list[Deployment] | None = None,
    layout: Layout = Layout.LAYERS,
) -> str:
    """The page of `mbcalc compare`: units (or layer types) side by side, then the totals."""
    columns = comparison.columns
    arguments = [column.target.argument for column in columns]
    sections = []
    if layout is Layout.LAYERS:
        legend = paragraph("; ".join(compare_legend(comparison)) + ".", note=True)
        sections.append(section("Units side by side", _units_table(comparison), legend))
    note = layout_note(layout)
    totals = [_totals_table(comparison), paragraph(_winners(comparison))]
    notes = counted_lines(comparison)
    if deployments:
        notes += deploy_views.compare_lines(arguments, deployments, str)
    sections.append(section("Totals", *totals, lines(notes)))
    if layout is Layout.TYPES:
        sections.append(section("By layer type", _types_table(comparison)))
    if note is not None:
        sections.insert(0, paragraph(note + "."))
    heading = " vs ".join(arguments)
    return page(heading, heading, _setting_line(comparison), sections)


def _setting_line(comparison: Comparison) -> str:
    """Each column's spec and setting: `MobileNet v1, alpha 1, 224x224 · ...`."""
    return "; ".join(_column_title(column) for column in comparison.columns)


def _column_title(column: Compared) -> str:
    return f"{column.report.graph.spec.name}, {setting(column.report)}"


def _units_table(comparison: Comparison) -> str:
    """The aligned units: a column's unit, mult-adds, params and ratio to the first column."""
    columns = comparison.columns
    marks = any(position_mark(line) for line in comparison.rows)
    groups = [Column("", span=1)] if marks else []
    headings = [Column("", sortable=False)] if marks else []
    fewest_mult_adds, fewest_params = comparison.fewest_mult_adds(), comparison.fewest_params()
    foot = [cell("")] if marks else []
    for k, column in enumerate(columns):
        width = 4 if k else 3
        groups.append(Column(f"{column.target.argument} ({_column_title(column)})", span=width))
        headings += [Column("unit"), Column("mult-adds", True), Column("params", True)]
        headings += [Column("ratio", True, hover="mult-adds against the first column")] * bool(k)
        total = column.report.total.cost
        foot += [
            cell("total"),
            count_cell(total.mult_adds, exact(total.mult_adds), classes=_win(k, fewest_mult_adds)),
            count_cell(total.params, exact(total.params), classes=_win(k, fewest_params)),
        ]
        foot += [_ratio_cell(column.versus)] * bool(k)
    rows = []
    for line in comparison.rows:
        mark = position_mark(line)
        hover = "aligned by position: the structures differ here" if mark else ""
        cells = [cell(mark, hover=hover)] if marks else []
        for k, (unit, against) in enumerate(zip(line.units, line.versus, strict=True)):
            if unit is None:
                cells += [cell(MISSING, classes="missing"), cell(""), cell("")]
            else:
                cost = unit.cost
                cells += [
                    cell(unit.unit.name, unit.unit.name),
                    count_cell(cost.mult_adds, exact(cost.mult_adds)),
                    count_cell(cost.params, exact(cost.params)),
                ]
            cells += [_ratio_cell(against)] * bool(k)
        rows.append(row(cells))
    return html_table(headings, rows, groups=groups, foot=[row(foot, "total")])


def _win(k: int, fewest: tuple[int, ...]) -> str:
    return "winner" if k in fewest else ""


def _ratio_cell(against: Versus | None) -> str:
    ratio = None if against is None else against.mult_adds.ratio
    return cell(ratio_text(against), None if ratio is None else decimal(ratio), numeric=True)


TOTAL_COLUMNS = (
    Column("column"),
    Column("spec"),
    Column("mult-adds", True),
    Column("vs first", True),
    Column("params", True),
    Column("vs first", True),
    Column("BN params", True),
    Column("activations", True),
    Column("vs first", True),
)


def _totals_table(comparison: Comparison) -> str:
    """Each column's exact totals and their differences from the first column's."""
    fewest_mult_adds, fewest_params = comparison.fewest_mult_adds(), comparison.fewest_params()
    rows = []
    for k, column in enumerate(comparison.columns):
        total, against = column.report.total, column.versus
        cost = total.cost
        cells = [
            cell(column.target.argument, column.target.argument),
            cell(_column_title(column), column.report.graph.spec.name, classes="nowrap"),
            count_cell(cost.mult_adds, exact(cost.mult_adds), classes=_win(k, fewest_mult_adds)),
            _change_cell(None if against is None else against.mult_adds),
            count_cell(cost.params, exact(cost.params), classes=_win(k, fewest_params)),
            _change_cell(None if against is None else against.params),
            count_cell(cost.bn_params, exact(cost.bn_params)),
            count_cell(total.activations, exact(total.activations)),
            _change_cell(column.activations_versus),
        ]
        rows.append(row(cells))
    return html_table(TOTAL_COLUMNS, rows)


def _change_cell(change: Change | None) -> str:
    if change is None:
        return cell("", numeric=True)
    return count_cell(change.delta, change_text(change))


def _winners(comparison: Comparison) -> str:
    columns = comparison.columns
    return " · ".join(
        f"fewest {what}: " + ", ".join(columns[k].target.argument for k in fewest)
        for what, fewest in (
            ("mult-adds", comparison.fewest_mult_adds()),
            ("params", comparison.fewest_params()),
        )
    )


def _types_table(comparison: Comparison) -> str:
    """Mult-adds and params of every column by layer type."""
    groups = [Column("", span=1)] + [
        Column(column.target.argument, span=2) for column in comparison.columns
    ]
    headings = [Column("type")]
    headings += [Column("mult-adds", True), Column("params", True)] * len(comparison.columns)
    rows = []
    for line in comparison.by_type():
        label = category_label(line.category)
        cells = [cell(label, label)]
        for cost in line.costs:
            if cost is None:
                cells += [cell(MISSING, classes="missing"), cell("")]
            else:
                cells += [
                    count_cell(cost.mult_adds, exact(cost.mult_adds)),
                    count_cell(cost.params, exact(cost.params)),
                ]
        rows.append(row(cells))
    return html_table(headings, rows, groups=groups)
