"""`mbcalc table --format html`: the report of one spec as a page. Formatting only.

The header and setting, the per-op table under its units (with the deployment's columns when
asked for), bars of each layer's mult-adds and params (their widths the report's shares), and
the lines of totals the terminal prints under its table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mbcalc.views import deploy_views
from mbcalc.views.aux_text import aux_summary, mult_adds_text
from mbcalc.views.escape import for_html
from mbcalc.views.formats import dims, exact, op_window, percent, unit_share
from mbcalc.views.html_page import (
    Column,
    bar,
    cell,
    count_cell,
    lines,
    page,
    paragraph,
    row,
    section,
    table,
)
from mbcalc.views.report_lines import total_lines
from mbcalc.views.text import reduction_text, setting

if TYPE_CHECKING:
    from mbcalc.core.profiles import Counted
    from mbcalc.core.report import OpRow, Report, UnitRow
    from mbcalc.deploy.deployment import Deployment

OP_COLUMNS = (
    Column("layer"),
    Column("op"),
    Column("kernel", sortable=False),
    Column("input → output", sortable=False),
    Column("mult-adds", numeric=True),
    Column("%", numeric=True, hover="share of the network's mult-adds"),
    Column("params", numeric=True),
    Column("BN params", numeric=True),
    Column("reduction", sortable=False, hover="mult-adds against the standard-conv twin"),
)
"""The per-op table's columns, as the terminal's; the deployment's follow."""


def report_html(
    report: Report,
    deployment: Deployment | None = None,
    counted: Counted | None = None,
    summary: bool = False,
) -> str:
    """The page of `mbcalc table`; with `summary`, its header and totals alone."""
    name = report.graph.spec.name
    sections = [] if summary else [_op_section(report, deployment), _bars_section(report)]
    sections.append(section("Totals", total_markup(report, deployment, counted)))
    return page(
        f"{name} — {setting(report)}", name, setting_line(report, deployment, counted), sections
    )


def setting_line(report: Report, deployment: Deployment | None, counted: Counted | None) -> str:
    """`alpha 1 · 224x224 · profile paper · on jetson-nano (fp32, batch 1)`."""
    parts = [setting(report, " · ")]
    if counted is not None:
        parts.append(f"profile {counted.profile.name}")
    if deployment is not None:
        memory = deployment.memory
        where = "" if deployment.roofline is None else f"on {deployment.roofline.device.name} "
        parts.append(f"{where}({memory.dtype.value}, batch {memory.batch})")
    return " · ".join(parts)


def total_markup(report: Report, deployment: Deployment | None, counted: Counted | None) -> str:
    """The totals with the setting, the counting profile's and the deployment's lines."""
    rows = total_lines(report)
    rows += deploy_views.profile_rows(counted) + deploy_views.summary_rows(deployment, str)
    return lines(rows)


def _op_section(report: Report, deployment: Deployment | None) -> str:
    """Every op one row, each unit's ops under the unit's row; the totals as the foot."""
    extra = deploy_views.columns(deployment)
    columns = [*OP_COLUMNS, *(Column(heading, numeric=True) for heading in extra)]
    groups = []
    if extra:
        groups = [Column("", span=len(OP_COLUMNS))] + [
            Column(title, span=len(indices))
            for title, indices in deploy_views.column_groups(deployment, len(OP_COLUMNS), str)
        ]
    rows = []
    known: dict[object, str] = {}  # ops alike: their cells after the name, made once
    known_units: dict[object, str] = {}  # and units alike
    for part in report.sections():
        member = part.unit is not None
        if part.unit is not None:
            rows.append(_unit_row(report, part.unit, deployment, known_units))
        rows += [_op_row(report, op_row, deployment, member, known) for op_row in part.rows]
    total = report.total.cost
    foot = [
        cell("total"),
        cell(""),
        cell(""),
        cell(""),
        count_cell(total.mult_adds, exact(total.mult_adds)),
        cell("100.00%", numeric=True),
        count_cell(total.params, exact(total.params)),
        count_cell(total.bn_params, exact(total.bn_params)),
        cell(""),
        *(cell(text, numeric=True) for text in deploy_views.footers(deployment)),
    ]
    caption = "click a heading to sort by it (largest first, then smallest, then as built)"
    body = table(columns, rows, groups=groups, foot=[row(foot, "total")], classes="ops")
    return section("Per layer", body, paragraph(caption, note=True))


def _op_row(
    report: Report,
    op_row: OpRow,
    deployment: Deployment | None,
    member: bool,
    known: dict[object, str],
) -> str:
    """An op's row: its name (its unit's part dimmed, under a unit's row) and its cells, which
    `known` holds for the ops seen."""
    op = op_row.op
    if member and op.name.startswith(op.unit):
        rest = op.name.removeprefix(op.unit)
        name = cell(
            op.name, op.name, markup=f'<span class="prefix">{for_html(op.unit)}</span>'
            f"{for_html(rest)}",
        )  # fmt: skip
    else:
        name = cell(op.name, op.name)
    key = (
        op.kind,
        op.kernel,
        op.stride,
        op.partition,
        op.input,
        op.output,
        id(op_row.cost),
        op.aux,
    )
    cells = known.get(key)
    if cells is None:
        cells = known[key] = _op_cells(report, op_row)
    extra = "".join(_deployment_cells(deployment, op.index))
    return row([name, cells, extra], "op member" if member else "op", hover=_aux_hover(op.aux))


