"""Sweep grids and budget fits as Rich tables, JSON, CSV and Markdown. Formatting only."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from mbcalc.grid.counting import GridCount
from mbcalc.grid.refusals import Refusal
from mbcalc.grid.sweep import Grid
from mbcalc.views.deploy_views import profile_fields
from mbcalc.views.escape import for_markdown, for_terminal, visible
from mbcalc.views.fitted import KEEP, FittedTable
from mbcalc.views.formats import (
    byte_size,
    duration,
    exact,
    exact_number,
    exact_text,
    human,
)
from mbcalc.views.text import csv_text

SWEEP_SCHEMA = "mbcalc.sweep/1"
SWEEP_COUNTS = ("mult_adds", "params", "bn_params", "activations")
SWEEP_FIELDS = ("alpha", "height", "width", "valid", *SWEEP_COUNTS)


# -- sweep ---------------------------------------------------------------------------------


def _cell(grid: Grid, a: int, r: int) -> tuple[int, int, int, int] | None:
    """(mult-adds, params, BN params, activations) of a valid setting."""
    if not grid.valid[a, r]:
        return None
    arrays = (grid.mult_adds, grid.params, grid.bn_params, grid.activations)
    mult_adds, params, bn_params, activations = (int(array[a, r]) for array in arrays)
    return mult_adds, params, bn_params, activations


def sweep_view(grid: Grid, refusals: tuple[Refusal, ...]) -> RenderableType:
    """The grid as the paper's Tables 6 and 7: one row per alpha, one column per resolution."""
    table = Table(
        title=f"{for_terminal(grid.spec.name)} — mult-adds · params",
        header_style="bold",
        title_style="bold",
    )
    _grid_columns(table, grid)
    for a in range(len(grid.alphas)):
        cells = []
        for r in range(len(grid.resolutions)):
            cell = _cell(grid, a, r)
            cells.append("—" if cell is None else f"{human(cell[0])} · {human(cell[1])}")
        table.add_row(*row_keys(grid, a), *cells)
    notes: list[RenderableType] = [_fitted(table, grid)]
    for title, metric in [
        *_counted_metrics(grid, visible, human),
        *_deployment_metrics(grid, visible),
    ]:
        notes += [Text(), _metric_table(grid, title, metric)]
    notes.extend(Text(line, style="dim") for line in profile_line(grid, visible))
    notes.extend(Text(f"— {visible(refusal.message)}", style="dim") for refusal in refusals)
    return Group(*notes)


def _dtype_name(grid: Grid) -> str:
    """The number format of the grid's deployment figures (the sweep's default: fp32)."""
    return grid.dtype.value if grid.dtype else "fp32"


def _deployment_metrics(
    grid: Grid, escape: Callable[[str], str]
) -> list[tuple[str, Callable[[int, int], str]]]:
    """(title, cell text) of each deployment grid the sweep computed; names pass `escape`."""
    metrics: list[tuple[str, Callable[[int, int], str]]] = []
    setting = f"{_dtype_name(grid)}, batch {grid.batch}"
    if grid.fold_bn:
        setting += ", BN folded"
    peak, weights, latency = grid.peak_bytes, grid.weight_bytes, grid.latency
    if peak is not None and weights is not None:
        metrics.append(
            (
                f"peak activations · weights ({setting})",
                lambda a, r: f"{byte_size(int(peak[a, r]))} · {byte_size(int(weights[a, r]))}",
            )
        )
    if latency is not None and grid.device is not None:
        metrics.append(
            (
                f"estimated latency on {escape(grid.device.name)} ({setting})",
                lambda a, r: duration(float(latency[a, r])),
            )
        )
    return metrics


def _metric_table(grid: Grid, title: str, cell: Callable[[int, int], str]) -> RenderableType:
    """One deployment figure over the grid, under a title that is never wrapped."""
    table = Table(header_style="bold")
    _grid_columns(table, grid)
    for a in range(len(grid.alphas)):
        cells = [cell(a, r) if grid.valid[a, r] else "—" for r in range(len(grid.resolutions))]
        table.add_row(*row_keys(grid, a), *cells)
    return Group(Text(f"{visible(grid.spec.name)} — {title}", style="bold"), _fitted(table, grid))


