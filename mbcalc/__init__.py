"""mbcalc: exact mult-adds and parameter counts for efficient convolutional networks."""

from mbcalc import moved
from mbcalc.core.costs import Cost, op_cost
from mbcalc.core.graph import Graph, Op, OpKind, Unit, build_graph
from mbcalc.core.report import Report, analyze
from mbcalc.core.settings import Settings
from mbcalc.errors import MbcalcError, SettingsError, SpecError, UnknownLayerError
from mbcalc.spec import Spec, load_spec, parse_spec

__version__ = "0.1.0"

moved.install()


def __getattr__(name: str) -> object:
    """`mbcalc.breakdown` (Table 2 by layer type), loaded on first use."""
    if name == "breakdown":
        from mbcalc.core.by_type import breakdown

        return breakdown
    raise AttributeError(f"module 'mbcalc' has no attribute {name!r}")


__all__ = [
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
    "load_spec",
    "op_cost",
    "parse_spec",
]
