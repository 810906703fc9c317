"""Reports for notebooks: one plain record per op, setting or column (what
`pandas.DataFrame(records)` takes) and HTML tables of them. Formatting only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from mbcalc.core.by_type import categorized
from mbcalc.kinds import Pair
from mbcalc.views.escape import for_html
from mbcalc.views.formats import decimal, dims, exact
from mbcalc.views.text import category_label

if TYPE_CHECKING:
    from mbcalc.core.compare import Comparison
    from mbcalc.core.graph import Shape
    from mbcalc.core.report import Report
    from mbcalc.grid.fit import FitResult
    from mbcalc.grid.sweep import Grid

Record = dict[str, int | float | str | bool | None]
"""One row of a table: plain values only."""


@dataclass(frozen=True, slots=True)
class OpLine:
    """One op of a report as a notebook shows it: `type` is the paper's name of its layer type
    (`Conv DW 3x3`), `op` the primitive op (`depthwise`); shares are of the network's totals."""

    name: str
    unit: str
    type: str
    op: str
    kernel: Pair | None
    stride: Pair | None
    input: Shape
    output: Shape
    mult_adds: int
    params: int
    bn_params: int
    mult_adds_share: float
    params_share: float

    def record(self) -> Record:
        """Plain values: shapes as `112x112x32`, no kernel or stride as ""."""
        return {
            "name": self.name,
            "unit": self.unit,
            "type": self.type,
            "op": self.op,
            "kernel": "" if self.kernel is None else dims(self.kernel),
            "stride": "" if self.stride is None else dims(self.stride),
            "input": dims(self.input),
            "output": dims(self.output),
            "mult_adds": self.mult_adds,
            "params": self.params,
            "bn_params": self.bn_params,
            "mult_adds_share": self.mult_adds_share,
            "params_share": self.params_share,
        }


def op_lines(report: Report) -> tuple[OpLine, ...]:
    """Every op of `report` in order, with its layer type's name and its shares."""
    lines = []
    for row, category in categorized(report):
        op, cost = row.op, row.cost
        line = OpLine(
            op.name, op.unit, category_label(category), op.kind.value, op.kernel, op.stride,
            op.input, op.output, cost.mult_adds, cost.params, cost.bn_params,
            float(report.share(cost.mult_adds)), float(report.param_share(cost.params)),
        )  # fmt: skip
        lines.append(line)
    return tuple(lines)


def column_records(comparison: Comparison) -> list[Record]:
    """One record per compared column: its setting, totals and ratios to the first column."""
    records: list[Record] = []
    for k, column in enumerate(comparison.columns):
        graph, cost, against = column.report.graph, column.report.total.cost, column.versus
        height, width = graph.resolution
        records.append(
            {
                "argument": column.target.argument,
                "spec": graph.spec.name,
                "alpha": float(graph.alpha),
                "height": height,
                "width": width,
                "mult_adds": cost.mult_adds,
                "params": cost.params,
                "bn_params": cost.bn_params,
                "mult_adds_ratio": _ratio(None if against is None else against.mult_adds.ratio),
                "params_ratio": _ratio(None if against is None else against.params.ratio),
                "fewest_mult_adds": k in comparison.fewest_mult_adds(),
                "fewest_params": k in comparison.fewest_params(),
            }
        )
    return records


def _ratio(value: Fraction | None) -> float | None:
    return None if value is None else decimal(value)


def setting_records(grid: Grid) -> list[Record]:
    """One record per setting of a sweep, as its JSON report lists them (counts None where the
    network cannot be built there)."""
    from mbcalc.views.sweep_views import sweep_records  # Rich's tables only for a sweep

    settings = [alpha for alpha in grid.alphas for _ in grid.resolutions]
    return list(map(_plain, sweep_records(grid), settings))


def fit_records(result: FitResult) -> list[Record]:
    """One record per setting a fit lists (the frontier, or every fit when all were asked for)."""
    from mbcalc.views import fit_views

    listed = result.listed
    records = fit_views.fit_records(result, listed)
    return list(map(_plain, records, [fit.alpha for fit in listed]))


def _plain(record: dict[str, Any], alpha: Fraction) -> Record:
    """A JSON report's record of one setting with alpha as a float, its resolution as height
    and width, and its totals under a counting profile as `operations` and `counted_params`."""
    height, width = record["resolution"]
    rest = {key: value for key, value in record.items() if key not in {"alpha", "resolution"}}
    if "depth" in rest:  # last: a column most grids hold at 1
        rest["depth"] = rest.pop("depth")
    if "counted" in rest:
        counted = rest.pop("counted")
        rest["operations"] = None if counted is None else counted["operations"]
        rest["counted_params"] = None if counted is None else counted["params"]
    return {"alpha": float(alpha), "height": height, "width": width, **rest}


def html_table(title: str, summary: Mapping[str, str], records: Sequence[Record]) -> str:
    """A titled HTML table of `records` under a summary list; every text escaped."""
    items = "".join(
        f"<li>{for_html(key)}: {for_html(value)}</li>" for key, value in summary.items()
    )
    keys = list(records[0]) if records else []
    head = "".join(f"<th>{for_html(key)}</th>" for key in keys)
    body = "".join(
        "<tr>" + "".join(_cell(record[key]) for key in keys) + "</tr>" for record in records
    )
    return (
        f"<div><strong>{for_html(title)}</strong><ul>{items}</ul>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _cell(value: Any) -> str:
    """A cell: counts with thousands separators, right-aligned; text escaped; None empty."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<td style="text-align:right">{exact(value)}</td>'
    if isinstance(value, float):
        return f'<td style="text-align:right">{value:g}</td>'
    return f"<td>{'' if value is None else for_html(str(value))}</td>"
