"""Many settings at once: mult-adds and params over a grid of alpha x resolution (x depth), with
numpy.

The plan's shape rules and the cost formulas are the ones `mbcalc table` uses, evaluated on
integer arrays: channels along the alpha axis, sizes along the resolution axis, costs on their
outer product, one block of the grid at a time so that memory stays bounded. Counts are exact:
int64 where the largest possible total fits, Python ints (object arrays) where it might not
(`mbcalc.grid.bounds`). A setting that `mbcalc table` would refuse is marked invalid, never
counted (`mbcalc.grid.refusals` says why).

On request the grid also holds what `mbcalc.deploy.memory` and `mbcalc.deploy.roofline` give at
one setting: the peak activation bytes, the weight bytes at deployment, and the roofline latency
on a device, from the same ledger and bounds (`mbcalc.grid.deployment`).

Depth changes only how many copies each stage has: the depths that give every stage the same
count share one plan, evaluated once over alpha x resolution (`mbcalc.grid.depths`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Protocol

import numpy as np

from mbcalc.core.activations import activations
from mbcalc.core.arith import Num
from mbcalc.core.costs import FORMULAS, Counts, Dims
from mbcalc.core.exact import exact_text
from mbcalc.core.limits import check_batch, check_grid
from mbcalc.core.plan import Plan, Step, make_plan
from mbcalc.core.profiles import Profile
from mbcalc.core.settings import Res, input_size, res_sides, res_text
from mbcalc.core.shapes import ChannelCounts, SizeCounts
from mbcalc.deploy.memory import DType, elements
from mbcalc.deploy.roofline import Device, number_format
from mbcalc.errors import SettingsError
from mbcalc.grid.axes import Array, channels_at, failures_mask, sizes_at
from mbcalc.grid.bounds import cost_bound, exact_dtype, largest_dims
from mbcalc.grid.counting import GridCount, GridCounter, counting_bound
from mbcalc.grid.deployment import BlockDeployment, GridDeployment
from mbcalc.grid.depths import STACKED, check_depths, depth_groups, stack_counts, stack_rows
from mbcalc.kinds import Pair
from mbcalc.spec import MAX_VALUE, Spec
from mbcalc.spec.stage import stage_counts


class StepObserver(Protocol):
    """What follows a block of settings op by op besides its costs."""

    def add(self, step: Step, dims: Dims, counts: Counts) -> None: ...


CHUNK_CELLS = 1 << 18
"""Settings evaluated together: bounds the memory of the intermediate arrays (a few MB)."""


@dataclass(frozen=True)
class Grid:
    """Costs of one spec at every (alpha, resolution) of a grid; arrays are alphas x resolutions.

    A row is one alpha at one depth: `depths` holds each row's depth multiplier (a sweep over
    several depths has every alpha once per depth, depth by depth).

    `valid` is False where the network cannot be built at that setting (counts there are 0).

    The deployment arrays are None unless asked for (see `sweep`): `peak_bytes` and
    `weight_bytes` are exact integers, each cell equal to `memory_report` at that setting with
    `dtype`, `batch` and `fold_bn`; `latency` is float64 seconds, `roofline(...).latency` on
    `device` (a calibrated device's estimate, else the roofline bound). All three are 0 where
    the setting is invalid.
    """

    spec: Spec
    alphas: tuple[Fraction, ...]
    resolutions: tuple[Pair, ...]
    mult_adds: Array
    params: Array
    bn_params: Array
    activations: Array  # output activations (`mbcalc.core.activations`)
    valid: Array
    peak_bytes: Array | None = None
    weight_bytes: Array | None = None
    latency: Array | None = None
    dtype: DType | None = None  # the number format of the deployment arrays, when present
    batch: int = 1
    fold_bn: bool = False
    device: Device | None = None
    counted: GridCount | None = None  # the totals under a counting profile, when asked for
    depths: tuple[Fraction, ...] = ()  # one per row; empty: depth 1 throughout

    def depth(self, row: int) -> Fraction:
        """The depth multiplier of a row."""
        return self.depths[row] if self.depths else Fraction(1)

    @property
    def has_depth(self) -> bool:
        """Whether any row is at a depth other than 1 (views then show the depth)."""
        return any(depth != 1 for depth in self.depths)


def sweep(
    spec: Spec,
    alphas: Sequence[Fraction],
    heights: Sequence[Res] | None = None,
    *,
    chunk_cells: int = CHUNK_CELLS,
    dtype: DType | None = None,
    batch: int = 1,
    fold_bn: bool = False,
    device: Device | None = None,
    profile: Profile | None = None,
    depths: Sequence[Fraction] = (Fraction(1),),
) -> Grid:
    """Costs of `spec` at every alpha in `alphas`, input size in `heights` and depth multiplier
    in `depths` (rows: each depth's alphas in turn).

    Each of `heights` is a height, the width following in proportion, or a (height, width) pair
    (as `--res`). Without heights, the spec's own input size is used.

    Deployment: given any of `dtype`, `batch` (other than 1), `fold_bn` or `device`, the grid
    also holds `peak_bytes` and `weight_bytes` (as `memory_report` with `dtype`, `batch` and
    `fold_bn`), and with a `device` the roofline `latency`. The number format defaults to the
    device's, else fp32 (as `mbcalc.deploy.deployment.deploy`).

    Given a counting `profile`, the grid also holds each setting's total under it (`counted`),
    as `mbcalc.core.profiles.count` gives at that setting.
    """
    heights = _checked(spec, alphas, heights, batch, depths)
    grids = {
        counts: _sweep_plan(
            make_plan(spec, depth), alphas, heights, chunk_cells, dtype, batch, fold_bn, device,
            profile,
        )
        for counts, depth in depth_groups(spec, depths).items()
    }  # fmt: skip
    stacked = [grids[stage_counts(spec.layers, depth)] for depth in depths]
    rows = tuple(depth for depth in depths for _ in alphas)
    if len(stacked) == 1:
        return replace(stacked[0], depths=rows)
    arrays: dict[str, Any] = {
        name: stack_rows([getattr(grid, name) for grid in stacked]) for name in STACKED
    }
    return replace(
        stacked[0],
        alphas=tuple(alpha for _ in depths for alpha in alphas),
        depths=rows,
        counted=stack_counts([grid.counted for grid in stacked]),
        **arrays,
    )


def _sweep_plan(
    plan: Plan,
    alphas: Sequence[Fraction],
    heights: Sequence[Res],
    chunk_cells: int,
    dtype: DType | None,
    batch: int,
    fold_bn: bool,
    device: Device | None,
    profile: Profile | None,
) -> Grid:
    """The grid of one plan (one depth's network) over alpha x resolution."""
    spec = plan.spec
    deployment = None
    if dtype is not None or batch != 1 or fold_bn or device is not None:
        chosen = number_format(dtype, device)
        deployment = GridDeployment.of(plan, chosen, batch, fold_bn, device)
    resolutions = tuple(input_size(res, spec.input_size) for res in heights)
    rows = max(1, min(len(alphas), chunk_cells // len(heights)))
    columns = max(1, min(len(heights), chunk_cells // rows))
    alpha_chunks = [alphas[top : top + rows] for top in range(0, len(alphas), rows)]
    size_chunks = [resolutions[left : left + columns] for left in range(0, len(heights), columns)]
    largest = largest_dims(plan, alpha_chunks, size_chunks)
    bound = cost_bound(plan, largest)
    if profile is not None:  # the profile's extras may need more room
        bound = max(bound, counting_bound(plan, largest, profile, bound))
    counts_dtype = work = exact_dtype(bound)
    if deployment is not None:  # the deployment's arithmetic may need more room
        widest = (max(h for h, _ in resolutions), max(w for _, w in resolutions))
        work = exact_dtype(bound * batch + deployment.bound(plan, largest, widest))
    shape = (len(alphas), len(heights))
    mult_adds: Array = np.zeros(shape, dtype=counts_dtype)
    params: Array = np.zeros(shape, dtype=counts_dtype)
    bn_params: Array = np.zeros(shape, dtype=counts_dtype)
    activation_counts: Array = np.zeros(shape, dtype=counts_dtype)  # at most the mult-adds
    valid = np.zeros(shape, dtype=bool)
    extra = {} if deployment is None else deployment.arrays(shape, work)
    counter = None if profile is None else GridCounter(profile, shape, counts_dtype)
    for top, alpha_chunk in zip(range(0, len(alphas), rows), alpha_chunks, strict=True):
        channels = channels_at(plan, alpha_chunk)
        for left, size_chunk in zip(range(0, len(heights), columns), size_chunks, strict=True):
            block = np.s_[top : top + len(alpha_chunk), left : left + len(size_chunk)]
            sizes = sizes_at(plan, size_chunk)
            block_shape = (len(alpha_chunk), len(size_chunk))
            accounts = None
            if deployment is not None:
                inputs = _input_elements(spec, size_chunk, work)
                accounts = BlockDeployment(deployment, inputs, block_shape)
            tally = None if counter is None else counter.block(block_shape)
            observers = [observer for observer in (accounts, tally) if observer is not None]
            counts, ok = _block_costs(plan, channels, sizes, block_shape, work, observers)
            mult_adds[block], params[block], bn_params[block], activation_counts[block] = counts
            valid[block] = ok
            if accounts is not None:
                accounts.store(extra, block, ok)
            if counter is not None and tally is not None:
                counter.store(tally, block, ok)
    grid = Grid(
        spec, tuple(alphas), resolutions, mult_adds, params, bn_params, activation_counts, valid
    )
    if counter is not None:
        grid = replace(grid, counted=counter.result(plan, (mult_adds, params, bn_params), valid))
    if deployment is None:
        return grid
    return replace(
        grid,
        peak_bytes=extra["peak_bytes"],
        weight_bytes=extra["weight_bytes"],
        latency=extra.get("latency"),
        dtype=deployment.dtype,
        batch=batch,
        fold_bn=fold_bn,
        device=device,
    )


def _checked(
    spec: Spec,
    alphas: Sequence[Fraction],
    heights: Sequence[Res] | None,
    batch: int,
    depths: Sequence[Fraction],
) -> Sequence[Res]:
    """The heights to sweep (the spec's own without any); refuses an empty or impossible grid."""
    if heights is None:
        heights = [spec.input_size[0]]
    if not alphas:
        raise SettingsError("the sweep needs at least one alpha")
    if not heights:
        raise SettingsError("the sweep needs at least one resolution")
    check_depths(depths)
    check_grid(len(alphas) * len(depths), len(heights))
    for alpha in alphas:
        if not 0 < alpha <= MAX_VALUE:
            raise SettingsError(f"alpha must be in (0, {MAX_VALUE:,}], got {exact_text(alpha)}")
    for res in heights:
        if not all(0 < side <= MAX_VALUE for side in res_sides(res)):
            raise SettingsError(f"resolutions must be in [1, {MAX_VALUE:,}], got {res_text(res)}")
    if isinstance(batch, bool) or not isinstance(batch, int):
        raise SettingsError(f"the batch must be a whole number, got {batch!r}")
    check_batch(batch)
    return heights


def _block_costs(
    plan: Plan,
    channels: ChannelCounts[Num],
    sizes: SizeCounts[Num],
    shape: tuple[int, int],
    dtype: type,
    observers: Sequence[StepObserver] = (),
) -> tuple[tuple[Array, Array, Array, Array], Array]:
    """Mult-adds, params, BN params and activations of one block of settings, and which are
    valid.

    Every op's shape and counts also go to each of `observers` (the deployment figures, the
    counting profile's extras of the block).
    """
    failed = failures_mask(channels) | failures_mask(sizes)
    valid: Array = ~np.broadcast_to(np.asarray(failed, dtype=bool), shape)
    c_in, c_out = _as_ints(channels.inputs), _as_ints(channels.outputs)
    totals: list[Array] = [np.zeros(shape, dtype=dtype) for _ in range(4)]
    for step in plan.steps:
        i = step.index
        (h_in, w_in), (h_out, w_out) = sizes.inputs[i], sizes.outputs[i]
        values = (h_in, w_in, c_in[i], h_out, w_out, c_out[i])
        dims = Dims(*(_cast(value, dtype) for value in values))
        counts = FORMULAS[step.kind](step, dims)
        if step.aux:  # an auxiliary head's mult-adds are not the network's (it does not run)
            counts = (0, counts[1], counts[2])
        for k, count in enumerate(counts):
            totals[k] += count
        if not step.aux:
            totals[3] += activations(step, dims)
        for observer in observers:
            observer.add(step, dims, counts)
    for total in totals:
        total[~valid] = 0
    return (totals[0], totals[1], totals[2], totals[3]), valid


def _as_ints(values: list[Num]) -> list[Num]:
    """Channel counts as int64 arrays (they are at most MAX_VALUE after clamping)."""
    return [v.astype(np.int64) if isinstance(v, np.ndarray) else v for v in values]


def _cast(value: Num, dtype: type) -> Num:
    return value.astype(dtype) if isinstance(value, np.ndarray) else value


def _input_elements(spec: Spec, resolutions: Sequence[Pair], dtype: type) -> Num:
    heights: Num = np.array([[h for h, _ in resolutions]], dtype=dtype)
    widths: Num = np.array([[w for _, w in resolutions]], dtype=dtype)
    return elements((heights, widths, spec.input_channels))
