"""Report -> JSON (schema mbcalc.report/1), CSV and Markdown text."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from rich.text import Text

from mbcalc import deploy_views
from mbcalc.convention import CONVENTION
from mbcalc.numbers import decimal, dims, exact, multiplier, percent, ratio, reciprocals, window
from mbcalc.report import Category, CategoryRow, Family, OpRow, Report, UnitRow, breakdown
from mbcalc.spec import LayerType

if TYPE_CHECKING:
    from mbcalc.compare import Column, Comparison, Row, Versus
    from mbcalc.costs import Cost
    from mbcalc.deployment import Deployment
    from mbcalc.profiles import Counted

SCHEMA = "mbcalc.report/1"

LAYER_FIELDS = (
    "name", "unit", "op", "kernel", "stride", "groups", "input", "output",
    "mult_adds", "params", "bn_params",
)  # fmt: skip


def layer_record(row: OpRow, names: tuple[str, ...]) -> dict[str, Any]:
    """One op as the report's `layers` entry; `names` maps op indices to names."""
    op = row.op
    return {
        "name": op.name,
        "unit": op.unit,
        "op": op.kind.value,
        "kernel": None if op.kernel is None else list(op.kernel),
        "stride": None if op.stride is None else list(op.stride),
        "groups": op.groups,
        "input": list(op.input),
        "output": list(op.output),
        "mult_adds": row.cost.mult_adds,
        "params": row.cost.params,
        "bn_params": row.cost.bn_params,
        "sources": ["input" if i < 0 else names[i] for i in op.sources],
        "act": op.act,
    }


def unit_record(unit: UnitRow) -> dict[str, Any]:
    record: dict[str, Any] = {
        "name": unit.unit.name,
        "type": unit.unit.type.value,
        "mult_adds": unit.cost.mult_adds,
        "params": unit.cost.params,
        "bn_params": unit.cost.bn_params,
    }
    if unit.standard_mult_adds is not None and unit.reduction is not None:
        record["standard_mult_adds"] = unit.standard_mult_adds
        record["reduction"] = decimal(unit.reduction)
    return record


def report_record(
    report: Report, deployment: Deployment | None = None, counted: Counted | None = None
) -> dict[str, Any]:
    """The whole report as JSON-ready data; counts stay exact integers.

    A deployment adds `memory` and `roofline` objects to each layer and to the total.
    """
    graph = report.graph
    names = tuple(op.name for op in graph.ops)
    total = report.total
    return {
        "schema": SCHEMA,
        **setting_record(report),
        "convention": CONVENTION,
        **({} if counted is None else {"profile": deploy_views.profile_record(counted)}),
        "layers": [
            {**layer_record(row, names), **deploy_views.layer_fields(deployment, row.op.index)}
            for row in report.rows
        ],
        "units": [unit_record(unit) for unit in report.units],
        "total": {
            "mult_adds": total.cost.mult_adds,
            "params": total.cost.params,
            "bn_params": total.cost.bn_params,
            "standard_mult_adds": total.standard_mult_adds,
            "reduction": decimal(total.reduction),
            **deploy_views.total_fields(deployment),
            **({} if counted is None else {"counted": deploy_views.counted_record(counted)}),
        },
    }


def to_json(
    report: Report, deployment: Deployment | None = None, counted: Counted | None = None
) -> str:
    return json.dumps(report_record(report, deployment, counted), indent=2) + "\n"


