"""Shape arithmetic of a plan: channels from alpha, sizes from the input resolution.

The same code runs on plain ints (one setting: `mbcalc.core.graph`) and on numpy integer arrays
(many settings at once: `mbcalc.grid.sweep`). Channels depend on alpha alone and sizes on the
resolution alone, so the two are evaluated apart, each along its own axis. Alpha is passed as
an exact fraction num/den, so every rounding rule is integer arithmetic.

Where a rule fails (no channels left, a window that does not fit, a residual whose shapes
differ ...) a `Failure` records the step and a mask of the settings it fails at; the value is
then clamped into range so that evaluation can go on for the other settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic

from mbcalc.core.arith import SCALAR, Arith, Mask, N
from mbcalc.core.plan import NETWORK_INPUT, ChannelRule, OpKind, Plan, SpatialRule, Step
from mbcalc.core.settings import make_divisible_scaled, scale_channels_exact
from mbcalc.spec.parser import MAX_VALUE


class Reason(StrEnum):
    """Why a setting cannot be built."""

    NO_CHANNELS = "no channels"
    TOO_MANY_CHANNELS = "too many channels"
    GROUPS = "groups"
    ADD_CHANNELS = "add channels"
    NO_FIT = "no fit"
    TOO_LARGE = "too large"
    ADD_SIZES = "add sizes"
    CONCAT_SIZES = "concat sizes"


@dataclass(eq=False, frozen=True, slots=True)
class Failure(Generic[N]):
    """Step `step` fails for `reason` wherever `mask` holds; `value` is what it computed."""

    step: int
    reason: Reason
    mask: Mask
    value: N | tuple[N, N] | None = None


def round_half_even(num: N, den: int, ar: Arith = SCALAR) -> N:
    """Python's round(num / den) for num >= 0: halves go to the even neighbour."""
    quotient, remainder = num // den, num % den
    up = (2 * remainder > den) | ((2 * remainder == den) & (quotient % 2 == 1))
    return ar.where(up, quotient + 1, quotient)


