"""The commands that report one spec, or several side by side: table, compare, breakdown, chart,
verify; and show, which prints a spec's text. Each loads, analyzes, then renders or exports."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from mbcalc.cli.deliver import (
    CHART_WIDTH,
    check_outputs,
    deliver,
    deliver_with,
    show,
    write_file,
    write_stdout,
)
from mbcalc.cli.load import counting_profile, deployment_of, load_report
from mbcalc.cli.options import (
    CompareArgs,
    CountingOptions,
    DeliveryOptions,
    DeployOptions,
    ForceOpt,
    OutputOpt,
    SettingOptions,
    SpecArg,
    SummaryOpt,
    WidthOpt,
)
from mbcalc.core.limits import check_batch
from mbcalc.errors import MbcalcError
from mbcalc.kinds import Format

if TYPE_CHECKING:
    from rich.console import RenderableType

    from mbcalc.core.profiles import Counted
    from mbcalc.core.report import Report
    from mbcalc.deploy.deployment import Deployment

Writers = dict[Format, Callable[..., str]]
"""The text formats of a report, each with the function that writes it."""


def table(
    spec: SpecArg,
    setting: SettingOptions,
    delivery: DeliveryOptions,
    deploy: DeployOptions,
    counting: CountingOptions,
    summary: SummaryOpt = False,
) -> None:
    """Per-layer mult-adds and params of SPEC, with totals and the separable reduction.

    One row per primitive op, grouped under its spec layer; each depthwise-separable unit
    shows its reduction against a standard convolution beside 1/N + 1/k^2.
    An auxiliary head's mult-adds, run in training only, are in parentheses, out of the
    totals; its params are in them.
    Activations: the output elements of convs, fcs and attention's products (Dollar et al.'s
    measure, fvcore's count, timm's infer_macts), per op and in total.
    --memory and --device add the deployment view: bytes, peak memory, roofline time.
    --summary shows one line of totals with the setting instead.
    """
    check_outputs(delivery.force, [delivery.output], spec, deploy.device)
    check_batch(deploy.batch)
    profile = counting_profile(counting)
    report = load_report(spec, setting)
    deployment = deployment_of(report, deploy, memory=deploy.shows_memory)
    from mbcalc.core.profiles import count

    counted = count(report, profile)
    if summary:
        from mbcalc.views import summary as views

        writers: Writers = {Format.JSON: views.summary_json, Format.CSV: views.summary_csv,
                            Format.MARKDOWN: views.summary_markdown,
                            Format.HTML: functools.partial(_report_html, summary=True)}  # fmt: skip
        view = views.summary_view
        deliver_with(
            delivery.format, delivery.output, view, writers, report, deployment, counted,
            width=delivery.width,
        )  # fmt: skip
        return
    emit_report(report, delivery, deployment, counted)


def emit_report(
    report: Report,
    delivery: DeliveryOptions,
    deployment: Deployment | None = None,
    counted: Counted | None = None,
) -> None:
    """The report as a table or in a text format; every report states its counting profile."""
    from mbcalc.core.profiles import PROFILES, count
    from mbcalc.views import export

    counted = counted or count(report, PROFILES["paper"])
    writers: Writers = {Format.JSON: export.to_json, Format.CSV: export.to_csv,
                        Format.MARKDOWN: export.to_markdown, Format.HTML: _report_html}  # fmt: skip
    deliver_with(
        delivery.format, delivery.output, _report_view, writers, report, deployment, counted,
        width=delivery.width,
    )  # fmt: skip


def _report_html(
    report: Report,
    deployment: Deployment | None,
    counted: Counted | None,
    summary: bool = False,
) -> str:
    from mbcalc.views.html_table import report_html  # the page's code only where one is asked

    return report_html(report, deployment, counted, summary)


def _report_view(
    report: Report, deployment: Deployment | None, counted: Counted | None
) -> RenderableType:
    from mbcalc.views.render import report_view  # Rich's table code only where a table is shown

    return report_view(report, deployment, counted)


def compare(
    specs: CompareArgs,
    setting: SettingOptions,
    delivery: DeliveryOptions,
    deploy: DeployOptions,
    counting: CountingOptions,
    summary: SummaryOpt = False,
    by_layer: Annotated[
        bool,
        typer.Option(
            "--by-layer",
            help="Pair the units layer by layer even where the networks' units do not correspond.",
        ),
    ] = False,
) -> None:
    """Two or more specs, or one spec under several settings, side by side.

    Each argument may carry its own settings: mobilenet_v1@alpha=0.5,res=160.
    The keys are alpha, depth, res and rho; --alpha, --depth, --res and --rho set the rest,
    then the spec's own `defaults:`.
    Units are aligned by name, or by structure (type, kernel, stride).
    Networks whose units mostly do not correspond (fewer than half) are shown by layer
    type instead, totals side by side; --by-layer pairs their units anyway.
    Ratios are against the first column; the fewest mult-adds and params win.
    Each column's total activations (as `mbcalc table`'s) stand side by side.
    """
    from mbcalc.core.compare import compare_arguments, layout_of
    from mbcalc.views import compare_export as export
    from mbcalc.views.render import compare_view

    paths = [argument.rpartition("@")[0] for argument in specs]
    check_outputs(delivery.force, [delivery.output], *specs, *paths, deploy.device)
    check_batch(deploy.batch)
    request = setting.request()
    profile = counting_profile(counting)
    if len(specs) < 2:
        raise typer.BadParameter("give two or more specs to compare", param_hint="SPEC...")
    comparison = compare_arguments(specs, request, profile)
    layout = layout_of(comparison, summary=summary, by_layer=by_layer)
    deployments = [
        deployment_of(column.report, deploy, memory=deploy.shows_memory)
        for column in comparison.columns
    ]
    chosen = None if deployments[0] is None else [d for d in deployments if d is not None]
    writers: Writers = {Format.JSON: export.compare_to_json, Format.CSV: export.compare_to_csv,
                        Format.MARKDOWN: export.compare_to_markdown}  # fmt: skip
    if delivery.format is Format.HTML:  # the page's code only where one is asked
        from mbcalc.views.html_compare import compare_html

        writers[Format.HTML] = compare_html
    deliver_with(
        delivery.format, delivery.output, compare_view, writers, comparison, chosen, layout,
        width=delivery.width,
    )  # fmt: skip


def breakdown(
    spec: SpecArg, setting: SettingOptions, delivery: DeliveryOptions, counting: CountingOptions
) -> None:
    """Mult-adds and params of SPEC by layer type: the paper's Table 2 for any network.

    Standard k x k, pointwise 1x1 and depthwise k x k convolutions, fully connected
    and squeeze-and-excite layers, each with its share of the network's total.
    Under a counting profile, each type's operations as the profile counts them.
    """
    check_outputs(delivery.force, [delivery.output], spec)
    profile = counting_profile(counting)
    report = load_report(spec, setting)
    from mbcalc.core.profiles import count_by_type

    counted = None if profile.is_paper else count_by_type(report, profile)
    from mbcalc.views import breakdown_export as export
    from mbcalc.views.render import breakdown_view

    writers = {Format.JSON: export.breakdown_to_json, Format.CSV: export.breakdown_to_csv,
               Format.MARKDOWN: export.breakdown_to_markdown}  # fmt: skip
    deliver_with(
        delivery.format, delivery.output, breakdown_view, writers, report, counted,
        width=delivery.width,
    )  # fmt: skip


def chart(
    spec: SpecArg,
    setting: SettingOptions,
    counting: CountingOptions,
    output: OutputOpt = None,
    force: ForceOpt = False,
    width: WidthOpt = None,
) -> None:
    """A bar chart of mult-adds and params per layer of SPEC, in the terminal.

    Two bars per layer (a separable unit is one layer), each scaled to the largest.
    Under a counting profile, the bars are the operations and params it counts.
    Piped or written with --output, the chart is plain text 100 columns wide (or --width N,
    or $COLUMNS when piped).
    """
    from mbcalc.core.profiles import count_units
    from mbcalc.views.chart import Chart

    check_outputs(force, [output], spec)
    profile = counting_profile(counting)
    report = load_report(spec, setting)
    counted = None if profile.is_paper else count_units(report, profile)
    deliver(
        Format.TABLE, output, functools.partial(Chart, report, counted), None, width, CHART_WIDTH
    )


def verify(spec: SpecArg, setting: SettingOptions, width: WidthOpt = None) -> None:
    """Build SPEC as a PyTorch module and check every op against the analytic counts.

    A forward pass on zeros (batch 1) checks each op's output shape, the params and BN
    params of its submodules, the mult-adds that hooks on Conv2d and Linear measure
    from the real tensors, and the activation module after it against the report's act;
    an auxiliary head, which runs in training only, for its params, BN params and act.
    Exit status 1 on any difference. Needs mbcalc[torch].
    """
    from mbcalc.pytorch.verification import verify as verify_report
    from mbcalc.views.verify_view import verification_view

    verification = verify_report(load_report(spec, setting))
    show(verification_view(verification), width)
    if not verification.ok:
        raise MbcalcError(verification.verdict)


def show_spec(spec: SpecArg, output: OutputOpt = None, force: ForceOpt = False) -> None:
    """Print the YAML text of SPEC exactly as stored, to start a spec of your own from.

    `mbcalc show mobilenet_v2 > mine.yaml` copies a shipped spec; --output writes it to a file.
    """
    from mbcalc.spec.zoo import spec_text

    check_outputs(force, [output], spec)
    text = spec_text(spec)
    if output is None:
        write_stdout(text)
    else:
        write_file(output, text)
