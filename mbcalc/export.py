"""Report -> JSON (schema mbcalc.report/1), CSV and Markdown text."""

from __future__ import annotations

import json
from typing import Any

from mbcalc.convention import CONVENTION
from mbcalc.numbers import decimal, dims, exact, multiplier, percent, ratio, reciprocals, window
from mbcalc.report import OpRow, Report, UnitRow

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


def report_record(report: Report) -> dict[str, Any]:
    """The whole report as JSON-ready data; counts stay exact integers."""
    graph = report.graph
    names = tuple(op.name for op in graph.ops)
    total = report.total
    return {
        "schema": SCHEMA,
        "spec": graph.spec.name,
        "alpha": float(graph.alpha),
        "resolution": list(graph.resolution),
        "rho": decimal(graph.rho),
        "rounding": graph.spec.rounding,
        "input": list(graph.input_shape),
        "convention": CONVENTION,
        "layers": [layer_record(row, names) for row in report.rows],
        "units": [unit_record(unit) for unit in report.units],
        "total": {
            "mult_adds": total.cost.mult_adds,
            "params": total.cost.params,
            "bn_params": total.cost.bn_params,
            "standard_mult_adds": total.standard_mult_adds,
            "reduction": decimal(total.reduction),
        },
    }


def to_json(report: Report) -> str:
    return json.dumps(report_record(report), indent=2) + "\n"


def to_csv(report: Report) -> str:
    """One row per op; the numeric columns sum to the report's totals."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(LAYER_FIELDS)
    names = tuple(row.op.name for row in report.rows)
    for row in report.rows:
        record = layer_record(row, names)
        writer.writerow(
            "" if record[key] is None else dims(record[key]) if isinstance(record[key], list)
            else record[key]
            for key in LAYER_FIELDS
        )  # fmt: skip
    return buffer.getvalue()


def to_markdown(report: Report) -> str:
    """A paste-ready Markdown table with exact counts, unit subtotals, totals and settings."""
    graph = report.graph
    lines = [
        f"**{_md(graph.spec.name)}** — alpha {multiplier(graph.alpha)}, "
        f"input {dims(graph.input_shape)}, rounding {graph.spec.rounding}",
        "",
        "| layer | op | kernel | input → output | mult-adds | % | params | BN params | reduction |",
        "|---|---|---|---|--:|--:|--:|--:|---|",
    ]
    for section in report.sections():
        if section.unit is not None:
            lines.append(_markdown_unit_row(report, section.unit))
        lines.extend(_markdown_op_row(report, row) for row in section.rows)
    total = report.total
    lines += [
        f"| **total** | | | | **{exact(total.cost.mult_adds)}** | **100.00%** | "
        f"**{exact(total.cost.params)}** | **{exact(total.cost.bn_params)}** | |",
        "",
        f"With every separable unit a standard convolution: "
        f"{exact(total.standard_mult_adds)} mult-adds; reduction "
        f"{decimal(total.reduction, 4)}.",
        "",
        f"_{CONVENTION[0].upper()}{CONVENTION[1:]}._",
        "",
    ]
    return "\n".join(lines)


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
    reduction = ""
    if unit.reduction is not None and unit.reduction_terms is not None:
        reduction = f"{ratio(unit.reduction)} = {reciprocals(*unit.reduction_terms)}"
    cost = unit.cost
    return (
        f"| **{_md(unit.unit.name)}** | {unit.unit.type.value} | | "
        f"{dims(first.input)} → {dims(last.output)} | **{exact(cost.mult_adds)}** | "
        f"**{percent(report.share(cost.mult_adds))}** | **{exact(cost.params)}** | "
        f"**{exact(cost.bn_params)}** | {reduction} |"
    )


def _md(text: str) -> str:
    return text.replace("|", "\\|")
