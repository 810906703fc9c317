"""Budget fits as a Rich table, JSON, CSV and Markdown. Formatting only."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from mbcalc.core.settings import res_for, res_text
from mbcalc.grid.fit import Fit, FitResult
from mbcalc.views.deploy_views import profile_fields
from mbcalc.views.escape import for_markdown, for_terminal, visible
from mbcalc.views.fitted import KEEP, FittedTable
from mbcalc.views.formats import (
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

FIT_SCHEMA = "mbcalc.fit/1"
FIT_FIELDS = (
    "alpha", "height", "width", "mult_adds", "params", "bn_params",
    "mult_adds_share", "params_share", "best",
)  # fmt: skip


def _budget(result: FitResult, escape: Callable[[str], str]) -> str:
    """The budgets given: `150.00M mult-adds, 3.00ms on jetson-nano, 1.50M params`."""
    parts = [] if result.max_mult_adds is None else [f"{human(result.max_mult_adds)} mult-adds"]
    if result.max_flops is not None and result.profile is not None:
        parts.append(f"{human(result.max_flops)} FLOPs ({escape(result.profile.name)})")
    if result.max_latency is not None and result.device is not None:
        parts.append(f"{duration(float(result.max_latency))} on {escape(result.device.name)}")
    if result.max_params is not None:
        parts.append(f"{human(result.max_params)} params")
    return ", ".join(parts)


def _share(share: Fraction | None) -> str:
    return "" if share is None else percent(share)


def _measured(result: FitResult, fit: Fit, number: Callable[[int], str]) -> list[str]:
    """The FLOPs and latency cells of a fit and their shares, where those budgets are given."""
    cells = []
    if result.max_flops is not None and fit.operations is not None:
        cells += [number(fit.operations), _share(fit.operations_share)]
    if result.max_latency is not None and fit.latency is not None:
        cells += [duration(fit.latency), _share(fit.latency_share)]
    return cells


def _share_head(budget: object | None) -> list[str]:
    """The heading of a budget's share column, where that budget is given."""
    return [] if budget is None else ["of budget"]


def _share_cell(budget: object | None, share: Fraction | None) -> list[str]:
    """A setting's share of a budget, where that budget is given."""
    return [] if budget is None else [_share(share)]


def _depth_head(result: FitResult) -> list[str]:
    """The depth column's heading, where depths other than 1 were searched."""
    return ["depth"] if result.has_depth else []


def _depth_cell(result: FitResult, fit: Fit) -> list[str]:
    """A fit's depth, where depths other than 1 were searched."""
    return [exact_text(fit.depth)] if result.has_depth else []


def _measured_heads(result: FitResult) -> list[str]:
    heads = []
    if result.max_flops is not None:
        heads += ["FLOPs", "of budget"]
    if result.max_latency is not None:
        heads += ["latency", "of budget"]
    return heads


MARK = "◀"
"""Marks the setting that uses most of the budget, explained in a line under the table."""


def fit_view(result: FitResult, argument: str) -> RenderableType:
    """The frontier, smallest first (or every fitting setting, largest first), the setting that
    uses most of the budget marked.

    `argument` is the SPEC as the user typed it, for the follow-up command shown beneath.
    """
    table = Table(
        title=f"{for_terminal(result.spec.name)} — settings within {_budget(result, visible)}",
        header_style="bold",
        title_style="bold",
    )
    heads = [
        "alpha",
        *_depth_head(result),
        "input",
        "mult-adds",
        *_share_head(result.max_mult_adds),
        *_measured_heads(result),
    ]
    for column in (*heads, "params", *_share_head(result.max_params), "BN", ""):
        table.add_column(column, justify="left" if column == "" else "right", no_wrap=True)
    for fit in result.listed:
        marked = result.is_best(fit)
        table.add_row(
            exact_text(fit.alpha),
            *_depth_cell(result, fit),
            dims(fit.resolution),
            human(fit.mult_adds),
            *_share_cell(result.max_mult_adds, fit.mult_adds_share),
            *_measured(result, fit, human),
            human(fit.params),
            *_share_cell(result.max_params, fit.params_share),
            human(fit.bn_params),
            MARK if marked else "",
            style="bold green" if marked else None,
        )
    parts: list[RenderableType] = []
    if result.frontier:
        parts.append(FittedTable(table, [KEEP for _ in table.columns]))
    if result.best is not None:
        parts.append(Text(f"{MARK} uses most of the budget", style="green"))
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
        res = res_text(res_for(chosen.resolution, result.spec.input_size))
        depth = f",depth={exact_decimal(chosen.depth)}" if result.has_depth else ""
        setting = f"{argument}@alpha={exact_decimal(chosen.alpha)}{depth},res={res}"
        command = f"mbcalc compare {shlex.quote(argument)} {shlex.quote(setting)}"
        parts.append(Text("layer by layer against the full model:", style="dim"))
        parts.append(Text(visible(command), style="dim", no_wrap=True, overflow="ignore"))
    else:
        parts.append(Text("nothing fits: raise the budget or widen the search", style="yellow"))
    return Group(*parts)