def key_names(grid: Grid) -> list[str]:
    """The columns that name a row: alpha, after the depth where the grid has one."""
    return ["depth", "alpha"] if grid.has_depth else ["alpha"]


def row_keys(grid: Grid, a: int) -> list[str]:
    """A row's depth (where the grid has one) and alpha, as typed."""
    alpha = exact_text(grid.alphas[a])
    return [exact_text(grid.depth(a)), alpha] if grid.has_depth else [alpha]


def _grid_columns(table: Table, grid: Grid) -> None:
    """The depth and alpha columns, then one column per resolution."""
    for name in key_names(grid):
        table.add_column(name, justify="right", no_wrap=True)
    for height, width in grid.resolutions:
        table.add_column(f"{height}x{width}", justify="right", no_wrap=True)


def _fitted(table: Table, grid: Grid) -> FittedTable:
    """A grid of numbers that, narrower than it, splits by resolution, alpha in each part."""
    return FittedTable(table, [KEEP] * len(table.columns), keys=len(key_names(grid)))


def _counted_metrics(
    grid: Grid, escape: Callable[[str], str], number: Callable[[int], str]
) -> list[tuple[str, Callable[[int, int], str]]]:
    """(title, cell text) of the grid's totals under its counting profile, when not the paper's;
    names pass `escape`, counts `number`."""
    counted = _profile_counted(grid)
    if counted is None:
        return []
    operations, params = counted.operations, counted.params
    return [
        (
            f"operations · params counted by profile {escape(counted.profile.name)}",
            lambda a, r: f"{number(int(operations[a, r]))} · {number(int(params[a, r]))}",
        )
    ]


def _profile_counted(grid: Grid) -> GridCount | None:
    """The grid's totals under its counting profile, unless that is the paper's unchanged
    (whose totals are the grid's own mult-adds and params)."""
    counted = grid.counted
    return None if counted is None or counted.profile.is_paper else counted


def profile_line(grid: Grid, escape: Callable[[str], str]) -> list[str]:
    """The line naming the counting profile in force, when it is not the paper's."""
    counted = _profile_counted(grid)
    if counted is None:
        return []
    return [f"profile {escape(counted.profile.name)}: {escape(counted.profile.description)}"]


def _counted_record(grid: Grid, a: int, r: int) -> dict[str, Any]:
    """A setting's totals under the counting profile (None where it cannot be built), as
    `mbcalc table --format json` writes them under `total.counted`."""
    counted = _profile_counted(grid)
    if counted is None:
        return {}
    if not grid.valid[a, r]:
        return {"counted": None}
    extras = {key: int(values[a, r]) for key, values in counted.extras.items()}
    return {
        "counted": {
            "operations": int(counted.operations[a, r]),
            "extras": {key: ops for key, ops in extras.items() if ops},
            "params": int(counted.params[a, r]),
        }
    }


def _counted_columns(grid: Grid, a: int, r: int) -> dict[str, Any]:
    """The CSV columns of a setting's totals under the counting profile."""
    counted = _profile_counted(grid)
    if counted is None:
        return {}
    valid = bool(grid.valid[a, r])
    return {
        "profile": counted.profile.name,
        "operations": int(counted.operations[a, r]) if valid else None,
        "counted_params": int(counted.params[a, r]) if valid else None,
    }


def _deployment_record(grid: Grid, a: int, r: int) -> dict[str, Any]:
    """The deployment fields of one setting (None where it cannot be built)."""
    record: dict[str, Any] = {}
    valid = bool(grid.valid[a, r])
    if grid.peak_bytes is not None and grid.weight_bytes is not None:
        record["peak_bytes"] = int(grid.peak_bytes[a, r]) if valid else None
        record["weight_bytes"] = int(grid.weight_bytes[a, r]) if valid else None
    if grid.latency is not None:
        record["latency_seconds"] = float(grid.latency[a, r]) if valid else None
    return record


