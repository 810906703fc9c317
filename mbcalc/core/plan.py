"""Spec -> plan: the network's primitive ops and edges, before any alpha or resolution.

A plan says how each op's output shape follows from its inputs (a channel rule and a spatial
rule, `mbcalc.core.ir`), so that one plan can be evaluated at one setting (`mbcalc.core.graph`,
plain integers) or at a million settings at once (`mbcalc.grid.sweep`, numpy). Repeats, blocks
and branches are expanded here, once, and layer names are checked for clashes.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from mbcalc.core.ir import (
    FLAT,
    GLOBAL,
    KEEP,
    NETWORK_INPUT,
    ONE_PER_CHANNEL,
    POINTWISE,
    SAME,
    SUM,
    ChannelRule,
    Expand,
    Fixed,
    Like,
    Ratio,
    Scaled,
    SpatialRule,
    Step,
    Times,
    Window,
)
from mbcalc.core.shapes import AtOne
from mbcalc.kinds import OpKind
from mbcalc.spec import (
    Block,
    Conv,
    Depthwise,
    Fc,
    Layer,
    LayerType,
    Mbconv,
    Parallel,
    Pointwise,
    Pool,
    Se,
    Separable,
    Softmax,
    Spec,
    Windowed,
)

__all__ = ["MAX_OPS", "NETWORK_INPUT", "OpKind", "Plan", "Step", "UnitPlan", "make_plan"]

MAX_OPS = 100_000
"""Most primitive ops one network may expand to (the largest real networks need a few thousand)."""

_CONV, _DEPTHWISE = OpKind.CONV, OpKind.DEPTHWISE  # looked up once: an enum member's lookup is slow


@dataclass(eq=False, slots=True)
class UnitPlan:
    """A leaf spec layer after `repeat` and the steps it made.

    `twin` is (first, last): the steps a standard k x k conv replaces in the unit's standard
    counterpart, with the first's window and input and the last's output channels. A separable
    unit's twin replaces its depthwise and pointwise convs; an mbconv's its depthwise conv.
    Never changed once made.
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
    at_one: AtOne | None = None  # the steps so far at alpha 1, made when an mbconv asks
    windows: dict[Windowed, Window] = field(default_factory=dict)  # rules are shared, not copied

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
        channels: ChannelRule,
        spatial: SpatialRule,
        *,
        act: str | None = None,
        groups: int | None = None,
        bias: bool = False,
        bn: bool = False,
    ) -> int:
        """Append one step; returns its index (the tensor it makes)."""
        index = len(self.steps)
        if index >= MAX_OPS:
            raise self.spec.error(
                f"the network expands to more than {MAX_OPS:,} operations",
                layer,
                unit,
                "check the `repeat` counts",
            )
        step = Step(
            index, name, unit, kind, sources, layer, channels, spatial, act, groups, bias, bn
        )
        self.steps.append(step)
        return index

    def layer(self, layer: Layer, path: str, tensor: int) -> int:
        if isinstance(layer, Block):
            return self.block(layer, path, tensor)
        if isinstance(layer, Parallel):
            return self.parallel(layer, path, tensor)
        first = len(self.steps)
        twin: tuple[int, int] | None = None
        if isinstance(layer, Separable):
            depthwise = self.depthwise(layer, f"{path}.dw", path, tensor, 1, bias=False)
            pointwise = self.pointwise(layer, f"{path}.pw", path, depthwise, _width(layer))
            twin, tensor = (depthwise, pointwise), pointwise
        elif isinstance(layer, Mbconv):
            depthwise, tensor = self.mbconv(layer, path, tensor)
            twin = (depthwise, depthwise)
        elif isinstance(layer, Conv):
            tensor = self.add(
                layer,
                path,
                path,
                _CONV,
                (tensor,),
                _width(layer),
                self.window(layer),
                groups=layer.groups,
                bias=layer.bias,
                bn=layer.bn,
            )
        elif isinstance(layer, Depthwise):
            tensor = self.depthwise(layer, path, path, tensor, layer.multiplier, layer.bias)
        elif isinstance(layer, Pointwise):
            tensor = self.pointwise(layer, path, path, tensor, _width(layer), bias=layer.bias)
        elif isinstance(layer, Pool):
            tensor = self.pool(layer, path, tensor)
        elif isinstance(layer, Fc):
            channels = Scaled(layer.out, layer.scale)
            tensor = self.add(
                layer, path, path, OpKind.FC, (tensor,), channels, FLAT, bias=layer.bias
            )
        elif isinstance(layer, Se):
            tensor = self.se(layer, path, tensor)
        elif isinstance(layer, Softmax):
            tensor = self.add(layer, path, path, OpKind.SOFTMAX, (tensor,), SAME, KEEP)
        else:  # pragma: no cover - the spec parser admits no other type
            raise self.spec.error(f"layer type {layer.type} cannot be built", layer, path)
        steps = tuple(range(first, len(self.steps)))
        self.units.append(UnitPlan(path, layer.type, layer.line, steps, twin))
        return tensor

    def depthwise(
        self,
        layer: Depthwise | Separable | Mbconv,
        name: str,
        unit: str,
        tensor: int,
        multiplier: int,
        bias: bool,
    ) -> int:
        """A depthwise conv in the layer's window: one group per input channel."""
        return self.add(
            layer,
            name,
            unit,
            _DEPTHWISE,
            (tensor,),
            ONE_PER_CHANNEL if multiplier == 1 else Times(multiplier),
            self.window(layer),
            bias=bias,
            bn=layer.bn,
        )

    def window(self, layer: Windowed) -> Window:
        """The window of `layer`, made once for all its repeats."""
        window = self.windows.get(layer)
        if window is None:
            window = self.windows[layer] = Window(layer.kernel, layer.stride, layer.padding)
        return window

    def pointwise(
        self,
        layer: Pointwise | Separable | Mbconv,
        name: str,
        unit: str,
        tensor: int,
        channels: ChannelRule,
        *,
        bias: bool = False,
        act: str | None = None,
    ) -> int:
        """A 1x1 conv to `channels`."""
        return self.add(
            layer,
            name,
            unit,
            _CONV,
            (tensor,),
            channels,
            POINTWISE,
            act=act,
            groups=1,
            bias=bias,
            bn=layer.bn,
        )

    def shape_at_one(self, tensor: int) -> tuple[int, tuple[int, int]]:
        """(channels, (height, width)) of a tensor planned so far, at alpha 1 and the spec's
        own input size: how the spec itself is written decides an mbconv's structure."""
        if self.at_one is None:
            self.at_one = AtOne(self.spec)
        return self.at_one.shape(self.steps, tensor)

    def mbconv(self, layer: Mbconv, path: str, tensor: int) -> tuple[int, int]:
        """Plan an mbconv unit; returns its depthwise step and its output tensor."""
        unit_input = tensor
        expansion: ChannelRule | None = None
        if layer.expanded is not None:
            expansion = Scaled(layer.expanded, layer.scale)
        elif layer.expand is not None:
            expansion = Expand(layer.expand, layer.expand_rounding)
        if expansion is not None:
            expanded = self.pointwise(layer, f"{path}.expand", path, tensor, expansion)
            if self.shape_at_one(expanded)[0] == self.shape_at_one(tensor)[0]:
                self.steps.pop()  # nothing to expand: the unit starts with its depthwise conv
            else:
                tensor = expanded
        depthwise = self.depthwise(layer, f"{path}.dw", path, tensor, 1, bias=False)
        tensor = depthwise
        if layer.se is not None:
            base = tensor if layer.se_base == "expanded" else unit_input
            squeeze = Ratio(layer.se, layer.se_divisor, base)
            tensor = self.se_steps(layer, path, tensor, squeeze)
        project = self.pointwise(
            layer, f"{path}.project", path, tensor, Scaled(layer.out, layer.scale), act="none"
        )
        if self.residual(layer, unit_input, project):
            sources = (unit_input, project)
            project = self.add(
                layer, f"{path}.add", path, OpKind.ADD, sources, SAME, KEEP, act="none"
            )
        return depthwise, project

    def residual(self, layer: Mbconv, unit_input: int, output: int) -> bool:
        if layer.residual != "auto":
            return layer.residual == "always"
        return layer.stride == (1, 1) and self.shape_at_one(output) == self.shape_at_one(unit_input)

    def pool(self, layer: Pool, path: str, tensor: int) -> int:
        spatial: SpatialRule = GLOBAL
        if layer.kernel is not None:
            spatial = Window(layer.kernel, layer.stride, layer.padding, layer.ceil)
        return self.add(layer, path, path, OpKind.POOL, (tensor,), SAME, spatial)

    def se(self, layer: Se, path: str, tensor: int) -> int:
        if layer.ratio is None:
            assert layer.squeeze is not None
            return self.se_steps(layer, path, tensor, Fixed(layer.squeeze))
        return self.se_steps(layer, path, tensor, Ratio(layer.ratio, layer.divisor, None))

    @staticmethod
    def se_acts(layer: Se | Mbconv) -> tuple[str, str]:
        """The activations after a squeeze-and-excite's first fc and its second (the gate)."""
        if isinstance(layer, Se):
            return layer.act, layer.gate
        return layer.se_act, layer.se_gate

    def se_steps(self, layer: Se | Mbconv, path: str, tensor: int, squeeze: Fixed | Ratio) -> int:
        """Global pool, fc to the squeeze width, fc back, channel scaling; the gate is the
        second fc's activation."""
        name = path if isinstance(layer, Se) else f"{path}.se"
        act, gate = self.se_acts(layer)
        pooled = self.add(
            layer, f"{name}.pool", path, OpKind.POOL, (tensor,), SAME, GLOBAL, act="none"
        )
        reduced = self.add(
            layer, f"{name}.fc1", path, OpKind.FC, (pooled,), squeeze, FLAT, act=act, bias=True
        )
        expanded = self.add(
            layer,
            f"{name}.fc2",
            path,
            OpKind.FC,
            (reduced,),
            Like(tensor),
            FLAT,
            act=gate,
            bias=True,
        )
        sources = (tensor, expanded)
        return self.add(layer, f"{name}.scale", path, OpKind.SCALE, sources, SAME, KEEP, act="none")

    def block(self, layer: Block, path: str, tensor: int) -> int:
        """The block's layers; with a residual, the add, followed by the block's `act`."""
        result = self.sequence(layer.layers, f"{path}.", tensor)
        if not layer.residual:
            return result
        return self.add(layer, f"{path}.add", path, OpKind.ADD, (tensor, result), SAME, KEEP)

    def parallel(self, layer: Parallel, path: str, tensor: int) -> int:
        """The branches on one input, then the merge, followed by the parallel's `act`."""
        outputs = tuple(
            self.sequence(branch, f"{path}.branch{number}.", tensor) if branch else tensor
            for number, branch in enumerate(layer.branches, start=1)
        )
        if layer.merge == "add":
            return self.add(layer, f"{path}.add", path, OpKind.ADD, outputs, SAME, KEEP)
        return self.add(layer, f"{path}.concat", path, OpKind.CONCAT, outputs, SUM, KEEP)


@functools.lru_cache(maxsize=4096)
def _width(layer: Conv | Pointwise | Separable) -> ChannelRule:
    """`out` channels scaled by alpha, or `expand` times the input's (rounded down); made once
    for all the layer's repeats."""
    expand: Fraction | None = None if isinstance(layer, Separable) else layer.expand
    if expand is not None:
        return Expand(expand, "floor")
    assert layer.out is not None  # the parser asks for `out` or `expand`
    return Scaled(layer.out, layer.scale)
