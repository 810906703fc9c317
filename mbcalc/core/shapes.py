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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Generic, Protocol

from mbcalc.core.arith import SCALAR, Arith, Mask, N
from mbcalc.core.ir import (
    NETWORK_INPUT,
    Adaptive,
    Expand,
    Fixed,
    FixedSize,
    Flat,
    Global,
    Heads,
    Keep,
    Like,
    Multiple,
    Part,
    Partition,
    Ratio,
    Same,
    Scaled,
    SizeOf,
    SpatialRule,
    Step,
    Sum,
    Times,
    TokenRow,
    Window,
)
from mbcalc.core.settings import make_divisible_scaled, scale_channels_exact, whole_heads
from mbcalc.kinds import OpKind, Pair, Scale
from mbcalc.spec import MAX_VALUE, Spec


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
    SPLIT_CHANNELS = "split channels"


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


class Planned(Protocol):
    """Steps to evaluate and the spec they come from (a `mbcalc.core.plan.Plan`)."""

    @property
    def spec(self) -> Spec: ...
    @property
    def steps(self) -> Sequence[Step]: ...


def _any(mask: Mask) -> bool:
    return bool(mask) if isinstance(mask, bool) else bool(mask.any())


def _record(
    failures: list[Failure[N]],
    step: int,
    reason: Reason,
    mask: Mask,
    value: N | tuple[N, N] | None,
) -> None:
    if mask is not False and _any(mask):
        failures.append(Failure(step, reason, mask, value))


def evaluate_channels(
    plan: Planned, num: N, den: N, ar: Arith = SCALAR, counts: ChannelCounts[N] | None = None
) -> ChannelCounts[N]:
    """Every step's channels at alpha = num / den; given `counts` for the first steps, only the
    steps after them are evaluated (and added to `counts`)."""
    spec = plan.spec
    counts = counts or ChannelCounts[N]()
    inputs, outputs, failures = counts.inputs, counts.outputs, counts.failures
    steps = plan.steps
    input_channels = spec.input_channels

    def of(tensor: int) -> N:
        return input_channels if tensor == NETWORK_INPUT else outputs[tensor]

    rounding, divisor = spec.rounding, spec.divisor
    maximum, minimum = ar.maximum, ar.minimum
    add = OpKind.ADD  # looked up once: an enum member's lookup is slow
    # One setting: a rule that reads one input gives, on channels it has seen, what it gave.
    # The rule and the kind are known by identity (the plan keeps them; a layer's repeats share
    # them): they would hash by calls in Python.
    known: dict[tuple[int, int, int | None, N], N] | None = {} if ar is SCALAR else None
    for index in range(len(outputs), len(steps)):
        step = steps[index]
        rule = step.channels
        first = step.sources[0]
        c_in = input_channels if first == NETWORK_INPUT else outputs[first]
        key = (id(rule), id(step.kind), step.groups, c_in)
        if known is not None and (c_out := known.get(key)) is not None:
            inputs.append(c_in)
            outputs.append(c_out)
            continue
        failed = len(failures)
        c_out = _channel_rule(step, c_in, of, num, den, rounding, divisor, ar)
        # (a check on one setting gives False where it holds: no call then)
        if isinstance(rule, Scaled) and rule.scale and (none := c_out < 1) is not False:
            _record(failures, index, Reason.NO_CHANNELS, none, c_out)
        if (too_many := c_out > MAX_VALUE) is not False:
            _record(failures, index, Reason.TOO_MANY_CHANNELS, too_many, c_out)
        c_out = minimum(maximum(c_out, 1), MAX_VALUE)
        kind = step.kind
        if kind in _GROUPED and step.groups is not None and step.groups > 1:
            bad = (c_in % step.groups != 0) | (c_out % step.groups != 0)
            _record(failures, index, Reason.GROUPS, bad, c_out)
        elif isinstance(rule, Part):
            _record(failures, index, Reason.SPLIT_CHANNELS, c_in % rule.parts != 0, c_out)
        elif kind is add:
            differ: Mask = False
            for source in step.sources[1:]:
                differ = differ | (of(source) != c_in)
            _record(failures, index, Reason.ADD_CHANNELS, differ, None)
        if known is not None and len(failures) == failed and _reads_one_input(step):
            known[key] = c_out
        inputs.append(c_in)
        outputs.append(c_out)
    return counts


