"""mbcalc: exact mult-adds and parameter counts for efficient convolutional networks."""

import sys
from types import ModuleType
from typing import TYPE_CHECKING

from mbcalc import moved
from mbcalc.core.costs import Cost, op_cost
from mbcalc.core.graph import Graph, Op, OpKind, Unit, build_graph
from mbcalc.core.report import Report
from mbcalc.core.settings import Settings
from mbcalc.errors import MbcalcError, SettingsError, SpecError, UnknownLayerError
from mbcalc.spec import Spec, load_spec, parse_spec

__version__ = "0.1.0"

if TYPE_CHECKING:
    from mbcalc.api import ArgumentError, analyze, compare, fit, scale, sweep
    from mbcalc.core.by_type import breakdown

moved.install()

API = ("ArgumentError", "analyze", "compare", "fit", "scale", "sweep")
"""The Python API (`mbcalc.api`), loaded on first use."""


def __getattr__(name: str) -> object:
    """The Python API and `mbcalc.breakdown` (Table 2 by layer type), loaded on first use."""
    if name in API:
        import mbcalc.api

        return getattr(mbcalc.api, name)
    if name == "breakdown":
        from mbcalc.core.by_type import breakdown

        return breakdown
    raise AttributeError(f"module 'mbcalc' has no attribute {name!r}")


class _Package(ModuleType):
    """The `mbcalc` module: importing an old module path (`from mbcalc.compare import ...`)
    leaves `mbcalc.compare`, `mbcalc.fit` and `mbcalc.sweep` the API's functions."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in API and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "ArgumentError",
    "Cost",
    "Graph",
    "MbcalcError",
    "Op",
    "OpKind",
    "Report",
    "Settings",
    "SettingsError",
    "Spec",
    "SpecError",
    "Unit",
    "UnknownLayerError",
    "__version__",
    "analyze",
    "breakdown",
    "build_graph",
    "compare",
    "fit",
    "load_spec",
    "op_cost",
    "parse_spec",
    "scale",
    "sweep",
]
