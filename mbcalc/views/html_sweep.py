"""`mbcalc sweep --format html`: a grid of settings as a page. Formatting only.

The grid as a heat map (one row per alpha, one column per resolution, each cell's colour its
mult-adds against the grid's largest, its exact figures in it), then one row per setting with
every figure of the JSON report's `settings`, and the settings that cannot be built.
"""

from __future__ import annotations

from typing import Any

from mbcalc.grid.refusals import Refusal
from mbcalc.grid.sweep import Grid
from mbcalc.views.compare_export import MISSING
from mbcalc.views.formats import byte_size, duration, exact, exact_text
from mbcalc.views.html_page import Column, cell, count_cell, page, paragraph, row, section, table
from mbcalc.views.sweep_views import key_names, profile_line, row_keys, sweep_records


def sweep_html(grid: Grid, refusals: tuple[Refusal, ...]) -> str:
    """The page of `mbcalc sweep`: the heat map, the settings one per row, the refusals."""
    records = sweep_records(grid)
    name = grid.spec.name
    notes = [paragraph(line, note=True) for line in profile_line(grid, str)]
    notes += [paragraph(f"{MISSING} {refusal.message}", note=True) for refusal in refusals]
    sections = [
        section("Mult-adds · params over the grid", _heat_map(grid, records), *notes),
        section("Every setting", _settings_table(grid, records)),
    ]
    setting = f"{len(records)} settings · rounding {grid.spec.rounding}"
    if grid.peak_bytes is not None:
        setting += f" · {_deployment_text(grid)}"
    return page(f"{name} — sweep", name, setting, sections)


def _deployment_text(grid: Grid) -> str:
    text = f"{grid.dtype.value if grid.dtype else 'fp32'}, batch {grid.batch}"
    text += ", BN folded" if grid.fold_bn else ""
    return text if grid.device is None else f"on {grid.device.name} ({text})"


def _heat_map(grid: Grid, records: list[dict[str, Any]]) -> str:
    """One row per alpha (and depth), one column per resolution; darker: more mult-adds."""
    largest = max((record["mult_adds"] or 0 for record in records), default=0)
    columns = [Column(key, True) for key in key_names(grid)]
    columns += [Column(f"{height}x{width}", True) for height, width in grid.resolutions]
    count = len(grid.resolutions)
    rows = []
    for a in range(len(grid.alphas)):
        keys = [cell(text, text, numeric=True) for text in row_keys(grid, a)]
        cells = [_heat_cell(grid, a, records[a * count + r], largest) for r in range(count)]
        rows.append(row(keys + cells))
    legend = paragraph(
        "Each cell: mult-adds above params; the darker, the more mult-adds (the darkest is "
        f"the grid's largest, {exact(largest)}).",
        note=True,
    )
    return table(columns, rows, classes="heat") + "\n" + legend


def _heat_cell(grid: Grid, a: int, record: dict[str, Any], largest: int) -> str:
    """A setting's mult-adds and params, its colour as dark as its share of `largest`."""
    mult_adds, params = record["mult_adds"], record["params"]
    if mult_adds is None:
        return cell(MISSING, classes="missing", hover="cannot be built at this setting")
    lightness = 1 - 0.6 * (mult_adds / largest if largest else 0)  # 100% none, 40% the most
    style = f"background:hsl(212,60%,{lightness * 100:.1f}%)"
    style += ";color:#fff" if lightness < 0.6 else ""
    height, width = record["resolution"]
    hover = (
        f"alpha {exact_text(grid.alphas[a])}, {height}x{width}: {exact(mult_adds)} mult-adds, "
        f"{exact(params)} params"
    )
    markup = f"{exact(mult_adds)}<br>{exact(params)}"
    return cell(
        "", mult_adds, numeric=True, hover=hover, classes="heat", markup=markup, style=style
    )


SETTING_COLUMNS = {
    "mult_adds": ("mult-adds", exact),
    "params": ("params", exact),
    "bn_params": ("BN params", exact),
    "activations": ("activations", exact),
    "peak_bytes": ("peak activations", byte_size),
    "weight_bytes": ("weights", byte_size),
    "latency_seconds": ("latency", duration),
}
"""The figures of a setting's record shown as columns, each with how it is written."""


def _settings_table(grid: Grid, records: list[dict[str, Any]]) -> str:
    """One row per setting: its alpha, depth and resolution, then each of its figures."""
    shown = [key for key in SETTING_COLUMNS if records and key in records[0]]
    counted = bool(records) and "counted" in records[0]
    columns = [Column("depth", True)] if grid.has_depth else []
    columns += [Column("alpha", True), Column("resolution", True)]
    columns += [Column(SETTING_COLUMNS[key][0], True) for key in shown]
    columns += [Column("operations", True), Column("params counted", True)] if counted else []
    rows = []
    for index, record in enumerate(records):
        height, width = record["resolution"]
        a = index // len(grid.resolutions)
        depth, alpha = grid.depth(a), grid.alphas[a]
        cells = [cell(exact_text(depth), float(depth), numeric=True)] if grid.has_depth else []
        cells += [
            cell(exact_text(alpha), float(alpha), numeric=True),
            cell(f"{height}x{width}", height * width, numeric=True),
        ]
        for key in shown:
            value = record[key]
            text = MISSING if value is None else SETTING_COLUMNS[key][1](value)
            cells.append(count_cell(value, text))
        if counted:
            figures = record["counted"] or {}
            for key in ("operations", "params"):
                value = figures.get(key)
                cells.append(count_cell(value, MISSING if value is None else exact(value)))
        rows.append(row(cells))
    return table(columns, rows)
