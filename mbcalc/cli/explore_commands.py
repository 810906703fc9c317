"""The commands that explore settings: a sweep over widths and resolutions, and the settings
that fit a budget."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Annotated

import typer

from mbcalc.cli.deliver import check_outputs, deliver, write_image
from mbcalc.cli.load import (
    counting_profile,
    device_profile,
    fit_budget_options,
    fit_search,
    sweep_axes,
)
from mbcalc.cli.options import (
    BatchOpt,
    CountingOptions,
    DeliveryOptions,
    DeployOptions,
    DeviceOpt,
    DTypeOpt,
    FoldOpt,
    SpecArg,
    plot_option,
    range_option,
)
from mbcalc.core.limits import check_batch
from mbcalc.deploy.dtypes import DType
from mbcalc.kinds import Format, PlotBy


def sweep(
    spec: SpecArg,
    alpha: Annotated[
        str,
        range_option(
            "--alpha",
            "-a",
            help="Widths to sweep, e.g. 1,0.75,0.5,0.25 or 0.25:1:0.05 (STOP included).",
        ),
    ] = "1,0.75,0.5,0.25",
    res: Annotated[
        str | None,
        range_option(
            "--res",
            "-r",
            help="Input heights to sweep, e.g. 224,192,160,128 or 96:224:32, or height x width "
            "sizes 128x96,160x120 [default: the spec's own].",
            show_default=False,
        ),
    ] = None,
    depth: Annotated[
        str | None,
        range_option(
            "--depth",
            help="Depth multipliers to sweep, e.g. 1,1.2,1.4 or 1:2:0.1: every `stage` of N "
            "copies has ceil(N x D) [default: the spec's `defaults:`, else 1].",
            show_default=False,
        ),
    ] = None,
    *,
    delivery: DeliveryOptions,
    plot: Annotated[
        Path | None,
        plot_option("Also draw mult-adds against params (log axes) into FILE; needs mbcalc[plot]."),
    ] = None,
    plot_by: Annotated[
        PlotBy,
        typer.Option(
            "--plot-by", metavar="res|alpha", help="One line per resolution or per alpha."
        ),
    ] = PlotBy.RES,
    deploy: DeployOptions,
    counting: CountingOptions,
) -> None:
    """Mult-adds and params of SPEC over a grid of widths and resolutions (and depths).

    The paper's Tables 6 and 7 in one command:
    mbcalc sweep mobilenet_v1 --alpha 1,0.75,0.5,0.25 --res 224,192,160,128.
    Every cell equals `mbcalc table` at that setting; json and csv have one row per setting.
    With --depth, each depth's alphas are rows of their own.
    Under a counting profile (--profile, --flops, --count, --params) every setting's counted
    operations and params are added, each equal to `mbcalc table --profile` there.
    """
    from mbcalc.grid.depths import own_axes
    from mbcalc.grid.refusals import explain_invalid
    from mbcalc.grid.sweep import sweep as sweep_grid
    from mbcalc.spec.zoo import resolve_spec

    check_outputs(delivery.force, [delivery.output, plot], spec, deploy.device)
    check_batch(deploy.batch)
    profile = counting_profile(counting)
    as_table = delivery.format in (Format.TABLE, Format.HTML)  # a grid of cells to look at
    alphas, asked_heights, asked_depths = sweep_axes(alpha, res, depth, as_table=as_table)
    device = device_profile(deploy.device)
    dtype = deploy.dtype
    if deploy.memory and dtype is None and device is None:
        dtype = DType.FP32  # asking for a number format is what turns the memory grids on
    loaded = resolve_spec(spec)
    heights, depths = own_axes(loaded, asked_heights, asked_depths)
    grid = sweep_grid(
        loaded, alphas, heights, dtype=dtype, batch=deploy.batch, fold_bn=deploy.fold_bn,
        device=device, profile=profile, depths=depths,
    )  # fmt: skip
    refusals = explain_invalid(grid)
    if plot is not None:
        from mbcalc.views.plot import plot_grid

        image = plot_grid(grid, plot.suffix.lower(), plot_by)
        write_image(plot, image, report_on_stdout=delivery.output is None)
    from mbcalc.views import sweep_views

    writers = {
        Format.JSON: functools.partial(sweep_views.sweep_json, grid, refusals),
        Format.CSV: functools.partial(sweep_views.sweep_csv, grid),
        Format.MARKDOWN: functools.partial(sweep_views.sweep_markdown, grid, refusals),
    }
    if delivery.format is Format.HTML:
        from mbcalc.views.html_sweep import sweep_html

        writers[Format.HTML] = functools.partial(sweep_html, grid, refusals)
    view = functools.partial(sweep_views.sweep_view, grid, refusals)
    deliver(delivery.format, delivery.output, view, writers.get(delivery.format), delivery.width)


def fit(
    spec: SpecArg,
    max_mult_adds: Annotated[
        str | None,
        typer.Option(
            "--max-mult-adds",
            metavar="COUNT",
            help="Mult-adds budget: 300M, 1.2G, 1e8, 150000000.",
            show_default=False,
        ),
    ] = None,
    max_params: Annotated[
        str | None,
        typer.Option(
            "--max-params", metavar="COUNT", help="Parameter budget: 2.5M.", show_default=False
        ),
    ] = None,
    max_flops: Annotated[
        str | None,
        typer.Option(
            "--max-flops",
            metavar="COUNT",
            help="FLOPs budget under the counting profile (--profile): 1e8, 100M, 0.1G. Under "
            "the paper's profile 2 FLOPs per mult-add (as --flops); under fvcore, thop or "
            "ptflops the operations that tool counts.",
            show_default=False,
        ),
    ] = None,
    max_latency: Annotated[
        str | None,
        typer.Option(
            "--max-latency",
            metavar="TIME",
            help="Latency budget on --device (the latency of `mbcalc table --device`: its "
            "calibrated estimate, else the roofline bound): 2ms, 0.5 ms, 500us.",
            show_default=False,
        ),
    ] = None,
    alpha: Annotated[
        str | None,
        range_option(
            "--alpha", "-a", help="Widths to search [default: 0.05:1:0.05].", show_default=False
        ),
    ] = None,
    res: Annotated[
        str | None,
        range_option(
            "--res",
            "-r",
            help="Input heights (or height x width sizes: 128x96,160x120) to search "
            "[default: multiples of --res-step up to the spec's].",
            show_default=False,
        ),
    ] = None,
    depth: Annotated[
        str | None,
        range_option(
            "--depth",
            help="Depth multipliers to search, e.g. 1:2:0.1 [default: the spec's `defaults:`, "
            "else 1].",
            show_default=False,
        ),
    ] = None,
    res_step: Annotated[
        int,
        typer.Option(
            "--res-step",
            min=1,
            metavar="N",
            help="Resolution step of the default search, in pixels.",
        ),
    ] = 32,
    list_all: Annotated[
        bool,
        typer.Option(
            "--all", help="List every setting that fits, the most mult-adds first (then params)."
        ),
    ] = False,
    *,
    device: DeviceOpt = None,
    dtype: DTypeOpt = None,
    batch: BatchOpt = 1,
    fold_bn: FoldOpt = False,
    delivery: DeliveryOptions,
    counting: CountingOptions,
) -> None:
    """The widths and resolutions of SPEC that fit a budget of mult-adds, FLOPs or latency
    (and params).

    Of the settings that fit, those shown are not dominated: no other fitting setting has
    at least as much computation (FLOPs under --max-flops, else mult-adds) and params, and
    more of one (--all lists them all). The one that uses most of the budget is marked.
    """
    from mbcalc.grid.fit import Measures
    from mbcalc.grid.fit import fit as fit_budget

    check_outputs(delivery.force, [delivery.output], spec, device)
    check_batch(batch)
    budget = fit_budget_options(max_mult_adds, max_params, max_flops, max_latency, device)
    if max_flops is not None and counting.profile == "paper":
        counting = dataclasses.replace(counting, flops=True)  # FLOPs: 2 per mult-add
    measures = Measures(counting_profile(counting), device_profile(device), dtype, batch, fold_bn)
    loaded, alphas, heights, depths = fit_search(spec, alpha, res, res_step, depth)
    result = fit_budget(
        loaded, budget, None, alphas, heights, list_all=list_all, measures=measures, depths=depths
    )
    from mbcalc.views import fit_views

    writers = {
        Format.JSON: functools.partial(fit_views.fit_json, result),
        Format.CSV: functools.partial(fit_views.fit_csv, result),
        Format.MARKDOWN: functools.partial(fit_views.fit_markdown, result),
    }
    view = functools.partial(fit_views.fit_view, result, spec)
    deliver(delivery.format, delivery.output, view, writers.get(delivery.format), delivery.width)
