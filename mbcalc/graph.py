"""Spec -> layer graph: primitive ops with shapes and edges, alpha and resolution applied.

Repeats, blocks and branches are expanded here, once; every command reads this graph and
nothing reads the YAML again. Costs are not computed here (see `mbcalc.costs`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from mbcalc.errors import SettingsError, SpecError, number_text
from mbcalc.settings import Pair, Settings, scale_channels
from mbcalc.spec import (
    MAX_VALUE,
    Block,
    Conv,
    Depthwise,
    Fc,
    Layer,
    LayerType,
    Padding,
    Parallel,
    Pointwise,
    Pool,
    Se,
    Separable,
    Spec,
)

MAX_OPS = 100_000
"""Most primitive ops one network may expand to (the largest real networks need a few thousand)."""

NETWORK_INPUT = -1
"""The producer index that stands for the network's input."""

Shape = tuple[int, int, int]
"""Height, width, channels."""


class OpKind(StrEnum):
    """Primitive operations of the graph (a pointwise conv is a `conv` with a 1x1 kernel)."""

    CONV = "conv"
    DEPTHWISE = "depthwise"
    FC = "fc"
    POOL = "pool"
    ADD = "add"
    CONCAT = "concat"
    SCALE = "scale"


@dataclass(frozen=True, slots=True)
class Op:
    """One primitive operation: its geometry, where its inputs come from, what follows it."""

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


@dataclass(frozen=True, slots=True)
class Unit:
    """A leaf spec layer after `repeat`: its ops and, for a separable unit, its standard twin."""

    name: str
    type: LayerType
    line: int
    ops: tuple[int, ...]
    standard: Op | None = None


@dataclass(frozen=True)
class Graph:
    """A network at one setting of alpha and resolution."""

    spec: Spec
    alpha: Fraction
    resolution: Pair
    ops: tuple[Op, ...]
    units: tuple[Unit, ...]

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


def build_graph(spec: Spec, settings: Settings | None = None) -> Graph:
    """Expand `spec` at `settings` (default: alpha 1, the spec's own resolution)."""
    settings = settings or Settings()
    if settings.alpha > MAX_VALUE:
        alpha = number_text(math.floor(settings.alpha))
        raise SettingsError(f"--alpha must be at most {MAX_VALUE:,}, got {alpha}")
    resolution = settings.resolution(spec.input_size)
    if max(resolution) > MAX_VALUE:
        raise SettingsError(
            f"the resolution {number_text(resolution[0])}x{number_text(resolution[1])} is larger "
            f"than {MAX_VALUE:,} pixels on a side"
        )
    builder = _Builder(spec, settings.alpha)
    builder.sequence(spec.layers, "", _Tensor(NETWORK_INPUT, (*resolution, spec.input_channels)))
    return Graph(spec, settings.alpha, resolution, tuple(builder.ops), tuple(builder.units))


@dataclass(frozen=True, slots=True)
class _Tensor:
    producer: int
    shape: Shape


