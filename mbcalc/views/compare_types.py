"""Several networks by layer type, side by side, for the terminal. Formatting only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text

from mbcalc.views.compare_export import MISSING
from mbcalc.views.escape import visible
from mbcalc.views.fitted import ColumnFit, FittedTable, Give
from mbcalc.views.formats import human
from mbcalc.views.text import category_label

if TYPE_CHECKING:
    from mbcalc.core.compare import Comparison


def by_type_table(comparison: Comparison) -> Group:
    """Mult-adds and params of every column by layer type (the paper's Table 2 categories).

    Each network's two columns are headed by its number, which a line above the table names,
    so that a long spec path never widens a column of numbers; a narrow width splits the table
    by network, the types in each part.
    """
    rows = comparison.by_type()
    labels = [category_label(row.category) for row in rows]
    longest_word = max((len(word) for label in labels for word in label.split()), default=4)
    table = Table(title=Text("by layer type"), header_style="bold")
    table.add_column("type")
    fits: list[ColumnFit] = [ColumnFit(Give.FOLD, narrowest=max(longest_word, 4))]
    for number, _ in enumerate(comparison.columns, start=1):
        table.add_column(f"mult-adds ({number})", justify="right", no_wrap=True)
        table.add_column(f"params ({number})", justify="right", no_wrap=True)
        fits += [ColumnFit(short=f"MACs ({number})"), ColumnFit()]
    for row, label in zip(rows, labels, strict=True):
        cells: list[str | Text] = [label]
        for cost in row.costs:
            if cost is None:
                cells += [Text(MISSING, style="dim"), ""]
            else:
                cells += [human(cost.mult_adds), human(cost.params)]
        table.add_row(*cells)
    names = " · ".join(
        f"({number}) {visible(column.target.argument)}"
        for number, column in enumerate(comparison.columns, start=1)
    )
    return Group(Text(names, style="dim"), FittedTable(table, fits, keys=1, step=2))
