"""Several networks side by side as JSON (mbcalc.compare/1), CSV and Markdown."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from mbcalc.core.compare import Layout
from mbcalc.kinds import Alignment
from mbcalc.views import deploy_views
from mbcalc.views.convention import CONVENTION, markdown_convention
from mbcalc.views.escape import for_markdown, for_markdown_code
from mbcalc.views.formats import decimal, dims, exact, exact_decimal, ratio
from mbcalc.views.text import category_label, csv_text, setting, setting_record, unit_counts

if TYPE_CHECKING:
    from mbcalc.core.compare import Change, Column, Comparison, Row, Versus
    from mbcalc.core.costs import Cost
    from mbcalc.core.profiles import Counted
    from mbcalc.deploy.deployment import Deployment


COMPARE_SCHEMA = "mbcalc.compare/1"

COMPARE_FIELDS = (
    "row", "aligned", "column", "argument", "spec", "alpha", "resolution", "unit", "type",
    "mult_adds", "params", "bn_params", "activations", "mult_adds_delta", "params_delta",
    "bn_params_delta", "mult_adds_ratio", "params_ratio", "bn_params_ratio",
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
    marks = {row.aligned for row in comparison.rows}
    if Alignment.POSITION in marks:
        parts.append(f"{POSITION_MARK} aligned by position (the structures differ there)")
    if Alignment.ONLY in marks:
        parts.append(f"{MISSING} not in that network")
    return tuple(parts)


def position_mark(row: Row) -> str:
    """`≈` beside a row whose units were paired by position, else nothing."""
    return POSITION_MARK if row.aligned is Alignment.POSITION else ""


def column_heading(column: Column) -> str:
    """`mobilenet_v1@alpha=0.75 (MobileNet v1, alpha 0.75, 224x224)`, escaped for Markdown."""
    argument, name = column.target.argument, column.report.graph.spec.name
    return f"{for_markdown(argument)} ({for_markdown(name)}, {setting(column.report)})"


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


def compare_record(
    comparison: Comparison,
    deployments: list[Deployment] | None = None,
    layout: Layout = Layout.LAYERS,
) -> dict[str, Any]:
    """The comparison as JSON-ready data; counts stay exact integers.

    With deployments, each column gains a `deployment` object (peak memory, weights, latency);
    under a counting profile other than the paper's, the record gains `profile` and each column
    `counted`. The totals layout has no `rows`; the layer-type layout adds `by_type`.
    """
    columns = comparison.columns
    fewest_mult_adds, fewest_params = comparison.fewest_mult_adds(), comparison.fewest_params()
    extras: list[dict[str, Any]] = [
        {"deployment": deploy_views.compare_fields(deployment, deployments[0])}
        for deployment in deployments
    ] if deployments else [{} for _ in columns]  # fmt: skip
    counted = profile_counted(comparison)
    if counted is not None:
        for extra, one in zip(extras, counted, strict=True):
            extra["counted"] = deploy_views.counted_record(one)
    record: dict[str, Any] = {
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
                    "activations": column.report.total.activations,
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
                "units": [None if unit is None else unit_counts(unit) for unit in row.units],
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
    if counted is not None:  # after the convention, as in `mbcalc table`'s report
        profile = {"profile": deploy_views.profile_record(counted[0])}
        record = {key: record[key] for key in ("schema", "convention")} | profile | record
    if layout is Layout.TOTALS:
        del record["rows"]
    if layout is Layout.TYPES:
        record["by_type"] = [
            {
                "type": category_label(row.category),
                "costs": [None if cost is None else cost_record(cost) for cost in row.costs],
            }
            for row in comparison.by_type()
        ]
    return record


def cost_record(cost: Cost) -> dict[str, int]:
    return {"mult_adds": cost.mult_adds, "params": cost.params, "bn_params": cost.bn_params}


def compare_to_json(
    comparison: Comparison,
    deployments: list[Deployment] | None = None,
    layout: Layout = Layout.LAYERS,
) -> str:
    return json.dumps(compare_record(comparison, deployments, layout), indent=2) + "\n"


def profile_counted(comparison: Comparison) -> list[Counted] | None:
    """Each column's totals under the counting profile, unless that is the paper's unchanged."""
    counted = [column.counted for column in comparison.columns]
    chosen = [one for one in counted if one is not None]
    if not chosen or len(chosen) < len(counted) or chosen[0].profile.is_paper:
        return None
    return chosen


def counted_lines(comparison: Comparison) -> list[tuple[str, str]]:
    """(label, text) lines of every column's totals under the counting profile, against the
    first column's, and the profile itself; none under the paper's."""
    counted = profile_counted(comparison)
    if counted is None:
        return []
    first = counted[0]
    lines = []
    for k, (column, one) in enumerate(zip(comparison.columns, counted, strict=True)):
        text = f"{exact(one.operations)} operations"
        if k and first.operations:
            text += f" ({ratio(Fraction(one.operations, first.operations))}x)"
        text += f" · {exact(one.params)} params counted"
        lines.append((column.target.argument, text))
    profile = first.profile
    return [*lines, ("profile", f"{profile.name}: {profile.description}")]


def layout_note(layout: Layout) -> str | None:
    """Why a comparison is not shown unit by unit, and how to have it so."""
    if layout is not Layout.TYPES:
        return None
    return (
        "fewer than half of the networks' units correspond (by name, structure or window): "
        "totals and layer types side by side; --by-layer pairs the units anyway"
    )


def compare_to_csv(
    comparison: Comparison,
    deployments: list[Deployment] | None = None,
    layout: Layout = Layout.LAYERS,
) -> str:
    """Long form: one line per row and column (empty unit fields where a column has none), then
    one `total` line per column; deployments add peak, weight bytes and latency to those, a
    counting profile its name, operations and params. The totals layout has the totals alone."""
    extra = list(deploy_views.COMPARE_FIELDS) if deployments else []
    counted = profile_counted(comparison)
    profile_fields = ["profile", "operations", "counted_params"] if counted else []
    lines: list[list[Any]] = [list(COMPARE_FIELDS) + extra + profile_fields]
    rows = () if layout is Layout.TOTALS else comparison.rows
    for number, row in enumerate(rows, start=1):
        for k, (unit, against) in enumerate(zip(row.units, row.versus, strict=True)):
            name = (None, None) if unit is None else (unit.unit.name, unit.unit.type.value)
            counts = None if unit is None else (unit.cost, unit.activations)
            line = _csv_line(comparison, k, (number, row.aligned.value, *name), counts, against)
            lines.append(line + [None] * (len(extra) + len(profile_fields)))
    for k, column in enumerate(comparison.columns):
        total = column.report.total
        counts = (total.cost, total.activations)
        line = _csv_line(comparison, k, ("total", None, None, None), counts, column.versus)
        deployment = deployments[k] if deployments else None
        line += deploy_views.compare_csv_cells(deployment)
        if counted:
            line += [counted[k].profile.name, counted[k].operations, counted[k].params]
        lines.append(line)
    return csv_text(lines)


def _csv_line(
    comparison: Comparison,
    k: int,
    labels: tuple[Any, Any, Any, Any],
    counts: tuple[Cost, int] | None,
    against: Versus | None,
) -> list[Any]:
    """One CSV line: `labels` are (row, aligned, unit, type) around column k's fields, `counts`
    its unit's (or total) cost and activations."""
    column = comparison.columns[k]
    graph = column.report.graph
    record = versus_record(against)
    return [
        *labels[:2],
        k + 1,
        column.target.argument,
        graph.spec.name,
        exact_decimal(graph.alpha),
        dims(graph.resolution),
        *labels[2:],
        *((None,) * 4 if counts is None else _count_cells(*counts)),
        *(record[key] if record else None for key in COMPARE_FIELDS[-6:]),
    ]


