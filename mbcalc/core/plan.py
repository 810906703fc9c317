"""Spec -> plan: the network's primitive ops and edges, before any alpha or resolution.

A plan says how each op's output shape follows from its inputs (a channel rule and a spatial
rule), so that one plan can be evaluated at one setting (`mbcalc.core.graph`, plain integers) or at
a million settings at once (`mbcalc.grid.sweep`, numpy). Repeats, blocks and branches are expanded
here, once, and layer names are checked for clashes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mbcalc.core.shapes import ChannelCounts, SizeCounts

from mbcalc.spec.parser import (
    Block,
    Conv,
    Depthwise,
    Fc,
    Layer,
    LayerType,
    Mbconv,
    Padding,
    Parallel,
    Pointwise,
    Pool,
    Se,
    Separable,
    Softmax,
    Spec,
)

Pair = tuple[int, int]

MAX_OPS = 100_000
"""Most primitive ops one network may expand to (the largest real networks need a few thousand)."""

NETWORK_INPUT = -1
"""The producer index that stands for the network's input."""


class OpKind(StrEnum):
    """Primitive operations of the graph (a pointwise conv is a `conv` with a 1x1 kernel)."""

    CONV = "conv"
    DEPTHWISE = "depthwise"
    FC = "fc"
    POOL = "pool"
    ADD = "add"
    CONCAT = "concat"
    SCALE = "scale"
    SOFTMAX = "softmax"


class ChannelRule(StrEnum):
    """How an op's output channels follow from its inputs and alpha."""

    SCALED = "scaled"  # `value` channels, times alpha when `scale` (the spec's rounding)
    EXPAND = "expand"  # the input's channels times `ratio`, rounded by `rounding`
    TIMES = "times"  # the input's channels times `value` (depthwise multiplier)
    SAME = "same"  # the first input's channels
    SUM = "sum"  # the sum over all inputs (concat)
    FIXED = "fixed"  # exactly `value` channels (squeeze-and-excite `squeeze`)
    RATIO = "ratio"  # floor(base * ratio): at least 1, or made divisible by `value` if set;
    # the base is tensor `like`'s channels, or the input's (squeeze-and-excite `ratio`)
    LIKE = "like"  # the channels of tensor `like` (squeeze-and-excite's expanding fc)


class SpatialRule(StrEnum):
    """How an op's output height and width follow from its input."""

    WINDOW = "window"  # a sliding window: kernel, stride, padding
    GLOBAL = "global"  # the whole input pooled to 1x1
    FLAT = "flat"  # fully connected: 1x1 out of the flattened input
    KEEP = "keep"  # the input's size


@dataclass(eq=False, frozen=True, slots=True)
class Step:
    """One primitive op as planned: what it is, what it reads, how its shape follows."""

    index: int
    name: str
    unit: str
    kind: OpKind
    sources: tuple[int, ...]
    layer: Layer
    channels: ChannelRule
    spatial: SpatialRule
    value: int = 0
    scale: bool | str = False  # True, False or "up" (scaled only when alpha > 1)
    ratio: Fraction | None = None
    like: int | None = None
    rounding: str = ""  # EXPAND: round, floor or divisible
    act: str | None = None  # the activation after the op, when not its layer's (a linear
    # projection or residual add in an mbconv unit, the parts of a squeeze-and-excite)
    kernel: Pair | None = None
    stride: Pair | None = None
    padding: Padding = (0, 0)
    groups: int | None = None  # None on a depthwise op: one group per input channel
    bias: bool = False
    bn: bool = False
    ceil: bool = False  # a pooling window in PyTorch's ceil_mode


@dataclass(eq=False, frozen=True, slots=True)
class UnitPlan:
    """A leaf spec layer after `repeat` and the steps it made.

    `twin` is (first, last): the steps a standard k x k conv replaces in the unit's standard
    counterpart, with the first's window and input and the last's output channels. A separable
    unit's twin replaces its depthwise and pointwise convs; an mbconv's its depthwise conv.
    """

    name: str
    type: LayerType
    line: int
    steps: tuple[int, ...]
    twin: tuple[int, int] | None = None


@dataclass(eq=False, frozen=True)
class Plan:
    spec: Spec
    steps: Sequence[Step]  # a tuple, once made
    units: tuple[UnitPlan, ...]


