"""The `mbcalc` command line: the Typer app and its commands, each behind the error boundary.

The commands live in `report_commands`, `deploy_commands`, `explore_commands` and
`list_command`; their shared options in `options`; they deliver through `deliver`. A command's
module is imported, and its options built, only when that command runs or its help is shown:
`mbcalc table` never loads the machinery of `sweep` or `roofline`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, MutableMapping
from importlib import import_module
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

COMMANDS: dict[str, tuple[str, str]] = {
    "table": ("report_commands", "table"),
    "devices": ("deploy_commands", "devices"),
    "roofline": ("deploy_commands", "roofline"),
    "list": ("list_command", "list_specs"),
    "show": ("report_commands", "show_spec"),
    "compare": ("report_commands", "compare"),
    "breakdown": ("report_commands", "breakdown"),
    "chart": ("report_commands", "chart"),
    "sweep": ("explore_commands", "sweep"),
    "fit": ("explore_commands", "fit"),
    "verify": ("report_commands", "verify"),
    "bench": ("latency_commands", "bench"),
    "calibrate": ("latency_commands", "calibrate"),
    "scale": ("scale_command", "scale"),
    "import": ("import_command", "import_model"),
}
"""Every command by name, in the order `mbcalc --help` lists them: its module in `mbcalc.cli`
and its function there."""


def command_function(name: str) -> Callable[..., None]:
    """The function of the command `name`, its module imported on first use."""
    module, function = COMMANDS[name]
    command: Callable[..., None] = getattr(import_module(f"mbcalc.cli.{module}"), function)
    return command


def build_command(name: str) -> TyperCommand:
    """The Click command `app.command(name)` would make, behind the error boundary."""
    from mbcalc.cli.boundary import reports_errors
    from mbcalc.cli.grouped import with_groups
    from mbcalc.cli.usage import NamedUsageCommand

    holder = typer.Typer()
    holder.command(name, cls=NamedUsageCommand)(reports_errors(with_groups(command_function(name))))
    command = typer.main.get_command_from_info(
        holder.registered_commands[0],
        pretty_exceptions_short=app.pretty_exceptions_short,
        rich_markup_mode=app.rich_markup_mode,
    )
    assert isinstance(command, TyperCommand)
    return command


class LazyCommands(MutableMapping[str, Any]):  # Any: Click's Command, which typer vendors
    """The app's commands by name, as `COMMANDS` lists them, each built on first use."""

    def __init__(self) -> None:
        self.built: dict[str, TyperCommand] = {}

    def __getitem__(self, name: str) -> TyperCommand:
        if name not in self.built:
            if name not in COMMANDS:
                raise KeyError(name)
            self.built[name] = build_command(name)
        return self.built[name]

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)

    def __setitem__(self, name: str, command: object) -> None:
        raise TypeError(f"cannot add {name!r}: mbcalc's commands are those of COMMANDS")

    def __delitem__(self, name: str) -> None:
        raise TypeError(f"cannot remove {name!r}: mbcalc's commands are those of COMMANDS")


class LazyGroup(TyperGroup):
    """The `mbcalc` group, whose commands are built as they are asked for (`LazyCommands`)."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        if self.commands:  # registered with `app.command()`: they would go unseen
            raise TypeError(f"list the commands in COMMANDS, not {', '.join(self.commands)}")
        self.commands = LazyCommands()


app = typer.Typer(
    name="mbcalc",
    cls=LazyGroup,
    help="Exact mult-adds and parameters of efficient convolutional networks, "
    "from a YAML spec, at any width multiplier and resolution.\n\n"
    "A SPEC is the name of a shipped spec (listed by `mbcalc list`; their YAML files are in "
    "archs/, and `mbcalc show NAME` prints one to start from) or a YAML file of your own, in "
    "the spec language that docs/spec-language.md describes.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # so that [default: ...] and mbcalc[plot] stay in help texts
    context_settings={"help_option_names": ["-h", "--help"]},
)


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
    """Console-script entry point (and `python -m mbcalc`).

    The cyclic garbage collector is off for the run: a report's records hold no cycles, and
    each collection would walk all of them again (a network of 100,000 ops took twice as long).
    As the process ends, what the command made is frozen: left to the operating system rather
    than traversed once more by the interpreter's last collections (a fifth of the time of
    `mbcalc table NAME --format json`, bench/startup.py).
    """
    gc.disable()
    try:
        app()
    finally:
        gc.freeze()
        gc.enable()