def to_csv(
    report: Report, deployment: Deployment | None = None, counted: Counted | None = None
) -> str:
    """One row per op; the numeric columns sum to the report's totals."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(LAYER_FIELDS + deploy_views.csv_header(deployment))
    names = tuple(row.op.name for row in report.rows)
    for row in report.rows:
        record = layer_record(row, names)
        cells = [
            "" if record[key] is None else dims(record[key]) if isinstance(record[key], list)
            else record[key]
            for key in LAYER_FIELDS
        ]  # fmt: skip
        writer.writerow(cells + deploy_views.csv_cells(deployment, row.op.index))
    return buffer.getvalue()


def to_markdown(
    report: Report, deployment: Deployment | None = None, counted: Counted | None = None
) -> str:
    """A paste-ready Markdown table with exact counts, unit subtotals, totals and settings."""
    graph = report.graph
    extra = deploy_views.columns(deployment)
    lines = [
        f"**{_md(graph.spec.name)}** — alpha {multiplier(graph.alpha)}, "
        f"input {dims(graph.input_shape)}, rounding {graph.spec.rounding}",
        "",
        "| layer | op | kernel | input → output | mult-adds | % | params | BN params | reduction |"
        + "".join(f" {heading} |" for heading in extra),
        "|---|---|---|---|--:|--:|--:|--:|---|" + "--:|" * len(extra),
    ]
    for section in report.sections():
        if section.unit is not None:
            cells = deploy_views.unit_cells(deployment, section.unit)
            lines.append(_markdown_unit_row(report, section.unit) + _md_cells(cells))
        lines.extend(
            _markdown_op_row(report, row)
            + _md_cells(deploy_views.op_cells(deployment, row.op.index))
            for row in section.rows
        )
    total = report.total
    lines += [
        f"| **total** | | | | **{exact(total.cost.mult_adds)}** | **100.00%** | "
        f"**{exact(total.cost.params)}** | **{exact(total.cost.bn_params)}** | |"
        + _md_cells(list(deploy_views.footers(deployment))),
        "",
        f"With {twin_text(report)}: "
        f"{exact(total.standard_mult_adds)} mult-adds; reduction "
        f"{decimal(total.reduction, 4)}.",
        "",
    ]
    deployment_lines = [
        f"- {label}: {text}" if label else f"  - {text}"
        for label, text in deploy_views.profile_rows(counted)
        + deploy_views.summary_rows(deployment)
    ]
    if deployment_lines:
        lines += [*deployment_lines, ""]
    lines += [f"_{CONVENTION[0].upper()}{CONVENTION[1:]}._", ""]
    return "\n".join(lines)


def _md_cells(cells: list[str | Text]) -> str:
    return "".join(f" {_md(str(cell))} |" for cell in cells)


def _markdown_op_row(report: Report, row: OpRow) -> str:
    op = row.op
    geometry = "" if op.kernel is None or op.stride is None else window(op.kernel, op.stride)
    return (
        f"| {_md(op.name)} | {op.kind.value} | {geometry} | "
        f"{dims(op.input)} → {dims(op.output)} | {exact(row.cost.mult_adds)} | "
        f"{percent(report.share(row.cost.mult_adds))} | {exact(row.cost.params)} | "
        f"{exact(row.cost.bn_params)} | |"
    )


def _markdown_unit_row(report: Report, unit: UnitRow) -> str:
    first, last = unit.rows[0].op, unit.rows[-1].op
    reduction = reduction_text(unit)
    cost = unit.cost
    return (
        f"| **{_md(unit.unit.name)}** | {unit.unit.type.value} | | "
        f"{dims(first.input)} → {dims(last.output)} | **{exact(cost.mult_adds)}** | "
        f"**{percent(report.share(cost.mult_adds))}** | **{exact(cost.params)}** | "
        f"**{exact(cost.bn_params)}** | {reduction} |"
    )


def reduction_text(unit: UnitRow) -> str:
    """A unit's cost against its standard twin: with 1/N + 1/k^2 for a separable unit."""
    if unit.reduction is None:
        return ""
    if unit.reduction_terms is None:
        return f"{ratio(unit.reduction)} of a full conv"
    return f"{ratio(unit.reduction)} = {reciprocals(*unit.reduction_terms)}"


def twin_text(report: Report) -> str:
    """What the standard-convolution network replaces, in words."""
    if any(unit.unit.type is LayerType.MBCONV for unit in report.units):
        return "every separable unit, and every mbconv's depthwise conv, a full conv"
    return "every separable unit a full conv"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


# --- settings, shared by the views below ------------------------------------------------------


def setting(report: Report, separator: str = ", ") -> str:
    """The setting a report was computed at: `alpha 0.75, 224x224`."""
    graph = report.graph
    return f"alpha {multiplier(graph.alpha)}{separator}{dims(graph.resolution)}"


def setting_record(report: Report) -> dict[str, Any]:
    """The spec and setting of a report, as the JSON documents give them."""
    graph = report.graph
    return {
        "spec": graph.spec.name,
        "alpha": float(graph.alpha),
        "resolution": list(graph.resolution),
        "rho": decimal(graph.rho),
        "rounding": graph.spec.rounding,
        "input": list(graph.input_shape),
    }


def _share(value: Fraction) -> float:
    return decimal(value)


