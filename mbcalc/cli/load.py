"""From option values to the library's objects: a spec's report, a counting profile, a deployment.

Mistakes in an option's text are usage errors (`typer.BadParameter`); the library's own errors
pass to `mbcalc.cli.boundary`.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING

import typer

from mbcalc.cli.boundary import parsed
from mbcalc.core.limits import check_grid
from mbcalc.errors import MbcalcError

if TYPE_CHECKING:
    from mbcalc.cli.options import CountingOptions, DeployOptions, SettingOptions
    from mbcalc.core.profiles import Profile
    from mbcalc.core.report import Report
    from mbcalc.core.settings import Res
    from mbcalc.deploy.deployment import Deployment
    from mbcalc.deploy.roofline import Device
    from mbcalc.grid.fit import Budget
    from mbcalc.spec import Spec

MAX_TABLE_CELLS = 10_000
"""Largest sweep shown as a grid; larger ones go to json or csv."""


def load_report(spec: str, setting: SettingOptions) -> Report:
    """The report of one SPEC argument at the command's settings."""
    from mbcalc.core.graph import build_graph
    from mbcalc.core.report import analyze
    from mbcalc.spec.zoo import resolve_spec

    loaded = resolve_spec(spec)
    return analyze(build_graph(loaded, setting.request().settings(loaded.defaults)))


def counting_profile(counting: CountingOptions) -> Profile:
    """The counting profile the options ask for; mistakes are usage errors."""
    from mbcalc.core.profiles import PROFILES, custom_profile, parse_extras

    if counting.profile not in PROFILES:
        known = ", ".join(PROFILES)
        raise typer.BadParameter(
            f"unknown profile {counting.profile!r} (known: {known})", param_hint="--profile"
        )
    try:
        extras = {} if counting.count is None else parse_extras(counting.count)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--count") from None
    return custom_profile(PROFILES[counting.profile], counting.flops, extras, counting.params)


def device_profile(device: str | None) -> Device | None:
    """The device a --device NAME|FILE names, or None without one."""
    if device is None:
        return None
    from mbcalc.deploy.roofline import resolve_device

    return resolve_device(device)


def deployment_of(report: Report, deploy: DeployOptions, *, memory: bool) -> Deployment | None:
    """The deployment view of `report` the options ask for (with memory columns if `memory`),
    or None when neither memory nor a device is asked for."""
    if not memory and deploy.device is None:
        return None
    from mbcalc.deploy.deployment import deploy as deploy_report

    profile = device_profile(deploy.device)
    return deploy_report(
        report, deploy.dtype, deploy.batch, deploy.fold_bn, profile, show_memory=memory
    )


def sweep_axes(
    alpha: str, res: str | None, depth: str | None, *, as_table: bool
) -> tuple[list[Fraction], list[Res] | None, list[Fraction] | None]:
    """The widths, heights and depths a sweep's --alpha, --res and --depth ask for (None: the
    spec's own), their sizes checked before any is made."""
    from mbcalc.core.ranges import (
        count_resolutions,
        count_values,
        parse_fractions,
        parse_resolutions,
    )

    alpha_count = parsed(count_values, alpha, "--alpha")
    res_count = 1 if res is None else parsed(count_resolutions, res, "--res")
    depth_count = 1 if depth is None else parsed(count_values, depth, "--depth")
    check_grid(alpha_count * depth_count, res_count)
    cells = alpha_count * depth_count * res_count
    if as_table and cells > MAX_TABLE_CELLS:
        raise MbcalcError(
            f"a grid of {cells:,} settings is too large to show as a table",
            hint="use --format csv or --format json",
        )
    alphas = parsed(parse_fractions, alpha, "--alpha")
    depths = None if depth is None else parsed(parse_fractions, depth, "--depth")
    return alphas, None if res is None else parsed(parse_resolutions, res, "--res"), depths


def fit_search(
    spec: str, alpha: str | None, res: str | None, res_step: int, depth: str | None = None
) -> tuple[Spec, Sequence[Fraction], Sequence[Res], Sequence[Fraction]]:
    """The spec a budget fit searches, and its widths, heights and depths: the options', else
    the defaults (the depth: the spec's own, else 1); a grid too large is refused before the
    spec is read, where the options say so."""
    from mbcalc.core.ranges import (
        count_resolutions,
        count_values,
        parse_fractions,
        parse_resolutions,
    )
    from mbcalc.grid.depths import own_axes
    from mbcalc.grid.fit import DEFAULT_ALPHAS, default_height_range, default_heights
    from mbcalc.spec.zoo import resolve_spec

    alpha_count = len(DEFAULT_ALPHAS) if alpha is None else parsed(count_values, alpha, "--alpha")
    alpha_count *= 1 if depth is None else parsed(count_values, depth, "--depth")
    if res is not None:
        check_grid(alpha_count, parsed(count_resolutions, res, "--res"))
    loaded = resolve_spec(spec)
    if res is None:
        check_grid(alpha_count, len(default_height_range(loaded, res_step)))
    alphas = DEFAULT_ALPHAS if alpha is None else parsed(parse_fractions, alpha, "--alpha")
    heights = (
        default_heights(loaded, res_step)
        if res is None
        else parsed(parse_resolutions, res, "--res")
    )
    depths = None if depth is None else parsed(parse_fractions, depth, "--depth")
    return loaded, alphas, heights, own_axes(loaded, heights, depths)[1]


def fit_budget_options(
    mult_adds: str | None,
    params: str | None,
    flops: str | None,
    latency: str | None,
    device: str | None,
) -> Budget:
    """The budget of `mbcalc fit` from its options' text; mistakes are usage errors."""
    if mult_adds is None and flops is None and latency is None:
        raise typer.BadParameter(
            "give a budget: --max-mult-adds, --max-flops or --max-latency",
            param_hint="--max-mult-adds",
        )
    if latency is not None and device is None:
        raise typer.BadParameter(
            "--max-latency needs --device: the device the latency is estimated on",
            param_hint="--max-latency",
        )
    return parsed_budget(mult_adds, params, flops, latency)


def parsed_budget(
    mult_adds: str | None, params: str | None, flops: str | None, latency: str | None
) -> Budget:
    """A budget from the text of the --max-mult-adds, --max-params, --max-flops and
    --max-latency options (None where not given); mistakes are usage errors naming the option."""
    from mbcalc.core.ranges import parse_budget, parse_duration
    from mbcalc.grid.fit import Budget

    def count(text: str | None, option: str) -> int | None:
        return None if text is None else parsed(parse_budget, text, option)

    return Budget(
        count(mult_adds, "--max-mult-adds"),
        count(params, "--max-params"),
        count(flops, "--max-flops"),
        None if latency is None else parsed(parse_duration, latency, "--max-latency"),
    )
