"""Text that every report format shares: the setting, a unit's counts, a layer type's name, CSV.

Below the exporters and the Rich views, so that each of them imports it and none imports another.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from mbcalc.core.by_type import Category, Family
from mbcalc.core.graph import Graph
from mbcalc.core.report import Report, UnitRow
from mbcalc.kinds import LayerType
from mbcalc.views.escape import for_csv_cell
from mbcalc.views.formats import (
    decimal,
    dims,
    exact_number,
    multiplier,
    ratio,
    reciprocals,
)

FAMILY_LABELS = {
    Family.CONV: "Conv",
    Family.POINTWISE: "Conv",
    Family.DEPTHWISE: "Conv DW",
    Family.FC: "Fully connected",
    Family.SE: "Squeeze-excite",
    Family.POOL: "Pool",
    Family.ADD: "Add",
    Family.CONCAT: "Concat",
    Family.SOFTMAX: "Softmax",
    Family.SCALE: "Scale",
    Family.AUX: "Auxiliary head (train only)",
    Family.NORM: "Norm",
    Family.LAYER_SCALE: "Layer scale",
    Family.SPLIT: "Split",
    Family.SHUFFLE: "Shuffle",
    Family.TOKENS: "Tokens",
    Family.ATTEND: "Attention products",
    Family.READOUT: "Readout",
    Family.RESIZE: "Resize",
    Family.SPACE_TO_DEPTH: "Space to depth",
    Family.PAD: "Pad",
    Family.CROP: "Crop",
    Family.POSITIONS: "Window offsets",
}


def category_label(category: Category) -> str:
    """The paper's name for a layer type: `Conv 1x1`, `Conv DW 3x3`, `Fully connected`."""
    label = FAMILY_LABELS[category.family]
    return label if category.kernel is None else f"{label} {dims(category.kernel)}"


def setting(report: Report, separator: str = ", ") -> str:
    """The setting a report was computed at: `alpha 0.75, 224x224` (`alpha 1.2, depth 1.4,
    300x300` under a depth multiplier)."""
    return f"{multipliers(report.graph, separator)}{separator}{dims(report.graph.resolution)}"


def multipliers(graph: Graph, separator: str = ", ") -> str:
    """`alpha 0.75`, and the depth where it is not 1: `alpha 1.2, depth 1.4`."""
    depth = "" if graph.depth == 1 else f"{separator}depth {multiplier(graph.depth)}"
    return f"alpha {multiplier(graph.alpha)}{depth}"


def setting_record(report: Report) -> dict[str, Any]:
    """The spec and setting of a report, as the JSON documents give them."""
    graph = report.graph
    return {
        "spec": graph.spec.name,
        "alpha": exact_number(graph.alpha),
        "depth": exact_number(graph.depth),
        "resolution": list(graph.resolution),
        "rho": decimal(graph.rho),
        "rounding": graph.spec.rounding,
        "input": list(graph.input_shape),
    }


def unit_counts(unit: UnitRow) -> dict[str, Any]:
    """A unit's name, type and exact counts, as the JSON documents give them."""
    return {
        "name": unit.unit.name,
        "type": unit.unit.type.value,
        "mult_adds": unit.cost.mult_adds,
        "params": unit.cost.params,
        "bn_params": unit.cost.bn_params,
    }


def share_value(value: Fraction) -> float:
    """A share for JSON and CSV."""
    return decimal(value)


def reduction_text(unit: UnitRow) -> str:
    """A unit's cost against its standard twin: with 1/N + 1/k^2 for a separable unit."""
    if unit.reduction is None:
        return ""
    if unit.reduction_terms is None:
        return f"{ratio(unit.reduction)} of a full conv"
    return f"{ratio(unit.reduction)} = {reciprocals(*unit.reduction_terms)}"


def twin_text(report: Report) -> str:
    """What the standard-convolution network replaces, in words."""
    if any(unit.unit.type is LayerType.MBCONV for unit in report.units):
        return "every separable unit, and every mbconv's depthwise conv, a full conv"
    return "every separable unit a full conv"


def csv_text(rows: list[list[Any]]) -> str:
    """CSV lines; text cells are made visible and safe to open in a spreadsheet."""
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        ["" if cell is None else for_csv_cell(cell) for cell in row] for row in rows
    )
    return buffer.getvalue()
