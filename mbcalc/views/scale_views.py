"""Compound scaling as a Rich table, JSON, CSV and Markdown. Formatting only."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from mbcalc.core.settings import res_for, res_text
from mbcalc.grid.scaling import ScaledRow, Scaling
from mbcalc.views.escape import for_markdown, for_terminal, visible
from mbcalc.views.fitted import KEEP, MULT_ADDS_FIT, ColumnFit, FittedTable
from mbcalc.views.formats import (
    byte_size,
    decimal,
    dims,
    duration,
    exact,
    exact_number,
    exact_text,
    human,
)
from mbcalc.views.text import csv_text

SCALE_SCHEMA = "mbcalc.scale/1"
SCALE_FIELDS = (
    "phi", "depth", "alpha", "height", "width", "mult_adds", "params", "bn_params",
    "growth", "target", "peak_bytes", "weight_bytes",
)  # fmt: skip
MARK = "◀"
"""Marks the largest phi within the budget."""


def _times(value: float) -> str:
    """A growth in mult-adds: 2.57, 102.81."""
    return f"{value:.2f}"


_FITS = {"mult-adds": MULT_ADDS_FIT, "peak": ColumnFit(drop=1), "latency": ColumnFit(drop=2)}
"""How the columns yield to a narrow width: the peak memory goes first, then the latency."""


def _heads(scaling: Scaling) -> list[str]:
    heads = ["φ", "depth", "width", "res", "mult-adds", "params", "growth", "2^φ", "peak"]
    return heads + (["latency"] if scaling.device is not None else [])


def _cells(scaling: Scaling, row: ScaledRow, count: Callable[[int], str]) -> list[str]:
    """A row's cells, its counts written by `count`."""
    cells = [
        exact_text(row.phi), exact_text(row.depth), exact_text(row.alpha),
        res_text(res_for(row.resolution, scaling.spec.input_size)),
        count(row.mult_adds), count(row.params), _times(float(row.growth)), _times(row.target),
        byte_size(row.peak_bytes),
    ]  # fmt: skip
    if scaling.device is not None:
        cells.append("" if row.latency is None else duration(float(row.latency)))
    return cells


def _steps_line(scaling: Scaling) -> str:
    """`depth 1.2^φ, width 1.1^φ, resolution 1.15^φ: 1.2 · 1.1² · 1.15² = 1.92027`."""
    depth, width, res = (
        exact_text(step)
        for step in (scaling.steps.depth, scaling.steps.width, scaling.steps.resolution)
    )
    product = exact_text(scaling.steps.constraint)
    growth = f"{depth} · {width}² · {res}² = {product}"
    return f"depth {depth}^φ, width {width}^φ, resolution {res}^φ; growth per step {growth}"


def _base_line(scaling: Scaling) -> str:
    base = scaling.base
    return (
        f"φ = 0 is the spec's own setting: alpha {exact_text(base.alpha)}, depth "
        f"{exact_text(base.depth)}, {dims(scaling.base_resolution)}; factors rounded to 4 "
        "decimals, input sides to whole pixels"
    )


def _deployment_line(scaling: Scaling, escape: Callable[[str], str]) -> str:
    setting = f"{scaling.dtype.value}, batch {scaling.batch}"
    if scaling.fold_bn:
        setting += ", BN folded"
    line = f"peak: activation memory ({setting})"
    if scaling.device is not None:
        estimate = "calibrated estimate" if scaling.device.calibration else "roofline bound"
        line += f"; latency: {estimate} on {escape(scaling.device.name)}"
    return line


def _budget_text(scaling: Scaling, escape: Callable[[str], str]) -> str:
    budget = scaling.budget
    assert budget is not None
    parts = [] if budget.mult_adds is None else [f"{human(budget.mult_adds)} mult-adds"]
    if budget.params is not None:
        parts.append(f"{human(budget.params)} params")
    if budget.latency is not None and scaling.device is not None:
        parts.append(f"{duration(float(budget.latency))} on {escape(scaling.device.name)}")
    return ", ".join(parts)


def _fit_line(scaling: Scaling, escape: Callable[[str], str]) -> str:
    best = scaling.best
    within = _budget_text(scaling, escape)
    if best is None:
        return f"no φ listed fits within {within}"
    return f"the largest φ within {within}: φ = {exact_text(best.phi)}"


def scale_view(scaling: Scaling) -> RenderableType:
    """One row per φ; the largest φ within the budget marked, when one is given."""
    table = Table(
        title=f"{for_terminal(scaling.spec.name)} — compound scaling",
        header_style="bold",
        title_style="bold",
    )
    heads = _heads(scaling) + ([""] if scaling.budget is not None else [])
    fits: list[ColumnFit] = []
    for head in heads:
        table.add_column(head, justify="left" if head == "" else "right", no_wrap=True)
        fits.append(_FITS.get(head, KEEP))
    best = scaling.best
    for row in scaling.rows:
        marked = best is not None and row == best
        mark = [MARK if marked else ""] if scaling.budget is not None else []
        table.add_row(*_cells(scaling, row, human), *mark, style="bold green" if marked else None)
    lines = [_steps_line(scaling), _base_line(scaling), _deployment_line(scaling, visible)]
    parts: list[RenderableType] = [FittedTable(table, fits)]
    if scaling.budget is not None:
        marked_line = (
            _fit_line(scaling, visible) if best is None else f"{MARK} {_fit_line(scaling, visible)}"
        )
        parts.append(Text(marked_line, style="green"))
    parts.extend(Text(line, style="dim") for line in lines)
    return Group(*parts)


