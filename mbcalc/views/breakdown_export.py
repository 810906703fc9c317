"""The breakdown by layer type as JSON (mbcalc.breakdown/1), CSV and Markdown."""

from __future__ import annotations

import json
from typing import Any

from mbcalc.core.by_type import CategoryRow, breakdown
from mbcalc.core.profiles import CountedByType
from mbcalc.core.report import Report
from mbcalc.views.convention import CONVENTION, markdown_convention
from mbcalc.views.deploy_views import counted_record, profile_record, profile_rows
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


def breakdown_record(report: Report, counted: CountedByType | None = None) -> dict[str, Any]:
    """Mult-adds and params by layer type (the paper's Table 2) as JSON-ready data; under a
    counting profile, with `profile` and each type's and the total's `counted`."""
    total = report.total.cost
    types = [category_record(report, row) for row in breakdown(report)]
    record: dict[str, Any] = {
        "schema": BREAKDOWN_SCHEMA,
        **setting_record(report),
        "convention": CONVENTION,
        "types": types,
        "total": {
            "mult_adds": total.mult_adds,
            "params": total.params,
            "bn_params": total.bn_params,
        },
    }
    if counted is not None:
        record["profile"] = profile_record(counted.total)
        for row, entry in zip(breakdown(report), types, strict=True):
            entry["counted"] = counted_record(counted.types[row.category])
        record["total"]["counted"] = counted_record(counted.total)
    return record


def breakdown_to_json(report: Report, counted: CountedByType | None = None) -> str:
    return json.dumps(breakdown_record(report, counted), indent=2) + "\n"


def breakdown_to_csv(report: Report, counted: CountedByType | None = None) -> str:
    """One row per layer type; the count columns sum to the report's totals. Under a counting
    profile, each type's operations and params as the profile counts them."""
    added = ["profile", "operations", "counted_params"] if counted else []
    rows: list[list[Any]] = [[*BREAKDOWN_FIELDS, *added]]
    for row in breakdown(report):
        record = category_record(report, row)
        kernel = record["kernel"]
        record["kernel"] = None if kernel is None else dims(kernel)
        line = [record[key] for key in BREAKDOWN_FIELDS]
        if counted is not None:
            one = counted.types[row.category]
            line += [one.profile.name, one.operations, one.params]
        rows.append(line)
    return csv_text(rows)


def breakdown_to_markdown(report: Report, counted: CountedByType | None = None) -> str:
    """A Markdown table of the layer types with exact counts, shares and a totals row; under a
    counting profile, each type's operations as it counts them, and the profile's lines."""
    total = report.total.cost
    operations = " operations |" if counted else ""
    lines = [
        f"**{for_markdown(report.graph.spec.name)}** — {setting(report)}: mult-adds and params "
        "by layer type",
        "",
        f"| type | ops | mult-adds | % | params | % | BN params |{operations}",
        "|---|--:|--:|--:|--:|--:|--:|" + ("--:|" if counted else ""),
    ]
    rows = breakdown(report)
    for row in rows:
        cost = row.cost
        added = f" {exact(counted.types[row.category].operations)} |" if counted else ""
        lines.append(
            f"| {category_label(row.category)} | {row.ops} | {exact(cost.mult_adds)} | "
            f"{percent(report.share(cost.mult_adds))} | {exact(cost.params)} | "
            f"{percent(report.param_share(cost.params))} | {exact(cost.bn_params)} |{added}"
        )
    added = f" **{exact(counted.total.operations)}** |" if counted else ""
    lines += [
        f"| **total** | | **{exact(total.mult_adds)}** | "
        f"**100.00%** | **{exact(total.params)}** | **100.00%** | **{exact(total.bn_params)}** |"
        + added,
        "",
    ]
    if counted is not None:
        profile_lines = profile_rows(counted.total)
        lines += [f"- {label}: {for_markdown(text)}" for label, text in profile_lines] + [""]
    lines += [markdown_convention(), ""]
    return "\n".join(lines)
