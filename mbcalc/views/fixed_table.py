"""A Rich table of one-line cells that writes plain text fast, however many rows it has.

Rich measures and renders every cell of a `Table` on its own (about 90 µs a cell): 100,000 ops
took minutes. A `FixedTable` holds its cells as text and styles; rendered without colour (a
file, a pipe) it computes each column's width once and writes each row as one string, with
Rich's own box characters, padding and justification, so its text equals the `Table`'s. With
colour, or when it would not fit the width, it is drawn by Rich's `Table`, built on demand.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple

from rich import box
from rich.cells import cell_len
from rich.measure import Measurement
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult


class Styled(NamedTuple):
    """Text shown in a style, as `Text(text, style=style)` but lighter to make by the thousand."""

    text: str
    style: str


Cell = str | Text | Styled
"""A cell: a string (Rich markup, as in `Table.add_row`), a `Text`, or text in a style."""

Justify = Literal["left", "right"]

PADDING = 2
"""One space each side of every cell, as Rich's default padding."""


class _Plain(NamedTuple):
    """A table's cell texts, line by line, their widths, and each column's width with padding."""

    lines: list[list[str]]
    sizes: list[list[int]]
    widths: list[int]


@dataclass(frozen=True, slots=True)
class FixedColumn:
    """A column that never wraps: its heading, its footer and how its cells are justified."""

    header: str
    footer: Cell = ""
    justify: Justify = "left"


@dataclass(eq=False)
class FixedTable:
    """A table with a title, a header, one-line rows and a footer (`Table(show_footer=True)`)."""

    title: str
    columns: Sequence[FixedColumn]
    rows: list[Sequence[Cell]] = field(default_factory=list)
    header_style: str = "bold"
    footer_style: str = "bold"
    _plain: _Plain | None = field(default=None, init=False, repr=False)

    def add_row(self, *cells: Cell) -> None:
        self.rows.append(cells)
        self._plain = None

    def rich_table(self) -> Table:
        """The same table as Rich's `Table`, which measures and renders every cell itself."""
        table = Table(
            title=self.title,
            show_footer=True,
            header_style=self.header_style,
            footer_style=self.footer_style,
        )
        for column in self.columns:
            table.add_column(
                column.header, footer=_rich(column.footer), justify=column.justify, no_wrap=True
            )
        for row in self.rows:
            table.add_row(*map(_rich, row))
        return table

    def _plain_rows(self, console: Console) -> _Plain:
        """Every line's cell texts (header, rows, footer) with their widths, computed once."""
        if self._plain is None:
            lines = [[column.header for column in self.columns]]
            lines += [[_plain(console, cell) for cell in row] for row in self.rows]
            lines.append([_plain(console, column.footer) for column in self.columns])
            sizes = [list(map(_width, texts)) for texts in lines]
            widths = [max(column) + PADDING for column in zip(*sizes, strict=True)]
            self._plain = _Plain(lines, sizes, widths)
        return self._plain

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        if console.color_system is not None:
            return Measurement.get(console, options, self.rich_table())
        widths = self._plain_rows(console).widths
        width = sum(widths) + len(widths) + 1
        return Measurement(width, width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if console.color_system is not None:
            yield self.rich_table()
            return
        plain = self._plain_rows(console)
        table_width = sum(plain.widths) + len(plain.widths) + 1
        if table_width > options.max_width:  # Rich shrinks the columns to fit: let it
            yield self.rich_table()
            return
        render_options = options.update(width=table_width, highlight=False, height=None)
        title = console.render_str(self.title, style="table.title", highlight=False)
        yield from console.render(title, render_options.update(justify="center"))
        yield from self._lines(console, options, plain)

    def _lines(
        self,
        console: Console,
        options: ConsoleOptions,
        plain: _Plain,
    ) -> Iterator[Segment]:
        """The table's lines, each one segment: borders, padding and justified cells."""
        widths = plain.widths
        shape = box.HEAVY_HEAD.substitute(options, safe=console.safe_box)
        justify = [column.justify for column in self.columns]
        new_line = Segment.line()

        def row(line: int, left: str, vertical: str, right: str) -> Segment:
            spaces = [
                " " * (width - size - 1)
                for width, size in zip(widths, plain.sizes[line], strict=True)
            ]
            cells = [
                f"{space}{text} " if how == "right" else f" {text}{space}"
                for text, space, how in zip(plain.lines[line], spaces, justify, strict=True)
            ]
            return Segment(left + vertical.join(cells) + right)

        yield Segment(shape.get_top(widths))
        yield new_line
        yield row(0, shape.head_left, shape.head_vertical, shape.head_right)
        yield new_line
        yield Segment(shape.get_row(widths, "head", edge=True))
        yield new_line
        for line in range(1, len(plain.lines) - 1):
            yield row(line, shape.mid_left, shape.mid_vertical, shape.mid_right)
            yield new_line
        yield Segment(shape.get_row(widths, "foot", edge=True))
        yield new_line
        yield row(len(plain.lines) - 1, shape.foot_left, shape.foot_vertical, shape.foot_right)
        yield new_line
        yield Segment(shape.get_bottom(widths))
        yield new_line


def _rich(cell: Cell) -> str | Text:
    """A cell as `Table.add_row` takes it."""
    return Text(cell.text, style=cell.style) if isinstance(cell, Styled) else cell


def _plain(console: Console, cell: Cell) -> str:
    """A cell's text as Rich shows it: a string's markup and emoji codes applied."""
    if isinstance(cell, Styled):
        return cell.text
    if isinstance(cell, Text):
        return cell.plain
    if "[" in cell or ":" in cell:
        return console.render_str(cell, highlight=False).plain
    return cell


def _width(text: str) -> int:
    """Columns `text` takes in a terminal: its length when it is printable ASCII."""
    return len(text) if text.isascii() and text.isprintable() else cell_len(text)
