"""The lists of what ships with mbcalc, as Rich tables: the specs and the device profiles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rich.table import Table

from mbcalc.views.escape import for_terminal
from mbcalc.views.fitted import KEEP, NAME_FIT, ColumnFit, FittedTable, Give
from mbcalc.views.formats import human, rate
from mbcalc.views.text import defaults_note

if TYPE_CHECKING:
    from mbcalc.core.costs import Cost
    from mbcalc.deploy.roofline import Device
    from mbcalc.spec import Spec


def devices_view(devices: Mapping[str, Device], default: str) -> FittedTable:
    """One row per shipped device profile, by name; `default` is marked."""
    view = Table(title="Shipped device profiles (figures from vendor data sheets)")
    for column in ("name", "device", "dtype", "peak", "bandwidth", "ridge", "source"):
        view.add_column(
            column, justify="right" if column in {"peak", "bandwidth", "ridge"} else "left"
        )
    for name, profile in devices.items():
        view.add_row(
            name + (" (default)" if name == default else ""),
            for_terminal(profile.name),
            profile.dtype.value,
            rate(float(profile.mult_adds_per_second), "MAC/s"),
            rate(float(profile.bandwidth), "B/s"),
            f"{float(profile.ridge):.1f} MAC/B",
            for_terminal(profile.source),
        )
    text = ColumnFit(Give.FOLD, narrowest=12)
    return FittedTable(view, [text, text, KEEP, KEEP, KEEP, KEEP, SOURCE_FIT], other="")


def specs_view(specs: Sequence[tuple[str, Spec, Cost]]) -> FittedTable:
    """One row per shipped spec: (name, spec, its total cost at its defaults, else alpha 1)."""
    view = Table(
        title="Shipped specs (alpha 1, their own resolution, or the defaults shown)",
        header_style="bold",
    )
    view.add_column("name", justify="left")
    view.add_column("description", justify="left")
    view.add_column("input", justify="right")
    view.add_column("mult-adds", justify="right")
    view.add_column("params", justify="right")
    for name, spec, total in specs:
        view.add_row(
            for_terminal(name),
            for_terminal(spec.description),
            f"{spec.input_size[0]}x{spec.input_size[1]}{defaults_note(spec.defaults)}",
            human(total.mult_adds),
            human(total.params),
        )
    description = ColumnFit(Give.FOLD, narrowest=16, drop=1, name="description")
    return FittedTable(view, [NAME_FIT, description, KEEP, KEEP, KEEP], other="")


SOURCE_FIT = ColumnFit(Give.FOLD, narrowest=16, drop=1, name="source")
"""A device's source: folds, and is hidden before any figure is cut."""
