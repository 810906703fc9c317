"""The plan's shape rules along the two axes of a grid: channels per alpha, sizes per resolution.

Channels depend on alpha alone and sizes on the resolution alone, so each is evaluated once per
chunk of its axis, as numpy arrays of one column (alphas) or one row (resolutions) that
broadcast to the block of settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any, TypeAlias, cast

import numpy as np
import numpy.typing as npt

from mbcalc.core.arith import Arith, Mask, N, Num
from mbcalc.core.plan import Plan
from mbcalc.core.shapes import ChannelCounts, SizeCounts, evaluate_channels, evaluate_sizes
from mbcalc.kinds import Pair

Array: TypeAlias = npt.NDArray[Any]

SMALL_FRACTION = 10**8
"""Alphas whose numerator and denominator stay below this are scaled in int64 without overflow
(channels are at most 10**9, and the rounding rules multiply by at most 20 x the denominator)."""


class _Numpy:
    """`Arith` on numpy arrays (one value per setting)."""

    def maximum(self, a: N, b: N) -> N:
        return cast("N", np.maximum(a, b))

    def minimum(self, a: N, b: N) -> N:
        return cast("N", np.minimum(a, b))

    def where(self, cond: Mask, yes: N, no: N) -> N:
        return cast("N", np.where(cond, yes, no))


NUMPY: Arith = _Numpy()


def channels_at(plan: Plan, alphas: Sequence[Fraction]) -> ChannelCounts[Num]:
    """Every step's channels at each of `alphas` (a column: one row per alpha)."""
    small = all(max(a.numerator, a.denominator) < SMALL_FRACTION for a in alphas)
    dtype = np.int64 if small else object
    num: Num = np.array([[alpha.numerator] for alpha in alphas], dtype=dtype)
    den: Num = np.array([[alpha.denominator] for alpha in alphas], dtype=dtype)
    return evaluate_channels(plan, num, den, NUMPY)


def sizes_at(plan: Plan, resolutions: Sequence[Pair]) -> SizeCounts[Num]:
    """Every step's (height, width) at each of `resolutions` (a row: one column each)."""
    heights: Num = np.array([[h for h, _ in resolutions]], dtype=np.int64)
    widths: Num = np.array([[w for _, w in resolutions]], dtype=np.int64)
    return evaluate_sizes(plan, heights, widths, NUMPY)


def failures_mask(counts: ChannelCounts[Num] | SizeCounts[Num]) -> Mask:
    """Where any step of `counts` fails."""
    failed: Mask = False
    for failure in counts.failures:
        failed = failed | failure.mask
    return failed


def largest(value: Num) -> int:
    """The largest value of an axis (an int stands for itself)."""
    return int(np.max(value)) if isinstance(value, np.ndarray) else int(value)