def sweep_records(grid: Grid) -> list[dict[str, Any]]:
    """One record per setting, alphas outer, resolutions inner; counts are exact ints."""
    records = []
    for a, alpha in enumerate(map(exact_number, grid.alphas)):  # each alpha written once
        for r, (height, width) in enumerate(grid.resolutions):
            cell = _cell(grid, a, r)
            records.append(
                {
                    "alpha": alpha,
                    "depth": exact_number(grid.depth(a)),
                    "resolution": [height, width],
                    "valid": cell is not None,
                    "mult_adds": None if cell is None else cell[0],
                    "params": None if cell is None else cell[1],
                    "bn_params": None if cell is None else cell[2],
                    "activations": None if cell is None else cell[3],
                    **_deployment_record(grid, a, r),
                    **_counted_record(grid, a, r),
                }
            )
    return records


def sweep_json(grid: Grid, refusals: tuple[Refusal, ...]) -> str:
    deployment: dict[str, Any] = {}
    if grid.peak_bytes is not None:
        deployment["deployment"] = {
            "dtype": _dtype_name(grid),
            "batch": grid.batch,
            "fold_bn": grid.fold_bn,
            "device": None if grid.device is None else grid.device.name,
        }
    counted = _profile_counted(grid)
    if counted is not None:
        deployment["profile"] = profile_fields(counted.profile)
    return (
        json.dumps(
            {
                "schema": SWEEP_SCHEMA,
                "spec": grid.spec.name,
                "rounding": grid.spec.rounding,
                **deployment,
                "settings": sweep_records(grid),
                "refused": [_refusal_record(refusal) for refusal in refusals],
            },
            indent=1,
        )
        + "\n"
    )


def _refusal_record(refusal: Refusal) -> dict[str, Any]:
    return {
        "alpha": exact_number(refusal.alpha),
        "depth": exact_number(refusal.depth),
        "resolution": list(refusal.resolution),
        "error": refusal.message,
    }


def sweep_csv(grid: Grid) -> str:
    """Long format: one row per setting; invalid settings have empty counts."""

    def added(a: int, r: int) -> dict[str, Any]:
        return {**_deployment_record(grid, a, r), **_counted_columns(grid, a, r)}

    extra = list(added(0, 0)) if grid.valid.size else []
    depth = grid.has_depth  # a depth column only where the grid has a depth axis
    rows = [
        [
            *([exact_number(grid.depth(a))] if depth else []),
            alpha,
            height,
            width,
            "true" if cell is not None else "false",
            *(("", "", "", "") if cell is None else cell),
            *("" if value is None else value for value in added(a, r).values()),
        ]
        for a, alpha in enumerate(map(exact_number, grid.alphas))  # each alpha written once
        for r, (height, width) in enumerate(grid.resolutions)
        for cell in (_cell(grid, a, r),)
    ]
    return csv_text([[*(["depth"] if depth else []), *SWEEP_FIELDS, *extra], *rows])


def sweep_markdown(grid: Grid, refusals: tuple[Refusal, ...]) -> str:
    header = [f"{height}x{width}" for height, width in grid.resolutions]
    lines = [
        f"**{for_markdown(grid.spec.name)}** — mult-adds / params, rounding {grid.spec.rounding}",
        "",
        "| " + " | ".join([*key_names(grid), *header]) + " |",
        "|" + "--:|" * (len(key_names(grid)) + len(header)),
    ]
    for a in range(len(grid.alphas)):
        cells = []
        for r in range(len(grid.resolutions)):
            cell = _cell(grid, a, r)
            cells.append("—" if cell is None else f"{exact(cell[0])} / {exact(cell[1])}")
        lines.append("| " + " | ".join([*row_keys(grid, a), *cells]) + " |")
    lines.append("")
    metrics = _counted_metrics(grid, for_markdown, exact) + _deployment_metrics(grid, for_markdown)
    for title, metric in metrics:
        lines += [f"**{for_markdown(grid.spec.name)}** — {title}", "", lines[2], lines[3]]
        for a in range(len(grid.alphas)):
            cells = [
                metric(a, r) if grid.valid[a, r] else "—" for r in range(len(grid.resolutions))
            ]
            lines.append("| " + " | ".join([*row_keys(grid, a), *cells]) + " |")
        lines.append("")
    lines.extend(profile_line(grid, for_markdown))
    lines.extend(f"— {for_markdown(refusal.message)}" for refusal in refusals)
    return "\n".join(lines).rstrip("\n") + "\n"
