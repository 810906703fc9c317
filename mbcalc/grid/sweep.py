"""Many settings at once: mult-adds and params over a grid of alpha x resolution, with numpy.

The plan's shape rules and the cost formulas are the ones `mbcalc table` uses, evaluated on
integer arrays: channels along the alpha axis, sizes along the resolution axis, costs on their
outer product, one block of the grid at a time so that memory stays bounded. Counts are exact:
int64 where the largest possible total fits, Python ints (object arrays) where it might not.
A setting that `mbcalc table` would refuse is marked invalid, never counted.

On request the grid also holds what `mbcalc.deploy.memory` and `mbcalc.deploy.roofline` give at
one setting: the peak activation bytes (liveness is structural, so it is worked out once from
the plan), the weight bytes at deployment, and the roofline latency on a device, from the same
helpers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from mbcalc.core.arith import Arith, Num
from mbcalc.core.costs import FORMULAS, Counts, Dims
from mbcalc.core.limits import check_batch, check_grid
from mbcalc.core.plan import NETWORK_INPUT, OpKind, Plan, Step, make_plan
from mbcalc.core.settings import scaled_side
from mbcalc.core.shapes import ChannelCounts, SizeCounts, evaluate_channels, evaluate_sizes
from mbcalc.deploy.memory import (
    DType,
    activation_bytes,
    bytes_of_weights,
    deployed_weights,
    elements,
    live_tensors,
)
from mbcalc.deploy.roofline import Device, op_bounds
from mbcalc.errors import SettingsError
from mbcalc.kinds import Pair
from mbcalc.spec import MAX_VALUE, Spec
from mbcalc.views.formats import exact_text

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

    The deployment arrays are None unless asked for (see `sweep`): `peak_bytes` and
    `weight_bytes` are exact integers, each cell equal to `memory_report` at that setting with
    `dtype`, `batch` and `fold_bn`; `latency` is float64 seconds, `roofline(...).seconds` on
    `device`. All three are 0 where the setting is invalid.
    """

    spec: Spec
    alphas: tuple[Fraction, ...]
    resolutions: tuple[Pair, ...]
    mult_adds: Array
    params: Array
    bn_params: Array
    valid: Array
    peak_bytes: Array | None = None
    weight_bytes: Array | None = None
    latency: Array | None = None
    dtype: DType | None = None  # the number format of the deployment arrays, when present
    batch: int = 1
    fold_bn: bool = False
    device: Device | None = None


