"""`mbcalc list`: the shipped specs by family, their figures read from the shipped index."""

from __future__ import annotations

from mbcalc.cli.deliver import show
from mbcalc.cli.options import WidthOpt


def list_specs(width: WidthOpt = None) -> None:
    """The specs that ship with mbcalc, by family, with their cost at alpha 1."""
    from mbcalc.core.catalog import catalog
    from mbcalc.views.listings import specs_view

    show(specs_view(catalog()), width)
