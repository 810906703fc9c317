"""Mult-adds and params by layer type: the paper's Table 2 for any network. Data only."""

from __future__ import annotations

import functools
from collections.abc import Iterator
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
    POOL = "pool"
    ADD = "add"
    CONCAT = "concat"
    SOFTMAX = "softmax"
    SCALE = "scale"
    AUX = "aux"  # an auxiliary head's ops, whatever their kind: training only
    NORM = "norm"
    LAYER_SCALE = "layer_scale"
    SPLIT = "split"
    SHUFFLE = "shuffle"
    TOKENS = "tokens"
    ATTEND = "attend"
    READOUT = "readout"
    RESIZE = "resize"
    SPACE_TO_DEPTH = "space_to_depth"
    PAD = "pad"
    CROP = "crop"
    POSITIONS = "positions"


@dataclass(frozen=True, slots=True)
class Category:
    """A family of ops with one kernel size (`kernel` is None for fc, se and cost-free ops)."""

    family: Family
    kernel: tuple[int, int] | None

    def __str__(self) -> str:
        """`pointwise 1x1`, `depthwise 3x3`, `fc`: the family, then the kernel where it has one."""
        if self.kernel is None:
            return self.family.value
        return f"{self.family.value} {self.kernel[0]}x{self.kernel[1]}"


@dataclass(frozen=True, slots=True)
class CategoryRow:
    category: Category
    cost: Cost
    ops: int


_FREE_FAMILIES = {
    OpKind.POOL: Family.POOL,
    OpKind.ADD: Family.ADD,
    OpKind.CONCAT: Family.CONCAT,
    OpKind.SOFTMAX: Family.SOFTMAX,
    OpKind.SCALE: Family.SCALE,
    OpKind.BATCH_NORM: Family.NORM,
    OpKind.LAYER_NORM: Family.NORM,
    OpKind.GROUP_NORM: Family.NORM,
    OpKind.LAYER_SCALE: Family.LAYER_SCALE,
    OpKind.SPLIT: Family.SPLIT,
    OpKind.SHUFFLE: Family.SHUFFLE,
    OpKind.TOKENS: Family.TOKENS,
    OpKind.READOUT: Family.READOUT,
    OpKind.RESIZE: Family.RESIZE,
    OpKind.SPACE_TO_DEPTH: Family.SPACE_TO_DEPTH,
    OpKind.PAD: Family.PAD,
    OpKind.CROP: Family.CROP,
    OpKind.POSITIONS: Family.POSITIONS,
}
"""The ops without mult-adds, each its own category (a squeeze-excite's pool and scaling
included; norms, layer scales and tokens have params)."""


def categorize(row: OpRow, unit_type: LayerType | None) -> Category:
    """The Table 2 category of one op (`unit_type` None for a merge that belongs to no layer)."""
    op = row.op
    if op.aux:
        return _category(Family.AUX, None)
    free = _FREE_FAMILIES.get(op.kind)
    if free is not None:
        return _category(free, None)
    if unit_type is LayerType.SE:
        return _category(Family.SE, None)
    if op.kind is OpKind.CONV:
        family = Family.POINTWISE if op.kernel == (1, 1) else Family.CONV
        return _category(family, op.kernel)
    if op.kind is OpKind.DEPTHWISE:
        return _category(Family.DEPTHWISE, op.kernel)
    if op.kind is OpKind.ATTEND:
        return _category(Family.ATTEND, None)
    return _category(Family.FC, None)


_category = functools.lru_cache(maxsize=256)(Category)
"""A `Category`, made once for all the ops of one family and kernel."""


def categorized(report: Report) -> Iterator[tuple[OpRow, Category]]:
    """Every op of the report in order, with its category; merges (a block's residual add, a
    parallel's concat) belong to no layer and are categorized by their kind alone."""
    unit_types = {unit.unit.name: unit.unit.type for unit in report.units}
    for row in report.rows:
        yield row, categorize(row, unit_types.get(row.op.unit))


def breakdown(report: Report) -> tuple[CategoryRow, ...]:
    """Mult-adds and params by op category, largest mult-adds first (the paper's Table 2)."""
    sums: dict[Category, tuple[Cost, int]] = {}
    for row, category in categorized(report):
        cost, count = sums.get(category, (ZERO, 0))
        sums[category] = (cost + row.cost, count + 1)
    rows = [CategoryRow(cat, cost, count) for cat, (cost, count) in sums.items()]
    rows.sort(key=lambda r: (-r.cost.mult_adds, -r.cost.params, r.category.family))
    return tuple(rows)
