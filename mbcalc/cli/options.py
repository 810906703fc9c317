"""The command line's options, each declared once, and the groups that several commands share.

An `Annotated` alias is one option (its flags, metavar and help); a group is a frozen dataclass
of such fields, which `mbcalc.cli.grouped` spreads into a command's signature in field order.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

import typer

from mbcalc.cli.completion import complete_device, complete_profile, complete_spec
from mbcalc.core.profiles import ParamsRule
from mbcalc.core.settings import Request, parse_res, to_fraction
from mbcalc.deploy.dtypes import DType
from mbcalc.errors import FormatConflictError
from mbcalc.kinds import Format


def _fraction(text: str | Fraction) -> Fraction:
    if isinstance(text, Fraction):
        return text
    try:
        return to_fraction(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def file_path(text: str | Path) -> Path:
    """An --output or --plot FILE: a name ending in a slash is a folder, not a file."""
    if isinstance(text, Path):
        return text
    if text.endswith(("/", os.sep)):
        raise typer.BadParameter(f"{text!r} ends with a slash: name a file, not a folder")
    return Path(text)


SpecArg = Annotated[
    str,
    typer.Argument(
        help="A spec file (YAML), or the name of a shipped spec such as mobilenet_v1.",
        metavar="SPEC",
        autocompletion=complete_spec,
        show_default=False,
    ),
]
CompareArgs = Annotated[
    list[str],
    typer.Argument(
        help="Two or more specs (files or shipped names), each optionally with its own "
        "settings: mobilenet_v1@alpha=0.5,res=160 (or res=128x96, height x width).",
        metavar="SPEC...",
        autocompletion=complete_spec,
        show_default=False,
    ),
]
AlphaOpt = Annotated[
    Fraction | None,
    typer.Option(
        "--alpha",
        "-a",
        parser=_fraction,
        metavar="A",
        help="Width multiplier: every scaled layer's channels times A [default: the spec's "
        "`defaults:`, else 1].",
        show_default=False,
    ),
]
DepthOpt = Annotated[
    Fraction | None,
    typer.Option(
        "--depth",
        parser=_fraction,
        metavar="D",
        help="Depth multiplier: every `stage` of N copies has ceil(N x D) [default: the spec's "
        "`defaults:`, else 1].",
        show_default=False,
    ),
]


def _res(text: str) -> str:
    """A --res checked as it is parsed (a usage error names the option); kept as text, since an
    option's type cannot be a union of a height and a pair."""
    try:
        parse_res(text, "--res")
    except ValueError as error:
        raise typer.BadParameter(str(error).removeprefix("--res: ")) from None
    return text


ResOpt = Annotated[
    str | None,
    typer.Option(
        "--res",
        "-r",
        parser=_res,
        metavar="R|HxW",
        help="Input height in pixels (the width follows in proportion), or height x width: 128x96.",
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
        metavar="FORMAT",
        help="table, json, csv, markdown or html. Names are shown as written, escaped for each; "
        "a CSV text cell starting with = + - or @ gets a leading ' so that no formula runs. "
        "html (table, compare, sweep and roofline): one self-contained page, its CSS and "
        "script inline, that loads nothing and prints whole; a click on a column heading "
        "sorts by the exact figures. Without --format, an --output name ending in .json, "
        ".csv, .md or .html chooses that format.",
    ),
]


def output_option(what: str, after: str) -> Any:
    """The --output FILE option: where `what` goes instead of standard output; `after` ends
    its help."""
    return typer.Option(
        "--output",
        "-o",
        parser=file_path,
        metavar="FILE",
        help=f"Write {what} to FILE (atomically) instead of standard output: a new file or a "
        f"regular one (a symlink's target); {after}",
        show_default=False,
    )


OutputOpt = Annotated[Path | None, output_option("the report", "never an input of the command.")]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Replace a read-only --output or --plot file."),
]


def plot_option(help: str) -> Any:
    """The --plot FILE option of a command that also draws an image; `help` says what."""
    return typer.Option(
        "--plot", parser=file_path, metavar="FILE.png|svg", help=help, show_default=False
    )


def range_option(*flags: str, help: str, show_default: bool = True) -> Any:
    """An --alpha or --res option of a grid command: a list or a range of values."""
    return typer.Option(
        *flags, metavar="LIST|START:STOP:STEP", help=help, show_default=show_default
    )


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
        autocompletion=complete_device,
        help="Add time per op on a device: the roofline bound of a shipped profile (see "
        "`mbcalc devices`), or of a YAML file, which `mbcalc calibrate` writes with a measured "
        "cost model for a calibrated estimate.",
        show_default=False,
    ),
]
DTypeOpt = Annotated[
    DType | None,
    typer.Option(
        "--dtype",
        metavar="DTYPE",
        help="Number format of activations and weights: fp32, fp16 or int8 [default: the "
        "device's, else fp32].",
        show_default=False,
    ),
]
BatchOpt = Annotated[
    int,
    typer.Option("--batch", min=1, metavar="N", help="Images per inference (scales activations)."),
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
        autocompletion=complete_profile,
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
        "maxpool, maxpool_out, add, scale, softmax, softmax_sum, layer_norm, group_norm, "
        "layer_scale, pool_window, position (a position embedding's addition); act.NAME for one "
        "activation (act.relu6), pool.FORM for one pool form: global, window, padded or "
        "adaptive (e.g. "
        "bn=2,pool.global). A key replaces the profile's cost of that key and the keys under it.",
        show_default=False,
    ),
]
ParamsOpt = Annotated[
    ParamsRule | None,
    typer.Option(
        "--params",
        metavar="RULE",
        help="Which parameters count: paper (weights, biases), torch (+ BN scale, shift, PReLU "
        "weights), keras (paper's + BN scale, shift, running statistics), thop (torch's, less "
        "group norms' and layer scales') [default: the profile's].",
        show_default=False,
    ),
]


