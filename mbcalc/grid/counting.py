"""A counting profile over a grid: each setting's total as `mbcalc table --profile` counts it.

Nothing here restates a rule: every op's elements come from `mbcalc.core.profiles.op_elements`
on arrays, priced by `add_extras`, and the parameters by `counted_params`, exactly as `count`
runs them on the ints of one setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mbcalc.core.arith import SCALAR, Num
from mbcalc.core.costs import Counts, Dims
from mbcalc.core.norms import THOP_SKIPS
from mbcalc.core.plan import Plan, Step
from mbcalc.core.profiles import ParamsRule, Profile, add_extras, counted_params, op_elements
from mbcalc.grid.axes import NUMPY, Array


@dataclass(frozen=True)
class GridCount:
    """A grid's totals under `profile`; arrays are alphas x resolutions, 0 where invalid.

    `extras` holds the operations added per key of the profile (as `Counted.extras`),
    `operations` the multiply-accumulates times the profile's factor plus every extra,
    `params` the parameters the profile's rule counts.
    """

    profile: Profile
    operations: Array
    extras: dict[str, Array]
    params: Array


def counting_bound(plan: Plan, dims: Sequence[Dims], profile: Profile, cost_bound: int) -> int:
    """More than any integer the profile's arithmetic reaches, given the grid's largest shapes
    (`dims`) and its `cost_bound` (every element count grows with the shapes)."""
    extras: dict[str, Num] = {}
    for step in plan.steps:
        for key, size in op_elements(step, dims[step.index], SCALAR):
            add_extras(extras, key, size, profile)
    factor = max(profile.flops_per_mult_add, 2)  # keras counts the BN params twice
    return cost_bound * factor + sum(int(value) for value in extras.values()) + len(plan.steps)


class GridCounter:
    """The extras of a whole grid under a profile, gathered block by block."""

    def __init__(self, profile: Profile, shape: tuple[int, int], dtype: type):
        self.profile = profile
        self.shape = shape
        self.dtype = dtype
        self.extras: dict[str, Array] = {}
        self.idle: dict[str, Array] = {}  # params and bn_params the profile leaves out
        self.skipped: Array = np.zeros(shape, dtype=dtype)  # params thop skips (THOP_SKIPS)
        self.unseen: Array = np.zeros(shape, dtype=dtype)  # mult-adds the tool misses

    def block(self, shape: tuple[int, int]) -> BlockCount:
        """A tally for one block of settings of this grid."""
        return BlockCount(self.profile, shape)

    def store(self, tally: BlockCount, block: Any, valid: Array) -> None:
        """Write a block's extras (and idle params) into the grid's, 0 where a setting is
        invalid."""
        for mine, theirs in ((self.extras, tally.extras), (self.idle, tally.idle)):
            for key, value in theirs.items():
                target = mine.get(key)
                if target is None:
                    target = mine[key] = np.zeros(self.shape, dtype=self.dtype)
                target[block] = np.broadcast_to(value, tally.shape)
                target[block][~valid] = 0
        self.skipped[block] = np.broadcast_to(tally.skipped, tally.shape)
        self.unseen[block] = np.broadcast_to(tally.unseen, tally.shape)
        self.unseen[block][~valid] = 0

    def result(self, plan: Plan, counts: tuple[Array, Array, Array], valid: Array) -> GridCount:
        """The grid's totals under the profile, from its mult-adds, params and BN params (0
        where a setting is invalid)."""
        profile = self.profile
        mult_adds, params, bn_params = counts
        if self.idle:  # an auxiliary head's params, which the profile leaves out
            params, bn_params = params - self.idle["params"], bn_params - self.idle["bn_params"]
        prelus = sum(
            step.activation == "prelu" and (profile.idle_params or not step.aux)
            for step in plan.steps
        )
        counted: Array = np.where(
            valid, counted_params(params, bn_params, prelus, profile.params, self.skipped), 0
        ).astype(params.dtype)
        operations = (mult_adds - self.unseen) * profile.flops_per_mult_add
        for extra in self.extras.values():
            operations = operations + extra
        return GridCount(profile, operations, dict(self.extras), counted)


class BlockCount:
    """The extras of one block of settings under a profile, gathered op by op."""

    def __init__(self, profile: Profile, shape: tuple[int, int]):
        self.profile = profile
        self.shape = shape
        self.extras: dict[str, Num] = {}
        self.idle: dict[str, Num] = {}  # an auxiliary head's params where the profile drops them
        self.priced = any(profile.extras.values())  # else no op adds anything
        self.thop = profile.params is ParamsRule.THOP
        self.skipped: Num = 0
        self.unseen: Num = 0  # mult-adds of the op kinds the profile's tool misses

    def add(self, step: Step, dims: Dims, counts: Counts) -> None:
        """Op `step` runs at `dims` with its `counts` (mult-adds, params, BN params)."""
        if step.aux and not self.profile.idle_params:
            for key, count in (("params", counts[1]), ("bn_params", counts[2])):
                self.idle[key] = self.idle.get(key, 0) + count
        elif self.thop and step.kind in THOP_SKIPS:
            self.skipped = self.skipped + counts[1]
        if step.kind in self.profile.unseen and not step.aux:
            self.unseen = self.unseen + counts[0]
        if self.priced and not step.aux:  # an auxiliary head does not run
            for key, size in op_elements(step, dims, NUMPY):
                add_extras(self.extras, key, size, self.profile)
