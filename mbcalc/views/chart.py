"""Report -> a terminal bar chart of mult-adds and params per unit. Formats; computes nothing.

Each unit gets two bars, mult-adds above params, each scaled to the largest unit of its kind,
drawn with Unicode blocks to an eighth of a character.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.table import Table
from rich.text import Text

from mbcalc.core.profiles import Counted
from mbcalc.core.report import Report
from mbcalc.views.escape import visible
from mbcalc.views.formats import human
from mbcalc.views.text import setting

FULL = "█"
EIGHTHS = ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")
"""A part of a cell, in eighths: EIGHTHS[3] is three eighths wide."""

MIN_BAR = 10
"""The narrowest bar area, however narrow the terminal."""

STYLES = {"mult-adds": "cyan", "operations": "cyan", "params": "magenta"}

TITLE = "mult-adds and params per layer"


def bar(value: int, largest: int, width: int) -> str:
    """`value` as a bar of at most `width` cells, `largest` filling them all.

    The length is rounded to the nearest eighth of a cell; any value above zero shows at least
    one eighth, so that no cost looks like none.
    """
    if value <= 0 or largest <= 0 or width <= 0:
        return ""
    eighths = max(1, (16 * value * width + largest) // (2 * largest))
    full, rest = divmod(min(eighths, 8 * width), 8)
    return FULL * full + EIGHTHS[rest]


@dataclass(frozen=True)
class Chart:
    """A Rich renderable: the bars fill whatever width the console gives them.

    With `counted` (each unit's totals under a counting profile), the bars are the operations
    and params the profile counts.
    """

    report: Report
    counted: tuple[Counted, ...] | None = None

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        units = self.report.units
        if self.counted is None:
            values = [
                (
                    visible(unit.unit.name),
                    {"mult-adds": unit.cost.mult_adds, "params": unit.cost.params},
                )
                for unit in units
            ]
            title = TITLE
        else:
            values = [
                (visible(unit.unit.name), {"operations": one.operations, "params": one.params})
                for unit, one in zip(units, self.counted, strict=True)
            ]
            name = self.counted[0].profile.name if self.counted else ""
            title = f"operations and params per layer, counted by profile {visible(name)}"
        kinds = list(values[0][1]) if values else ["mult-adds", "params"]
        largest = {what: max((counts[what] for _, counts in values), default=0) for what in kinds}
        name_width = max((len(name) for name, _ in values), default=0)
        label_width = max(
            (len(human(count)) for _, counts in values for count in counts.values()), default=0
        )
        kind_width = max(len(what) for what in kinds)
        width = max(MIN_BAR, options.max_width - name_width - kind_width - label_width - 3)

        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(width=width, no_wrap=True)
        grid.add_column(justify="right", no_wrap=True)
        for name, counts in values:
            for i, (what, count) in enumerate(counts.items()):
                grid.add_row(
                    Text(name if i == 0 else "", style="bold"),
                    Text(what, style="dim"),
                    Text(bar(count, largest[what], width), style=STYLES[what]),
                    human(count),
                )
        graph = self.report.graph
        scale = " · ".join(f"a full bar is {human(largest[what])} {what}" for what in kinds)
        yield Group(
            Text(f"{visible(graph.spec.name)} — {setting(self.report)}: {title}"),
            Text(),
            grid,
            Text(),
            Text(f"{scale} (the largest layer)", style="dim"),
        )
