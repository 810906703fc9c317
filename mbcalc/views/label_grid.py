"""The two-column grid under a terminal report: bold labels, then their text."""

from __future__ import annotations

from rich.table import Table


def label_grid() -> Table:
    """An empty grid of (label, text) rows, the label bold and never wrapped."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    return grid