def output_size(size: int, kernel: int, stride: int, padding: int | str) -> int:
    """Output length of a sliding window: `same` gives ceil(size / stride)."""
    if padding == "same":
        return -(-size // stride)
    assert isinstance(padding, int)
    return (size + 2 * padding - kernel) // stride + 1


@dataclass
class _Builder:
    spec: Spec
    alpha: Fraction
    ops: list[Op] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    names: dict[str, int] = field(default_factory=dict)

    def error(self, message: str, layer: Layer, path: str, hint: str | None = None) -> SpecError:
        return self.spec.error(message, layer, path, hint)

    def sequence(self, layers: tuple[Layer, ...], scope: str, tensor: _Tensor) -> _Tensor:
        for layer in layers:
            for i in range(layer.repeat):
                path = scope + layer.instance_name(i)
                self.claim(path, layer)
                tensor = self.layer(layer, path, tensor)
        return tensor

    def claim(self, path: str, layer: Layer) -> None:
        if path in self.names:
            raise self.error(
                f"the name '{path}' is already used by the layer on line {self.names[path]}",
                layer,
                path,
                "give each layer its own `name`",
            )
        self.names[path] = layer.line

    def layer(self, layer: Layer, path: str, tensor: _Tensor) -> _Tensor:
        if isinstance(layer, Block):
            return self.block(layer, path, tensor)
        if isinstance(layer, Parallel):
            return self.parallel(layer, path, tensor)
        first = len(self.ops)
        standard: Op | None = None
        if isinstance(layer, Conv):
            tensor = self.conv(layer, path, path, tensor)
        elif isinstance(layer, Depthwise):
            tensor = self.depthwise(layer, path, path, tensor, layer.multiplier, layer.bias)
        elif isinstance(layer, Pointwise):
            tensor = self.pointwise(layer, path, path, tensor)
        elif isinstance(layer, Separable):
            tensor, standard = self.separable(layer, path, tensor)
        elif isinstance(layer, Pool):
            tensor = self.pool(layer, path, tensor)
        elif isinstance(layer, Fc):
            tensor = self.fc(
                layer,
                path,
                path,
                tensor,
                self.channels(layer, path, layer.out, layer.scale),
                layer.bias,
            )
        elif isinstance(layer, Se):
            tensor = self.se(layer, path, tensor)
        else:  # pragma: no cover - the spec parser admits no other type
            raise self.error(f"layer type {layer.type} cannot be built", layer, path)
        ops = tuple(range(first, len(self.ops)))
        self.units.append(Unit(path, layer.type, layer.line, ops, standard))
        return tensor

    # -- op emission -------------------------------------------------------------------------

    def emit(self, layer: Layer, op: Op) -> _Tensor:
        if len(self.ops) >= MAX_OPS:
            raise self.error(
                f"the network expands to more than {MAX_OPS:,} operations",
                layer,
                op.unit,
                "check the `repeat` counts",
            )
        if max(op.output) > MAX_VALUE:
            raise self.error(
                f"the output {_shape(op.output)} is larger than {MAX_VALUE:,} in one dimension",
                layer,
                op.unit,
                "check alpha, `multiplier`, `padding`, and `repeat` of concatenations",
            )
        self.ops.append(op)
        return _Tensor(op.index, op.output)

    def new_op(
        self,
        name: str,
        unit: str,
        kind: OpKind,
        sources: tuple[_Tensor, ...],
        output: Shape,
        **geometry: object,
    ) -> Op:
        return Op(
            index=len(self.ops),
            name=name,
            unit=unit,
            kind=kind,
            sources=tuple(t.producer for t in sources),
            input=sources[0].shape,
            output=output,
            **geometry,  # type: ignore[arg-type]
        )

    def channels(self, layer: Layer, path: str, out: int, scale: bool) -> int:
        if not scale or self.alpha == 1:
            return out
        scaled = scale_channels(out, self.alpha, self.spec.rounding, self.spec.divisor)
        if scaled < 1:
            raise self.error(
                f"`out: {out}` at alpha {float(self.alpha):g} leaves no channels",
                layer,
                path,
                "use a larger alpha",
            )
        return scaled

    def spatial(
        self, layer: Layer, path: str, shape: Shape, kernel: Pair, stride: Pair, padding: Padding
    ) -> Pair:
        height, width = shape[0], shape[1]
        pads: tuple[int | str, int | str] = ("same", "same") if padding == "same" else padding
        out = (
            output_size(height, kernel[0], stride[0], pads[0]),
            output_size(width, kernel[1], stride[1], pads[1]),
        )
        if min(out) < 1:
            raise self.error(
                f"a {kernel[0]}x{kernel[1]} window with padding {_padding(padding)} does not fit "
                f"the {height}x{width} input",
                layer,
                path,
                "use `padding: same`, a smaller kernel or a larger input",
            )
        return out

    def conv_op(
        self,
        layer: Layer,
        name: str,
        unit: str,
        tensor: _Tensor,
        out: int,
        kernel: Pair,
        stride: Pair,
        padding: Padding,
        groups: int,
        bias: bool,
        bn: bool,
    ) -> Op:
        height, width = self.spatial(layer, unit, tensor.shape, kernel, stride, padding)
        channels = tensor.shape[2]
        if channels % groups or out % groups:
            raise self.error(
                f"`groups: {groups}` must divide both the {channels} input and {out} output "
                "channels",
                layer,
                unit,
                "at this alpha the channels may no longer be multiples of `groups`"
                if self.alpha != 1
                else "choose `groups` that divides both channel counts",
            )
        return self.new_op(
            name, unit, OpKind.CONV, (tensor,), (height, width, out),
            kernel=kernel, stride=stride, groups=groups, bias=bias, bn=bn, act=layer.act,
        )  # fmt: skip

    def conv(self, layer: Conv, name: str, unit: str, tensor: _Tensor) -> _Tensor:
        out = self.channels(layer, name, layer.out, layer.scale)
        op = self.conv_op(
            layer, name, unit, tensor, out, layer.kernel, layer.stride, layer.padding,
            layer.groups, layer.bias, layer.bn,
        )  # fmt: skip
        return self.emit(layer, op)

    def pointwise(
        self, layer: Pointwise | Separable, name: str, unit: str, tensor: _Tensor
    ) -> _Tensor:
        out = self.channels(layer, unit, layer.out, layer.scale)
        bias = layer.bias if isinstance(layer, Pointwise) else False
        op = self.conv_op(layer, name, unit, tensor, out, (1, 1), (1, 1), "same", 1, bias, layer.bn)
        return self.emit(layer, op)

    def depthwise(
        self,
        layer: Depthwise | Separable,
        name: str,
        unit: str,
        tensor: _Tensor,
        multiplier: int,
        bias: bool,
    ) -> _Tensor:
        height, width = self.spatial(
            layer, unit, tensor.shape, layer.kernel, layer.stride, layer.padding
        )
        channels = tensor.shape[2]
        op = self.new_op(
            name, unit, OpKind.DEPTHWISE, (tensor,), (height, width, channels * multiplier),
            kernel=layer.kernel, stride=layer.stride, groups=channels, bias=bias, bn=layer.bn,
            act=layer.act,
        )  # fmt: skip
        return self.emit(layer, op)

    def separable(self, layer: Separable, path: str, tensor: _Tensor) -> tuple[_Tensor, Op]:
        middle = self.depthwise(layer, f"{path}.dw", path, tensor, 1, False)
        result = self.pointwise(layer, f"{path}.pw", path, middle)
        standard = self.conv_op(
            layer, f"{path}.standard", path, tensor, result.shape[2], layer.kernel, layer.stride,
            layer.padding, 1, False, False,
        )  # fmt: skip
        return result, standard

    def pool(self, layer: Pool, path: str, tensor: _Tensor) -> _Tensor:
        height, width, channels = tensor.shape
        if layer.kernel is None:
            kernel, stride, out = (height, width), (1, 1), (1, 1)
        else:
            kernel, stride = layer.kernel, layer.stride
            out = self.spatial(layer, path, tensor.shape, kernel, stride, layer.padding)
        op = self.new_op(
            path, path, OpKind.POOL, (tensor,), (*out, channels), kernel=kernel, stride=stride
        )
        return self.emit(layer, op)

    def fc(
        self, layer: Layer, name: str, unit: str, tensor: _Tensor, out: int, bias: bool
    ) -> _Tensor:
        op = self.new_op(name, unit, OpKind.FC, (tensor,), (1, 1, out), bias=bias, act=layer.act)
        return self.emit(layer, op)

    def se(self, layer: Se, path: str, tensor: _Tensor) -> _Tensor:
        height, width, channels = tensor.shape
        if layer.squeeze is not None:
            squeeze = layer.squeeze
        else:
            assert layer.ratio is not None
            squeeze = max(1, math.floor(channels * layer.ratio))
        pooled = self.emit(
            layer,
            self.new_op(
                f"{path}.pool", path, OpKind.POOL, (tensor,), (1, 1, channels),
                kernel=(height, width), stride=(1, 1),
            ),
        )  # fmt: skip
        reduced = self.fc(layer, f"{path}.fc1", path, pooled, squeeze, True)
        expanded = self.fc(layer, f"{path}.fc2", path, reduced, channels, True)
        scale = self.new_op(f"{path}.scale", path, OpKind.SCALE, (tensor, expanded), tensor.shape)
        return self.emit(layer, scale)

    # -- structure ---------------------------------------------------------------------------

    def block(self, layer: Block, path: str, tensor: _Tensor) -> _Tensor:
        result = self.sequence(layer.layers, f"{path}.", tensor)
        if not layer.residual:
            return result
        if result.shape != tensor.shape:
            raise self.error(
                f"residual: the block's output {_shape(result.shape)} differs from its input "
                f"{_shape(tensor.shape)}",
                layer,
                path,
                "a residual block must keep stride 1 and its input's channels",
            )
        add = self.new_op(f"{path}.add", path, OpKind.ADD, (tensor, result), result.shape)
        return self.emit(layer, add)

    def parallel(self, layer: Parallel, path: str, tensor: _Tensor) -> _Tensor:
        outputs = [
            self.sequence(branch, f"{path}.branch{number}.", tensor) if branch else tensor
            for number, branch in enumerate(layer.branches, start=1)
        ]
        shapes = [out.shape for out in outputs]
        if layer.merge == "add":
            if len(set(shapes)) > 1:
                raise self.error(
                    "merge add: the branches give different shapes "
                    + ", ".join(_shape(s) for s in shapes),
                    layer,
                    path,
                    "branches merged by `add` must agree in size and channels",
                )
            merged = shapes[0]
        else:
            if len({s[:2] for s in shapes}) > 1:
                raise self.error(
                    "merge concat: the branches give different sizes "
                    + ", ".join(_shape(s) for s in shapes),
                    layer,
                    path,
                    "branches merged by `concat` must agree in height and width",
                )
            merged = (shapes[0][0], shapes[0][1], sum(s[2] for s in shapes))
        kind = OpKind.ADD if layer.merge == "add" else OpKind.CONCAT
        op = self.new_op(f"{path}.{layer.merge}", path, kind, tuple(outputs), merged)
        return self.emit(layer, op)


def _shape(shape: Shape) -> str:
    return "x".join(str(n) for n in shape)


def _padding(padding: Padding) -> str:
    if padding == "same":
        return "same"
    return str(padding[0]) if padding[0] == padding[1] else f"{padding[0]}x{padding[1]}"
