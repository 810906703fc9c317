"""Sweep grids and budget fits as Rich tables, JSON, CSV and Markdown. Formatting only."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from mbcalc.grid.fit import Fit, FitResult
from mbcalc.grid.refusals import Refusal
from mbcalc.grid.sweep import Grid
from mbcalc.views.escape import for_markdown, for_terminal, visible
from mbcalc.views.fitted import KEEP, ColumnFit, FittedTable, Give
from mbcalc.views.formats import (
    byte_size,
    decimal,
    dims,
    duration,
    exact,
    exact_decimal,
    exact_number,
    exact_text,
    human,
    percent,
)
from mbcalc.views.text import csv_text

SWEEP_SCHEMA = "mbcalc.sweep/1"
FIT_SCHEMA = "mbcalc.fit/1"
SWEEP_FIELDS = ("alpha", "height", "width", "valid", "mult_adds", "params", "bn_params")
FIT_FIELDS = (
    "alpha", "height", "width", "mult_adds", "params", "bn_params",
    "mult_adds_share", "params_share", "best",
)  # fmt: skip


# -- sweep ---------------------------------------------------------------------------------


def _cell(grid: Grid, a: int, r: int) -> tuple[int, int, int] | None:
    if not grid.valid[a, r]:
        return None
    return int(grid.mult_adds[a, r]), int(grid.params[a, r]), int(grid.bn_params[a, r])


def sweep_view(grid: Grid, refusals: tuple[Refusal, ...]) -> RenderableType:
    """The grid as the paper's Tables 6 and 7: one row per alpha, one column per resolution."""
    table = Table(
        title=f"{for_terminal(grid.spec.name)} — mult-adds · params",
        header_style="bold",
        title_style="bold",
    )
    _grid_columns(table, grid)
    for a, alpha in enumerate(grid.alphas):
        cells = []
        for r in range(len(grid.resolutions)):
            cell = _cell(grid, a, r)
            cells.append("—" if cell is None else f"{human(cell[0])} · {human(cell[1])}")
        table.add_row(exact_text(alpha), *cells)
    notes: list[RenderableType] = [_fitted(table)]
    for title, metric in _deployment_metrics(grid, visible):
        notes += [Text(), _metric_table(grid, title, metric)]
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
    for a, alpha in enumerate(grid.alphas):
        cells = [cell(a, r) if grid.valid[a, r] else "—" for r in range(len(grid.resolutions))]
        table.add_row(exact_text(alpha), *cells)
    return Group(Text(f"{visible(grid.spec.name)} — {title}", style="bold"), _fitted(table))


def _grid_columns(table: Table, grid: Grid) -> None:
    """The alpha column, then one column per resolution."""
    table.add_column("alpha", justify="right", no_wrap=True)
    for height, width in grid.resolutions:
        table.add_column(f"{height}x{width}", justify="right", no_wrap=True)


def _fitted(table: Table) -> FittedTable:
    """A grid of numbers that, narrower than it, splits by resolution, alpha in each part."""
    return FittedTable(table, [KEEP] * len(table.columns), keys=1)


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
                    "resolution": [height, width],
                    "valid": cell is not None,
                    "mult_adds": None if cell is None else cell[0],
                    "params": None if cell is None else cell[1],
                    "bn_params": None if cell is None else cell[2],
                    **_deployment_record(grid, a, r),
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
        "resolution": list(refusal.resolution),
        "error": refusal.message,
    }


def sweep_csv(grid: Grid) -> str:
    """Long format: one row per setting; invalid settings have empty counts."""
    extra = list(_deployment_record(grid, 0, 0)) if grid.valid.size else []
    rows = [
        [
            alpha,
            height,
            width,
            "true" if cell is not None else "false",
            *(("", "", "") if cell is None else cell),
            *("" if value is None else value for value in _deployment_record(grid, a, r).values()),
        ]
        for a, alpha in enumerate(map(exact_number, grid.alphas))  # each alpha written once
        for r, (height, width) in enumerate(grid.resolutions)
        for cell in (_cell(grid, a, r),)
    ]
    return csv_text([[*SWEEP_FIELDS, *extra], *rows])


def sweep_markdown(grid: Grid, refusals: tuple[Refusal, ...]) -> str:
    header = [f"{height}x{width}" for height, width in grid.resolutions]
    lines = [
        f"**{for_markdown(grid.spec.name)}** — mult-adds / params, rounding {grid.spec.rounding}",
        "",
        "| alpha | " + " | ".join(header) + " |",
        "|--:|" + "--:|" * len(header),
    ]
    for a, alpha in enumerate(grid.alphas):
        cells = []
        for r in range(len(grid.resolutions)):
            cell = _cell(grid, a, r)
            cells.append("—" if cell is None else f"{exact(cell[0])} / {exact(cell[1])}")
        lines.append(f"| {exact_text(alpha)} | " + " | ".join(cells) + " |")
    lines.append("")
    for title, metric in _deployment_metrics(grid, for_markdown):
        lines += [f"**{for_markdown(grid.spec.name)}** — {title}", "", lines[2], lines[3]]
        for a, alpha in enumerate(grid.alphas):
            cells = [
                metric(a, r) if grid.valid[a, r] else "—" for r in range(len(grid.resolutions))
            ]
            lines.append(f"| {exact_text(alpha)} | " + " | ".join(cells) + " |")
        lines.append("")
    lines.extend(f"— {for_markdown(refusal.message)}" for refusal in refusals)
    return "\n".join(lines).rstrip("\n") + "\n"


