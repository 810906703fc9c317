"""A long one-line table (`FixedTable`) drawn within the console's width.

At its natural width the table is drawn as it is. Narrower, the columns yield by their `ColumnFit`
(text cut with an ellipsis, columns dropped by rank, never a number cut); a table with column
groups (the deployment view's memory and roofline columns) is drawn instead as the base table
and the groups in a second table (or one table per group) that repeats the first column.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.measure import Measurement
from rich.text import Text

from mbcalc.views.fitted import (
    ColumnFit,
    Give,
    Layout,
    Widths,
    chunks,
    fitted_layout,
    footnote,
    plan,
    table_width,
)
from mbcalc.views.fixed_table import Cell, FixedColumn, FixedTable, Styled, plain_text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

SPLIT_BELOW = 160
"""Narrower than this, a table with column groups shows them in a table of their own."""


@dataclass(frozen=True, slots=True)
class ColumnGroup:
    """Columns of a table that may move to a table of their own, under `title`."""

    title: str
    columns: range


@dataclass(frozen=True, eq=False)
class FittedFixedTable:
    """`table` within the console's width; `fits` holds one `ColumnFit` per column."""

    table: FixedTable
    fits: Sequence[ColumnFit]
    groups: Sequence[ColumnGroup] = field(default_factory=tuple)
    subject: str = ""
    """What the groups' tables are about (the network's name), before their titles."""
    other: str = "--format csv"
    """Another way to see a hidden column, for the footnote ("" for none)."""

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.table)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        available = options.max_width
        widths = self._widths(console)
        natural = table_width([width.full for width in widths])
        if natural <= available:
            yield self.table
            return
        layout = plan(self.fits, widths, available)
        if layout.fits and (not self.groups or available >= SPLIT_BELOW):
            yield self._part(self.table.title, layout)
            yield from self._footnote(layout, available, natural)
            return
        yield from self._split(widths, available, natural)

    def plain_text(self, console: Console) -> str:
        """What a console without colour prints for the table (`fixed_table.plain_text`)."""
        parts = self.__rich_console__(console, console.options)
        return "".join([plain_text(console, part) for part in parts])  # type: ignore[arg-type]

    def _widths(self, console: Console) -> list[Widths]:
        headers, cells = self.table.measured(console)
        return [
            Widths(max(header, cell), max(cell, len(fit.short)) if fit.short else max(header, cell))
            for header, cell, fit in zip(headers, cells, self.fits, strict=True)
        ]

    def _split(self, widths: Sequence[Widths], available: int, natural: int) -> RenderResult:
        """The base columns in one table, the groups in one more (or one table each)."""
        grouped = {index for group in self.groups for index in group.columns}
        base = [index for index in range(len(self.fits)) if index not in grouped]
        yield from self._pieces(self.table.title, base, widths, available, natural)
        together = [index for group in self.groups for index in group.columns]
        whole = self._plan([0, *together], widths, available)
        if whole.fits and not whole.dropped:
            title = " · ".join(group.title for group in self.groups)
            yield from (Text(), self._part(f"{self.subject} — {title}", whole))
            return
        for group in self.groups:
            title = f"{self.subject} — {group.title}"
            yield Text()
            yield from self._pieces(title, [0, *group.columns], widths, available, natural)

    def _pieces(
        self, title: str, indices: list[int], widths: Sequence[Widths], available: int, natural: int
    ) -> RenderResult:
        """The columns `indices` as one table, columns hidden if need be; or, too wide even so,
        as several, each repeating the first column (the layer)."""
        layout = self._plan(indices, widths, available)
        if layout.fits:
            yield self._part(title, layout)
            yield from self._footnote(layout, available, natural)
            return
        subset = ([self.fits[i] for i in indices], [widths[i] for i in indices])
        for number, run in enumerate(chunks(*subset, 1, available)):
            shown = [indices[0], *(indices[k] for k in run)]
            layout = fitted_layout(self.fits, widths, shown, available)
            yield self._part("" if number else title, layout)  # its empty title parts them

    def _plan(self, indices: list[int], widths: Sequence[Widths], available: int) -> Layout:
        """The layout of the columns `indices` alone, in the indices of the whole table."""
        layout = plan([self.fits[i] for i in indices], [widths[i] for i in indices], available)
        return Layout(
            tuple(indices[k] for k in layout.shown),
            layout.widths,
            layout.short,
            tuple(indices[k] for k in layout.dropped),
            layout.fits,
        )

    def _part(self, title: str, layout: Layout) -> FixedTable:
        """The table of the layout's columns, text cut to their widths."""
        columns = self.table.columns
        part = FixedTable(
            title,
            [
                _column(columns[index], self.fits[index], short)
                for index, short in zip(layout.shown, layout.short, strict=True)
            ],
            header_style=self.table.header_style,
            footer_style=self.table.footer_style,
            show_footer=self.table.show_footer,
            sections=self.table.sections,
        )
        cutting = [self.fits[index].give is Give.CUT for index in layout.shown]
        for row in self.table.rows:
            part.add_row(
                *(
                    _cut(row[index], width) if cut else row[index]
                    for index, width, cut in zip(layout.shown, layout.widths, cutting, strict=True)
                )
            )
        return part

    def _footnote(self, layout: Layout, available: int, natural: int) -> Iterator[Text]:
        if layout.dropped:
            hidden = [self.fits[i].name or self.table.columns[i].header for i in layout.dropped]
            yield footnote(hidden, available, natural, self.other)


def _column(column: FixedColumn, fit: ColumnFit, short: bool) -> FixedColumn:
    return FixedColumn(fit.short if short else column.header, column.footer, column.justify)


def _cut(cell: Cell, width: int) -> Cell:
    """A text cell cut to `width` in its middle; a cell that fits as it is."""
    if isinstance(cell, Styled):
        return Styled(middle_cut(cell.text, width), cell.style)
    if isinstance(cell, Text):
        return Text(middle_cut(cell.plain, width), style=cell.style)
    return middle_cut(cell, width)


def middle_cut(text: str, width: int) -> str:
    """`text` in at most `width` columns, its middle replaced by `…`: a name's start and its
    end (`features.17` as `feat…es.17`) keep names that share a start apart."""
    if cell_len(text) <= width:
        return text
    head = (width - 1) // 2
    tail = width - 1 - head
    return f"{set_cell_size(text, head)}…{_last_cells(text, tail)}"


def _last_cells(text: str, width: int) -> str:
    """The end of `text` that takes at most `width` columns."""
    kept = ""
    for character in reversed(text):
        if cell_len(character + kept) > width:
            break
        kept = character + kept
    return kept
