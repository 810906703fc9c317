"""Tables that fit the width they are given: numbers whole, text folded or cut, columns dropped.

Each column says how it yields to a narrow width (`ColumnFit`): a number never does (it is
neither cut nor wrapped), text folds onto more lines or is cut with an ellipsis down to its
narrowest width, and a column with a drop rank is left out, the lowest rank first, when that is
not enough. A footnote under the table names what was left out and the width that shows it. A
table with key columns (a sweep's alpha) is split instead into several that repeat the keys.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

EDGE = 3
"""Columns a boxed table spends on each of its columns besides the content: padding and a rule."""


class Give(StrEnum):
    """How a column's cells yield to a narrow width."""

    KEEP = "keep"  # a number: never cut, never wrapped
    FOLD = "fold"  # text wrapped onto more lines
    CUT = "cut"  # text cut short with an ellipsis (one-line tables)


@dataclass(frozen=True, slots=True)
class ColumnFit:
    """How one column yields to a narrow width.

    `narrowest`: the least width a FOLD or CUT column is given; `drop`: the rank in which the
    column is left out when folding is not enough (1 first, 0 never); `short`: a heading for
    narrow widths; `name`: the column's name in the footnote (its heading by default).
    """

    give: Give = Give.KEEP
    narrowest: int = 8
    drop: int = 0
    short: str = ""
    name: str = ""


KEEP = ColumnFit()
"""A column that never yields: a number."""

MULT_ADDS_FIT = ColumnFit(short="MACs")
"""A column of mult-adds, headed `MACs` when `mult-adds` is wider than its numbers."""

NAME_FIT = ColumnFit(Give.FOLD, narrowest=8)
"""A name that folds onto more lines."""


@dataclass(frozen=True, slots=True)
class Widths:
    """A column's width with its heading, and with its short heading."""

    full: int
    short: int


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns shown (indices), each one's content width and whether it shows its short
    heading; the columns left out; and whether the table fits."""

    shown: tuple[int, ...]
    widths: tuple[int, ...]
    short: tuple[bool, ...]
    dropped: tuple[int, ...]
    fits: bool


def table_width(widths: Sequence[int]) -> int:
    """Columns a boxed table with these content widths takes."""
    return sum(widths) + EDGE * len(widths) + 1


def plan(fits: Sequence[ColumnFit], widths: Sequence[Widths], available: int) -> Layout:
    """The widest layout of the columns within `available`: short headings, then text folded or
    cut to its narrowest, then columns dropped by rank; the narrowest one if none fits."""
    ranked = sorted((fit.drop, index) for index, fit in enumerate(fits) if fit.drop)
    dropped: list[int] = []
    while True:
        shown = [index for index in range(len(fits)) if index not in dropped]
        layout = fitted_layout(fits, widths, shown, available)
        if layout.fits or len(dropped) == len(ranked):
            return dataclasses.replace(layout, dropped=tuple(sorted(dropped)))
        dropped.append(ranked[len(dropped)][1])


def fitted_layout(
    fits: Sequence[ColumnFit], widths: Sequence[Widths], shown: list[int], available: int
) -> Layout:
    """`shown` at their natural widths if they fit, else with short headings and text narrowed."""
    natural = [widths[index].full for index in shown]
    if table_width(natural) <= available:
        return Layout(tuple(shown), tuple(natural), (False,) * len(shown), (), True)
    short = tuple(bool(fits[index].short) for index in shown)
    sizes = [
        widths[index].short if use else widths[index].full
        for index, use in zip(shown, short, strict=True)
    ]
    floors = [
        size if fits[index].give is Give.KEEP else min(size, fits[index].narrowest)
        for index, size in zip(shown, sizes, strict=True)
    ]
    excess = table_width(sizes) - available
    while excess > 0:  # take a column from the widest text that can still give
        giving = [k for k, size in enumerate(sizes) if size > floors[k]]
        if not giving:
            break
        widest = max(giving, key=lambda k: sizes[k])
        sizes[widest] -= 1
        excess -= 1
    return Layout(tuple(shown), tuple(sizes), short, (), excess <= 0)


def footnote(names: Sequence[str], width: int, natural: int, other: str = "--format csv") -> Text:
    """The dimmed line under a table that left columns out: which, and how to see them (a
    wider table, or `other`, another way the command has)."""
    listed = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    noun = "column" if len(names) == 1 else "columns"
    ways = f"--width {natural}" + (f" or {other}" if other else "")
    return Text(f"{listed} {noun} hidden at {width} columns; use {ways}", style="dim")


# -- Rich tables -------------------------------------------------------------------------------


def _measure(console: Console, options: ConsoleOptions, renderable: object) -> int:
    if renderable == "":
        return 0
    return Measurement.get(console, options, renderable).maximum  # type: ignore[arg-type]


def column_widths(
    console: Console, options: ConsoleOptions, table: Table, fits: Sequence[ColumnFit]
) -> list[Widths]:
    """Each column's natural widths: its widest cell, its heading and footer, its short heading."""
    measured = []
    wide = options.update(width=10_000)
    for column, fit in zip(table.columns, fits, strict=True):
        cells = [_measure(console, wide, cell) for cell in column.cells]
        if table.show_footer:
            cells.append(_measure(console, wide, column.footer))
        widest = max(cells, default=0)
        header = _measure(console, wide, column.header) if table.show_header else 0
        short = _measure(console, wide, fit.short) if fit.short else header
        measured.append(Widths(max(widest, header), max(widest, short)))
    return measured


