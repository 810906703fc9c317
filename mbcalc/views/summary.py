"""A report's totals alone (`mbcalc table --summary`), in every format. Formatting only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.text import Text

from mbcalc.views import deploy_views
from mbcalc.views.convention import markdown_convention
from mbcalc.views.escape import for_markdown, visible
from mbcalc.views.export import json_document, report_record
from mbcalc.views.formats import decimal, dims, exact, exact_number
from mbcalc.views.label_grid import label_grid
from mbcalc.views.text import csv_text, multipliers

if TYPE_CHECKING:
    from mbcalc.core.profiles import Counted
    from mbcalc.core.report import Report
    from mbcalc.deploy.deployment import Deployment

SUMMARY_FIELDS = (
    "spec", "alpha", "height", "width", "mult_adds", "params", "bn_params", "activations",
    "standard_mult_adds", "reduction",
)  # fmt: skip
PROFILE_FIELDS = ("profile", "operations", "counted_params")
ROWS = ("layers", "units")
"""The per-op and per-unit lists of the full report, which the summary leaves out."""


def _profile(counted: Counted | None) -> Counted | None:
    """The totals under the counting profile, unless that is the paper's unchanged."""
    return None if counted is None or counted.profile.is_paper else counted


def totals_line(report: Report) -> str:
    """`MobileNet v1 · alpha 1 · 224x224 · 568,740,352 mult-adds · 4,210,088 params · ...`,
    BN params and activations."""
    graph, cost = report.graph, report.total.cost
    aux = report.aux_cost() is not None
    return (
        f"{graph.spec.name} · {multipliers(graph, ' · ')} · {dims(graph.resolution)} · "
        f"{exact(cost.mult_adds)} mult-adds · {exact(cost.params)} params · "
        f"{exact(cost.bn_params)} BN params · {exact(report.total.activations)} activations"
        + (f" (aux head: {exact(cost.aux_mult_adds)} mult-adds, train only)" if aux else "")
    )


def summary_view(
    report: Report, deployment: Deployment | None = None, counted: Counted | None = None
) -> RenderableType:
    """One line of totals with the setting; the counting profile's and the deployment's lines
    beneath it where they are asked for."""
    rows = deploy_views.profile_rows(_profile(counted))
    rows += deploy_views.summary_rows(deployment, visible)
    if not rows:
        return Text(visible(totals_line(report)))
    grid = label_grid()
    for label, text in rows:
        grid.add_row(label, Text(visible(text)))
    return Group(Text(visible(totals_line(report))), grid)


def summary_json(
    report: Report, deployment: Deployment | None = None, counted: Counted | None = None
) -> str:
    """The JSON report without its `layers` and `units`: the same keys otherwise."""
    record = report_record(report, deployment, counted)
    return json_document({key: value for key, value in record.items() if key not in ROWS})


def summary_csv(
    report: Report, deployment: Deployment | None = None, counted: Counted | None = None
) -> str:
    """A header and one row of totals; the counting profile's columns where one is asked for."""
    graph, total = report.graph, report.total
    row: list[Any] = [
        graph.spec.name, exact_number(graph.alpha), *graph.resolution, total.cost.mult_adds,
        total.cost.params, total.cost.bn_params, total.activations, total.standard_mult_adds,
        decimal(total.reduction),
    ]  # fmt: skip
    header = list(SUMMARY_FIELDS)
    chosen = _profile(counted)
    if chosen is not None:
        header += PROFILE_FIELDS
        row += [chosen.profile.name, chosen.operations, chosen.params]
    return csv_text([header, row])


def summary_markdown(
    report: Report, deployment: Deployment | None = None, counted: Counted | None = None
) -> str:
    """The totals line, the profile's and the deployment's lines, and the convention."""
    lines = [for_markdown(totals_line(report)), ""]
    rows = deploy_views.profile_rows(_profile(counted))
    rows += deploy_views.summary_rows(deployment, for_markdown)
    if rows:
        lines += [f"- {label}: {text}" if label else f"  - {text}" for label, text in rows]
        lines.append("")
    return "\n".join([*lines, markdown_convention(), ""])
