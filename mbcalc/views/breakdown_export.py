"""The breakdown by layer type as JSON (mbcalc.breakdown/1), CSV and Markdown."""

from __future__ import annotations

import json
from typing import Any

from mbcalc.core.by_type import CategoryRow, breakdown
from mbcalc.core.report import Report
from mbcalc.views.convention import CONVENTION, markdown_convention
from mbcalc.views.escape import for_markdown
from mbcalc.views.formats import dims, exact, percent
from mbcalc.views.text import category_label, csv_text, setting, setting_record, share_value

BREAKDOWN_SCHEMA = "mbcalc.breakdown/1"

BREAKDOWN_FIELDS = (
    "type", "family", "kernel", "ops", "mult_adds", "mult_adds_share", "params", "params_share",
    "bn_params",
)  # fmt: skip


def category_record(report: Report, row: CategoryRow) -> dict[str, Any]:
    cost = row.cost
    kernel = row.category.kernel
    return {
        "type": category_label(row.category),
        "family": row.category.family.value,
        "kernel": None if kernel is None else list(kernel),
        "ops": row.ops,
        "mult_adds": cost.mult_adds,
        "mult_adds_share": share_value(report.share(cost.mult_adds)),
        "params": cost.params,
        "params_share": share_value(report.param_share(cost.params)),
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
    return csv_text(rows)


def breakdown_to_markdown(report: Report) -> str:
    """A Markdown table of the layer types with exact counts, shares and a totals row."""
    total = report.total.cost
    lines = [
        f"**{for_markdown(report.graph.spec.name)}** — {setting(report)}: mult-adds and params "
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
        markdown_convention(),
        "",
    ]
    return "\n".join(lines)