# -- fit -----------------------------------------------------------------------------------


def _budget(result: FitResult) -> str:
    text = f"{human(result.max_mult_adds)} mult-adds"
    if result.max_params is not None:
        text += f", {human(result.max_params)} params"
    return text


def fit_view(result: FitResult, argument: str) -> RenderableType:
    """The frontier, smallest first (or every fitting setting, largest first), the setting that
    uses most of the budget marked.

    `argument` is the SPEC as the user typed it, for the follow-up command shown beneath.
    """
    table = Table(
        title=f"{for_terminal(result.spec.name)} — settings within {_budget(result)}",
        header_style="bold",
        title_style="bold",
    )
    for column in ("alpha", "input", "mult-adds", "of budget", "params", "of budget", "BN", ""):
        table.add_column(column, justify="left" if column == "" else "right", no_wrap=True)
    for fit in result.listed:
        marked = result.is_best(fit)
        table.add_row(
            exact_text(fit.alpha),
            dims(fit.resolution),
            human(fit.mult_adds),
            percent(fit.mult_adds_share),
            human(fit.params),
            "" if fit.params_share is None else percent(fit.params_share),
            human(fit.bn_params),
            "◀ uses most of the budget" if marked else "",
            style="bold green" if marked else None,
        )
    fits = [*(KEEP for _ in range(7)), ColumnFit(Give.FOLD, narrowest=10, drop=1, name="mark")]
    parts: list[RenderableType] = [FittedTable(table, fits)] if result.frontier else []
    searched = f"{result.settings_searched:,} settings searched, {result.settings_fitting:,} fit"
    if result.every_fit is not None:
        parts.append(Text(f"{searched}, all listed, the most mult-adds first"))
    else:
        dominated = f"{len(result.frontier):,} not dominated by a larger fitting setting"
        parts.append(Text(f"{searched}, {dominated}"))
        if result.settings_fitting > len(result.frontier):
            fitting = f"{result.settings_fitting:,} settings fit: use --all to list them"
            parts.append(Text(fitting, style="dim"))
    if result.best is not None:
        chosen = result.frontier[result.best]
        setting = f"{argument}@alpha={exact_decimal(chosen.alpha)},res={chosen.resolution[0]}"
        command = f"mbcalc compare {shlex.quote(argument)} {shlex.quote(setting)}"
        parts.append(Text("layer by layer against the full model:", style="dim"))
        parts.append(Text(visible(command), style="dim", no_wrap=True, overflow="ignore"))
    else:
        parts.append(Text("nothing fits: raise the budget or widen the search", style="yellow"))
    return Group(*parts)


def fit_records(result: FitResult, fits: tuple[Fit, ...]) -> list[dict[str, Any]]:
    return [
        {
            "alpha": exact_number(fit.alpha),
            "resolution": list(fit.resolution),
            "mult_adds": fit.mult_adds,
            "params": fit.params,
            "bn_params": fit.bn_params,
            "mult_adds_share": decimal(fit.mult_adds_share),
            "params_share": None if fit.params_share is None else decimal(fit.params_share),
            "best": result.is_best(fit),
        }
        for fit in fits
    ]


def fit_json(result: FitResult) -> str:
    record = {
        "schema": FIT_SCHEMA,
        "spec": result.spec.name,
        "budget": {"mult_adds": result.max_mult_adds, "params": result.max_params},
        "searched": result.settings_searched,
        "fitting": result.settings_fitting,
        "frontier": fit_records(result, result.frontier),
    }
    if result.every_fit is not None:
        record["within_budget"] = fit_records(result, result.every_fit)
    return json.dumps(record, indent=2) + "\n"


def fit_csv(result: FitResult) -> str:
    rows = [
        [
            record["alpha"], *record["resolution"], record["mult_adds"], record["params"],
            record["bn_params"], record["mult_adds_share"],
            "" if record["params_share"] is None else record["params_share"],
            "true" if record["best"] else "false",
        ]
        for record in fit_records(result, result.listed)
    ]  # fmt: skip
    return csv_text([list(FIT_FIELDS), *rows])


def fit_markdown(result: FitResult) -> str:
    lines = [
        f"**{for_markdown(result.spec.name)}** — settings within {_budget(result)}",
        "",
        "| alpha | input | mult-adds | of budget | params | of budget | |",
        "|--:|--:|--:|--:|--:|--:|---|",
    ]
    for fit in result.listed:
        share = "" if fit.params_share is None else percent(fit.params_share)
        mark = "**uses most of the budget**" if result.is_best(fit) else ""
        lines.append(
            f"| {exact_text(fit.alpha)} | {dims(fit.resolution)} | {exact(fit.mult_adds)} | "
            f"{percent(fit.mult_adds_share)} | {exact(fit.params)} | {share} | {mark} |"
        )
    listed = ", all listed" if result.every_fit is not None else ""
    lines += [
        "",
        f"{result.settings_searched:,} settings searched, {result.settings_fitting:,} fit{listed}.",
        "",
    ]
    return "\n".join(lines)
