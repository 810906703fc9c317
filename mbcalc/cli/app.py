"""The `mbcalc` command line: thin commands over the library (load -> analyze -> show/export)."""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer

from mbcalc.core.limits import check_batch, check_grid
from mbcalc.core.profiles import ParamsRule
from mbcalc.core.settings import Settings, to_fraction
from mbcalc.deploy.dtypes import DType
from mbcalc.errors import MbcalcError

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from mbcalc.core.compare import Comparison
    from mbcalc.core.profiles import Counted, Profile
    from mbcalc.core.report import Report
    from mbcalc.deploy.deployment import Deployment
    from mbcalc.grid.fit import FitResult
    from mbcalc.grid.refusals import Refusal
    from mbcalc.grid.sweep import Grid

P = ParamSpec("P")
R = TypeVar("R")

WIDE = 200
"""Columns used to render tables into files and pipes, so that nothing is cut."""

CHART_WIDTH = 100
"""Columns of a chart rendered into a file or pipe: bars as long as a terminal's."""

app = typer.Typer(
    name="mbcalc",
    help="Exact mult-adds and parameters of efficient convolutional networks, "
    "from a YAML spec, at any width multiplier and resolution.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # so that [default: ...] and mbcalc[plot] stay in help texts
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"


class PlotBy(StrEnum):
    RES = "res"
    ALPHA = "alpha"


def _fraction(text: str | Fraction) -> Fraction:
    if isinstance(text, Fraction):
        return text
    try:
        return to_fraction(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


SpecArg = Annotated[
    str,
    typer.Argument(
        help="A spec file (YAML), or the name of a shipped spec such as mobilenet_v1.",
        show_default=False,
    ),
]
AlphaOpt = Annotated[
    Fraction,
    typer.Option(
        "--alpha",
        "-a",
        parser=_fraction,
        metavar="A",
        help="Width multiplier: every scaled layer's channels times A.",
    ),
]
ResOpt = Annotated[
    int | None,
    typer.Option(
        "--res",
        "-r",
        metavar="R",
        help="Input height in pixels; the width follows in proportion.",
        show_default=False,
    ),
]
RhoOpt = Annotated[
    Fraction | None,
    typer.Option(
        "--rho",
        parser=_fraction,
        metavar="P",
        help="Resolution multiplier: both input sides times P, rounded.",
        show_default=False,
    ),
]
FormatOpt = Annotated[
    Format,
    typer.Option(
        "--format",
        "-f",
        help="table, json, csv or markdown. Names are shown as written, escaped for each; "
        "a CSV text cell starting with = + - or @ gets a leading ' so that no formula runs.",
    ),
]
CompareArgs = Annotated[
    list[str],
    typer.Argument(
        help="Two or more specs (files or shipped names), each optionally with its own "
        "settings: mobilenet_v1@alpha=0.5,res=160.",
        metavar="SPEC[@alpha=A,res=R]...",
        show_default=False,
    ),
]


def _file_path(text: str | Path) -> Path:
    """An --output or --plot FILE: a name ending in a slash is a folder, not a file."""
    if isinstance(text, Path):
        return text
    if text.endswith(("/", os.sep)):
        raise typer.BadParameter(f"{text!r} ends with a slash: name a file, not a folder")
    return Path(text)


OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        parser=_file_path,
        metavar="FILE",
        help="Write the report to FILE (atomically) instead of standard output: a new file or a "
        "regular one (a symlink's target); never an input of the command.",
        show_default=False,
    ),
]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Replace a read-only --output or --plot file."),
]