def _decimal(share: Fraction | None) -> float | None:
    return None if share is None else decimal(share)


def fit_records(result: FitResult, fits: tuple[Fit, ...]) -> list[dict[str, Any]]:
    return [
        {
            "alpha": exact_number(fit.alpha),
            "depth": exact_number(fit.depth),
            "resolution": list(fit.resolution),
            "mult_adds": fit.mult_adds,
            "params": fit.params,
            "bn_params": fit.bn_params,
            "mult_adds_share": _decimal(fit.mult_adds_share),
            "params_share": _decimal(fit.params_share),
            "best": result.is_best(fit),
            **_measured_record(result, fit),
        }
        for fit in fits
    ]


def _measured_record(result: FitResult, fit: Fit) -> dict[str, Any]:
    """A fit's FLOPs and latency and their shares, where those budgets are given."""
    record: dict[str, Any] = {}
    if result.max_flops is not None:
        record |= {"operations": fit.operations, "operations_share": _decimal(fit.operations_share)}
    if result.max_latency is not None:
        record |= {"latency_seconds": fit.latency, "latency_share": _decimal(fit.latency_share)}
    return record


def _budget_record(result: FitResult) -> dict[str, Any]:
    """The budgets as JSON; FLOPs and latency (seconds) only where given."""
    record: dict[str, Any] = {"mult_adds": result.max_mult_adds, "params": result.max_params}
    if result.max_flops is not None:
        record["flops"] = result.max_flops
    if result.max_latency is not None:
        record["latency_seconds"] = float(result.max_latency)
    return record


def fit_json(result: FitResult) -> str:
    record: dict[str, Any] = {
        "schema": FIT_SCHEMA,
        "spec": result.spec.name,
        "budget": _budget_record(result),
        "searched": result.settings_searched,
        "fitting": result.settings_fitting,
        "frontier": fit_records(result, result.frontier),
    }
    if result.profile is not None:
        record["profile"] = profile_fields(result.profile)
    if result.device is not None:
        record["device"] = result.device.name
    if result.every_fit is not None:
        record["within_budget"] = fit_records(result, result.every_fit)
    return json.dumps(record, indent=2) + "\n"


def fit_csv(result: FitResult) -> str:
    """One row per setting listed; FLOPs and latency columns where those budgets are given."""
    records = fit_records(result, result.listed)
    measured = list(_measured_record(result, result.listed[0])) if result.listed else []
    depth = result.has_depth  # a depth column only where depths were searched
    rows = [
        [
            *([record["depth"]] if depth else []), record["alpha"], *record["resolution"],
            record["mult_adds"], record["params"], record["bn_params"],
            *("" if record[key] is None else record[key] for key in FIT_FIELDS[6:8]),
            "true" if record["best"] else "false",
            *("" if record[key] is None else record[key] for key in measured),
        ]
        for record in records
    ]  # fmt: skip
    return csv_text([[*(["depth"] if depth else []), *FIT_FIELDS, *measured], *rows])


def fit_markdown(result: FitResult) -> str:
    heads = [
        "alpha",
        *_depth_head(result),
        "input",
        "mult-adds",
        *_share_head(result.max_mult_adds),
        *_measured_heads(result),
    ]
    heads += ["params", "of budget"]
    lines = [
        f"**{for_markdown(result.spec.name)}** — settings within {_budget(result, for_markdown)}",
        "",
        "| " + " | ".join(heads) + " | |",
        "|" + "--:|" * len(heads) + "---|",
    ]
    for fit in result.listed:
        cells = [
            exact_text(fit.alpha), *_depth_cell(result, fit), dims(fit.resolution),
            exact(fit.mult_adds),
            *_share_cell(result.max_mult_adds, fit.mult_adds_share),
            *_measured(result, fit, exact), exact(fit.params),
            _share(fit.params_share),
            "**uses most of the budget**" if result.is_best(fit) else "",
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    listed = ", all listed" if result.every_fit is not None else ""
    lines += [
        "",
        f"{result.settings_searched:,} settings searched, {result.settings_fitting:,} fit{listed}.",
        "",
    ]
    return "\n".join(lines)