def make_plan(spec: Spec) -> Plan:
    """Expand `spec` into steps; refuses clashing names and networks past `MAX_OPS`."""
    planner = _Planner(spec)
    planner.sequence(spec.layers, "", NETWORK_INPUT)
    return Plan(spec, tuple(planner.steps), tuple(planner.units))


@dataclass(eq=False)
class _Planner:
    spec: Spec
    steps: list[Step] = field(default_factory=list)
    units: list[UnitPlan] = field(default_factory=list)
    names: dict[str, int] = field(default_factory=dict)
    at_one: tuple[ChannelCounts[int], SizeCounts[int]] | None = None  # the steps so far at alpha 1

    def sequence(self, layers: tuple[Layer, ...], scope: str, tensor: int) -> int:
        for layer in layers:
            for i in range(layer.repeat):
                path = scope + layer.instance_name(i)
                self.claim(path, layer)
                tensor = self.layer(layer, path, tensor)
        return tensor

    def claim(self, path: str, layer: Layer) -> None:
        if path in self.names:
            raise self.spec.error(
                f"the name '{path}' is already used by the layer on line {self.names[path]}",
                layer,
                path,
                "give each layer its own `name`",
            )
        self.names[path] = layer.line

    def add(
        self,
        layer: Layer,
        name: str,
        unit: str,
        kind: OpKind,
        sources: tuple[int, ...],
        **rules: object,
    ) -> int:
        if len(self.steps) >= MAX_OPS:
            raise self.spec.error(
                f"the network expands to more than {MAX_OPS:,} operations",
                layer,
                unit,
                "check the `repeat` counts",
            )
        index = len(self.steps)
        self.steps.append(Step(index, name, unit, kind, sources, layer, **rules))  # type: ignore[arg-type]
        return index

    def layer(self, layer: Layer, path: str, tensor: int) -> int:
        if isinstance(layer, Block):
            return self.block(layer, path, tensor)
        if isinstance(layer, Parallel):
            return self.parallel(layer, path, tensor)
        first = len(self.steps)
        twin: tuple[int, int] | None = None
        if isinstance(layer, Separable):
            depthwise = self.window(
                layer, f"{path}.dw", path, OpKind.DEPTHWISE, tensor, channels=ChannelRule.TIMES,
                value=1, groups=None, bias=False,
            )  # fmt: skip
            pointwise = self.pointwise(layer, f"{path}.pw", path, depthwise, False)
            twin, tensor = (depthwise, pointwise), pointwise
        elif isinstance(layer, Mbconv):
            depthwise, tensor = self.mbconv(layer, path, tensor)
            twin = (depthwise, depthwise)
        elif isinstance(layer, Conv):
            rule = _expand(layer) or {"channels": ChannelRule.SCALED, "value": layer.out}
            tensor = self.window(
                layer, path, path, OpKind.CONV, tensor, groups=layer.groups, bias=layer.bias,
                scale=layer.scale, **rule,
            )  # fmt: skip
        elif isinstance(layer, Depthwise):
            tensor = self.window(
                layer, path, path, OpKind.DEPTHWISE, tensor, channels=ChannelRule.TIMES,
                value=layer.multiplier, groups=None, bias=layer.bias,
            )  # fmt: skip
        elif isinstance(layer, Pointwise):
            tensor = self.pointwise(layer, path, path, tensor, layer.bias)
        elif isinstance(layer, Pool):
            tensor = self.pool(layer, path, tensor)
        elif isinstance(layer, Fc):
            tensor = self.add(
                layer, path, path, OpKind.FC, (tensor,), channels=ChannelRule.SCALED,
                spatial=SpatialRule.FLAT, value=layer.out, scale=layer.scale, bias=layer.bias,
            )  # fmt: skip
        elif isinstance(layer, Se):
            tensor = self.se(layer, path, tensor)
        elif isinstance(layer, Softmax):
            tensor = self.add(
                layer, path, path, OpKind.SOFTMAX, (tensor,), channels=ChannelRule.SAME,
                spatial=SpatialRule.KEEP,
            )  # fmt: skip
        else:  # pragma: no cover - the spec parser admits no other type
            raise self.spec.error(f"layer type {layer.type} cannot be built", layer, path)
        steps = tuple(range(first, len(self.steps)))
        self.units.append(UnitPlan(path, layer.type, layer.line, steps, twin))
        return tensor

    def window(
        self,
        layer: Conv | Depthwise | Separable | Mbconv,
        name: str,
        unit: str,
        kind: OpKind,
        tensor: int,
        *,
        groups: int | None,
        bias: bool,
        **rules: object,
    ) -> int:
        """A windowed op; `rules` gives its channel rule (channels, value, scale, ...)."""
        return self.add(
            layer, name, unit, kind, (tensor,), spatial=SpatialRule.WINDOW, kernel=layer.kernel,
            stride=layer.stride, padding=layer.padding, groups=groups, bias=bias, bn=layer.bn,
            **rules,
        )  # fmt: skip

    def pointwise(
        self,
        layer: Pointwise | Separable | Mbconv,
        name: str,
        unit: str,
        tensor: int,
        bias: bool,
        **rules: object,
    ) -> int:
        channels: dict[str, object] = {
            "channels": ChannelRule.SCALED, "value": layer.out, "scale": layer.scale,
        }  # fmt: skip
        if isinstance(layer, Pointwise):
            channels.update(_expand(layer))
        return self.add(
            layer, name, unit, OpKind.CONV, (tensor,), spatial=SpatialRule.WINDOW,
            kernel=(1, 1), stride=(1, 1), padding="same", groups=1, bias=bias, bn=layer.bn,
            **{**channels, **rules},
        )  # fmt: skip

    def channels_at_one(self, tensor: int) -> tuple[int, tuple[int, int]]:
        """(channels, (height, width)) of a tensor planned so far, at alpha 1 and the spec's
        own input size: how the spec itself is written decides an mbconv's structure."""
        from mbcalc.core.shapes import ChannelCounts, SizeCounts, evaluate_channels, evaluate_sizes

        if tensor == NETWORK_INPUT:
            return self.spec.input_channels, self.spec.input_size
        # Evaluated step by step as the plan grows (a step taken back is forgotten), so that
        # planning stays linear in the number of steps.
        if self.at_one is None:
            self.at_one = (ChannelCounts(), SizeCounts())
        channels, sizes = self.at_one
        for counts in (channels, sizes):
            del counts.inputs[len(self.steps) :], counts.outputs[len(self.steps) :]
            counts.failures[:] = [f for f in counts.failures if f.step < len(self.steps)]
        partial = Plan(self.spec, self.steps, ())
        evaluate_channels(partial, 1, 1, counts=channels)
        evaluate_sizes(partial, *self.spec.input_size, counts=sizes)
        return channels.outputs[tensor], sizes.outputs[tensor]

    def mbconv(self, layer: Mbconv, path: str, tensor: int) -> tuple[int, int]:
        """Plan an mbconv unit; returns its depthwise step and its output tensor."""
        unit_input = tensor
        if layer.expand is not None or layer.expanded is not None:
            if layer.expanded is not None:
                rule: dict[str, object] = {
                    "channels": ChannelRule.SCALED, "value": layer.expanded, "scale": layer.scale,
                }  # fmt: skip
            else:
                rule = {
                    "channels": ChannelRule.EXPAND, "ratio": layer.expand,
                    "rounding": layer.expand_rounding,
                }  # fmt: skip
            expanded = self.pointwise(layer, f"{path}.expand", path, tensor, False, **rule)
            if self.channels_at_one(expanded)[0] == self.channels_at_one(tensor)[0]:
                self.steps.pop()  # nothing to expand: the unit starts with its depthwise conv
            else:
                tensor = expanded
        depthwise = self.window(
            layer, f"{path}.dw", path, OpKind.DEPTHWISE, tensor,
            channels=ChannelRule.TIMES, value=1, groups=None, bias=False,
        )  # fmt: skip
        tensor = depthwise
        if layer.se is not None:
            base = tensor if layer.se_base == "expanded" else unit_input
            tensor = self.se_steps(layer, path, tensor, layer.se, layer.se_divisor, base)
        project = self.pointwise(layer, f"{path}.project", path, tensor, False, act="none")
        if self.residual(layer, unit_input, project):
            project = self.add(
                layer, f"{path}.add", path, OpKind.ADD, (unit_input, project),
                channels=ChannelRule.SAME, spatial=SpatialRule.KEEP, act="none",
            )  # fmt: skip
        return depthwise, project

    def residual(self, layer: Mbconv, unit_input: int, output: int) -> bool:
        if layer.residual != "auto":
            return layer.residual == "always"
        return layer.stride == (1, 1) and self.channels_at_one(output) == self.channels_at_one(
            unit_input
        )

    def pool(self, layer: Pool, path: str, tensor: int) -> int:
        if layer.kernel is None:
            return self.add(
                layer, path, path, OpKind.POOL, (tensor,), channels=ChannelRule.SAME,
                spatial=SpatialRule.GLOBAL,
            )  # fmt: skip
        return self.add(
            layer, path, path, OpKind.POOL, (tensor,), channels=ChannelRule.SAME,
            spatial=SpatialRule.WINDOW, kernel=layer.kernel, stride=layer.stride,
            padding=layer.padding, ceil=layer.ceil,
        )  # fmt: skip

    def se(self, layer: Se, path: str, tensor: int) -> int:
        if layer.squeeze is not None:
            return self.se_steps(layer, path, tensor, None, layer.squeeze, None)
        return self.se_steps(layer, path, tensor, layer.ratio, layer.divisor, None)

    @staticmethod
    def se_acts(layer: Se | Mbconv) -> tuple[str, str]:
        """The activations after a squeeze-and-excite's first fc and its second (the gate)."""
        if isinstance(layer, Se):
            return layer.act, layer.gate
        return layer.se_act, layer.se_gate

    def se_steps(
        self,
        layer: Se | Mbconv,
        path: str,
        tensor: int,
        ratio: Fraction | None,
        number: int | None,
        base: int | None,
    ) -> int:
        """Global pool, fc to the squeeze width, fc back, channel scaling.

        The squeeze width is `number` channels without a `ratio`; with one, floor(ratio x the
        channels of `base` (default: the input)), made divisible by `number` if given. The gate
        is the second fc's activation.
        """
        name = path if isinstance(layer, Se) else f"{path}.se"
        act, gate = self.se_acts(layer)
        pooled = self.add(
            layer, f"{name}.pool", path, OpKind.POOL, (tensor,), channels=ChannelRule.SAME,
            spatial=SpatialRule.GLOBAL, act="none",
        )  # fmt: skip
        if ratio is None:
            squeeze: dict[str, object] = {"channels": ChannelRule.FIXED, "value": number}
        else:
            squeeze = {
                "channels": ChannelRule.RATIO, "ratio": ratio, "value": number or 0, "like": base,
            }  # fmt: skip
        reduced = self.add(
            layer, f"{name}.fc1", path, OpKind.FC, (pooled,), spatial=SpatialRule.FLAT,
            bias=True, act=act, **squeeze,
        )  # fmt: skip
        expanded = self.add(
            layer, f"{name}.fc2", path, OpKind.FC, (reduced,), channels=ChannelRule.LIKE,
            spatial=SpatialRule.FLAT, like=tensor, bias=True, act=gate,
        )  # fmt: skip
        return self.add(
            layer, f"{name}.scale", path, OpKind.SCALE, (tensor, expanded),
            channels=ChannelRule.SAME, spatial=SpatialRule.KEEP, act="none",
        )  # fmt: skip

    def block(self, layer: Block, path: str, tensor: int) -> int:
        """The block's layers; with a residual, the add, followed by the block's `act`."""
        result = self.sequence(layer.layers, f"{path}.", tensor)
        if not layer.residual:
            return result
        return self.add(
            layer, f"{path}.add", path, OpKind.ADD, (tensor, result), channels=ChannelRule.SAME,
            spatial=SpatialRule.KEEP,
        )  # fmt: skip

    def parallel(self, layer: Parallel, path: str, tensor: int) -> int:
        """The branches on one input, then the merge, followed by the parallel's `act`."""
        outputs = tuple(
            self.sequence(branch, f"{path}.branch{number}.", tensor) if branch else tensor
            for number, branch in enumerate(layer.branches, start=1)
        )
        if layer.merge == "add":
            kind, channels = OpKind.ADD, ChannelRule.SAME
        else:
            kind, channels = OpKind.CONCAT, ChannelRule.SUM
        return self.add(
            layer, f"{path}.{layer.merge}", path, kind, outputs, channels=channels,
            spatial=SpatialRule.KEEP,
        )  # fmt: skip


def _expand(layer: Conv | Pointwise) -> dict[str, object]:
    """The channel rule of a conv whose width is a multiple of its input's (`expand`)."""
    if layer.expand is None:
        return {}
    return {"channels": ChannelRule.EXPAND, "ratio": layer.expand, "rounding": "floor"}