@dataclass(frozen=True, slots=True)
class SettingOptions:
    """--alpha, --depth, --res and --rho: the setting one report is computed at."""

    alpha: AlphaOpt = None
    depth: DepthOpt = None
    res: ResOpt = None
    rho: RhoOpt = None

    def request(self) -> Request:
        """The settings asked for (the spec's defaults fill the rest); --res with --rho is a
        usage error."""
        if self.res is not None and self.rho is not None:
            raise typer.BadParameter("give --res or --rho, not both", param_hint="--rho")
        res = None if self.res is None else parse_res(self.res, "--res")
        return Request(alpha=self.alpha, depth=self.depth, res=res, rho=self.rho)


SUFFIX_FORMATS = {
    ".json": Format.JSON,
    ".csv": Format.CSV,
    ".md": Format.MARKDOWN,
    ".html": Format.HTML,
    ".htm": Format.HTML,
}
"""The format an --output file's suffix implies when --format is not given."""

HTML_COMMANDS = ("table", "compare", "sweep", "roofline")
"""The commands that write an HTML page."""


def report_format(asked: Format | None, output: Path | None, command: str = "") -> Format:
    """The format of a report: --format's, else the one --output's suffix implies, else table.

    A --format that contradicts the suffix, and html from a command that writes no HTML page,
    are refused (exit status 2).
    """
    implied = None if output is None else SUFFIX_FORMATS.get(output.suffix.lower())
    if asked is not None and implied is not None and asked != implied:
        raise FormatConflictError(
            f"--format {asked} contradicts --output {output}, a {implied} file name",
            hint=f"drop --format, or give --format {implied}",
        )
    chosen = asked or implied or Format.TABLE
    if chosen is Format.HTML and command not in HTML_COMMANDS:
        given = "--format html" if asked else f"--output {output}, an html file name,"
        raise FormatConflictError(
            f"{given} asks for an HTML page, which only {', '.join(HTML_COMMANDS[:-1])} and "
            f"{HTML_COMMANDS[-1]} write",
            hint="give --format json, csv or markdown",
        )
    return chosen


MIN_WIDTH = 40
"""The narrowest --width: a table's numbers need about this much."""

WidthOpt = Annotated[
    int | None,
    typer.Option(
        "--width",
        min=MIN_WIDTH,
        metavar="N",
        help="Draw tables at most N columns wide (the table format only) [default: the "
        "terminal's, or $COLUMNS when piped]. Numbers are never cut: narrower, text folds, "
        "columns are hidden (a note says which) or a table is split.",
        show_default=False,
    ),
]


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    """--format, --output, --force and --width: what a report is written as, and where."""

    format: FormatOpt = Format.TABLE
    output: OutputOpt = None
    force: ForceOpt = False
    width: WidthOpt = None

    def resolved(self, defaulted: set[str], command: str) -> DeliveryOptions:
        """These options with the format settled (`report_format`) for `command`; `defaulted`
        names the options left at their defaults. A contradiction stops the command before
        any work."""
        asked = None if "format" in defaulted else self.format
        return dataclasses.replace(self, format=report_format(asked, self.output, command))


@dataclass(frozen=True, slots=True)
class DeployOptions:
    """--memory, --device, --dtype, --batch and --fold-bn: the deployment view."""

    memory: MemoryOpt = False
    device: DeviceOpt = None
    dtype: DTypeOpt = None
    batch: BatchOpt = 1
    fold_bn: FoldOpt = False

    @property
    def shows_memory(self) -> bool:
        """Whether the memory view is on: asked for, or implied by a memory setting."""
        return self.memory or self.dtype is not None or self.batch != 1 or self.fold_bn


@dataclass(frozen=True, slots=True)
class CountingOptions:
    """--profile, --flops, --count and --params: what the report's totals count."""

    profile: ProfileOpt = "paper"
    flops: FlopsOpt = False
    count: CountOpt = None
    params: ParamsOpt = None


SummaryOpt = Annotated[
    bool,
    typer.Option(
        "--summary",
        help="Totals only: no per-op or per-unit rows, in every format (JSON without its "
        "per-row lists).",
    ),
]