def scale_records(scaling: Scaling) -> list[dict[str, Any]]:
    """One record per φ; counts exact, growth rounded to 6 decimals."""
    records = []
    for row in scaling.rows:
        record: dict[str, Any] = {
            "phi": exact_number(row.phi),
            "depth_factor": exact_number(row.depth_factor),
            "width_factor": exact_number(row.width_factor),
            "resolution_factor": exact_number(row.resolution_factor),
            "depth": exact_number(row.depth),
            "alpha": exact_number(row.alpha),
            "resolution": list(row.resolution),
            "mult_adds": row.mult_adds,
            "params": row.params,
            "bn_params": row.bn_params,
            "growth": decimal(row.growth),
            "target": row.target,
            "peak_bytes": row.peak_bytes,
            "weight_bytes": row.weight_bytes,
        }
        if scaling.device is not None:
            record["latency_seconds"] = None if row.latency is None else float(row.latency)
        records.append(record)
    return records


def scale_table_records(scaling: Scaling) -> list[dict[str, int | float | str | bool | None]]:
    """`scale_records` with the resolution as `height` and `width`: plain values only."""
    records = []
    for record in scale_records(scaling):
        height, width = record.pop("resolution")
        records.append({**record, "height": height, "width": width})
    return records


def _fit_record(scaling: Scaling) -> dict[str, Any]:
    budget = scaling.budget
    assert budget is not None
    best = scaling.best
    latency = None if budget.latency is None else float(budget.latency)
    return {
        "budget": {
            "mult_adds": budget.mult_adds,
            "params": budget.params,
            "latency_seconds": latency,
        },
        "phi": None if best is None else exact_number(best.phi),
    }


def scale_json(scaling: Scaling) -> str:
    steps = scaling.steps
    record: dict[str, Any] = {
        "schema": SCALE_SCHEMA,
        "spec": scaling.spec.name,
        "steps": {
            "depth": exact_number(steps.depth),
            "width": exact_number(steps.width),
            "resolution": exact_number(steps.resolution),
            "constraint": exact_number(steps.constraint),
        },
        "base": {
            "alpha": exact_number(scaling.base.alpha),
            "depth": exact_number(scaling.base.depth),
            "resolution": list(scaling.base_resolution),
            "mult_adds": scaling.base_mult_adds,
        },
        "deployment": {
            "dtype": scaling.dtype.value,
            "batch": scaling.batch,
            "fold_bn": scaling.fold_bn,
            "device": None if scaling.device is None else scaling.device.name,
        },
        "settings": scale_records(scaling),
    }
    if scaling.budget is not None:
        record["fit"] = _fit_record(scaling)
    return json.dumps(record, indent=1) + "\n"


def scale_csv(scaling: Scaling) -> str:
    """One row per φ; latency and budget columns where a device and a budget are given."""
    latency = ["latency_seconds"] if scaling.device is not None else []
    fitted = ["within_budget"] if scaling.budget is not None else []
    best = scaling.best
    rows: list[list[Any]] = [[*SCALE_FIELDS, *latency, *fitted]]
    for row, record in zip(scaling.rows, scale_records(scaling), strict=True):
        cells = [record[key] for key in ("phi", "depth", "alpha")]
        cells += [*record["resolution"], *(record[key] for key in SCALE_FIELDS[5:])]
        if latency:
            cells.append("" if row.latency is None else record["latency_seconds"])
        if fitted:
            cells.append("true" if best is not None and row == best else "false")
        rows.append(cells)
    return csv_text(rows)


def scale_markdown(scaling: Scaling) -> str:
    heads = _heads(scaling)
    marked = scaling.budget is not None
    lines = [
        f"**{for_markdown(scaling.spec.name)}** — compound scaling",
        "",
        "| " + " | ".join(heads) + (" | |" if marked else " |"),
        "|" + "--:|" * len(heads) + ("---|" if marked else ""),
    ]
    best = scaling.best
    for row in scaling.rows:
        mark = ["**the largest φ within the budget**" if row == best else ""] if marked else []
        lines.append("| " + " | ".join([*_cells(scaling, row, exact), *mark]) + " |")
    notes = [_steps_line(scaling), _base_line(scaling), _deployment_line(scaling, for_markdown)]
    if marked:
        notes.insert(0, _fit_line(scaling, for_markdown))
    return "\n".join([*lines, "", *(f"{note}." for note in notes), ""])