def sweep(
    spec: Spec,
    alphas: Sequence[Fraction],
    heights: Sequence[int] | None = None,
    *,
    chunk_cells: int = CHUNK_CELLS,
    dtype: DType | None = None,
    batch: int = 1,
    fold_bn: bool = False,
    device: Device | None = None,
) -> Grid:
    """Costs of `spec` at every alpha in `alphas` and input height in `heights`.

    Each height sets the input height; the width follows in proportion (as `--res` does).
    Without heights, the spec's own input size is used.

    Deployment: given any of `dtype`, `batch` (other than 1), `fold_bn` or `device`, the grid
    also holds `peak_bytes` and `weight_bytes` (as `memory_report` with `dtype`, `batch` and
    `fold_bn`), and with a `device` the roofline `latency`. The number format defaults to the
    device's, else fp32 (as `mbcalc.deployment.deploy`).
    """
    heights = _checked(spec, alphas, heights, batch)
    plan = make_plan(spec)
    deployment = None
    if dtype is not None or batch != 1 or fold_bn or device is not None:
        chosen = dtype or (device.dtype if device is not None else DType.FP32)
        deployment = _Deployment.of(plan, chosen, batch, fold_bn, device)
    height, width = spec.input_size
    resolutions = tuple((res, int(scaled_side(width, res, height))) for res in heights)
    rows = max(1, min(len(alphas), chunk_cells // len(heights)))
    columns = max(1, min(len(heights), chunk_cells // rows))
    alpha_chunks = [alphas[top : top + rows] for top in range(0, len(alphas), rows)]
    size_chunks = [resolutions[left : left + columns] for left in range(0, len(heights), columns)]
    largest = _largest_dims(plan, alpha_chunks, size_chunks)
    cost_bound = _cost_bound(plan, largest)
    counts_dtype = work = _exact_dtype(cost_bound)
    if deployment is not None:  # the deployment's arithmetic may need more room
        widest = (max(h for h, _ in resolutions), max(w for _, w in resolutions))
        work = _exact_dtype(cost_bound * batch + deployment.bound(plan, largest, widest))
    shape = (len(alphas), len(heights))
    mult_adds: Array = np.zeros(shape, dtype=counts_dtype)
    params: Array = np.zeros(shape, dtype=counts_dtype)
    bn_params: Array = np.zeros(shape, dtype=counts_dtype)
    valid = np.zeros(shape, dtype=bool)
    extra = {} if deployment is None else deployment.arrays(shape, work)
    for top, alpha_chunk in zip(range(0, len(alphas), rows), alpha_chunks, strict=True):
        channels = _channels(plan, alpha_chunk)
        for left, size_chunk in zip(range(0, len(heights), columns), size_chunks, strict=True):
            block = np.s_[top : top + len(alpha_chunk), left : left + len(size_chunk)]
            sizes = _sizes(plan, size_chunk)
            block_shape = (len(alpha_chunk), len(size_chunk))
            accounts = None
            if deployment is not None:
                inputs = _input_elements(spec, size_chunk, work)
                accounts = _DeploymentBlock(deployment, inputs, block_shape, work)
            counts, ok = _block_costs(plan, channels, sizes, block_shape, work, accounts)
            mult_adds[block], params[block], bn_params[block] = counts
            valid[block] = ok
            if accounts is not None:
                accounts.store(extra, block, ok)
    grid = Grid(spec, tuple(alphas), resolutions, mult_adds, params, bn_params, valid)
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
    spec: Spec, alphas: Sequence[Fraction], heights: Sequence[int] | None, batch: int
) -> Sequence[int]:
    """The heights to sweep (the spec's own without any); refuses an empty or impossible grid."""
    if heights is None:
        heights = [spec.input_size[0]]
    if not alphas:
        raise SettingsError("the sweep needs at least one alpha")
    if not heights:
        raise SettingsError("the sweep needs at least one resolution")
    check_grid(len(alphas), len(heights))
    for alpha in alphas:
        if not 0 < alpha <= MAX_VALUE:
            raise SettingsError(f"alpha must be in (0, {MAX_VALUE:,}], got {exact_text(alpha)}")
    for res in heights:
        if not 0 < res <= MAX_VALUE:
            raise SettingsError(f"resolutions must be in [1, {MAX_VALUE:,}], got {res}")
    if isinstance(batch, bool) or not isinstance(batch, int):
        raise SettingsError(f"the batch must be a whole number, got {batch!r}")
    check_batch(batch)
    return heights


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
    accounts: _DeploymentBlock | None = None,
) -> tuple[tuple[Array, Array, Array], Array]:
    """Mult-adds, params and BN params of one block of settings, and which are valid.

    With `accounts`, every op's counts also go to the deployment arrays of the block.
    """
    failed = _failures_mask(channels) | _failures_mask(sizes)
    valid: Array = ~np.broadcast_to(np.asarray(failed, dtype=bool), shape)
    c_in, c_out = _as_ints(channels.inputs), _as_ints(channels.outputs)
    totals: list[Array] = [np.zeros(shape, dtype=dtype) for _ in range(3)]
    for step in plan.steps:
        i = step.index
        (h_in, w_in), (h_out, w_out) = sizes.inputs[i], sizes.outputs[i]
        values = (h_in, w_in, c_in[i], h_out, w_out, c_out[i])
        dims = Dims(*(_cast(value, dtype) for value in values))
        counts = FORMULAS[step.kind](step, dims)
        for k, count in enumerate(counts):
            totals[k] += count
        if accounts is not None:
            accounts.add(step, dims, counts)
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


def _exact_dtype(bound: int) -> type:
    """int64 when no value can reach `bound` < INT64_SAFE, else exact Python ints."""
    return np.int64 if bound < INT64_SAFE else object


def _largest_dims(
    plan: Plan,
    alpha_chunks: Sequence[Sequence[Fraction]],
    size_chunks: Sequence[Sequence[Pair]],
) -> list[Dims]:
    """The largest sizes and channels each op sees anywhere in the grid.

    Every count is a product of sizes and channels, so these bound it.
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
    return [
        Dims(h_in, w_in, c_in, h_out, w_out, c_out)
        for (c_in, c_out), (h_in, w_in, h_out, w_out) in zip(channel_max, size_max, strict=True)
    ]


def _cost_bound(plan: Plan, largest: Sequence[Dims]) -> int:
    """More than the sum of every op's mult-adds, params and BN params at any setting."""
    bound = 0
    for step in plan.steps:
        bound += sum(int(count) for count in FORMULAS[step.kind](step, largest[step.index]))
    return bound


# -- deployment: memory and roofline ------------------------------------------------------------

Liveness = tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]
"""For each op, the tensors that come alive when it runs and those freed before it runs."""


def _liveness(plan: Plan) -> Liveness:
    """`live_tensors` of the plan as changes from one op to the next: it depends on no setting."""
    changes = []
    before: set[int] = set()
    for tensors in live_tensors([step.sources for step in plan.steps]):
        now = set(tensors)
        changes.append((tuple(sorted(now - before)), tuple(sorted(before - now))))
        before = now
    return tuple(changes)


@dataclass(frozen=True)
class _Deployment:
    """The deployment options of a sweep, and what follows from them for every setting."""

    dtype: DType
    batch: int
    fold_bn: bool
    device: Device | None
    liveness: Liveness
    peaks: dict[OpKind, float]  # the device's mult-adds per second for each op kind
    bandwidth: float

    @classmethod
    def of(
        cls, plan: Plan, dtype: DType, batch: int, fold_bn: bool, device: Device | None
    ) -> _Deployment:
        peaks = {} if device is None else {kind: float(device.peak_for(kind)) for kind in OpKind}
        bandwidth = 0.0 if device is None else float(device.bandwidth)
        return cls(dtype, batch, fold_bn, device, _liveness(plan), peaks, bandwidth)

    def arrays(self, shape: tuple[int, int], dtype: type) -> dict[str, Array]:
        """The grid's deployment arrays, zeros: latency only on a device."""
        arrays: dict[str, Array] = {
            name: np.zeros(shape, dtype=dtype) for name in ("peak_bytes", "weight_bytes")
        }
        if self.device is not None:
            arrays["latency"] = np.zeros(shape, dtype=np.float64)
        return arrays

    def bound(self, plan: Plan, largest: Sequence[Dims], input_size: Pair) -> int:
        """More than any integer the deployment arithmetic reaches (added to the cost bound).

        Each tensor counts at its largest; an op's traffic counts each of its inputs (a tensor
        read twice, twice), its output and every value its weights could keep.
        """
        tensor = [elements((*input_size, plan.spec.input_channels))]
        tensor += [elements((d.h_out, d.w_out, d.c_out)) for d in largest]
        activations = sum(tensor)
        traffic = 0
        for step in plan.steps:
            d = largest[step.index]
            _, params, bn_params = FORMULAS[step.kind](step, d)
            read = sum(tensor[source + 1] for source in step.sources)
            kept = int(params) + int(d.c_out) + 2 * int(bn_params)
            traffic += activation_bytes(read + tensor[step.index + 1], self.dtype, self.batch)
            traffic += bytes_of_weights(kept, self.dtype)
        return int(activation_bytes(activations, self.dtype, self.batch)) + int(traffic)


class _DeploymentBlock:
    """Peak activation bytes, weight bytes and latency of one block of settings, op by op.

    The same helpers as `memory_report` and `roofline`, on arrays: each live tensor's element
    count is kept while it lives, their running sum gives the peak, and the bytes each op moves
    give its roofline time.
    """

    def __init__(
        self, deployment: _Deployment, input_elements: Num, shape: tuple[int, int], dtype: type
    ) -> None:
        self.deployment = deployment
        self.input_elements = input_elements
        self.alive: dict[int, Num] = {}  # element counts of the tensors alive now
        self.running: Array = np.zeros(shape, dtype=dtype)  # their sum (updated in place)
        self.peak: Array = np.zeros(shape, dtype=dtype)
        self.weights: Num = 0  # values kept at deployment
        self.seconds: Array = np.zeros(shape, dtype=np.float64)

    def add(self, step: Step, dims: Dims, counts: Counts) -> None:
        options = self.deployment
        born, freed = options.liveness[step.index]
        for tensor in born:
            if tensor == NETWORK_INPUT:
                size = self.input_elements
            else:
                assert tensor == step.index  # only an op's own output comes alive as it runs
                size = elements((dims.h_out, dims.w_out, dims.c_out))
            self.alive[tensor] = size
            self.running += size
        for tensor in freed:
            self.running -= self.alive.pop(tensor)
        np.maximum(self.peak, self.running, out=self.peak)
        mult_adds, params, bn_params = counts
        kept, bn_values = deployed_weights(
            params, bn_params, dims.c_out, bn=step.bn, bias=step.bias, fold_bn=options.fold_bn
        )
        weights = kept + bn_values
        self.weights = self.weights + weights
        if options.device is None:
            return
        first, *others = step.sources  # each source counts once per read, as in `op_memory`
        activations = self.alive[first] + self.alive[step.index]
        for source in others:
            activations = activations + self.alive[source]
        moved = activation_bytes(activations, options.dtype, options.batch)
        moved = moved + bytes_of_weights(weights, options.dtype)
        batch_mult_adds = mult_adds * options.batch if options.batch != 1 else mult_adds
        peak = options.peaks[step.kind]
        compute, traffic = op_bounds(batch_mult_adds, moved, peak, options.bandwidth)
        slower = np.maximum(compute, traffic)  # Python floats when counting in Python ints
        np.add(self.seconds, slower, out=self.seconds, casting="unsafe")

    def store(self, arrays: dict[str, Array], block: Any, valid: Array) -> None:
        """Write the block's results into the grid's `arrays`, 0 where a setting is invalid."""
        options = self.deployment
        results = {
            "peak_bytes": activation_bytes(self.peak, options.dtype, options.batch),
            "weight_bytes": bytes_of_weights(self.weights, options.dtype),
            "latency": self.seconds,
        }
        for name, array in arrays.items():
            array[block] = results[name]
            array[block][~valid] = 0


def _input_elements(spec: Spec, resolutions: Sequence[Pair], dtype: type) -> Num:
    heights: Array = np.array([[h for h, _ in resolutions]], dtype=dtype)
    widths: Array = np.array([[w for _, w in resolutions]], dtype=dtype)
    return elements((heights, widths, spec.input_channels))


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why one setting of a grid cannot be built: the one-setting engine's own message."""

    alpha: Fraction
    resolution: Pair
    message: str


def explain_invalid(grid: Grid, limit: int = 5) -> tuple[Refusal, ...]:
    """The distinct reasons for the grid's invalid settings, at most `limit` of them.

    Each is found by building an invalid setting with the one-setting engine, so the words
    are exactly those `mbcalc table` would print. The first invalid setting of each alpha and
    of each resolution are tried, alternately, so that a reason that belongs to a width and
    one that belongs to a resolution both show; at most 4 x `limit` settings are tried.
    """
    from mbcalc.core.graph import build_graph
    from mbcalc.core.settings import Settings
    from mbcalc.errors import MbcalcError

    invalid = ~grid.valid
    # For each alpha, an invalid resolution where other alphas build (the failure is this
    # alpha's), else its first invalid one; for each resolution the same the other way round.
    usable_res = grid.valid.any(axis=0)
    usable_alpha = grid.valid.any(axis=1)
    by_alpha = [
        (int(a), int(np.argmax(invalid[a] & usable_res)) if (invalid[a] & usable_res).any()
         else int(np.argmax(invalid[a])))
        for a in np.nonzero(invalid.any(axis=1))[0]
    ]  # fmt: skip
    by_res = [
        (int(np.argmax(invalid[:, r] & usable_alpha)) if (invalid[:, r] & usable_alpha).any()
         else int(np.argmax(invalid[:, r])), int(r))
        for r in np.nonzero(invalid.any(axis=0))[0]
    ]  # fmt: skip
    candidates: list[tuple[int, int]] = []
    for pair in zip(by_alpha, by_res, strict=False):
        candidates.extend(pair)
    candidates.extend(by_alpha[len(by_res) :] + by_res[len(by_alpha) :])
    rows, columns = np.nonzero(invalid)  # then the rest, in order, while tries remain
    candidates.extend(
        (int(a), int(r)) for a, r in zip(rows[: 4 * limit], columns[: 4 * limit], strict=True)
    )
    plan = make_plan(grid.spec)  # once, for every setting tried
    seen: dict[str, Refusal] = {}
    for a, r in list(dict.fromkeys(candidates))[: 4 * limit]:
        if len(seen) >= limit:
            break
        alpha, resolution = grid.alphas[int(a)], grid.resolutions[int(r)]
        try:
            build_graph(grid.spec, Settings(alpha=alpha, res=resolution[0]), plan)
        except MbcalcError as error:
            message = str(error)
            seen.setdefault(message, Refusal(alpha, resolution, message))
    return tuple(seen.values())
