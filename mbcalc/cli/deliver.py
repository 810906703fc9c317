"""Delivering a report: to the terminal (Rich, with colour), to a pipe, or into a file."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from mbcalc.kinds import Format

if TYPE_CHECKING:
    from rich.console import RenderableType

WIDE = 200
"""Columns used to render tables into files and pipes, so that nothing is cut."""

CHART_WIDTH = 100
"""Columns of a chart rendered into a file or pipe: bars as long as a terminal's."""

MAX_PLAIN_WIDTH = 2000
"""Widest plain-text rendering: a table wider than `WIDE` grows to fit rather than be cut."""


def check_outputs(force: bool, outputs: list[Path | None], *inputs: str | None) -> None:
    """Refuse, before any work, an output the command must not write (`mbcalc.cli.output`)."""
    if all(path is None for path in outputs):
        return  # writing to standard output: nothing to check
    from mbcalc.cli.output import check_outputs as check

    check(outputs, [argument for argument in inputs if argument], force)


def write_file(path: Path, content: str | bytes) -> None:
    """Write a report or an image to `path`, atomically."""
    from mbcalc.cli.output import write_atomic

    write_atomic(path, content)


def write_image(path: Path, image: bytes, *, report_on_stdout: bool) -> None:
    """Write a plot to `path`, atomically, and say so in one line, `wrote FILE`: on standard
    error when standard output carries the report, else on standard output."""
    from mbcalc.views.escape import for_stream, visible

    write_file(path, image)
    stream = sys.stderr if report_on_stdout else sys.stdout
    stream.write(for_stream(f"wrote {visible(str(path))}\n", stream.encoding))


def show(renderable: RenderableType, width: int | None = None, piped: int | None = None) -> None:
    """Print to a terminal with colour, or as plain text (no padding) to a pipe or file.

    The width: `width` (--width) if given; else the terminal's, or `COLUMNS` when set; else,
    piped, `piped` (None: `WIDE`, growing to fit a wider table, as into a file).
    """
    from rich.console import Console

    console = Console(width=width)
    if console.is_terminal:
        with console.capture() as captured:
            console.print(renderable)
        write_stdout(captured.get())
    else:
        write_stdout(render_plain(renderable, width or environment_columns() or piped))


def environment_columns() -> int | None:
    """The width the `COLUMNS` environment variable sets, if it holds a positive number."""
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else None


def write_stdout(text: str) -> None:
    """Write to standard output; symbols its encoding cannot take are written in ASCII."""
    from mbcalc.views.escape import for_stream

    sys.stdout.write(for_stream(text, sys.stdout.encoding))


def deliver(
    format: Format,
    output: Path | None,
    view: Callable[[], RenderableType],
    text: Callable[[], str] | None = None,
    width: int | None = None,
    piped: int | None = None,
) -> None:
    """Show `view` (format table) or `text` (the other formats), or write it to `output`.

    Into a file the table format is `view` as plain text, `width` (--width) columns wide, else
    `piped` (see `show`); only what is needed is rendered.
    """
    if format == Format.TABLE and output is None:
        show(view(), width, piped)
        return
    if text is not None and format != Format.TABLE:
        content = text()
    else:
        content = render_plain(view(), width or piped)
    if output is None:
        write_stdout(content)
    else:
        write_file(output, content)


def deliver_with(
    format: Format,
    output: Path | None,
    view: Callable[..., RenderableType],
    writers: Mapping[Format, Callable[..., str]],
    *data: object,
    width: int | None = None,
) -> None:
    """`deliver` for a view and writers (one per text format) that all take the same `data`."""
    text = writers.get(format)
    deliver(
        format,
        output,
        functools.partial(view, *data),
        None if text is None else functools.partial(text, *data),
        width,
    )


def render_plain(renderable: RenderableType, width: int | None = None) -> str:
    """Render to plain text (no colour), as written to files.

    Without a width, `WIDE` columns, or a table's natural width (up to `MAX_PLAIN_WIDTH`) when
    it is wider, rather than cut; a width given is kept as asked.
    """
    import io

    from rich.console import Console

    if width is None:
        probe = Console(file=io.StringIO(), width=MAX_PLAIN_WIDTH, color_system=None)
        width = min(MAX_PLAIN_WIDTH, max(WIDE, probe.measure(renderable).maximum))
    from mbcalc.views.fixed_table import plain_text

    console = Console(file=io.StringIO(), width=width, color_system=None)
    text = plain_text(console, renderable)
    return "".join([line.rstrip() + "\n" for line in text.splitlines()])
