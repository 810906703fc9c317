"""Mult-adds and params by layer type: the paper's Table 2 for any network. Data only."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mbcalc.core.costs import ZERO, Cost
from mbcalc.core.graph import OpKind
from mbcalc.core.report import OpRow, Report
from mbcalc.spec import LayerType


class Family(StrEnum):
    """The kinds of layer the paper's Table 2 breaks a network into."""

    CONV = "conv"
    POINTWISE = "pointwise"
    DEPTHWISE = "depthwise"
    FC = "fc"
    SE = "se"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Category:
    """A family of ops with one kernel size (`kernel` is None for fc, se and cost-free ops)."""

    family: Family
    kernel: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class CategoryRow:
    category: Category
    cost: Cost
    ops: int


def categorize(row: OpRow, unit_type: LayerType) -> Category:
    """The Table 2 category of one op."""
    op = row.op
    if unit_type is LayerType.SE:
        return Category(Family.SE, None)
    if op.kind is OpKind.CONV:
        family = Family.POINTWISE if op.kernel == (1, 1) else Family.CONV
        return Category(family, op.kernel)
    if op.kind is OpKind.DEPTHWISE:
        return Category(Family.DEPTHWISE, op.kernel)
    if op.kind is OpKind.FC:
        return Category(Family.FC, None)
    return Category(Family.OTHER, None)


def breakdown(report: Report) -> tuple[CategoryRow, ...]:
    """Mult-adds and params by op category, largest mult-adds first (the paper's Table 2)."""
    sums: dict[Category, tuple[Cost, int]] = {}
    for unit in report.units:
        for row in unit.rows:
            category = categorize(row, unit.unit.type)
            cost, count = sums.get(category, (ZERO, 0))
            sums[category] = (cost + row.cost, count + 1)
    rows = [CategoryRow(cat, cost, count) for cat, (cost, count) in sums.items()]
    rows.sort(key=lambda r: (-r.cost.mult_adds, -r.cost.params, r.category.family))
    return tuple(rows)