def window_size(
    size: N, kernel: int, stride: int, padding: int | str, ceil: bool = False, ar: Arith = SCALAR
) -> N:
    """Output length of a sliding window: `same` gives ceil(size / stride).

    With `ceil` (PyTorch's ceil_mode) a last partial window counts too, unless it would start
    in the padding: out = ceil((size + 2p - k) / stride) + 1, less one if
    (out - 1) * stride >= size + p.
    """
    if padding == "same":
        return -(-size // stride)
    assert isinstance(padding, int)
    if not ceil:
        return (size + 2 * padding - kernel) // stride + 1
    out = -(-(size + 2 * padding - kernel) // stride) + 1
    return ar.where((out - 1) * stride >= size + padding, out - 1, out)


@dataclass(eq=False)
class ChannelCounts(Generic[N]):
    """Input and output channels of every step, and where they fail."""

    inputs: list[N] = field(default_factory=list)
    outputs: list[N] = field(default_factory=list)
    failures: list[Failure[N]] = field(default_factory=list)


@dataclass(eq=False)
class SizeCounts(Generic[N]):
    """Input and output (height, width) of every step, and where they fail."""

    inputs: list[tuple[N, N]] = field(default_factory=list)
    outputs: list[tuple[N, N]] = field(default_factory=list)
    failures: list[Failure[N]] = field(default_factory=list)


def _any(mask: Mask) -> bool:
    return bool(mask) if isinstance(mask, bool) else bool(mask.any())


def _record(
    failures: list[Failure[N]],
    step: int,
    reason: Reason,
    mask: Mask,
    value: N | tuple[N, N] | None,
) -> None:
    if _any(mask):
        failures.append(Failure(step, reason, mask, value))


def evaluate_channels(
    plan: Plan, num: N, den: N, ar: Arith = SCALAR, counts: ChannelCounts[N] | None = None
) -> ChannelCounts[N]:
    """Every step's channels at alpha = num / den; given `counts` for the first steps, only the
    steps after them are evaluated (and added to `counts`)."""
    spec = plan.spec
    counts = counts or ChannelCounts()
    outputs = counts.outputs

    def of(tensor: int) -> N:
        return spec.input_channels if tensor == NETWORK_INPUT else outputs[tensor]

    for index in range(len(outputs), len(plan.steps)):
        step = plan.steps[index]
        c_in = of(step.sources[0])
        c_out = _channel_rule(step, c_in, of, num, den, spec.rounding, spec.divisor, ar)
        failures = counts.failures  # step.index == index
        if step.channels is ChannelRule.SCALED and step.scale:
            _record(failures, index, Reason.NO_CHANNELS, c_out < 1, c_out)
        _record(failures, index, Reason.TOO_MANY_CHANNELS, c_out > MAX_VALUE, c_out)
        c_out = ar.minimum(ar.maximum(c_out, 1), MAX_VALUE)
        if step.kind is OpKind.CONV and step.groups is not None and step.groups > 1:
            bad = (c_in % step.groups != 0) | (c_out % step.groups != 0)
            _record(failures, index, Reason.GROUPS, bad, c_out)
        if step.kind is OpKind.ADD:
            differ: Mask = False
            for source in step.sources[1:]:
                differ = differ | (of(source) != c_in)
            _record(failures, index, Reason.ADD_CHANNELS, differ, None)
        counts.inputs.append(c_in)
        outputs.append(c_out)
    return counts


def _channel_rule(
    step: Step,
    c_in: N,
    of: Callable[[int], N],
    num: N,
    den: N,
    rounding: str,
    divisor: int,
    ar: Arith,
) -> N:
    rule = step.channels
    if rule is ChannelRule.SCALED:
        if not step.scale:
            return step.value
        scaled = scale_channels_exact(step.value, num, den, rounding, divisor, ar)
        return ar.where(num > den, scaled, step.value) if step.scale == "up" else scaled
    if rule is ChannelRule.TIMES:
        return c_in * step.value
    if rule is ChannelRule.SUM:
        total: N = 0
        for source in step.sources:
            total = total + of(source)
        return total
    if rule is ChannelRule.FIXED:
        return step.value
    if rule is ChannelRule.EXPAND:
        assert step.ratio is not None
        num, den = step.ratio.numerator, step.ratio.denominator
        if step.rounding == "divisible":
            return make_divisible_scaled(c_in, num, den, divisor, ar)
        if step.rounding == "round":
            return round_half_even(c_in * num, den, ar)
        return c_in * num // den
    if rule is ChannelRule.RATIO:
        assert step.ratio is not None
        base = c_in if step.like is None else of(step.like)
        squeezed = base * step.ratio.numerator // step.ratio.denominator
        if step.value:
            return make_divisible_scaled(squeezed, 1, 1, step.value, ar)
        return ar.maximum(squeezed, 1)
    if rule is ChannelRule.LIKE:
        assert step.like is not None
        return of(step.like)
    return c_in  # SAME


def evaluate_sizes(
    plan: Plan, height: N, width: N, ar: Arith = SCALAR, counts: SizeCounts[N] | None = None
) -> SizeCounts[N]:
    """Every step's (height, width) for an input of height x width; given `counts` for the
    first steps, only the steps after them are evaluated (and added to `counts`)."""
    counts = counts or SizeCounts()
    outputs = counts.outputs

    def of(tensor: int) -> tuple[N, N]:
        return (height, width) if tensor == NETWORK_INPUT else outputs[tensor]

    for index in range(len(outputs), len(plan.steps)):
        step = plan.steps[index]
        h_in, w_in = of(step.sources[0])
        failures = counts.failures  # step.index == index
        if step.spatial is SpatialRule.WINDOW:
            assert step.kernel is not None
            assert step.stride is not None
            pads = ("same", "same") if step.padding == "same" else step.padding
            h_out = window_size(h_in, step.kernel[0], step.stride[0], pads[0], step.ceil, ar)
            w_out = window_size(w_in, step.kernel[1], step.stride[1], pads[1], step.ceil, ar)
            _record(failures, index, Reason.NO_FIT, (h_out < 1) | (w_out < 1), None)
            raw = (h_out, w_out)
            _record(
                failures, index, Reason.TOO_LARGE, (h_out > MAX_VALUE) | (w_out > MAX_VALUE), raw
            )
            h_out = ar.minimum(ar.maximum(h_out, 1), MAX_VALUE)
            w_out = ar.minimum(ar.maximum(w_out, 1), MAX_VALUE)
        elif step.spatial is SpatialRule.KEEP:
            h_out, w_out = h_in, w_in
        else:  # GLOBAL, FLAT
            h_out, w_out = 1, 1
        if step.kind in (OpKind.ADD, OpKind.CONCAT):
            differ: Mask = False
            for source in step.sources[1:]:
                h_other, w_other = of(source)
                differ = differ | (h_other != h_in) | (w_other != w_in)
            reason = Reason.ADD_SIZES if step.kind is OpKind.ADD else Reason.CONCAT_SIZES
            _record(failures, index, reason, differ, None)
        counts.inputs.append((h_in, w_in))
        outputs.append((h_out, w_out))
    return counts
