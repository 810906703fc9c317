"""The `mbcalc` command line: thin commands over the library (load -> analyze -> show/export)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer

from mbcalc.errors import MbcalcError
from mbcalc.settings import Settings, to_fraction

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from mbcalc.report import Report

P = ParamSpec("P")
R = TypeVar("R")

WIDE = 200
"""Columns used to render tables into files and pipes, so that nothing is cut."""

app = typer.Typer(
    name="mbcalc",
    help="Exact mult-adds and parameters of efficient convolutional networks, "
    "from a YAML spec, at any width multiplier and resolution.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"


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
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table, json, csv or markdown.")]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write the report to FILE (atomically) instead of standard output.",
        show_default=False,
    ),
]


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn library errors into one line on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except MbcalcError as error:
            typer.secho(f"mbcalc: error: {error}", fg="red", err=True)
            raise typer.Exit(1) from None

    return wrapper


@app.command()
@reports_errors
def table(
    spec: SpecArg,
    alpha: AlphaOpt = Fraction(1),
    res: ResOpt = None,
    rho: RhoOpt = None,
    format: FormatOpt = Format.TABLE,
    output: OutputOpt = None,
) -> None:
    """Per-layer mult-adds and params of SPEC, with totals and the separable reduction.

    One row per primitive op, grouped under its spec layer; each depthwise-separable unit
    shows its reduction against a standard convolution beside 1/N + 1/k^2.
    """
    from mbcalc.graph import build_graph
    from mbcalc.report import analyze
    from mbcalc.zoo import resolve_spec

    if res is not None and rho is not None:
        raise typer.BadParameter("give --res or --rho, not both", param_hint="--rho")
    settings = Settings(alpha=alpha, res=res, rho=rho)
    report = analyze(build_graph(resolve_spec(spec), settings))
    _emit(report, format, output)


@app.command("list")
@reports_errors
def list_specs() -> None:
    """The specs that ship with mbcalc, with their cost at alpha 1."""
    from rich.table import Table

    from mbcalc.graph import build_graph
    from mbcalc.numbers import human
    from mbcalc.report import analyze
    from mbcalc.zoo import load_shipped, shipped_names

    view = Table(title="Shipped specs (alpha 1, their own resolution)", header_style="bold")
    for column, justify in (("name", "left"), ("description", "left"), ("input", "right"),
                            ("mult-adds", "right"), ("params", "right")):  # fmt: skip
        view.add_column(column, justify=justify)  # type: ignore[arg-type]
    for name in shipped_names():
        spec = load_shipped(name)
        total = analyze(build_graph(spec)).total.cost
        size = f"{spec.input_size[0]}x{spec.input_size[1]}"
        view.add_row(name, spec.description, size, human(total.mult_adds), human(total.params))
    _show(view)


def _show(renderable: RenderableType) -> None:
    """Print to a terminal with colour, or as plain text (no padding) to a pipe or file."""
    console = _console()
    if console.is_terminal:
        console.print(renderable)
    else:
        sys.stdout.write(render_plain(renderable))


def _console(file: object = None) -> Console:
    from rich.console import Console

    if file is not None:
        return Console(file=file, width=WIDE, color_system=None)  # type: ignore[arg-type]
    return Console()


def _emit(report: Report, format: Format, output: Path | None) -> None:
    text = _render_text(report, format) if output is not None or format != Format.TABLE else None
    if output is not None:
        from mbcalc.output import write_atomic

        assert text is not None
        write_atomic(output, text)
    elif text is not None:
        sys.stdout.write(text)
    else:
        from mbcalc.render import report_view

        _show(report_view(report))


def _render_text(report: Report, format: Format) -> str:
    if format == Format.TABLE:
        from mbcalc.render import report_view

        return render_plain(report_view(report))
    from mbcalc import export

    writers: dict[Format, Callable[[Report], str]] = {
        Format.JSON: export.to_json,
        Format.CSV: export.to_csv,
        Format.MARKDOWN: export.to_markdown,
    }
    return writers[format](report)


def render_plain(renderable: RenderableType, width: int = WIDE) -> str:
    """Render to plain text (no colour), as written to files."""
    import io

    buffer = io.StringIO()
    _console(buffer).print(renderable, width=width)
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def main() -> None:
    """Console-script entry point."""
    app()