def narrowed(
    table: Table, fits: Sequence[ColumnFit], layout: Layout, *, title: bool = True
) -> Table:
    """A copy of `table` holding the layout's columns at its widths."""
    shown = copy.copy(table)
    if not title:
        shown.title = None
    columns: list[Column] = []
    for position, (index, width, short) in enumerate(
        zip(layout.shown, layout.widths, layout.short, strict=True)
    ):
        column, fit = table.columns[index], fits[index]
        columns.append(
            dataclasses.replace(
                column,
                _index=position,
                header=fit.short if short else column.header,
                width=width,
                no_wrap=fit.give is not Give.FOLD,
                overflow="fold" if fit.give is Give.FOLD else "ellipsis",
            )
        )
    shown.columns = columns
    return shown


def names(table: Table, fits: Sequence[ColumnFit], indices: Sequence[int]) -> list[str]:
    """The footnote's names of columns `indices`."""
    return [fits[index].name or str(table.columns[index].header) for index in indices]


@dataclass(frozen=True, eq=False)
class FittedTable:
    """A Rich table drawn within the console's width, by the `ColumnFit` of each column.

    A table that does not fit even with columns hidden is split into several, each with the
    first `keys` columns (its names) and as many of the others as fit, `step` columns at a time
    (a compared network's).
    """

    table: Table
    fits: Sequence[ColumnFit]
    keys: int = 1
    step: int = 1
    other: str = "--format csv"
    """Another way to see a hidden column, for the footnote ("" for none)."""

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.table)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths = column_widths(console, options, self.table, self.fits)
        layout = plan(self.fits, widths, options.max_width)
        if not layout.fits:
            yield from self._split(widths, options.max_width)
            return
        yield narrowed(self.table, self.fits, layout)
        if layout.dropped:
            natural = table_width([width.full for width in widths])
            hidden = names(self.table, self.fits, layout.dropped)
            yield footnote(hidden, options.max_width, natural, self.other)

    def _split(self, widths: Sequence[Widths], available: int) -> Iterator[Table | Text]:
        """The table as several, each with the key columns and the next columns that fit: `step`
        at a time if they do, else one at a time, else beside the first column alone."""
        for keys, step in ((self.keys, self.step), (self.keys, 1), (1, 1)):
            layouts = [
                fitted_layout(self.fits, widths, [*range(keys), *run], available)
                for run in chunks(self.fits, widths, keys, available, step)
            ]
            if all(layout.fits for layout in layouts):
                break
        for number, layout in enumerate(layouts):
            if number:
                yield Text()
            yield narrowed(self.table, self.fits, layout, title=not number)


def chunks(
    fits: Sequence[ColumnFit], widths: Sequence[Widths], keys: int, available: int, step: int = 1
) -> list[list[int]]:
    """The columns after the first `keys`, `step` at a time, in runs that fit beside the keys
    (at least one step each)."""
    runs: list[list[int]] = [[]]
    for start in range(keys, len(fits), step):
        columns = list(range(start, min(start + step, len(fits))))
        trial = [*range(keys), *runs[-1], *columns]
        if runs[-1] and not fitted_layout(fits, widths, trial, available).fits:
            runs.append([])
        runs[-1].extend(columns)
    return runs