def _csv(rows: list[list[Any]]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        ["" if cell is None else cell for cell in row] for row in rows
    )
    return buffer.getvalue()


# --- breakdown by layer type (mbcalc.breakdown/1) -------------------------------------------

BREAKDOWN_SCHEMA = "mbcalc.breakdown/1"

FAMILY_LABELS = {
    Family.CONV: "Conv",
    Family.POINTWISE: "Conv",
    Family.DEPTHWISE: "Conv DW",
    Family.FC: "Fully connected",
    Family.SE: "Squeeze-excite",
    Family.OTHER: "Other",
}

BREAKDOWN_FIELDS = (
    "type", "family", "kernel", "ops", "mult_adds", "mult_adds_share", "params", "params_share",
    "bn_params",
)  # fmt: skip


def category_label(category: Category) -> str:
    """The paper's name for a layer type: `Conv 1x1`, `Conv DW 3x3`, `Fully connected`."""
    label = FAMILY_LABELS[category.family]
    return label if category.kernel is None else f"{label} {dims(category.kernel)}"


def category_record(report: Report, row: CategoryRow) -> dict[str, Any]:
    cost = row.cost
    kernel = row.category.kernel
    return {
        "type": category_label(row.category),
        "family": row.category.family.value,
        "kernel": None if kernel is None else list(kernel),
        "ops": row.ops,
        "mult_adds": cost.mult_adds,
        "mult_adds_share": _share(report.share(cost.mult_adds)),
        "params": cost.params,
        "params_share": _share(report.param_share(cost.params)),
        "bn_params": cost.bn_params,
    }


def breakdown_record(report: Report) -> dict[str, Any]:
    """Mult-adds and params by layer type (the paper's Table 2) as JSON-ready data."""
    total = report.total.cost
    return {
        "schema": BREAKDOWN_SCHEMA,
        **setting_record(report),
        "convention": CONVENTION,
        "types": [category_record(report, row) for row in breakdown(report)],
        "total": {
            "mult_adds": total.mult_adds,
            "params": total.params,
            "bn_params": total.bn_params,
        },
    }


def breakdown_to_json(report: Report) -> str:
    return json.dumps(breakdown_record(report), indent=2) + "\n"


def breakdown_to_csv(report: Report) -> str:
    """One row per layer type; the count columns sum to the report's totals."""
    rows: list[list[Any]] = [list(BREAKDOWN_FIELDS)]
    for row in breakdown(report):
        record = category_record(report, row)
        kernel = record["kernel"]
        record["kernel"] = None if kernel is None else dims(kernel)
        rows.append([record[key] for key in BREAKDOWN_FIELDS])
    return _csv(rows)


