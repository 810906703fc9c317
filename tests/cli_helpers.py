"""Running the command line in-process, shared by the CLI test modules."""

from __future__ import annotations

import re

from typer.testing import CliRunner, Result

from mbcalc.cli.app import app


def run(*args: str) -> Result:
    """`mbcalc ARGS...` in-process; stdout and stderr kept apart."""
    return CliRunner().invoke(app, list(args))


def ok(*args: str) -> str:
    """Standard output of a command that must succeed quietly."""
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def assert_clean_failure(result: Result, code: int, *words: str) -> None:
    """Exit status `code`, nothing on stdout, no traceback, each word in the error."""
    assert result.exit_code == code, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    assert "Traceback" not in result.output
    error = " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.stderr).split())
    for word in words:
        assert word in error, (word, result.stderr)
