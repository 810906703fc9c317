"""The command line run in-process, and readers of what it prints, for the CLI test modules."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner, Result

from mbcalc.cli.app import app

# The JSON report's keys of one layer, in the order it writes them.
LAYER_KEYS = (
    "name", "unit", "op", "kernel", "stride", "groups", "input", "output",
    "mult_adds", "params", "bn_params", "activations",
)  # fmt: skip

# The first bytes of every PNG file.
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def invoke_mbcalc(*args: str, env: dict[str, str] | None = None) -> Result:
    """`mbcalc ARGS...` in-process; stdout and stderr kept apart."""
    return CliRunner().invoke(app, list(args), env=env)


def ok(*args: str) -> str:
    """Standard output of a command that must succeed quietly."""
    result = invoke_mbcalc(*args)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def ok_plotting(image: Path, *args: str) -> str:
    """Standard output of a command that must succeed, drawing `image` and saying only
    `wrote IMAGE` on standard error."""
    result = invoke_mbcalc(*args)
    assert result.exit_code == 0, result.output
    assert result.stderr == f"wrote {image}\n"
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


def one_line_error(result: Result) -> str:
    """The single `mbcalc: error: …` line of a failed command, without its prefix."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mbcalc: error: "), lines[0]
    return lines[0].removeprefix("mbcalc: error: ")


def markdown_table(text: str) -> list[list[str]]:
    """The cells of the one pipe table in `text`, checked to be well-formed."""
    lines = text.splitlines()
    rows = [index for index, line in enumerate(lines) if line.startswith("|")]
    assert rows, "no pipe table"
    assert rows == list(range(rows[0], rows[-1] + 1)), "the table is not one block of rows"
    table = [lines[index] for index in rows]
    assert all(line.endswith("|") for line in table)
    cells = [[cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]] for line in table]
    assert all(len(row) == len(cells[0]) for row in cells), "rows of different widths"
    assert all(re.fullmatch(r":?-+:?", cell) for cell in cells[1]), "no delimiter row"
    return [cells[0], *cells[2:]]
