"""How large a grid's integers can grow, and so whether int64 holds them or Python ints must.

Every count is a product of sizes and channels, so the largest size and channel each op sees
anywhere in the grid bound it; the deployment figures are sums of such products.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from mbcalc.core.costs import FORMULAS, Dims
from mbcalc.core.plan import Plan
from mbcalc.grid.axes import channels_at, largest, sizes_at
from mbcalc.kinds import Pair

INT64_SAFE = 1 << 62
"""Totals below this are summed in int64; larger ones in exact Python ints."""


def exact_dtype(bound: int) -> type:
    """int64 when no value can reach `bound` < INT64_SAFE, else exact Python ints."""
    return np.int64 if bound < INT64_SAFE else object


def largest_dims(
    plan: Plan,
    alpha_chunks: Sequence[Sequence[Fraction]],
    size_chunks: Sequence[Sequence[Pair]],
) -> list[Dims]:
    """The largest sizes and channels each op sees anywhere in the grid."""
    steps = len(plan.steps)
    channel_max = [[0, 0] for _ in range(steps)]
    for chunk in alpha_chunks:
        channels = channels_at(plan, chunk)
        for i in range(steps):
            channel_max[i][0] = max(channel_max[i][0], largest(channels.inputs[i]))
            channel_max[i][1] = max(channel_max[i][1], largest(channels.outputs[i]))
    size_max = [[0, 0, 0, 0] for _ in range(steps)]
    for size_chunk in size_chunks:
        sizes = sizes_at(plan, size_chunk)
        for i in range(steps):
            (h_in, w_in), (h_out, w_out) = sizes.inputs[i], sizes.outputs[i]
            for k, value in enumerate((h_in, w_in, h_out, w_out)):
                size_max[i][k] = max(size_max[i][k], largest(value))
    return [
        Dims(h_in, w_in, c_in, h_out, w_out, c_out)
        for (c_in, c_out), (h_in, w_in, h_out, w_out) in zip(channel_max, size_max, strict=True)
    ]


def cost_bound(plan: Plan, dims: Sequence[Dims]) -> int:
    """More than the sum of every op's mult-adds, params and BN params at any setting."""
    bound = 0
    for step in plan.steps:
        bound += sum(int(count) for count in FORMULAS[step.kind](step, dims[step.index]))
    return bound
