"""The commands about devices: the shipped profiles, and one spec against a device's roofline."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from mbcalc.cli.deliver import check_outputs, deliver, show, write_image
from mbcalc.cli.load import counting_profile, deployment_of, load_report
from mbcalc.cli.options import (
    BatchOpt,
    CountingOptions,
    DeliveryOptions,
    DeployOptions,
    DeviceOpt,
    DTypeOpt,
    FoldOpt,
    SettingOptions,
    SpecArg,
    WidthOpt,
    plot_option,
)
from mbcalc.cli.report_commands import emit_report
from mbcalc.core.limits import check_batch
from mbcalc.kinds import Format

if TYPE_CHECKING:
    from rich.console import RenderableType


def devices(width: WidthOpt = None) -> None:
    """The device profiles that ship with mbcalc, for --device and `mbcalc roofline`."""
    from mbcalc.deploy.roofline import DEFAULT_DEVICE, resolve_device, shipped_devices
    from mbcalc.views.listings import devices_view

    shipped = {name: resolve_device(name) for name in shipped_devices()}
    show(devices_view(shipped, DEFAULT_DEVICE), width)


def roofline(
    spec: SpecArg,
    *,
    device: DeviceOpt = None,
    setting: SettingOptions,
    dtype: DTypeOpt = None,
    batch: BatchOpt = 1,
    fold_bn: FoldOpt = False,
    delivery: DeliveryOptions,
    plot: Annotated[
        Path | None,
        plot_option("Also draw the roofline with every op on it into FILE; needs mbcalc[plot]."),
    ] = None,
    counting: CountingOptions,
) -> None:
    """Where each op of SPEC sits against a device's roofline, and its estimated time.

    Each op's arithmetic intensity (mult-adds per byte moved) against the ridge point,
    whether it is compute- or memory-bound, and its share of the time next to its share
    of the mult-adds. Without --device the default profile (jetson-nano) is used.
    Times follow the mult-adds; a counting profile adds its totals to the report.
    """
    from mbcalc.core.profiles import count
    from mbcalc.deploy.roofline import DEFAULT_DEVICE

    check_outputs(delivery.force, [delivery.output, plot], spec, device)
    check_batch(batch)
    profile = counting_profile(counting)
    report = load_report(spec, setting)
    counted = count(report, profile)
    options = DeployOptions(False, device or DEFAULT_DEVICE, dtype, batch, fold_bn)
    deployment = deployment_of(report, options, memory=False)
    assert deployment is not None
    if plot is not None:
        from mbcalc.views.plot import plot_roofline

        image = plot_roofline(deployment, plot.suffix.lower())
        write_image(plot, image, report_on_stdout=delivery.output is None)
    if delivery.format is Format.HTML:  # the page: the roofline drawn, then the table
        from mbcalc.views.html_roofline import roofline_html

        html = functools.partial(roofline_html, deployment, counted)
        deliver(delivery.format, delivery.output, html, html)
        return
    if delivery.format != Format.TABLE:  # the other formats: the report with its times
        emit_report(report, delivery, deployment, counted)
        return
    from mbcalc.views.roofline_chart import roofline_view

    view = functools.partial(roofline_view, deployment)
    if not profile.is_paper:
        from mbcalc.views.render import profile_grid

        view = functools.partial(_with_profile, view, profile_grid(counted))
    deliver(delivery.format, delivery.output, view, width=delivery.width)


def _with_profile(view: Callable[[], RenderableType], lines: RenderableType) -> RenderableType:
    """`view`, then the counting profile's lines beneath it."""
    from rich.console import Group

    return Group(view(), lines)