_GROUPED = (OpKind.CONV, OpKind.GROUP_NORM, OpKind.SHUFFLE, OpKind.ATTEND)
"""The op kinds whose `groups` (an attention's heads) must divide their channels."""


def _reads_one_input(step: Step) -> bool:
    """Whether the step's channels follow from its first input's alone."""
    rule = step.channels
    if step.kind is OpKind.ADD or isinstance(rule, Sum | Like):
        return False
    return not isinstance(rule, Ratio) or rule.like is None


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
    """The output channels of `step` by its channel rule, before they are checked."""
    match step.channels:
        case Scaled(out=out, scale=scale):
            return _scaled(out, scale, num, den, rounding, divisor, ar)
        case Times(multiplier=multiplier):
            return c_in * multiplier
        case Same():
            return c_in
        case Sum():
            total: N = 0
            for source in step.sources:
                total = total + of(source)
            return total
        case Fixed(channels=channels):
            return channels
        case Expand(ratio=ratio, rounding=expand_rounding):
            return _expanded(c_in, ratio, expand_rounding, divisor, ar)
        case Ratio(ratio=ratio, divisor=squeeze_divisor, like=like):
            base = c_in if like is None else of(like)
            squeezed = base * ratio.numerator // ratio.denominator
            if squeeze_divisor is not None:
                return make_divisible_scaled(squeezed, 1, 1, squeeze_divisor, ar)
            return ar.maximum(squeezed, 1)
        case Like(tensor=tensor):
            return of(tensor)
        case Part(parts=parts):
            return c_in // parts
        case Heads(heads=heads, copies=copies):
            return copies * whole_heads(c_in, heads)


def _scaled(
    out: int, scale: Scale, num: N, den: N, rounding: str, divisor: int, ar: Arith
) -> N | int:
    """`out` channels under alpha = num / den where `scale` says so (`up`: above 1 only)."""
    if not scale:
        return out
    scaled = scale_channels_exact(out, num, den, rounding, divisor, ar)
    return ar.where(num > den, scaled, out) if scale == "up" else scaled


def _expanded(c_in: N, ratio: Fraction, rounding: str, divisor: int, ar: Arith) -> N:
    """The input's channels times `ratio`: divisible, rounded half to even, or floored."""
    if rounding == "divisible":
        return make_divisible_scaled(c_in, ratio.numerator, ratio.denominator, divisor, ar)
    if rounding == "round":
        return round_half_even(c_in * ratio.numerator, ratio.denominator, ar)
    return c_in * ratio.numerator // ratio.denominator


def evaluate_sizes(
    plan: Planned, height: N, width: N, ar: Arith = SCALAR, counts: SizeCounts[N] | None = None
) -> SizeCounts[N]:
    """Every step's (height, width) for an input of height x width; given `counts` for the
    first steps, only the steps after them are evaluated (and added to `counts`)."""
    counts = counts or SizeCounts[N]()
    inputs, outputs, failures = counts.inputs, counts.outputs, counts.failures
    steps = plan.steps
    network_input = (height, width)

    def of(tensor: int) -> tuple[N, N]:
        return network_input if tensor == NETWORK_INPUT else outputs[tensor]

    # One setting: a window's output on an input it has seen (a layer's repeats) is known.
    fitted: dict[tuple[int, N, N], tuple[N, N]] | None = {} if ar is SCALAR else None
    add, concat = OpKind.ADD, OpKind.CONCAT  # looked up once: an enum member's lookup is slow
    for index in range(len(outputs), len(steps)):
        step = steps[index]
        first = step.sources[0]
        size_in = network_input if first == NETWORK_INPUT else outputs[first]
        h_in, w_in = size_in
        spatial = step.spatial
        key = (id(spatial), h_in, w_in)
        size_out = fitted.get(key) if fitted is not None else None
        if isinstance(spatial, SizeOf):  # not of the input: never taken from `fitted`
            size_out = of(spatial.tensor)
        elif size_out is None:
            failed = len(failures)
            size_out = _size_out(index, spatial, size_in, failures, ar)
            if fitted is not None and len(failures) == failed:
                fitted[key] = size_out
        kind = step.kind
        if kind is add or kind is concat:
            differ: Mask = False
            for source in step.sources[1:]:
                h_other, w_other = of(source)
                differ = differ | (h_other != h_in) | (w_other != w_in)
            reason = Reason.ADD_SIZES if kind is add else Reason.CONCAT_SIZES
            _record(failures, index, reason, differ, None)
        inputs.append(size_in)
        outputs.append(size_out)
    return counts


