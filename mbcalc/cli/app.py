"""The `mbcalc` command line: the Typer app and its commands, each behind the error boundary.

The commands live in `report_commands`, `deploy_commands` and `explore_commands`; their shared
options in `options`; they deliver through `deliver`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Annotated

import typer

from mbcalc.cli import deploy_commands, explore_commands, report_commands
from mbcalc.cli.boundary import reports_errors
from mbcalc.cli.grouped import with_groups

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

COMMANDS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("table", report_commands.table),
    ("devices", deploy_commands.devices),
    ("roofline", deploy_commands.roofline),
    ("list", explore_commands.list_specs),
    ("show", report_commands.show_spec),
    ("compare", report_commands.compare),
    ("breakdown", report_commands.breakdown),
    ("chart", report_commands.chart),
    ("sweep", explore_commands.sweep),
    ("fit", explore_commands.fit),
    ("verify", report_commands.verify),
)
"""Every command by name, in the order `mbcalc --help` lists them."""

for name, command in COMMANDS:
    app.command(name)(reports_errors(with_groups(command)))


def _print_version(asked: bool) -> None:
    """Print `mbcalc VERSION` and stop, when --version is given."""
    if asked:
        from mbcalc import __version__

        typer.echo(f"mbcalc {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version of mbcalc and exit.",
        ),
    ] = False,
) -> None:
    """The options of `mbcalc` itself, before a command."""


def main() -> None:
    """Console-script entry point.

    The cyclic garbage collector is off for the run: a report's records hold no cycles, and
    each collection would walk all of them again (a network of 100,000 ops took twice as long).
    """
    gc.disable()
    try:
        app()
    finally:
        gc.enable()
