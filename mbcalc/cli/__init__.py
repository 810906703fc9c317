"""The command line: Typer commands over the library, one error boundary, delivery of reports."""

from mbcalc.cli.app import app, main

__all__ = ["app", "main"]
