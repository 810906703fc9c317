"""mbcalc: exact mult-adds and parameter counts for efficient convolutional networks."""

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING

from mbcalc import moved
from mbcalc.errors import MbcalcError, SettingsError, SpecError, UnknownLayerError

__version__ = "0.1.0"

if TYPE_CHECKING:
    from mbcalc.api import ArgumentError, analyze, compare, fit, scale, sweep
    from mbcalc.core.by_type import breakdown
    from mbcalc.core.costs import Cost, op_cost
    from mbcalc.core.graph import Graph, Op, OpKind, Unit, build_graph
    from mbcalc.core.report import Report
    from mbcalc.core.settings import Settings
    from mbcalc.ingest.sources import import_model
    from mbcalc.spec import Spec, load_spec, parse_spec

moved.install()

API = ("ArgumentError", "analyze", "compare", "fit", "scale", "sweep")
"""The Python API (`mbcalc.api`), loaded on first use."""

LAZY = {
    **dict.fromkeys(API, "mbcalc.api"),
    "breakdown": "mbcalc.core.by_type",
    **dict.fromkeys(("Cost", "op_cost"), "mbcalc.core.costs"),
    **dict.fromkeys(("Graph", "Op", "OpKind", "Unit", "build_graph"), "mbcalc.core.graph"),
    "Report": "mbcalc.core.report",
    "Settings": "mbcalc.core.settings",
    "import_model": "mbcalc.ingest.sources",
    **dict.fromkeys(("Spec", "load_spec", "parse_spec"), "mbcalc.spec"),
}
"""Each public name and the module that defines it, imported on first use: a command that
needs none of them (`mbcalc list`) starts without the counting core."""


def __getattr__(name: str) -> object:
    """A public name of `LAZY`, from its module on first use."""
    module = LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mbcalc' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


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
    "import_model",
    "load_spec",
    "op_cost",
    "parse_spec",
    "scale",
    "sweep",
]