def _op_cells(report: Report, op_row: OpRow) -> str:
    """An op's cells after its name, as markup."""
    op, cost = op_row.op, op_row.cost
    mult_adds = cost.aux_mult_adds if op.aux else cost.mult_adds
    cells = [
        cell(op.kind.value, op.kind.value),
        cell(op_window(op), classes="nowrap"),
        cell(f"{dims(op.input)} → {dims(op.output)}", classes="nowrap"),
        count_cell(mult_adds, mult_adds_text(cost, op.aux, exact)),
        count_cell(
            None if op.aux else mult_adds,
            "" if op.aux else percent(report.share(cost.mult_adds)),
        ),
        count_cell(cost.params, exact(cost.params)),
        count_cell(cost.bn_params, exact(cost.bn_params)),
        cell(""),
    ]
    return "".join(cells)


def _aux_hover(aux: bool) -> str:
    return "auxiliary head: its mult-adds run in training only, out of the total" if aux else ""


def _deployment_cells(deployment: Deployment | None, index: int) -> list[str]:
    """The deployment's cells of op `index`, each sorted by the JSON report's figure."""
    texts = [str(text) for text in deploy_views.op_cells(deployment, index)]
    layer = deploy_views.layer_fields(deployment, index)
    values: list[Any] = []
    memory = layer.get("memory")
    if memory is not None:
        values += [memory[key] for key in deploy_views.MEMORY_FIELDS]
    roofline = layer.get("roofline")
    if roofline is not None:
        timed = layer.get("estimate", roofline)
        values += [roofline["intensity"], roofline["bound"], timed["seconds"], timed["time_share"]]
    cells = []
    for text, value in zip(texts, values, strict=True):
        bound = value if value in ("compute", "memory") else ""
        cells.append(cell(text, value, numeric=not bound, classes=bound))
    return cells


def _unit_row(
    report: Report, unit: UnitRow, deployment: Deployment | None, known: dict[object, str]
) -> str:
    """A unit's row: its name, type, shapes, counts and reduction (its cells after the name
    made once for the units alike, held in `known`), and its deployment's cells."""
    first, last, cost = unit.rows[0].op, unit.rows[-1].op, unit.cost
    key = (unit.unit.type, first.input, last.output, id(cost), unit.standard_mult_adds,
           unit.reduction_terms, first.aux)  # fmt: skip
    cells = known.get(key)
    if cells is None:
        cells = known[key] = "".join(
            [
                cell(unit.unit.type.value),
                cell(""),
                cell(f"{dims(first.input)} → {dims(last.output)}", classes="nowrap"),
                count_cell(None, mult_adds_text(cost, first.aux, exact)),
                count_cell(None, "" if first.aux else unit_share(report.share(cost.mult_adds))),
                count_cell(None, exact(cost.params)),
                count_cell(None, exact(cost.bn_params)),
                cell(reduction_text(unit), classes="nowrap"),
            ]
        )
    extra = [cell(str(text), numeric=True) for text in deploy_views.unit_cells(deployment, unit)]
    return row([cell(unit.unit.name), cells, *extra], "unit")


def _bars_section(report: Report) -> str:
    """Two bars per layer, mult-adds and params, each as long as the layer's share of the
    network's total, the largest layer's filling its track."""
    units = report.units
    mult_adds = [report.share(unit.cost.mult_adds) for unit in units]
    params = [report.param_share(unit.cost.params) for unit in units]
    most_mult_adds, most_params = max(mult_adds, default=0), max(params, default=0)
    rows = []
    known: dict[object, str] = {}  # units alike: their bars and figures, made once
    for unit, ma_share, pa_share in zip(units, mult_adds, params, strict=True):
        cost = unit.cost
        markup = known.get(id(cost))
        if markup is None:
            ma_text = f"{exact(cost.mult_adds)} mult-adds ({percent(ma_share)})"
            pa_text = f"{exact(cost.params)} params ({percent(pa_share)})"
            bars = bar(ma_share, most_mult_adds, "ma", ma_text) + bar(
                pa_share, most_params, "pa", pa_text
            )
            markup = known[id(cost)] = cell("", markup=bars, classes="track") + cell(
                "", numeric=True, markup=f"{for_html(ma_text)}<br>{for_html(pa_text)}"
            )
        rows.append(row([cell(unit.unit.name), markup]))
    legend = (
        '<p class="note"><span class="swatch bar ma"></span> mult-adds · '
        '<span class="swatch bar pa"></span> params; the largest layer of each fills its '
        "track.</p>"
    )
    aux = aux_summary(report)
    notes = [] if aux is None else [paragraph(f"Auxiliary head: {aux}.", note=True)]
    columns = [Column("layer"), Column("mult-adds and params"), Column("", numeric=True)]
    bars = table(columns, rows, sortable=False, classes="bars")
    return section("Mult-adds and params per layer", legend, bars, *notes)
