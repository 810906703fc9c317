"""Several networks by layer type, side by side, for the terminal. Formatting only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from mbcalc.views.compare_export import MISSING
from mbcalc.views.escape import visible
from mbcalc.views.formats import human
from mbcalc.views.text import category_label

if TYPE_CHECKING:
    from mbcalc.core.compare import Comparison


def by_type_table(comparison: Comparison) -> Table:
    """Mult-adds and params of every column by layer type (the paper's Table 2 categories)."""
    table = Table(title=Text("by layer type"), header_style="bold")
    table.add_column("type", no_wrap=True)
    for column in comparison.columns:
        table.add_column(Text(visible(column.target.argument)), justify="right", overflow="fold")
        table.add_column("params", justify="right", no_wrap=True)
    for row in comparison.by_type():
        cells: list[str | Text] = [category_label(row.category)]
        for cost in row.costs:
            if cost is None:
                cells += [Text(MISSING, style="dim"), ""]
            else:
                cells += [human(cost.mult_adds), human(cost.params)]
        table.add_row(*cells)
    return table