def breakdown_to_markdown(report: Report) -> str:
    """A Markdown table of the layer types with exact counts, shares and a totals row."""
    total = report.total.cost
    lines = [
        f"**{_md(report.graph.spec.name)}** — {setting(report)}: mult-adds and params "
        "by layer type",
        "",
        "| type | ops | mult-adds | % | params | % | BN params |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    rows = breakdown(report)
    for row in rows:
        cost = row.cost
        lines.append(
            f"| {category_label(row.category)} | {row.ops} | {exact(cost.mult_adds)} | "
            f"{percent(report.share(cost.mult_adds))} | {exact(cost.params)} | "
            f"{percent(report.param_share(cost.params))} | {exact(cost.bn_params)} |"
        )
    lines += [
        f"| **total** | | **{exact(total.mult_adds)}** | "
        f"**100.00%** | **{exact(total.params)}** | **100.00%** | **{exact(total.bn_params)}** |",
        "",
        f"_{CONVENTION[0].upper()}{CONVENTION[1:]}._",
        "",
    ]
    return "\n".join(lines)


# --- several networks side by side (mbcalc.compare/1) ----------------------------------------

COMPARE_SCHEMA = "mbcalc.compare/1"

COMPARE_FIELDS = (
    "row", "aligned", "column", "argument", "spec", "alpha", "resolution", "unit", "type",
    "mult_adds", "params", "bn_params", "mult_adds_delta", "params_delta", "bn_params_delta",
    "mult_adds_ratio", "params_ratio", "bn_params_ratio",
)  # fmt: skip

POSITION_MARK = "≈"
"""The marker beside a row whose units were paired by position."""

MISSING = "—"
"""What stands in a column that has no unit in a row."""


def compare_legend(comparison: Comparison) -> tuple[str, ...]:
    """How to read a comparison: how its rows were aligned, what the marks mean."""
    parts = [
        "rows aligned by unit name"
        if comparison.by_name
        else "rows aligned by unit structure (type, kernel, stride)",
        "ratio: mult-adds against the first column",
    ]
    marks = {row.aligned.value for row in comparison.rows}
    if "position" in marks:
        parts.append(f"{POSITION_MARK} aligned by position (the structures differ there)")
    if "only" in marks:
        parts.append(f"{MISSING} not in that network")
    return tuple(parts)


def position_mark(row: Row) -> str:
    """`≈` beside a row whose units were paired by position, else nothing."""
    return POSITION_MARK if row.aligned.value == "position" else ""


def column_heading(column: Column) -> str:
    """`mobilenet_v1@alpha=0.75 (MobileNet v1, alpha 0.75, 224x224)`."""
    return f"{column.target.argument} ({column.report.graph.spec.name}, {setting(column.report)})"


def versus_record(against: Versus | None) -> dict[str, Any] | None:
    if against is None:
        return None
    record: dict[str, Any] = {}
    for key, part in (
        ("mult_adds", against.mult_adds),
        ("params", against.params),
        ("bn_params", against.bn_params),
    ):
        record[f"{key}_delta"] = part.delta
        record[f"{key}_ratio"] = None if part.ratio is None else decimal(part.ratio)
    return record


def _compare_unit_record(unit: UnitRow | None) -> dict[str, Any] | None:
    if unit is None:
        return None
    return {
        "name": unit.unit.name,
        "type": unit.unit.type.value,
        "mult_adds": unit.cost.mult_adds,
        "params": unit.cost.params,
        "bn_params": unit.cost.bn_params,
    }


def compare_record(
    comparison: Comparison, deployments: list[Deployment] | None = None
) -> dict[str, Any]:
    """The comparison as JSON-ready data; counts stay exact integers.

    With deployments, each column gains a `deployment` object (peak memory, weights, latency).
    """
    columns = comparison.columns
    fewest_mult_adds, fewest_params = comparison.fewest_mult_adds(), comparison.fewest_params()
    extras = [
        {"deployment": deploy_views.compare_fields(deployment, deployments[0])}
        for deployment in deployments
    ] if deployments else [{} for _ in columns]  # fmt: skip
    return {
        "schema": COMPARE_SCHEMA,
        "convention": CONVENTION,
        "columns": [
            {
                "argument": column.target.argument,
                **setting_record(column.report),
                "total": {
                    "mult_adds": column.report.total.cost.mult_adds,
                    "params": column.report.total.cost.params,
                    "bn_params": column.report.total.cost.bn_params,
                },
                "vs_first": versus_record(column.versus),
                "fewest_mult_adds": k in fewest_mult_adds,
                "fewest_params": k in fewest_params,
                **extras[k],
            }
            for k, column in enumerate(columns)
        ],
        "rows": [
            {
                "aligned": row.aligned.value,
                "units": [_compare_unit_record(unit) for unit in row.units],
                "vs_first": [versus_record(against) for against in row.versus],
            }
            for row in comparison.rows
        ],
        "winner": {
            key: {"column": fewest[0], "argument": columns[fewest[0]].target.argument}
            for key, fewest in (("mult_adds", fewest_mult_adds), ("params", fewest_params))
            if fewest
        },
    }


def compare_to_json(comparison: Comparison, deployments: list[Deployment] | None = None) -> str:
    return json.dumps(compare_record(comparison, deployments), indent=2) + "\n"


def compare_to_csv(comparison: Comparison, deployments: list[Deployment] | None = None) -> str:
    """Long form: one line per row and column (empty unit fields where a column has none), then
    one `total` line per column; deployments add peak, weight bytes and latency to those."""
    extra = list(deploy_views.COMPARE_FIELDS) if deployments else []
    lines: list[list[Any]] = [list(COMPARE_FIELDS) + extra]
    for number, row in enumerate(comparison.rows, start=1):
        for k, (unit, against) in enumerate(zip(row.units, row.versus, strict=True)):
            name = (None, None) if unit is None else (unit.unit.name, unit.unit.type.value)
            cost = None if unit is None else unit.cost
            line = _csv_line(comparison, k, (number, row.aligned.value, *name), cost, against)
            lines.append(line + [None] * len(extra))
    for k, column in enumerate(comparison.columns):
        total = column.report.total.cost
        line = _csv_line(comparison, k, ("total", None, None, None), total, column.versus)
        deployment = deployments[k] if deployments else None
        lines.append(line + deploy_views.compare_csv_cells(deployment))
    return _csv(lines)


def _csv_line(
    comparison: Comparison,
    k: int,
    labels: tuple[Any, Any, Any, Any],
    cost: Cost | None,
    against: Versus | None,
) -> list[Any]:
    """One CSV line: `labels` are (row, aligned, unit, type) around column k's fields."""
    column = comparison.columns[k]
    graph = column.report.graph
    record = versus_record(against)
    return [
        *labels[:2],
        k + 1,
        column.target.argument,
        graph.spec.name,
        multiplier(graph.alpha),
        dims(graph.resolution),
        *labels[2:],
        *((None,) * 3 if cost is None else (cost.mult_adds, cost.params, cost.bn_params)),
        *(record[key] if record else None for key in COMPARE_FIELDS[-6:]),
    ]


def compare_to_markdown(comparison: Comparison, deployments: list[Deployment] | None = None) -> str:
    """Columns side by side with exact counts, a totals row, the differences and the winners."""
    columns = comparison.columns
    head, rule = [""], ["---"]
    for k, column in enumerate(columns):
        head += [_md(column_heading(column)), "mult-adds", "params"] + (["ratio"] if k else [])
        rule += ["---", "--:", "--:"] + (["--:"] if k else [])
    lines = [
        f"**Compared**: {', '.join(f'`{_md(c.target.argument)}`' for c in columns)}",
        "",
        f"_{'; '.join(compare_legend(comparison))}._",
        "",
        _md_row(head),
        _md_row(rule),
    ]
    for row in comparison.rows:
        cells = [position_mark(row)]
        for k, (unit, against) in enumerate(zip(row.units, row.versus, strict=True)):
            if unit is None:
                cells += [MISSING, "", ""]
            else:
                cost = unit.cost
                cells += [_md(unit.unit.name), exact(cost.mult_adds), exact(cost.params)]
            cells += [_ratio(against)] if k else []
        lines.append(_md_row(cells))
    totals = [""]
    for k, column in enumerate(columns):
        total = column.report.total.cost
        totals += ["**total**", f"**{exact(total.mult_adds)}**", f"**{exact(total.params)}**"]
        totals += [f"**{_ratio(column.versus)}**"] if k else []
    lines += [_md_row(totals), "", *_markdown_totals(comparison), ""]
    if deployments:
        arguments = [column.target.argument for column in columns]
        lines += [
            f"- `{_md(label)}`: {text}"
            for label, text in deploy_views.compare_lines(arguments, deployments)
        ]
        lines.append("")
    lines += [f"_{CONVENTION[0].upper()}{CONVENTION[1:]}._", ""]
    return "\n".join(lines)


def _md_row(cells: list[str]) -> str:
    return f"| {' | '.join(cells)} |"


def _ratio(against: Versus | None) -> str:
    if against is None or against.mult_adds.ratio is None:
        return ""
    return ratio(against.mult_adds.ratio)


def _signed(count: int) -> str:
    return f"{count:+,}"


def _markdown_totals(comparison: Comparison) -> list[str]:
    columns = comparison.columns
    lines = [
        "| column | mult-adds | vs first | params | vs first | BN params |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for column in columns:
        total = column.report.total.cost
        against = column.versus
        mult_adds = params = ""
        if against is not None:
            mult_adds = f"{_signed(against.mult_adds.delta)} ({_times(against.mult_adds.ratio)})"
            params = f"{_signed(against.params.delta)} ({_times(against.params.ratio)})"
        lines.append(
            f"| {_md(column_heading(column))} | {exact(total.mult_adds)} | {mult_adds} | "
            f"{exact(total.params)} | {params} | {exact(total.bn_params)} |"
        )
    fewest = [
        f"fewest {what}: " + ", ".join(f"`{_md(columns[k].target.argument)}`" for k in winners)
        for what, winners in (
            ("mult-adds", comparison.fewest_mult_adds()),
            ("params", comparison.fewest_params()),
        )
    ]
    return [*lines, "", f"F{'; '.join(fewest)[1:]}."]


def _times(value: Fraction | None) -> str:
    return "—" if value is None else f"{ratio(value)}x"