@contextlib.contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Run a command without the cyclic garbage collector.

    A command builds one graph of up to 100,000 ops and drops it at exit; its objects form no
    garbage cycles worth collecting, and the collector would traverse them all again and again
    (a third of the time of a large report).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn library errors into one line on stderr and exit status 1 (or the error's own)."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with _without_cyclic_gc():
                return command(*args, **kwargs)
        except MbcalcError as error:
            typer.secho(f"mbcalc: error: {error}", fg="red", err=True)
            # A malformed argument (`mbcalc compare net@bogus=1`) is wrong usage: status 2.
            raise typer.Exit(getattr(error, "exit_status", 1)) from None

    return wrapper


MemoryOpt = Annotated[
    bool,
    typer.Option(
        "--memory",
        help="Add activation and weight bytes per op, and the peak memory of one inference.",
    ),
]
DeviceOpt = Annotated[
    str | None,
    typer.Option(
        "--device",
        "-d",
        metavar="NAME|FILE",
        help="Add roofline time per op on a device: a shipped profile (see `mbcalc devices`) "
        "or a YAML file.",
        show_default=False,
    ),
]
DTypeOpt = Annotated[
    DType | None,
    typer.Option(
        "--dtype",
        help="Number format of activations and weights [default: the device's, else fp32].",
        show_default=False,
    ),
]
BatchOpt = Annotated[
    int, typer.Option("--batch", min=1, help="Images per inference (scales activations).")
]
FoldOpt = Annotated[
    bool,
    typer.Option(
        "--fold-bn", help="Fold each batch norm into its conv (a bias) for the deployment view."
    ),
]


ProfileOpt = Annotated[
    str,
    typer.Option(
        "--profile",
        "-p",
        metavar="NAME",
        help="Counting profile: paper (mult-adds), torch, fvcore, thop, ptflops or "
        "ptflops-aten. Each reproduces that tool's total and params exactly (fvcore 0.1.5, thop "
        "0.1.1, ptflops 0.7.5 pytorch and aten backends; torch: torch.utils.flop_counter) on the "
        "module mbcalc.torch builds from the spec, checked on every shipped spec and random "
        "networks; a softmax counts only where the spec declares one.",
    ),
]
FlopsOpt = Annotated[bool, typer.Option("--flops", help="Count 2 FLOPs per mult-add.")]
CountOpt = Annotated[
    str | None,
    typer.Option(
        "--count",
        metavar="OP[=COST],...",
        help="Also count these operations at COST per element: bias, bn, act, pool, pool_out, "
        "maxpool, maxpool_out, add, scale, softmax, softmax_sum; act.NAME for one activation "
        "(act.relu6), pool.FORM for one pool form: global, window or padded (e.g. "
        "bn=2,pool.global). A key replaces the profile's cost of that key and the keys under it.",
        show_default=False,
    ),
]
ParamsOpt = Annotated[
    ParamsRule | None,
    typer.Option(
        "--params",
        help="Which parameters count: paper (weights, biases), torch (+ BN scale, shift, PReLU "
        "weights), keras (paper's + BN scale, shift, running statistics) [default: the "
        "profile's].",
        show_default=False,
    ),
]


@app.command()
@reports_errors
def table(
    spec: SpecArg,
    alpha: AlphaOpt = Fraction(1),
    res: ResOpt = None,
    rho: RhoOpt = None,
    format: FormatOpt = Format.TABLE,
    output: OutputOpt = None,
    force: ForceOpt = False,
    memory: MemoryOpt = False,
    device: DeviceOpt = None,
    dtype: DTypeOpt = None,
    batch: BatchOpt = 1,
    fold_bn: FoldOpt = False,
    profile: ProfileOpt = "paper",
    flops: FlopsOpt = False,
    count: CountOpt = None,
    params: ParamsOpt = None,
) -> None:
    """Per-layer mult-adds and params of SPEC, with totals and the separable reduction.

    One row per primitive op, grouped under its spec layer; each depthwise-separable unit
    shows its reduction against a standard convolution beside 1/N + 1/k^2.
    --memory and --device add the deployment view: bytes, peak memory, roofline time.
    """
    _check_outputs(force, [output], spec, device)
    check_batch(batch)
    counting = _profile(profile, flops, count, params)
    report = _load(spec, alpha, res, rho)
    memory = memory or dtype is not None or batch != 1 or fold_bn
    deployment = _deployment(report, memory, device, dtype, batch, fold_bn)
    from mbcalc.core.profiles import count as count_with

    _emit(report, format, output, deployment, count_with(report, counting))


def _profile(name: str, flops: bool, count: str | None, params: ParamsRule | None) -> Profile:
    """The counting profile the options ask for; mistakes are usage errors."""
    from mbcalc.core.profiles import PROFILES, custom_profile, parse_extras

    if name not in PROFILES:
        known = ", ".join(PROFILES)
        raise typer.BadParameter(
            f"unknown profile {name!r} (known: {known})", param_hint="--profile"
        )
    try:
        extras = {} if count is None else parse_extras(count)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--count") from None
    return custom_profile(PROFILES[name], flops, extras, params)


def _deployment(
    report: Report,
    memory: bool,
    device: str | None,
    dtype: DType | None,
    batch: int,
    fold_bn: bool,
) -> Deployment | None:
    """The deployment view the options ask for, or None."""
    if not memory and device is None:
        return None
    from mbcalc.deploy.deployment import deploy
    from mbcalc.deploy.roofline import resolve_device

    profile = None if device is None else resolve_device(device)
    return deploy(report, dtype, batch, fold_bn, profile, show_memory=memory)


@app.command()
@reports_errors
def devices() -> None:
    """The device profiles that ship with mbcalc, for --device and `mbcalc roofline`."""
    from rich.table import Table

    from mbcalc.deploy.roofline import DEFAULT_DEVICE, resolve_device, shipped_devices
    from mbcalc.views.escape import for_terminal
    from mbcalc.views.formats import rate

    view = Table(title="Shipped device profiles (figures from vendor data sheets)")
    for column in ("name", "device", "dtype", "peak", "bandwidth", "ridge", "source"):
        view.add_column(
            column, justify="right" if column in {"peak", "bandwidth", "ridge"} else "left"
        )
    for name in shipped_devices():
        profile = resolve_device(name)
        view.add_row(
            name + (" (default)" if name == DEFAULT_DEVICE else ""),
            for_terminal(profile.name),
            profile.dtype.value,
            rate(float(profile.mult_adds_per_second), "MAC/s"),
            rate(float(profile.bandwidth), "B/s"),
            f"{float(profile.ridge):.1f} MAC/B",
            for_terminal(profile.source),
        )
    _show(view)


@app.command()
@reports_errors
def roofline(
    spec: SpecArg,
    device: DeviceOpt = None,
    alpha: AlphaOpt = Fraction(1),
    res: ResOpt = None,
    rho: RhoOpt = None,
    dtype: DTypeOpt = None,
    batch: BatchOpt = 1,
    fold_bn: FoldOpt = False,
    format: FormatOpt = Format.TABLE,
    output: OutputOpt = None,
    force: ForceOpt = False,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            parser=_file_path,
            metavar="FILE.png|svg",
            help="Also draw the roofline with every op on it into FILE; needs mbcalc[plot].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Where each op of SPEC sits against a device's roofline, and its estimated time.

    Each op's arithmetic intensity (mult-adds per byte moved) against the ridge point,
    whether it is compute- or memory-bound, and its share of the time next to its share
    of the mult-adds. Without --device the default profile (jetson-nano) is used.
    """
    from mbcalc.deploy.roofline import DEFAULT_DEVICE

    _check_outputs(force, [output, plot], spec, device)
    check_batch(batch)
    report = _load(spec, alpha, res, rho)
    deployment = _deployment(report, False, device or DEFAULT_DEVICE, dtype, batch, fold_bn)
    assert deployment is not None
    if plot is not None:
        from mbcalc.cli.output import write_atomic
        from mbcalc.views.plot import plot_roofline

        write_atomic(plot, plot_roofline(deployment, plot.suffix.lower()))
    _emit_roofline(report, deployment, format, output)


@app.command("list")
@reports_errors
def list_specs() -> None:
    """The specs that ship with mbcalc, with their cost at alpha 1."""
    from rich.table import Table

    from mbcalc.core.graph import build_graph
    from mbcalc.core.report import analyze
    from mbcalc.spec.zoo import load_shipped, shipped_names
    from mbcalc.views.escape import for_terminal
    from mbcalc.views.formats import human

    view = Table(title="Shipped specs (alpha 1, their own resolution)", header_style="bold")
    for column, justify in (("name", "left"), ("description", "left"), ("input", "right"),
                            ("mult-adds", "right"), ("params", "right")):  # fmt: skip
        view.add_column(column, justify=justify)  # type: ignore[arg-type]
    for name in shipped_names():
        spec = load_shipped(name)
        total = analyze(build_graph(spec)).total.cost
        size = f"{spec.input_size[0]}x{spec.input_size[1]}"
        view.add_row(
            for_terminal(name),
            for_terminal(spec.description),
            size,
            human(total.mult_adds),
            human(total.params),
        )
    _show(view)


@app.command()
@reports_errors
def compare(
    specs: CompareArgs,
    alpha: AlphaOpt = Fraction(1),
    res: ResOpt = None,
    rho: RhoOpt = None,
    format: FormatOpt = Format.TABLE,
    output: OutputOpt = None,
    force: ForceOpt = False,
    memory: MemoryOpt = False,
    device: DeviceOpt = None,
    dtype: DTypeOpt = None,
    batch: BatchOpt = 1,
    fold_bn: FoldOpt = False,
) -> None:
    """Two or more specs, or one spec under several settings, side by side.

    Each argument may carry its own settings: mobilenet_v1@alpha=0.5,res=160.
    The keys are alpha, res and rho; --alpha, --res and --rho set the rest.
    Units are aligned by name, or by structure (type, kernel, stride).
    Ratios are against the first column; the fewest mult-adds and params win.
    """
    from mbcalc.core.compare import compare_arguments

    paths = [argument.rpartition("@")[0] for argument in specs]
    _check_outputs(force, [output], *specs, *paths, device)
    check_batch(batch)
    settings = _settings(alpha, res, rho)
    if len(specs) < 2:
        raise typer.BadParameter("give two or more specs to compare", param_hint="SPEC...")
    comparison = compare_arguments(specs, settings)
    memory = memory or dtype is not None or batch != 1 or fold_bn
    deployments = [
        _deployment(column.report, memory, device, dtype, batch, fold_bn)
        for column in comparison.columns
    ]
    chosen = None if deployments[0] is None else [d for d in deployments if d is not None]
    _emit_comparison(comparison, format, output, chosen)


@app.command()
@reports_errors
def breakdown(
    spec: SpecArg,
    alpha: AlphaOpt = Fraction(1),
    res: ResOpt = None,
    rho: RhoOpt = None,
    format: FormatOpt = Format.TABLE,
    output: OutputOpt = None,
    force: ForceOpt = False,
) -> None:
    """Mult-adds and params of SPEC by layer type: the paper's Table 2 for any network.

    Standard k x k, pointwise 1x1 and depthwise k x k convolutions, fully connected
    and squeeze-and-excite layers, each with its share of the network's total.
    """
    _check_outputs(force, [output], spec)
    _emit_breakdown(_load(spec, alpha, res, rho), format, output)


@app.command()
@reports_errors
def chart(
    spec: SpecArg,
    alpha: AlphaOpt = Fraction(1),
    res: ResOpt = None,
    rho: RhoOpt = None,
    output: OutputOpt = None,
    force: ForceOpt = False,
) -> None:
    """A bar chart of mult-adds and params per layer of SPEC, in the terminal.

    Two bars per layer (a separable unit is one layer), each scaled to the largest.
    Piped or written with --output, the chart is plain text 100 columns wide.
    """
    from mbcalc.views.chart import Chart

    _check_outputs(force, [output], spec)
    report = _load(spec, alpha, res, rho)
    _deliver(Format.TABLE, output, functools.partial(Chart, report), width=CHART_WIDTH)


MAX_TABLE_CELLS = 10_000
"""Largest sweep shown as a grid; larger ones go to json or csv."""


@app.command()
@reports_errors
def sweep(
    spec: SpecArg,
    alpha: Annotated[
        str,
        typer.Option(
            "--alpha",
            "-a",
            metavar="LIST|START:STOP:STEP",
            help="Widths to sweep, e.g. 1,0.75,0.5,0.25 or 0.25:1:0.05 (STOP included).",
        ),
    ] = "1,0.75,0.5,0.25",
    res: Annotated[
        str | None,
        typer.Option(
            "--res",
            "-r",
            metavar="LIST|START:STOP:STEP",
            help="Input heights to sweep, e.g. 224,192,160,128 or 96:224:32 "
            "[default: the spec's own].",
            show_default=False,
        ),
    ] = None,
    format: FormatOpt = Format.TABLE,
    output: OutputOpt = None,
    force: ForceOpt = False,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            parser=_file_path,
            metavar="FILE.png|svg",
            help="Also draw mult-adds against params (log axes) into FILE; needs mbcalc[plot].",
            show_default=False,
        ),
    ] = None,
    plot_by: Annotated[
        PlotBy, typer.Option("--plot-by", help="One line per resolution or per alpha.")
    ] = PlotBy.RES,
    memory: MemoryOpt = False,
    device: DeviceOpt = None,
    dtype: DTypeOpt = None,
    batch: BatchOpt = 1,
    fold_bn: FoldOpt = False,
) -> None:
    """Mult-adds and params of SPEC over a grid of widths and resolutions.

    The paper's Tables 6 and 7 in one command:
    mbcalc sweep mobilenet_v1 --alpha 1,0.75,0.5,0.25 --res 224,192,160,128.
    Every cell equals `mbcalc table` at that setting; json and csv have one row per setting.
    """
    from mbcalc.core.ranges import count_values, parse_fractions, parse_integers
    from mbcalc.grid.refusals import explain_invalid
    from mbcalc.grid.sweep import sweep as sweep_grid
    from mbcalc.spec.zoo import resolve_spec

    _check_outputs(force, [output, plot], spec, device)
    check_batch(batch)
    alpha_count = _parsed(count_values, alpha, "--alpha")
    res_count = 1 if res is None else _parsed(count_values, res, "--res")
    check_grid(alpha_count, res_count)
    cells = alpha_count * res_count
    if format == Format.TABLE and cells > MAX_TABLE_CELLS:
        raise MbcalcError(
            f"a grid of {cells:,} settings is too large to show as a table",
            hint="use --format csv or --format json",
        )
    alphas = _parsed(parse_fractions, alpha, "--alpha")
    heights = None if res is None else _parsed(parse_integers, res, "--res")
    from mbcalc.deploy.roofline import resolve_device

    profile = None if device is None else resolve_device(device)
    if memory and dtype is None and profile is None:
        dtype = DType.FP32  # asking for a number format is what turns the memory grids on
    grid = sweep_grid(
        resolve_spec(spec), alphas, heights, dtype=dtype, batch=batch, fold_bn=fold_bn,
        device=profile,
    )  # fmt: skip
    refusals = explain_invalid(grid)
    if plot is not None:
        from mbcalc.cli.output import write_atomic
        from mbcalc.views.plot import plot_grid

        write_atomic(plot, plot_grid(grid, plot.suffix.lower(), plot_by.value))
    _emit_sweep(grid, refusals, format, output)


@app.command()
@reports_errors
def fit(
    spec: SpecArg,
    max_mult_adds: Annotated[
        str,
        typer.Option(
            "--max-mult-adds",
            metavar="COUNT",
            help="Mult-adds budget: 300M, 1.2G, 150000000.",
            show_default=False,
        ),
    ],
    max_params: Annotated[
        str | None,
        typer.Option(
            "--max-params", metavar="COUNT", help="Parameter budget: 2.5M.", show_default=False
        ),
    ] = None,
    alpha: Annotated[
        str | None,
        typer.Option(
            "--alpha",
            "-a",
            metavar="LIST|START:STOP:STEP",
            help="Widths to search [default: 0.05:1:0.05].",
            show_default=False,
        ),
    ] = None,
    res: Annotated[
        str | None,
        typer.Option(
            "--res",
            "-r",
            metavar="LIST|START:STOP:STEP",
            help="Input heights to search [default: multiples of --res-step up to the spec's].",
            show_default=False,
        ),
    ] = None,
    res_step: Annotated[
        int, typer.Option("--res-step", min=1, help="Resolution step of the default search.")
    ] = 32,
    format: FormatOpt = Format.TABLE,
    output: OutputOpt = None,
    force: ForceOpt = False,
) -> None:
    """The widths and resolutions of SPEC that fit a budget of mult-adds (and params).

    Of the settings that fit, those shown are not dominated: no other fitting setting has
    at least as many mult-adds and params, and more of one. The one that uses most of the
    budget (the most mult-adds) is marked.
    """
    from mbcalc.core.ranges import count_values, parse_budget, parse_fractions, parse_integers
    from mbcalc.grid.fit import DEFAULT_ALPHAS, default_height_range, default_heights
    from mbcalc.grid.fit import fit as fit_budget
    from mbcalc.spec.zoo import resolve_spec

    _check_outputs(force, [output], spec)
    budget = _parsed(parse_budget, max_mult_adds, "--max-mult-adds")
    params = None if max_params is None else _parsed(parse_budget, max_params, "--max-params")
    alpha_count = len(DEFAULT_ALPHAS) if alpha is None else _parsed(count_values, alpha, "--alpha")
    if res is not None:
        check_grid(alpha_count, _parsed(count_values, res, "--res"))
    loaded = resolve_spec(spec)
    if res is None:
        check_grid(alpha_count, len(default_height_range(loaded, res_step)))
    alphas = DEFAULT_ALPHAS if alpha is None else _parsed(parse_fractions, alpha, "--alpha")
    heights = (
        default_heights(loaded, res_step) if res is None else _parsed(parse_integers, res, "--res")
    )
    _emit_fit(fit_budget(loaded, budget, params, alphas, heights), spec, format, output)


@app.command()
@reports_errors
def verify(
    spec: SpecArg,
    alpha: AlphaOpt = Fraction(1),
    res: ResOpt = None,
    rho: RhoOpt = None,
) -> None:
    """Build SPEC as a PyTorch module and check every op against the analytic counts.

    A forward pass on zeros (batch 1) checks each op's output shape, the params and BN
    params of its submodules, the mult-adds that hooks on Conv2d and Linear measure
    from the real tensors, and the activation module after it against the report's act.
    Exit status 1 on any difference. Needs mbcalc[torch].
    """
    from mbcalc.pytorch.network import verification_view
    from mbcalc.pytorch.network import verify as verify_report

    verification = verify_report(_load(spec, alpha, res, rho))
    _show(verification_view(verification))
    if not verification.ok:
        raise MbcalcError(verification.verdict)


T = TypeVar("T")


def _parsed(parse: Callable[[str, str], T], text: str, option: str) -> T:
    """A list, range or count option, its mistakes turned into usage errors."""
    try:
        return parse(text, option)
    except ValueError as error:
        raise typer.BadParameter(
            str(error).removeprefix(f"{option}: "), param_hint=option
        ) from None


def _check_outputs(force: bool, outputs: list[Path | None], *inputs: str | None) -> None:
    """Refuse, before any work, an output the command must not write (`mbcalc.cli.output`)."""
    from mbcalc.cli.output import check_outputs

    check_outputs(outputs, [argument for argument in inputs if argument], force)


def _settings(alpha: Fraction, res: int | None, rho: Fraction | None) -> Settings:
    if res is not None and rho is not None:
        raise typer.BadParameter("give --res or --rho, not both", param_hint="--rho")
    return Settings(alpha=alpha, res=res, rho=rho)


def _load(spec: str, alpha: Fraction, res: int | None, rho: Fraction | None) -> Report:
    """The report of one SPEC argument at the command's settings."""
    from mbcalc.core.graph import build_graph
    from mbcalc.core.report import analyze
    from mbcalc.spec.zoo import resolve_spec

    settings = _settings(alpha, res, rho)
    return analyze(build_graph(resolve_spec(spec), settings))


def _show(renderable: RenderableType, width: int = WIDE) -> None:
    """Print to a terminal with colour, or as plain text (no padding) to a pipe or file."""
    console = _console()
    if console.is_terminal:
        with console.capture() as captured:
            console.print(renderable)
        write_stdout(captured.get())
    else:
        write_stdout(render_plain(renderable, width))


def write_stdout(text: str) -> None:
    """Write to standard output; symbols its encoding cannot take are written in ASCII."""
    from mbcalc.views.escape import for_stream

    sys.stdout.write(for_stream(text, sys.stdout.encoding))


def _console() -> Console:
    from rich.console import Console

    return Console()


def _deliver(
    format: Format,
    output: Path | None,
    view: Callable[[], RenderableType],
    text: Callable[[], str] | None = None,
    width: int = WIDE,
) -> None:
    """Show `view` (format table) or `text` (the other formats), or write it to `output`.

    Into a file the table format is `view` as plain text; only what is needed is rendered.
    """
    if format == Format.TABLE and output is None:
        _show(view(), width)
        return
    content = text() if text is not None and format != Format.TABLE else render_plain(view(), width)
    if output is None:
        write_stdout(content)
    else:
        from mbcalc.cli.output import write_atomic

        write_atomic(output, content)


def _emit(
    report: Report,
    format: Format,
    output: Path | None,
    deployment: Deployment | None = None,
    counted: Counted | None = None,
) -> None:
    from mbcalc.core.profiles import PROFILES, count
    from mbcalc.views import export

    counted = counted or count(report, PROFILES["paper"])  # every report states its profile
    writers = {Format.JSON: export.to_json, Format.CSV: export.to_csv,
               Format.MARKDOWN: export.to_markdown}  # fmt: skip
    _deliver_with(format, output, _report_view, writers, report, deployment, counted)


def _report_view(
    report: Report, deployment: Deployment | None, counted: Counted | None
) -> RenderableType:
    from mbcalc.views.render import report_view  # Rich's table code only where a table is shown

    return report_view(report, deployment, counted)


def _emit_roofline(
    report: Report, deployment: Deployment, format: Format, output: Path | None
) -> None:
    """The roofline chart in the terminal; the other formats are the report with its times."""
    if format != Format.TABLE:
        _emit(report, format, output, deployment)
        return
    from mbcalc.views.roofline_chart import roofline_view

    _deliver(format, output, functools.partial(roofline_view, deployment))


def _emit_breakdown(report: Report, format: Format, output: Path | None) -> None:
    from mbcalc.views import breakdown_export as export
    from mbcalc.views.render import breakdown_view

    writers = {Format.JSON: export.breakdown_to_json, Format.CSV: export.breakdown_to_csv,
               Format.MARKDOWN: export.breakdown_to_markdown}  # fmt: skip
    _deliver_with(format, output, breakdown_view, writers, report)


def _emit_comparison(
    comparison: Comparison,
    format: Format,
    output: Path | None,
    deployments: list[Deployment] | None = None,
) -> None:
    from mbcalc.views import compare_export as export
    from mbcalc.views.render import compare_view

    writers = {Format.JSON: export.compare_to_json, Format.CSV: export.compare_to_csv,
               Format.MARKDOWN: export.compare_to_markdown}  # fmt: skip
    _deliver_with(format, output, compare_view, writers, comparison, deployments)


def _emit_sweep(
    grid: Grid, refusals: tuple[Refusal, ...], format: Format, output: Path | None
) -> None:
    from mbcalc.views import sweep_views

    writers = {
        Format.JSON: functools.partial(sweep_views.sweep_json, grid, refusals),
        Format.CSV: functools.partial(sweep_views.sweep_csv, grid),
        Format.MARKDOWN: functools.partial(sweep_views.sweep_markdown, grid, refusals),
    }
    _deliver(
        format,
        output,
        functools.partial(sweep_views.sweep_view, grid, refusals),
        writers.get(format),
    )


def _emit_fit(result: FitResult, argument: str, format: Format, output: Path | None) -> None:
    from mbcalc.views import sweep_views

    writers = {
        Format.JSON: functools.partial(sweep_views.fit_json, result),
        Format.CSV: functools.partial(sweep_views.fit_csv, result),
        Format.MARKDOWN: functools.partial(sweep_views.fit_markdown, result),
    }
    view = functools.partial(sweep_views.fit_view, result, argument)
    _deliver(format, output, view, writers.get(format))


def _deliver_with(
    format: Format,
    output: Path | None,
    view: Callable[..., RenderableType],
    writers: dict[Format, Callable[..., str]],
    *data: object,
) -> None:
    """`_deliver` for a view and writers that all take the same `data`."""
    text = writers.get(format)
    _deliver(
        format,
        output,
        functools.partial(view, *data),
        None if text is None else functools.partial(text, *data),
    )


MAX_PLAIN_WIDTH = 2000
"""Widest plain-text rendering: a table wider than `WIDE` grows to fit rather than be cut."""


def render_plain(renderable: RenderableType, width: int = WIDE) -> str:
    """Render to plain text (no colour), as written to files.

    At the default width a table wider than `WIDE` is rendered at its natural width rather
    than cut; a narrower width (a chart's) is kept as asked.
    """
    import io

    from rich.console import Console

    if width >= WIDE:
        probe = Console(file=io.StringIO(), width=MAX_PLAIN_WIDTH, color_system=None)
        width = min(MAX_PLAIN_WIDTH, max(width, probe.measure(renderable).maximum))
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(renderable)
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def main() -> None:
    """Console-script entry point."""
    app()
