"""Spec -> plan: the network's primitive ops and edges, before any alpha or resolution.

A plan says how each op's output shape follows from its inputs (a channel rule and a spatial
rule, `mbcalc.core.ir`), so that one plan can be evaluated at one setting (`mbcalc.core.graph`,
plain integers) or at a million settings at once (`mbcalc.grid.sweep`, numpy). Repeats, blocks
and branches are expanded here, once, and layer names are checked for clashes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
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
    Adaptive,
    ChannelRule,
    Expand,
    Fixed,
    Like,
    Part,
    Ratio,
    Scaled,
    SpatialRule,
    Step,
    Times,
    Window,
)
from mbcalc.core.norms import kept_shape_op
from mbcalc.core.resize_plan import resized
from mbcalc.core.shapes import AtOne
from mbcalc.core.token_plan import plan_token_layer
from mbcalc.core.window_plan import plan_space_to_depth
from mbcalc.kinds import OpKind
from mbcalc.spec import (
    Attention,
    Aux,
    Block,
    Conv,
    Depthwise,
    Fc,
    FusedMbconv,
    Layer,
    LayerScale,
    LayerType,
    Mbconv,
    Norm,
    Parallel,
    Pointwise,
    Pool,
    Readout,
    Se,
    Separable,
    Shuffle,
    Softmax,
    SpaceToDepth,
    Spec,
    Stage,
    Tokens,
    Windowed,
)
from mbcalc.spec.stage import stage_copies

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
    depth: Fraction = Fraction(1)  # the depth multiplier its stages were expanded under


def make_plan(spec: Spec, depth: Fraction = Fraction(1)) -> Plan:
    """Expand `spec` into steps, its stages under `depth`; refuses clashing names and networks
    past `MAX_OPS`."""
    planner = _Planner(spec, depth)
    planner.sequence(spec.layers, "", NETWORK_INPUT)
    if planner.steps and planner.steps[-1].aux:
        last = planner.steps[-1]
        raise spec.error("an auxiliary head cannot end the network", last.layer, last.unit)
    return Plan(spec, tuple(planner.steps), tuple(planner.units), depth)


@dataclass(eq=False)
class _Planner:
    spec: Spec
    depth: Fraction
    steps: list[Step] = field(default_factory=list)
    units: list[UnitPlan] = field(default_factory=list)
    names: dict[str, int] = field(default_factory=dict)
    at_one: AtOne | None = None  # the steps so far at alpha 1, made when an mbconv asks
    windows: dict[Windowed, Window] = field(default_factory=dict)  # rules are shared, not copied
    in_aux: bool = False  # planning an auxiliary head's layers

    def sequence(self, layers: Iterable[Layer], scope: str, tensor: int) -> int:
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
        shift: bool = False,
        cosine: bool = False,
    ) -> int:
        """Append one step; returns its index (the tensor it makes)."""
        index = len(self.steps)
        if index >= MAX_OPS:
            raise self.spec.error(
                f"the network expands to more than {MAX_OPS:,} operations",
                layer,
                unit,
                "check the `repeat` counts and the depth",
            )
        step = Step(
            index, name, unit, kind, sources, layer, channels, spatial, act, groups, bias, bn,
            self.in_aux, shift, cosine,
        )  # fmt: skip
        self.steps.append(step)
        return index

    def layer(self, layer: Layer, path: str, tensor: int) -> int:
        if isinstance(layer, Block | Parallel | Aux):
            return self.nested(layer, path, tensor)
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
        else:
            tensor = self.other(layer, path, tensor)
        steps = tuple(range(first, len(self.steps)))
        self.units.append(UnitPlan(path, layer.type, layer.line, steps, twin))
        return tensor

    def other(self, layer: Layer, path: str, tensor: int) -> int:
        """The steps of a layer that is no conv: pools, fc, squeeze-and-excite, the layers that
        keep their input's shape, fused-MBConv, tokens, attention, readouts and space-to-depth."""
        if isinstance(layer, Pool):
            return self.pool(layer, path, tensor)
        if isinstance(layer, Fc):
            channels = Scaled(layer.out, layer.scale)
            return self.add(
                layer, path, path, OpKind.FC, (tensor,), channels, FLAT, bias=layer.bias
            )
        if isinstance(layer, Se):
            return self.se(layer, path, tensor)
        if isinstance(layer, Softmax | Norm | LayerScale | Shuffle):
            kind, groups = kept_shape_op(layer)
            bn = kind is OpKind.BATCH_NORM  # its scale and shift are BN params
            return self.add(layer, path, path, kind, (tensor,), SAME, KEEP, groups=groups, bn=bn)
        if isinstance(layer, FusedMbconv):
            return self.fused_mbconv(layer, path, tensor)
        if isinstance(layer, Tokens | Attention | Readout):
            return plan_token_layer(self.add, layer, path, tensor)
        if isinstance(layer, SpaceToDepth):
            return plan_space_to_depth(self.add, layer, path, tensor)
        raise self.spec.error(  # pragma: no cover - the spec parser admits no other type
            f"layer type {layer.type} cannot be built", layer, path
        )

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
        layer: Pointwise | Separable | Mbconv | FusedMbconv,
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
        expanded = self.expansion(layer, path, tensor, POINTWISE)
        tensor = unit_input if expanded is None else expanded
        depthwise = self.depthwise(layer, f"{path}.dw", path, tensor, 1, bias=False)
        tensor = depthwise
        if layer.se is not None:
            base = tensor if layer.se_base == "expanded" else unit_input
            squeeze = Ratio(layer.se, layer.se_divisor, base)
            tensor = self.se_steps(layer, path, tensor, squeeze)
        project = self.pointwise(
            layer, f"{path}.project", path, tensor, Scaled(layer.out, layer.scale), act="none"
        )
        return depthwise, self.residual_add(layer, path, unit_input, project)

    def fused_mbconv(self, layer: FusedMbconv, path: str, tensor: int) -> int:
        """Plan a fused-MBConv unit: a k x k conv to the expanded width and a linear 1x1
        projection, or one k x k conv to `out` where it expands nothing; then the residual."""
        out, window = Scaled(layer.out, layer.scale), self.window(layer)
        expanded = self.expansion(layer, path, tensor, window)
        if expanded is None:
            output = self.add(
                layer, f"{path}.conv", path, OpKind.CONV, (tensor,), out, window,
                groups=1, bn=layer.bn,
            )  # fmt: skip
        else:
            output = self.pointwise(layer, f"{path}.project", path, expanded, out, act="none")
        return self.residual_add(layer, path, tensor, output)

    def expansion(
        self, layer: Mbconv | FusedMbconv, path: str, tensor: int, window: Window
    ) -> int | None:
        """The unit's conv in `window` to its expanded width; None where it has no expanded
        width, or one equal to its input's at alpha 1 (as torchvision leaves that conv out)."""
        rule: ChannelRule
        if layer.expanded is not None:
            rule = Scaled(layer.expanded, layer.scale)
        elif layer.expand is not None:
            rule = Expand(layer.expand, layer.expand_rounding)
        else:
            return None
        expanded = self.add(
            layer, f"{path}.expand", path, OpKind.CONV, (tensor,), rule, window,
            groups=1, bn=layer.bn,
        )  # fmt: skip
        if self.shape_at_one(expanded)[0] == self.shape_at_one(tensor)[0]:
            self.steps.pop()  # nothing to expand
            return None
        return expanded

    def residual_add(
        self, layer: Mbconv | FusedMbconv, path: str, unit_input: int, output: int
    ) -> int:
        """The unit's input added to its output where it has a residual (no act after it)."""
        if not self.residual(layer, unit_input, output):
            return output
        sources = (unit_input, output)
        return self.add(layer, f"{path}.add", path, OpKind.ADD, sources, SAME, KEEP, act="none")

    def residual(self, layer: Mbconv | FusedMbconv, unit_input: int, output: int) -> bool:
        if layer.residual != "auto":
            return layer.residual == "always"
        return layer.stride == (1, 1) and self.shape_at_one(output) == self.shape_at_one(unit_input)

    def pool(self, layer: Pool, path: str, tensor: int) -> int:
        spatial: SpatialRule = GLOBAL
        if layer.kernel is not None:
            spatial = Window(layer.kernel, layer.stride, layer.padding, layer.ceil)
        elif layer.output not in (None, (1, 1)):
            spatial = Adaptive(layer.output)
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

    def nested(self, layer: Block | Parallel | Aux, path: str, tensor: int) -> int:
        """A layer of layers: a block, a parallel layer or an auxiliary head."""
        if isinstance(layer, Block):
            return self.block(layer, path, tensor)
        if isinstance(layer, Parallel):
            return self.parallel(layer, path, tensor)
        return self.aux(layer, path, tensor)

    def block(self, layer: Block, path: str, tensor: int) -> int:
        """The block's layers (a stage's copies under the depth); with a residual, the add,
        followed by the block's `act`."""
        layers = stage_copies(layer, self.depth) if isinstance(layer, Stage) else layer.layers
        if layer.multiple is None:
            result = self.sequence(layers, f"{path}.", tensor)
        else:
            result = resized(self.add, self.sequence, layer, path, tensor)
        if not layer.residual:
            return result
        return self.add(layer, f"{path}.add", path, OpKind.ADD, (tensor, result), SAME, KEEP)

    def parallel(self, layer: Parallel, path: str, tensor: int) -> int:
        """The branches on one input, then the merge, followed by the parallel's `act`."""
        outputs = tuple(
            self.branch(layer, path, tensor, number) for number in range(1, len(layer.branches) + 1)
        )
        if layer.merge == "add":
            return self.add(layer, f"{path}.add", path, OpKind.ADD, outputs, SAME, KEEP)
        return self.add(layer, f"{path}.concat", path, OpKind.CONCAT, outputs, SUM, KEEP)

    def aux(self, layer: Aux, path: str, tensor: int) -> int:
        """An auxiliary head's layers on `tensor`, their steps marked `aux`; the network goes
        on from `tensor`."""
        outer, self.in_aux = self.in_aux, True
        self.sequence(layer.layers, f"{path}.", tensor)
        self.in_aux = outer
        return tensor

    def branch(self, layer: Parallel, path: str, tensor: int, number: int) -> int:
        """Branch `number` (an empty one passes its input through) on the parallel's input, or
        under `split` on its slice of the channels (a view: `.split1`, `.split2` ...)."""
        if layer.split:
            part = Part(len(layer.branches), number - 1)
            name = f"{path}.split{number}"
            tensor = self.add(layer, name, path, OpKind.SPLIT, (tensor,), part, KEEP)
        return self.sequence(layer.branches[number - 1], f"{path}.branch{number}.", tensor)


@functools.lru_cache(maxsize=4096)
def _width(layer: Conv | Pointwise | Separable) -> ChannelRule:
    """`out` channels scaled by alpha, or `expand` times the input's (rounded down); made once
    for all the layer's repeats."""
    expand: Fraction | None = None if isinstance(layer, Separable) else layer.expand
    if expand is not None:
        return Expand(expand, "floor")
    assert layer.out is not None  # the parser asks for `out` or `expand`
    return Scaled(layer.out, layer.scale)