def _count_cells(cost: Cost, activations: int) -> tuple[int, int, int, int]:
    return cost.mult_adds, cost.params, cost.bn_params, activations


def compare_to_markdown(
    comparison: Comparison,
    deployments: list[Deployment] | None = None,
    layout: Layout = Layout.LAYERS,
) -> str:
    """Columns side by side with exact counts, a totals row, the differences and the winners;
    by layer type instead of unit by unit, or the totals alone, as `layout` says."""
    columns = comparison.columns
    lines = [
        f"**Compared**: {', '.join(for_markdown_code(c.target.argument) for c in columns)}",
        "",
    ]
    if layout is Layout.LAYERS:
        lines += _markdown_units(comparison)
    note = layout_note(layout)
    if note is not None:
        lines += [f"_{for_markdown(note)}._", ""]
    lines += [*_markdown_totals(comparison), ""]
    if layout is Layout.TYPES:
        lines += [*_markdown_types(comparison), ""]
    notes = [(label, for_markdown(text)) for label, text in counted_lines(comparison)]
    if deployments:
        arguments = [column.target.argument for column in columns]
        notes += deploy_views.compare_lines(arguments, deployments, for_markdown)
    if notes:
        lines += [f"- {for_markdown_code(label)}: {text}" for label, text in notes]
        lines.append("")
    lines += [markdown_convention(), ""]
    return "\n".join(lines)


