"""mbcalc: exact mult-adds and parameter counts for efficient convolutional networks."""

from mbcalc.costs import Cost, op_cost
from mbcalc.errors import MbcalcError, SettingsError, SpecError, UnknownLayerError
from mbcalc.graph import Graph, Op, OpKind, Unit, build_graph
from mbcalc.report import Report, analyze
from mbcalc.settings import Settings
from mbcalc.spec import Spec, load_spec, parse_spec

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """`mbcalc.breakdown` (Table 2 by layer type), loaded on first use."""
    if name == "breakdown":
        from mbcalc.by_type import breakdown

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
