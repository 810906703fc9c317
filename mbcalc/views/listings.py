"""The lists of what ships with mbcalc, as Rich tables: the specs and the device profiles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rich.table import Table

from mbcalc.views.escape import for_terminal
from mbcalc.views.fitted import KEEP, ColumnFit, FittedTable, Give
from mbcalc.views.fitted_fixed import FittedFixedTable
from mbcalc.views.fixed_table import FixedColumn, FixedTable
from mbcalc.views.formats import defaults_text, human, rate

if TYPE_CHECKING:
    from mbcalc.core.catalog import Listed
    from mbcalc.deploy.roofline import Device


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


def specs_view(specs: Sequence[Listed]) -> FittedFixedTable:
    """One row per shipped spec, grouped by family: the family named on its first row, a rule
    after its last."""
    columns = [
        FixedColumn("name"),
        FixedColumn("family"),
        FixedColumn("description"),
        FixedColumn("input", justify="right"),
        FixedColumn("scaled"),
        *(FixedColumn(heading, justify="right") for heading in ("mult-adds", "params")),
    ]
    ends = {i for i in range(len(specs) - 1) if specs[i].family != specs[i + 1].family}
    title = "Shipped specs (at their own resolution; alpha 1, depth 1 unless scaled)"
    view = FixedTable(title, columns, show_footer=False, sections=frozenset(ends))
    for index, spec in enumerate(specs):
        view.add_row(
            for_terminal(spec.name),
            for_terminal(spec.family) if index == 0 or index - 1 in ends else "",
            for_terminal(spec.description),
            f"{spec.input_size[0]}x{spec.input_size[1]}",
            defaults_text(spec.defaults.multipliers()),
            human(spec.mult_adds),
            human(spec.params),
        )
    description = ColumnFit(Give.CUT, narrowest=24, drop=1, name="description")
    family = ColumnFit(drop=3, name="family")
    scaled = ColumnFit(drop=2, name="scaled")
    fits = [KEEP, family, description, KEEP, scaled, KEEP, KEEP]
    return FittedFixedTable(view, fits, other="")


SOURCE_FIT = ColumnFit(Give.FOLD, narrowest=16, drop=1, name="source")
"""A device's source: folds, and is hidden before any figure is cut."""
