"""The one place where the library's errors become a red line on stderr and an exit status."""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

import typer

from mbcalc.errors import MbcalcError

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


@contextlib.contextmanager
def without_cyclic_gc() -> Iterator[None]:
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
            with without_cyclic_gc():
                return command(*args, **kwargs)
        except MbcalcError as error:
            typer.secho(f"mbcalc: error: {error}", fg="red", err=True)
            # A malformed argument (`mbcalc compare net@bogus=1`) is wrong usage: status 2.
            raise typer.Exit(getattr(error, "exit_status", 1)) from None

    return wrapper


def parsed(parse: Callable[[str, str], T], text: str, option: str) -> T:
    """A list, range or count option, its mistakes turned into usage errors."""
    try:
        return parse(text, option)
    except ValueError as error:
        raise typer.BadParameter(
            str(error).removeprefix(f"{option}: "), param_hint=option
        ) from None
