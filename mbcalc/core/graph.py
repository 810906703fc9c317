"""Spec -> layer graph: primitive ops with shapes and edges, alpha and resolution applied.

The plan (`mbcalc.core.plan`) fixes the ops and edges; here its shape rules
(`mbcalc.core.shapes`) are evaluated at one setting, with exact ints, and every op gets its
input and output shape. Every command reads this graph; nothing reads the YAML again. Costs are
not computed here (see `mbcalc.core.costs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Protocol

from mbcalc.core.adaptive import adaptive_kernel
from mbcalc.core.arith import SCALAR, Arith, N
from mbcalc.core.exact import exact_text
from mbcalc.core.ir import NETWORK_INPUT, Global, Part, Partition, Scaled, Step, Window
from mbcalc.core.plan import MAX_OPS, Plan, make_plan
from mbcalc.core.settings import Request, Settings
from mbcalc.core.shapes import (
    ChannelCounts,
    Failure,
    Reason,
    SizeCounts,
    evaluate_channels,
    evaluate_sizes,
)
from mbcalc.errors import SettingsError, SettingValueError, SpecError, number_text, size_text
from mbcalc.kinds import LayerType, OpKind, Padding, Pair, PartitionMode
from mbcalc.spec import MAX_VALUE, Block, Spec

__all__ = [
    "MAX_OPS",
    "NETWORK_INPUT",
    "Graph",
    "Op",
    "OpKind",
    "PoolForm",
    "Shape",
    "Unit",
    "build_graph",
    "pads_at",
    "pool_form",
    "window_extent",
    "window_pads",
]

Shape = tuple[int, int, int]
"""Height, width, channels."""


@dataclass(eq=False, slots=True)
class Op:
    """One primitive operation: its geometry, where its inputs come from, what follows it.

    An op is never changed once made (not frozen: a frozen record takes five times as long
    to make).
    """

    index: int
    name: str
    unit: str
    kind: OpKind
    sources: tuple[int, ...]
    input: Shape
    output: Shape
    kernel: Pair | None = None
    stride: Pair | None = None
    groups: int | None = None
    bias: bool = False
    bn: bool = False
    act: str = "none"
    pool: str | None = None  # avg or max, on a pool op
    padding: Padding = (0, 0)  # a window's: same (ceil(H / stride)) or (top/bottom, left/right)
    ceil: bool = False  # a pooling window in PyTorch's ceil_mode
    global_pool: bool = False  # a pool over the whole input (its kernel is the input's size)
    aux: bool = False  # in an auxiliary head: runs in training only
    grid: Pair | None = None  # an adaptive pool's output grid (its kernel the largest window)
    part: int | None = None  # a split op's slice of its input's channels, from 0
    partition: PartitionMode | None = None  # which positions an attention's queries see
    shift: bool = False  # an attention's windows shifted by half a window (free)
    cosine: bool = False  # scaled cosine attention: a learned logit scale per head

    @property
    def activation(self) -> str:
        """The activation after the op (as on a plan `Step`)."""
        return self.act

    @property
    def pool_kind(self) -> str | None:
        """avg or max on a pool op, else None (as on a plan `Step`)."""
        return self.pool


@dataclass(eq=False, slots=True)
class Unit:
    """A leaf spec layer after `repeat`: its ops and, for a separable or mbconv unit, the
    standard conv (`standard`) that replaces its ops `replaced` in its standard counterpart.
    Never changed once made."""

    name: str
    type: LayerType
    line: int
    ops: tuple[int, ...]
    standard: Op | None = None
    replaced: tuple[int, ...] = ()


@dataclass(eq=False, frozen=True)
class Graph:
    """A network at one setting of alpha and resolution."""

    spec: Spec
    alpha: Fraction
    resolution: Pair
    ops: tuple[Op, ...]
    units: tuple[Unit, ...]
    depth: Fraction = Fraction(1)

    @property
    def rho(self) -> Fraction:
        """Resolution multiplier: this graph's input height over the spec's."""
        return Fraction(self.resolution[0], self.spec.input_size[0])

    @property
    def input_shape(self) -> Shape:
        return (*self.resolution, self.spec.input_channels)

    @property
    def output_shape(self) -> Shape:
        return self.ops[-1].output


def build_graph(spec: Spec, settings: Settings | None = None, plan: Plan | None = None) -> Graph:
    """Expand `spec` at `settings` (default: the spec's own `defaults:`, else alpha 1, depth 1
    and its own resolution).

    `plan` may be given when the caller already made it from the same spec.
    """
    settings = settings or Request().settings(spec.defaults)
    if settings.alpha > MAX_VALUE:
        raise SettingValueError(
            f"{settings.names.alpha} must be at most {MAX_VALUE:,}, "
            f"got {exact_text(settings.alpha)}"
        )
    resolution = settings.resolution(spec.input_size)
    if max(resolution) > MAX_VALUE:
        raise SettingsError(
            f"the resolution {size_text(resolution)} is larger than {MAX_VALUE:,} pixels on a side"
        )
    plan = plan or make_plan(spec, settings.depth)
    channels = evaluate_channels(plan, settings.alpha.numerator, settings.alpha.denominator)
    sizes = evaluate_sizes(plan, *resolution)
    failures = channels.failures + sizes.failures
    if failures:
        first = min(failures, key=lambda failure: failure.step)
        raise _Explainer(plan, channels, sizes, settings.alpha).error(first)
    outputs = [(*size, depth) for size, depth in zip(sizes.outputs, channels.outputs, strict=True)]
    network_input = (*resolution, spec.input_channels)
    ops = tuple(
        [  # an op's input is its first source's output, shared
            _op(step, network_input if first == NETWORK_INPUT else outputs[first], outputs[i])
            for i, step in enumerate(plan.steps)
            for first in (step.sources[0],)
        ]
    )
    return Graph(spec, settings.alpha, resolution, ops, _units(plan, ops), settings.depth)


class PoolForm(StrEnum):
    """How `mbcalc.torch` runs a pool op."""

    GLOBAL = "global"  # an adaptive 1x1 pool module (AdaptiveAvgPool2d, AdaptiveMaxPool2d)
    WINDOW = "window"  # PyTorch's own window module (AvgPool2d, MaxPool2d)
    PADDED = "padded"  # explicit padding, then one F.avg_pool2d or F.max_pool2d call
    ADAPTIVE = "adaptive"  # an adaptive pool module to a grid larger than 1x1


class Windowed(Protocol):
    """What the window rules read of an op: a graph `Op` or a plan `Step`."""

    @property
    def global_pool(self) -> bool: ...
    @property
    def kernel(self) -> Pair | None: ...
    @property
    def stride(self) -> Pair | None: ...
    @property
    def padding(self) -> Padding: ...
    @property
    def grid(self) -> Pair | None: ...


def pool_form(op: Windowed) -> PoolForm:
    """How a pool op runs: PyTorch's modules take no SAME padding nor padding above half the
    kernel, which are padded explicitly."""
    if op.global_pool:
        return PoolForm.GLOBAL
    if op.grid is not None:
        return PoolForm.ADAPTIVE
    assert op.kernel is not None
    if op.padding != "same" and all(2 * p <= k for p, k in zip(op.padding, op.kernel, strict=True)):
        return PoolForm.WINDOW
    return PoolForm.PADDED


def _same_pads(size: N, kernel: int, stride: int, out: N, arith: Arith) -> tuple[N, N]:
    """TensorFlow's SAME padding of one axis: (before, after), the odd pixel after."""
    total = arith.maximum((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def window_pads(op: Op) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) that make a floor-mode window give the op's output exactly:
    SAME's padding, or the integer padding before and what the windows need after (negative:
    a crop). `mbcalc.torch` pads explicitly by these."""
    return pads_at(op, (op.input[0], op.input[1]), (op.output[0], op.output[1]), SCALAR)


def pads_at(op: Windowed, size: tuple[N, N], out: tuple[N, N], arith: Arith) -> tuple[N, N, N, N]:
    """`window_pads` of a window op whose input is `size` and output `out` (height, width):
    ints for one setting, arrays over a grid (`arith` tells which)."""
    assert op.kernel is not None
    assert op.stride is not None
    pads: list[tuple[N, N]] = []
    for axis in (0, 1):
        kernel, stride = op.kernel[axis], op.stride[axis]
        if op.padding == "same":
            pads.append(_same_pads(size[axis], kernel, stride, out[axis], arith))
        else:
            before = op.padding[axis]
            after = (out[axis] - 1) * stride + kernel - size[axis] - before
            pads.append((before, after))
    (top, bottom), (left, right) = pads
    return left, right, top, bottom


def window_extent(op: Windowed, size: tuple[N, N], out: tuple[N, N], arith: Arith) -> tuple[N, N]:
    """Height and width of the tensor an explicitly padded pool reads: its input (`size`) with
    the `window_pads` applied (SAME never crops, so this may exceed what the windows cover)."""
    left, right, top, bottom = pads_at(op, size, out, arith)
    return size[0] + top + bottom, size[1] + left + right


def _op(step: Step, input: Shape, output: Shape) -> Op:
    """The op of `step` with its shapes at one setting.

    Run once per op: the step's fields are read directly rather than through its properties,
    and the op kinds compared are module constants (an enum member's lookup is slow).
    """
    kind, spatial = step.kind, step.spatial
    groups = input[2] if kind is _DEPTHWISE else step.groups
    act = step.act or step.layer.act
    pool = step.pool_kind if kind is _POOL else None
    if isinstance(spatial, Window):
        return Op(
            step.index, step.name, step.unit, kind, step.sources, input, output, spatial.kernel,
            spatial.stride, groups, step.bias, step.bn, act, pool, spatial.padding, spatial.ceil,
            False, step.aux,
        )  # fmt: skip
    if isinstance(spatial, Partition):
        return Op(
            step.index, step.name, step.unit, kind, step.sources, input, output, spatial.window,
            spatial.stride, groups, step.bias, step.bn, act, pool, partition=spatial.mode,
            shift=step.shift, cosine=step.cosine,
        )  # fmt: skip
    is_global, grid = isinstance(spatial, Global), step.grid
    kernel = input[:2] if is_global else None if grid is None else adaptive_kernels(input, grid)
    part = step.channels.index if isinstance(step.channels, Part) else None
    return Op(
        step.index, step.name, step.unit, kind, step.sources, input, output, kernel,
        (1, 1) if is_global else None, groups, step.bias, step.bn, act, pool, (0, 0), False,
        is_global, step.aux, grid, part,
    )  # fmt: skip


def adaptive_kernels(input: Shape, grid: Pair) -> Pair:
    """The largest window (height, width) of an adaptive pool from `input` to `grid`."""
    return adaptive_kernel(input[0], grid[0]), adaptive_kernel(input[1], grid[1])


_DEPTHWISE, _POOL, _CONV = OpKind.DEPTHWISE, OpKind.POOL, OpKind.CONV


def _units(plan: Plan, ops: tuple[Op, ...]) -> tuple[Unit, ...]:
    """The plan's units with their ops, and each standard twin (see `_standard`)."""
    units = []
    for unit in plan.units:
        twin, steps = unit.twin, unit.steps
        if twin is None:
            units.append(Unit(unit.name, unit.type, unit.line, steps))
            continue
        first, last = twin
        # all the unit's ops (a separable unit; its steps are consecutive): one tuple for both
        whole = first == steps[0] and last == steps[-1] and last - first + 1 == len(steps)
        replaced = steps if whole else tuple(range(first, last + 1))
        units.append(
            Unit(unit.name, unit.type, unit.line, steps, _standard(ops, first, last), replaced)
        )
    return tuple(units)


def _standard(ops: tuple[Op, ...], first: int, last: int) -> Op:
    """The standard k x k conv that stands for ops first..last in a unit's standard twin:
    the first op's window and input, the last's output channels (a separable unit's whole
    depthwise + pointwise pair; an mbconv's depthwise conv)."""
    dw, pw = ops[first], ops[last]
    output = (dw.output[0], dw.output[1], pw.output[2])
    name = f"{dw.unit}.standard"
    return Op(-1, name, dw.unit, _CONV, dw.sources, dw.input, output, dw.kernel, dw.stride, 1)


@dataclass(eq=False, frozen=True)
class _Explainer:
    """Turns the first failure of a setting into the message a user can act on."""

    plan: Plan
    channels: ChannelCounts[int]
    sizes: SizeCounts[int]
    alpha: Fraction

    def shape(self, tensor: int) -> str:
        if tensor == NETWORK_INPUT:
            spec = self.plan.spec
            return _dims(*self.sizes_of(tensor), spec.input_channels)
        return _dims(*self.sizes.outputs[tensor], self.channels.outputs[tensor])

    def sizes_of(self, tensor: int) -> tuple[int, int]:
        if tensor == NETWORK_INPUT:
            return self.sizes.inputs[0]
        return self.sizes.outputs[tensor]

    def error(self, failure: Failure[int]) -> SpecError:
        step = self.plan.steps[failure.step]
        spec, layer, path = self.plan.spec, step.layer, step.unit
        c_in = self.channels.inputs[step.index]
        h_in, w_in = self.sizes.inputs[step.index]
        reason = failure.reason
        if reason is Reason.NO_CHANNELS:
            assert isinstance(step.channels, Scaled)
            return spec.error(
                f"`out: {step.channels.out}` at alpha {exact_text(self.alpha)} leaves no channels",
                layer,
                path,
                "use a larger alpha",
            )
        if reason in (Reason.TOO_MANY_CHANNELS, Reason.TOO_LARGE):
            height, width = self.sizes.outputs[step.index]
            depth = self.channels.outputs[step.index]
            if reason is Reason.TOO_LARGE:
                assert isinstance(failure.value, tuple)
                height, width = failure.value
            else:
                assert isinstance(failure.value, int)
                depth = failure.value
            return spec.error(
                f"the output {_dims(height, width, depth)} is larger than {MAX_VALUE:,} in one "
                "dimension",
                layer,
                path,
                "check alpha, `multiplier`, `padding`, and `repeat` of concatenations",
            )
        if reason is Reason.GROUPS:
            return spec.error(
                f"`groups: {step.groups}` must divide both the {c_in} input and "
                f"{failure.value} output channels",
                layer,
                path,
                "at this alpha the channels may no longer be multiples of `groups`"
                if self.alpha != 1
                else "choose `groups` that divides both channel counts",
            )
        if reason is Reason.NO_FIT:
            assert step.kernel is not None
            return spec.error(
                f"a {step.kernel[0]}x{step.kernel[1]} window with padding "
                f"{_padding(step.padding)} does not fit the {h_in}x{w_in} input",
                layer,
                path,
                "an auxiliary head runs in training, at the input size it was made for: use a "
                "larger input"
                if step.aux
                else "use `padding: same`, a smaller kernel or a larger input",
            )
        shapes = ", ".join(self.shape(source) for source in step.sources)
        if isinstance(layer, Block):
            first, last = step.sources
            return spec.error(
                f"residual: the block's output {self.shape(last)} differs from its input "
                f"{self.shape(first)}",
                layer,
                path,
                "a residual block must keep stride 1 and its input's channels",
            )
        if reason is Reason.SPLIT_CHANNELS:
            assert isinstance(step.channels, Part)
            return spec.error(
                f"split: the {c_in} input channels do not divide into {step.channels.parts} "
                "equal slices",
                layer,
                path,
                "give the split's input a multiple of its branch count of channels",
            )
        if reason is Reason.CONCAT_SIZES:
            return spec.error(
                f"merge concat: the branches give different sizes {shapes}",
                layer,
                path,
                "branches merged by `concat` must agree in height and width",
            )
        return spec.error(
            f"merge add: the branches give different shapes {shapes}",
            layer,
            path,
            "branches merged by `add` must agree in size and channels",
        )


def _dims(height: int, width: int, channels: int) -> str:
    return "x".join(number_text(n) for n in (height, width, channels))


def _padding(padding: Padding) -> str:
    if padding == "same":
        return "same"
    return str(padding[0]) if padding[0] == padding[1] else f"{padding[0]}x{padding[1]}"
