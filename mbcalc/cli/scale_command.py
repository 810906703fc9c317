"""`mbcalc scale`: EfficientNet's compound scaling of a spec over a range of phi."""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mbcalc.cli.boundary import parsed
from mbcalc.cli.deliver import check_outputs, deliver
from mbcalc.cli.load import device_profile, parsed_budget
from mbcalc.cli.options import (
    BatchOpt,
    DeliveryOptions,
    DeviceOpt,
    DTypeOpt,
    FoldOpt,
    SpecArg,
    _fraction,
)
from mbcalc.core.limits import check_batch
from mbcalc.errors import SettingsError
from mbcalc.kinds import Format

if TYPE_CHECKING:
    from mbcalc.grid.fit import Budget


def _step_option(flag: str, scales: str, paper: str, default: str) -> Any:
    """A --*-step option: the growth of one knob per step of phi."""
    return typer.Option(
        flag,
        show_default=False,
        parser=_fraction,
        metavar="STEP",
        help=f"Growth of {scales} per step of phi, above 1 (the paper's {paper}) "
        f"[default: {default}].",
    )


def scale_budget(mult_adds: str | None, params: str | None, latency: str | None) -> Budget | None:
    """The budget the --max-* options give, None without any; mistakes are usage errors."""
    if mult_adds is None and params is None and latency is None:
        return None
    return parsed_budget(mult_adds, params, None, latency)


def scale(
    spec: SpecArg,
    phi: Annotated[
        str,
        typer.Option(
            "--phi",
            metavar="LIST|START:STOP[:STEP]",
            help="Compound coefficients: 0:7 (steps of 1), 0:3:0.5 or 0,1,2.5; from -20 to 20.",
        ),
    ] = "0:7",
    depth_step: Annotated[
        Fraction, _step_option("--depth-step", "the depth", "alpha", "1.2")
    ] = Fraction(12, 10),
    width_step: Annotated[
        Fraction, _step_option("--width-step", "the width (mbcalc's --alpha)", "beta", "1.1")
    ] = Fraction(11, 10),
    res_step: Annotated[
        Fraction, _step_option("--res-step", "the input sides", "gamma", "1.15")
    ] = Fraction(115, 100),
    max_mult_adds: Annotated[
        str | None,
        typer.Option(
            "--max-mult-adds",
            metavar="COUNT",
            help="Mark the largest phi within this many mult-adds: 2G, 1e9.",
            show_default=False,
        ),
    ] = None,
    max_params: Annotated[
        str | None,
        typer.Option(
            "--max-params",
            metavar="COUNT",
            help="Params budget (with or without the others): 20M.",
            show_default=False,
        ),
    ] = None,
    max_latency: Annotated[
        str | None,
        typer.Option(
            "--max-latency",
            metavar="TIME",
            help="Latency budget on --device (its calibrated estimate, else the roofline "
            "bound): 5ms, 500us.",
            show_default=False,
        ),
    ] = None,
    *,
    device: DeviceOpt = None,
    dtype: DTypeOpt = None,
    batch: BatchOpt = 1,
    fold_bn: FoldOpt = False,
    delivery: DeliveryOptions,
) -> None:
    """EfficientNet's compound scaling of SPEC: depth, width and resolution grown together.

    At each phi: depth x depth-step^phi, width (alpha) x width-step^phi, input sides x
    res-step^phi, from the spec's own setting (phi 0). Each factor is rounded to 4 decimals,
    each side to a whole pixel. Note the names: the paper's alpha is the depth step, its
    beta the width step (mbcalc's --alpha), its gamma the resolution step.
    Every row equals `mbcalc table` at its setting, with its growth in mult-adds over phi 0
    beside the paper's target 2^phi, and its peak activation memory (and latency with
    --device). With --max-mult-adds, --max-params or --max-latency, the largest phi within
    the budget is marked.
    """
    from mbcalc.grid.scaling import Deploying, Steps, parse_phis
    from mbcalc.grid.scaling import scale as scale_spec
    from mbcalc.spec.zoo import resolve_spec

    check_outputs(delivery.force, [delivery.output], spec, device)
    check_batch(batch)
    phis = parsed(parse_phis, phi, "--phi")
    if max_latency is not None and device is None:
        raise typer.BadParameter(
            "--max-latency needs --device: the device the latency is estimated on",
            param_hint="--max-latency",
        )
    budget = scale_budget(max_mult_adds, max_params, max_latency)
    try:
        steps = Steps(depth_step, width_step, res_step)
    except SettingsError as error:
        raise typer.BadParameter(error.message) from None
    deploying = Deploying(dtype, batch, fold_bn, device_profile(device))
    scaling = scale_spec(resolve_spec(spec), phis, steps, deploying, budget)
    from mbcalc.views import scale_views

    writers = {
        Format.JSON: functools.partial(scale_views.scale_json, scaling),
        Format.CSV: functools.partial(scale_views.scale_csv, scaling),
        Format.MARKDOWN: functools.partial(scale_views.scale_markdown, scaling),
    }
    view = functools.partial(scale_views.scale_view, scaling)
    deliver(delivery.format, delivery.output, view, writers.get(delivery.format), delivery.width)