def _size_out(
    index: int, spatial: SpatialRule, size_in: tuple[N, N], failures: list[Failure[N]], ar: Arith
) -> tuple[N, N]:
    """Step `index`'s output (height, width) by its spatial rule; a window that does not fit or
    gives too large an output is recorded in `failures`."""
    h_in, w_in = size_in
    match spatial:
        case Window(kernel=kernel, stride=stride, padding=padding, ceil=ceil):
            pads = ("same", "same") if padding == "same" else padding
            h_out = window_size(h_in, kernel[0], stride[0], pads[0], ceil, ar)
            w_out = window_size(w_in, kernel[1], stride[1], pads[1], ceil, ar)
            if (no_fit := (h_out < 1) | (w_out < 1)) is not False:
                _record(failures, index, Reason.NO_FIT, no_fit, None)
            if (too_large := (h_out > MAX_VALUE) | (w_out > MAX_VALUE)) is not False:
                _record(failures, index, Reason.TOO_LARGE, too_large, (h_out, w_out))
            return (
                ar.minimum(ar.maximum(h_out, 1), MAX_VALUE),
                ar.minimum(ar.maximum(w_out, 1), MAX_VALUE),
            )
        case Keep() | Partition():
            return size_in
        case TokenRow(extra=extra):
            tokens = h_in * w_in + extra
            if (too_large := tokens > MAX_VALUE) is not False:
                _record(failures, index, Reason.TOO_LARGE, too_large, (1, tokens))
            return (1, ar.minimum(tokens, MAX_VALUE))
        case Global() | Flat():
            return (1, 1)
        case Adaptive(output=output) | FixedSize(size=output):
            return output
        case Multiple(multiple=(m_h, m_w)):
            return (h_in + -h_in % m_h, w_in + -w_in % m_w)
        case SizeOf():  # pragma: no cover - evaluate_sizes reads the tensor's size
            raise AssertionError("a SizeOf rule is evaluated by evaluate_sizes")


@dataclass(eq=False, frozen=True, slots=True)
class _Partial:
    spec: Spec
    steps: Sequence[Step]


class AtOne:
    """The shapes of a plan being made, at alpha 1 and the spec's own input size.

    Evaluated step by step as the plan grows (a step taken back is forgotten), so that
    planning stays linear in the number of steps.
    """

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.channels = ChannelCounts[int]()
        self.sizes = SizeCounts[int]()
        self.evaluated: list[Step] = []  # the steps the counts are of

    def shape(self, steps: Sequence[Step], tensor: int) -> tuple[int, Pair]:
        """(channels, (height, width)) of `tensor`, one of `steps` or the network's input."""
        if tensor == NETWORK_INPUT:
            return self.spec.input_channels, self.spec.input_size
        done = min(len(steps), len(self.evaluated))
        while done and self.evaluated[done - 1] is not steps[done - 1]:
            done -= 1  # a step taken back, and another planned in its place
        for counts in (self.channels, self.sizes):
            del counts.inputs[done:], counts.outputs[done:]
            counts.failures[:] = [f for f in counts.failures if f.step < done]
        self.evaluated[done:] = steps[done:]
        partial = _Partial(self.spec, steps)
        evaluate_channels(partial, 1, 1, counts=self.channels)
        evaluate_sizes(partial, *self.spec.input_size, counts=self.sizes)
        return self.channels.outputs[tensor], self.sizes.outputs[tensor]