def _markdown_units(comparison: Comparison) -> list[str]:
    """The aligned units side by side, with the legend and the totals row."""
    columns = comparison.columns
    head, rule = [""], ["---"]
    for k, column in enumerate(columns):
        head += [column_heading(column), "mult-adds", "params"] + (["ratio"] if k else [])
        rule += ["---", "--:", "--:"] + (["--:"] if k else [])
    lines = [f"_{'; '.join(compare_legend(comparison))}._", "", _md_row(head), _md_row(rule)]
    for row in comparison.rows:
        cells = [position_mark(row)]
        for k, (unit, against) in enumerate(zip(row.units, row.versus, strict=True)):
            if unit is None:
                cells += [MISSING, "", ""]
            else:
                cost = unit.cost
                cells += [for_markdown(unit.unit.name), exact(cost.mult_adds), exact(cost.params)]
            cells += [ratio_text(against)] if k else []
        lines.append(_md_row(cells))
    totals = [""]
    for k, column in enumerate(columns):
        total = column.report.total.cost
        totals += ["**total**", f"**{exact(total.mult_adds)}**", f"**{exact(total.params)}**"]
        totals += [f"**{ratio_text(column.versus)}**"] if k else []
    return [*lines, _md_row(totals), ""]


def _markdown_types(comparison: Comparison) -> list[str]:
    """Mult-adds and params by layer type, the columns side by side."""
    head, rule = ["type"], ["---"]
    for column in comparison.columns:
        head += [f"{for_markdown_code(column.target.argument)} mult-adds", "params"]
        rule += ["--:", "--:"]
    lines = [_md_row(head), _md_row(rule)]
    for row in comparison.by_type():
        cells = [category_label(row.category)]
        for cost in row.costs:
            cells += [MISSING, ""] if cost is None else [exact(cost.mult_adds), exact(cost.params)]
        lines.append(_md_row(cells))
    return lines


def _md_row(cells: list[str]) -> str:
    return f"| {' | '.join(cells)} |"


def ratio_text(against: Versus | None) -> str:
    """A row's or column's mult-adds against the first column's, or nothing."""
    if against is None or against.mult_adds.ratio is None:
        return ""
    return ratio(against.mult_adds.ratio)


def _signed(count: int) -> str:
    return f"{count:+,}"


def _markdown_totals(comparison: Comparison) -> list[str]:
    columns = comparison.columns
    lines = [
        "| column | mult-adds | vs first | params | vs first | BN params | activations "
        "| vs first |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for column in columns:
        total = column.report.total.cost
        against = column.versus
        mult_adds = params = activations = ""
        if against is not None:
            mult_adds = change_text(against.mult_adds)
            params = change_text(against.params)
        if column.activations_versus is not None:
            activations = change_text(column.activations_versus)
        lines.append(
            f"| {column_heading(column)} | {exact(total.mult_adds)} | {mult_adds} | "
            f"{exact(total.params)} | {params} | {exact(total.bn_params)} | "
            f"{exact(column.report.total.activations)} | {activations} |"
        )
    fewest = [
        f"fewest {what}: "
        + ", ".join(for_markdown_code(columns[k].target.argument) for k in winners)
        for what, winners in (
            ("mult-adds", comparison.fewest_mult_adds()),
            ("params", comparison.fewest_params()),
        )
    ]
    return [*lines, "", f"F{'; '.join(fewest)[1:]}."]


def change_text(change: Change) -> str:
    """`+1,234 (1.5x)`: a count's difference from the first column's, and their ratio."""
    return f"{_signed(change.delta)} ({_times(change.ratio)})"


def _times(value: Fraction | None) -> str:
    return "—" if value is None else f"{ratio(value)}x"
