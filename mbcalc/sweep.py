"""Many settings at once: mult-adds and params over a grid of alpha x resolution, with numpy.

The plan's shape rules and the cost formulas are the ones `mbcalc table` uses, evaluated on
integer arrays: channels along the alpha axis, sizes along the resolution axis, costs on their
outer product, one block of the grid at a time so that memory stays bounded. Counts are exact:
int64 where the largest possible total fits, Python ints (object arrays) where it might not.
A setting that `mbcalc table` would refuse is marked invalid, never counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from mbcalc.arith import Arith, Num
from mbcalc.costs import FORMULAS, Dims
from mbcalc.errors import SettingsError
from mbcalc.plan import Plan, make_plan
from mbcalc.settings import Pair, scaled_side
from mbcalc.shapes import ChannelCounts, SizeCounts, evaluate_channels, evaluate_sizes
from mbcalc.spec import MAX_VALUE, Spec

NUMPY = Arith(maximum=np.maximum, minimum=np.minimum, where=np.where)

CHUNK_CELLS = 1 << 18
"""Settings evaluated together: bounds the memory of the intermediate arrays (a few MB)."""

INT64_SAFE = 1 << 62
"""Totals below this are summed in int64; larger ones in exact Python ints."""

Array = npt.NDArray[Any]


@dataclass(frozen=True)
class Grid:
    """Costs of one spec at every (alpha, resolution) of a grid; arrays are alphas x resolutions.

    `valid` is False where the network cannot be built at that setting (counts there are 0).
    """

    spec: Spec
    alphas: tuple[Fraction, ...]
    resolutions: tuple[Pair, ...]
    mult_adds: Array
    params: Array
    bn_params: Array
    valid: Array


def sweep(
    spec: Spec,
    alphas: Sequence[Fraction],
    heights: Sequence[int] | None = None,
    *,
    chunk_cells: int = CHUNK_CELLS,
) -> Grid:
    """Costs of `spec` at every alpha in `alphas` and input height in `heights`.

    Each height sets the input height; the width follows in proportion (as `--res` does).
    Without heights, the spec's own input size is used.
    """
    if not alphas:
        raise SettingsError("the sweep needs at least one alpha")
    for alpha in alphas:
        if not 0 < alpha <= MAX_VALUE:
            raise SettingsError(f"alpha must be in (0, {MAX_VALUE:,}], got {float(alpha):g}")
    height, width = spec.input_size
    if heights is None:
        heights = [height]
    if not heights:
        raise SettingsError("the sweep needs at least one resolution")
    for res in heights:
        if not 0 < res <= MAX_VALUE:
            raise SettingsError(f"resolutions must be in [1, {MAX_VALUE:,}], got {res}")
    plan = make_plan(spec)
    resolutions = tuple((res, int(scaled_side(width, res, height))) for res in heights)
    rows = max(1, min(len(alphas), chunk_cells // len(heights)))
    columns = max(1, min(len(heights), chunk_cells // rows))
    alpha_chunks = [alphas[top : top + rows] for top in range(0, len(alphas), rows)]
    size_chunks = [resolutions[left : left + columns] for left in range(0, len(heights), columns)]
    dtype = _dtype(plan, alpha_chunks, size_chunks)
    shape = (len(alphas), len(heights))
    mult_adds: Array = np.zeros(shape, dtype=dtype)
    params: Array = np.zeros(shape, dtype=dtype)
    bn_params: Array = np.zeros(shape, dtype=dtype)
    valid = np.zeros(shape, dtype=bool)
    for top, alpha_chunk in zip(range(0, len(alphas), rows), alpha_chunks, strict=True):
        channels = _channels(plan, alpha_chunk)
        for left, size_chunk in zip(range(0, len(heights), columns), size_chunks, strict=True):
            block = np.s_[top : top + len(alpha_chunk), left : left + len(size_chunk)]
            sizes = _sizes(plan, size_chunk)
            block_shape = (len(alpha_chunk), len(size_chunk))
            counts, ok = _block_costs(plan, channels, sizes, block_shape, dtype)
            mult_adds[block], params[block], bn_params[block] = counts
            valid[block] = ok
    return Grid(spec, tuple(alphas), resolutions, mult_adds, params, bn_params, valid)


SMALL_FRACTION = 10**8
"""Alphas whose numerator and denominator stay below this are scaled in int64 without overflow
(channels are at most 10**9, and the rounding rules multiply by at most 20 x the denominator)."""


def _channels(plan: Plan, alphas: Sequence[Fraction]) -> ChannelCounts:
    small = all(max(a.numerator, a.denominator) < SMALL_FRACTION for a in alphas)
    dtype = np.int64 if small else object
    num = np.array([[alpha.numerator] for alpha in alphas], dtype=dtype)
    den = np.array([[alpha.denominator] for alpha in alphas], dtype=dtype)
    return evaluate_channels(plan, num, den, NUMPY)


def _sizes(plan: Plan, resolutions: Sequence[Pair]) -> SizeCounts:
    heights = np.array([[h for h, _ in resolutions]], dtype=np.int64)
    widths = np.array([[w for _, w in resolutions]], dtype=np.int64)
    return evaluate_sizes(plan, heights, widths, NUMPY)


def _failures_mask(counts: ChannelCounts | SizeCounts) -> Num:
    failed: Num = False
    for failure in counts.failures:
        failed = failed | failure.mask
    return failed


def _block_costs(
    plan: Plan,
    channels: ChannelCounts,
    sizes: SizeCounts,
    shape: tuple[int, int],
    dtype: type,
) -> tuple[tuple[Array, Array, Array], Array]:
    """Mult-adds, params and BN params of one block of settings, and which are valid."""
    failed = _failures_mask(channels) | _failures_mask(sizes)
    valid: Array = ~np.broadcast_to(np.asarray(failed, dtype=bool), shape)
    c_in, c_out = _as_ints(channels.inputs), _as_ints(channels.outputs)
    totals: list[Array] = [np.zeros(shape, dtype=dtype) for _ in range(3)]
    for step in plan.steps:
        i = step.index
        (h_in, w_in), (h_out, w_out) = sizes.inputs[i], sizes.outputs[i]
        values = (h_in, w_in, c_in[i], h_out, w_out, c_out[i])
        dims = Dims(*(_cast(value, dtype) for value in values))
        for k, count in enumerate(FORMULAS[step.kind](step, dims)):
            totals[k] += count
    for total in totals:
        total[~valid] = 0
    return (totals[0], totals[1], totals[2]), valid


def _as_ints(values: list[Num]) -> list[Num]:
    """Channel counts as int64 arrays (they are at most MAX_VALUE after clamping)."""
    return [v.astype(np.int64) if isinstance(v, np.ndarray) else v for v in values]


def _cast(value: Num, dtype: type) -> Num:
    return value.astype(dtype) if isinstance(value, np.ndarray) else value


def _largest(value: Num) -> int:
    return int(np.max(value)) if isinstance(value, np.ndarray) else int(value)


def _dtype(
    plan: Plan,
    alpha_chunks: Sequence[Sequence[Fraction]],
    size_chunks: Sequence[Sequence[Pair]],
) -> type:
    """int64 when no total anywhere in the grid can reach INT64_SAFE, else exact Python ints.

    Every count is a product of sizes and channels, so the largest sizes and channels each op
    sees anywhere in the grid bound it.
    """
    steps = len(plan.steps)
    channel_max = [[0, 0] for _ in range(steps)]
    for chunk in alpha_chunks:
        channels = _channels(plan, chunk)
        for i in range(steps):
            channel_max[i][0] = max(channel_max[i][0], _largest(channels.inputs[i]))
            channel_max[i][1] = max(channel_max[i][1], _largest(channels.outputs[i]))
    size_max = [[0, 0, 0, 0] for _ in range(steps)]
    for size_chunk in size_chunks:
        sizes = _sizes(plan, size_chunk)
        for i in range(steps):
            (h_in, w_in), (h_out, w_out) = sizes.inputs[i], sizes.outputs[i]
            for k, value in enumerate((h_in, w_in, h_out, w_out)):
                size_max[i][k] = max(size_max[i][k], _largest(value))
    bound = 0
    for step in plan.steps:
        (c_in, c_out), (h_in, w_in, h_out, w_out) = channel_max[step.index], size_max[step.index]
        largest = Dims(h_in, w_in, c_in, h_out, w_out, c_out)
        bound += sum(int(count) for count in FORMULAS[step.kind](step, largest))
    return np.int64 if bound < INT64_SAFE else object


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why one setting of a grid cannot be built: the one-setting engine's own message."""

    alpha: Fraction
    resolution: Pair
    message: str


def explain_invalid(grid: Grid, limit: int = 5) -> tuple[Refusal, ...]:
    """The distinct reasons for the grid's invalid settings, at most `limit` of them.

    Each is found by building an invalid setting with the one-setting engine, so the words
    are exactly those `mbcalc table` would print; at most 4 x `limit` settings are tried.
    """
    from mbcalc.errors import MbcalcError
    from mbcalc.graph import build_graph
    from mbcalc.settings import Settings

    seen: dict[str, Refusal] = {}
    rows, columns = np.nonzero(~grid.valid)
    for a, r in list(zip(rows, columns, strict=True))[: 4 * limit]:
        if len(seen) >= limit:
            break
        alpha, resolution = grid.alphas[int(a)], grid.resolutions[int(r)]
        try:
            build_graph(grid.spec, Settings(alpha=alpha, res=resolution[0]))
        except MbcalcError as error:
            message = str(error)
            seen.setdefault(message, Refusal(alpha, resolution, message))
    return tuple(seen.values())
