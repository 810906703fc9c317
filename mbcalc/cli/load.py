"""From option values to the library's objects: a spec's report, a counting profile, a deployment.

Mistakes in an option's text are usage errors (`typer.BadParameter`); the library's own errors
pass to `mbcalc.cli.boundary`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from mbcalc.cli.options import CountingOptions, DeployOptions, SettingOptions
    from mbcalc.core.profiles import Profile
    from mbcalc.core.report import Report
    from mbcalc.deploy.deployment import Deployment
    from mbcalc.deploy.roofline import Device


def load_report(spec: str, setting: SettingOptions) -> Report:
    """The report of one SPEC argument at the command's settings."""
    from mbcalc.core.graph import build_graph
    from mbcalc.core.report import analyze
    from mbcalc.spec.zoo import resolve_spec

    settings = setting.settings()
    return analyze(build_graph(resolve_spec(spec), settings))


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
