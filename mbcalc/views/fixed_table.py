"""A Rich table of one-line cells that writes itself fast, however many rows it has.

Rich measures and renders every cell of a `Table` on its own (about 90 µs a cell): 100,000 ops
took minutes. A `FixedTable` holds its cells as text and styles, computes each column's width
once and writes each row itself, with Rich's own box characters, padding, justification and
styles, so that its output equals the `Table`'s: one string a row without colour (a file, a
pipe), a segment a cell with colour. A table that would not fit the width, or whose cells hold
markup, is drawn by Rich's `Table`, built on demand.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple, Protocol, runtime_checkable

from rich import box
from rich.cells import cell_len
from rich.console import Group
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult


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
    """A table's lines (header, rows, footer) as each column's cell texts, justified to the
    column's width, and each column's width with padding."""

    columns: list[list[str]]
    widths: list[int]
    headings: list[int]
    """Each column's heading width."""
    cells: list[int]
    """Each column's widest cell, footer included, heading not."""


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
    show_footer: bool = True
    sections: frozenset[int] = frozenset()  # rows followed by a rule (Rich's `end_section`)
    _plain: _Plain | None = field(default=None, init=False, repr=False)

    def add_row(self, *cells: Cell) -> None:
        self.rows.append(cells)
        self._plain = None

    def rich_table(self) -> Table:
        """The same table as Rich's `Table`, which measures and renders every cell itself."""
        table = Table(
            title=self.title,
            show_footer=self.show_footer,
            header_style=self.header_style,
            footer_style=self.footer_style,
        )
        for column in self.columns:
            table.add_column(
                column.header, footer=_rich(column.footer), justify=column.justify, no_wrap=True
            )
        for index, row in enumerate(self.rows):
            table.add_row(*map(_rich, row), end_section=index in self.sections)
        return table

    def measured(self, console: Console) -> tuple[list[int], list[int]]:
        """Each column's heading width and the width of its widest cell, footer included."""
        plain = self._plain_rows(console)
        return plain.headings, plain.cells

    def _plain_rows(self, console: Console) -> _Plain:
        """Every line's cell texts (header, rows, footer), justified, computed once."""
        if self._plain is None:
            lines = [
                [column.header for column in self.columns],
                *self.rows,
                [column.footer for column in self.columns],
            ]
            columns: list[list[str]] = []
            widths: list[int] = []
            headings: list[int] = []
            widest: list[int] = []
            for column, cells in zip(self.columns, zip(*lines, strict=True), strict=True):
                texts = [
                    cell if type(cell) is str and "[" not in cell and ":" not in cell
                    else cell.text if type(cell) is Styled
                    else _plain(console, cell)
                    for cell in cells
                ]  # fmt: skip
                justified, width = _justified(texts, column.justify)
                columns.append(justified)
                widths.append(width + PADDING)
                heading = _width(texts[0])
                headings.append(heading)
                widest.append(width if heading < width else max(map(_width, texts[1:])))
            self._plain = _Plain(columns, widths, headings, widest)
        return self._plain

    def _styles(self, console: Console) -> list[list[Style]] | None:
        """Each cell's own style, line by line; None when a cell needs Rich to render it (markup
        in a string, spans in a `Text`)."""
        get_style = console.get_style
        lines = [[Style.null() for _ in self.columns]]
        for cells in [*self.rows, [column.footer for column in self.columns]]:
            styles = []
            for cell in cells:
                if isinstance(cell, Styled) or (isinstance(cell, Text) and not cell.spans):
                    styles.append(get_style(cell.style))
                elif isinstance(cell, str) and "[" not in cell and ":" not in cell:
                    styles.append(Style.null())
                else:
                    return None
            lines.append(styles)
        return lines

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widths = self._plain_rows(console).widths
        width = sum(widths) + len(widths) + 1
        return Measurement(width, width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        plain = self._plain_rows(console)
        table_width = sum(plain.widths) + len(plain.widths) + 1
        styles = None if console.color_system is None else self._styles(console)
        if table_width > options.max_width or (console.color_system and styles is None):
            yield self.rich_table()  # Rich shrinks columns to fit, and applies markup
            return
        yield from console.render(self._title(console), self._title_options(options, table_width))
        yield from self._lines(console, options, plain, styles)

    def plain_text(self, console: Console) -> str | None:
        """The lines a console without colour prints for the table, made without Rich's
        per-line handling; None when Rich must draw it (too wide for the console)."""
        plain = self._plain_rows(console)
        table_width = sum(plain.widths) + len(plain.widths) + 1
        options = console.options
        if console.color_system is not None or table_width > options.max_width:
            return None
        title = console.render_lines(
            self._title(console), self._title_options(options, table_width), pad=False
        )
        lines = ["".join([segment.text for segment in line]) + "\n" for line in title]
        lines += [segment.text for segment in self._lines(console, options, plain, None)]
        return "".join(lines)

    def _title(self, console: Console) -> Text:
        return console.render_str(self.title, style="table.title", highlight=False)

    @staticmethod
    def _title_options(options: ConsoleOptions, table_width: int) -> ConsoleOptions:
        return options.update(width=table_width, highlight=False, height=None, justify="center")

    def _lines(
        self,
        console: Console,
        options: ConsoleOptions,
        plain: _Plain,
        styles: list[list[Style]] | None,
    ) -> Iterator[Segment]:
        """The table's lines: borders, padding and justified cells, each line one segment
        without colour, each cell's padding and text a segment of its style with colour."""
        widths = plain.widths
        shape = box.HEAVY_HEAD.substitute(options, safe=console.safe_box)
        footer = len(plain.columns[0]) - 1  # the last line; the header is line 0
        line_styles = {0: console.get_style(self.header_style)}
        line_styles[footer] = console.get_style(self.footer_style)
        new_line = Segment.line()

        def row(line: int, left: str, vertical: str, right: str) -> Iterator[Segment]:
            texts = [column[line] for column in plain.columns]
            if styles is None:
                yield Segment(left + " " + f" {vertical} ".join(texts) + " " + right)
                return
            base = line_styles.get(line, Style.null())
            yield Segment(left)
            for index, (text, style) in enumerate(zip(texts, styles[line], strict=True)):
                if index:
                    yield Segment(vertical)
                yield Segment(" ", base)
                yield Segment(text, base + style)
                yield Segment(" ", base)
            yield Segment(right)

        yield Segment(shape.get_top(widths))
        yield new_line
        yield from row(0, shape.head_left, shape.head_vertical, shape.head_right)
        yield new_line
        yield Segment(shape.get_row(widths, "head", edge=True))
        yield new_line
        if styles is None:  # each row a few strings, `_runs`, joined a column at a time
            middle = f" {shape.mid_vertical} "
            runs = _runs(plain.columns)
            run_texts = []
            for number, (start, end) in enumerate(runs):
                before = shape.mid_left + " " if number == 0 else ""
                after = middle if number < len(runs) - 1 else " " + shape.mid_right
                cells = zip(*(column[1:-1] for column in plain.columns[start:end]), strict=True)
                run_texts.append([before + text + after for text in map(middle.join, cells)])
            for line, texts in enumerate(zip(*run_texts, strict=True), start=1):
                yield from map(Segment, texts)
                yield new_line
                yield from self._rule(line, footer, shape.get_row(widths, "row", edge=True))
        else:
            for line in range(1, footer):
                yield from row(line, shape.mid_left, shape.mid_vertical, shape.mid_right)
                yield new_line
                yield from self._rule(line, footer, shape.get_row(widths, "row", edge=True))
        if self.show_footer:
            yield Segment(shape.get_row(widths, "foot", edge=True))
            yield new_line
            yield from row(footer, shape.foot_left, shape.foot_vertical, shape.foot_right)
            yield new_line
        yield Segment(shape.get_bottom(widths))
        yield new_line

    def _rule(self, line: int, footer: int, rule: str) -> Iterator[Segment]:
        """The rule after row `line` that ends a section, as Rich draws it: not after the
        last row, nor before the footer's own rule."""
        if line - 1 in self.sections and line < footer - 1:
            yield Segment(rule)
            yield Segment.line()


@runtime_checkable
class PlainWritable(Protocol):
    """A renderable that can write itself as plain text faster than Rich (None: it cannot)."""

    def plain_text(self, console: Console) -> str | None: ...


def plain_text(console: Console, renderable: RenderableType) -> str:
    """What `console` (without colour) prints for `renderable`: the parts of a `Group` one by
    one, those that can written by themselves, the others by Rich."""
    if isinstance(renderable, Group):
        return "".join([plain_text(console, part) for part in renderable.renderables])
    text = renderable.plain_text(console) if isinstance(renderable, PlainWritable) else None
    if text is None:
        with console.capture() as captured:
            console.print(renderable)
        text = captured.get()
    return text


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


def _runs(columns: list[list[str]]) -> list[tuple[int, int]]:
    """The row's columns in runs (start, end): a column of text outside printable ASCII alone,
    the others together.

    Rich measures each segment of a line it prints: a segment of printable ASCII at once, any
    other by summing its characters' widths unless it was measured before. Rows written in
    such runs keep the slow measure to cells that repeat (`8x8x8 → 8x8x8`).
    """
    runs: list[tuple[int, int]] = []
    start = 0
    for index, texts in enumerate(columns):
        joined = "".join(texts)
        if not (joined.isascii() and joined.isprintable()):
            runs += [(start, index), (index, index + 1)] if index > start else [(index, index + 1)]
            start = index + 1
    if start < len(columns):
        runs.append((start, len(columns)))
    return runs


def _justified(texts: list[str], justify: Justify) -> tuple[list[str], int]:
    """A column's texts padded with spaces to its widest, justified; and that width."""
    joined = "".join(texts)
    if joined.isascii() and joined.isprintable():  # each text's width is its length
        width = max(map(len, texts))
        pad = str.rjust if justify == "right" else str.ljust
        return [pad(text, width) for text in texts], width
    sizes = list(map(_width, texts))
    width = max(sizes)
    return [
        " " * (width - size) + text if justify == "right" else text + " " * (width - size)
        for text, size in zip(texts, sizes, strict=True)
    ], width
