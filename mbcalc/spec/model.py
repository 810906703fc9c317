"""The spec language's objects: a whole architecture and its layers, frozen, as written.

What the parser (`mbcalc.spec.parser`) makes of a spec file; nothing here knows about alpha,
resolution or costs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar, Literal

from mbcalc.errors import SpecError
from mbcalc.kinds import LayerType, Padding, Pair, Scale
from mbcalc.spec.defaults import NO_DEFAULTS, SpecDefaults
from mbcalc.spec.record import Record

Rounding = Literal["floor", "divisible"]
"""How alpha-scaled channels are rounded: down, or to a multiple of the spec's divisor."""

ExpandRounding = Literal["round", "floor", "divisible"]
"""How an mbconv's `expand` ratio is rounded: to the nearest (halves to even), down, divisible."""

SeBase = Literal["expanded", "input"]
"""Which channels an mbconv's squeeze width is a share of."""

Residual = Literal["auto", "always", "never"]
"""Whether an mbconv adds its input: where the shapes allow it, always, or never."""

PoolKind = Literal["avg", "max"]
Merge = Literal["concat", "add"]
"""How a parallel layer merges its branches: concatenated channels, or added elementwise."""

ROUNDINGS: tuple[Rounding, ...] = ("floor", "divisible")
EXPAND_ROUNDINGS: tuple[ExpandRounding, ...] = ("round", "floor", "divisible")
SE_BASES: tuple[SeBase, ...] = ("expanded", "input")
RESIDUALS: tuple[Residual, ...] = ("auto", "always", "never")
POOL_KINDS: tuple[PoolKind, ...] = ("avg", "max")
MERGES: tuple[Merge, ...] = ("concat", "add")
ReadoutTake = Literal["class", "mean"]
"""What a readout takes for the head: the class token, or the mean of the tokens."""
READOUT_TAKES: tuple[ReadoutTake, ...] = ("class", "mean")

AttentionPartition = Literal["block", "grid", "patch"]
"""An attention's partition as written: `window` (block), `grid` or `patch`."""

PositionBias = Literal["none", "relative", "continuous"]
POSITION_BIASES: tuple[PositionBias, ...] = ("none", "relative", "continuous")

NormKind = Literal["batch", "layer", "group"]
NORM_KINDS: tuple[NormKind, ...] = ("batch", "layer", "group")
"""The values each choice of the spec language takes, as the parser offers them."""

MAX_VALUE = 1_000_000_000
"""Largest number a spec may give a size, channel count, kernel, stride, padding or `repeat`:
far beyond any real network, and small enough that every count stays exact and printable."""

ACTIVATIONS = (
    "none",
    "relu",
    "relu6",
    "leaky_relu",
    "prelu",
    "elu",
    "gelu",
    "hswish",
    "hsigmoid",
    "sigmoid",
    "swish",
    "silu",
    "tanh",
)
"""The activations a layer's `act` may name."""

GATES = ("sigmoid", "hsigmoid")
"""How squeeze-and-excite turns its second fc into channel weights: a sigmoid or a hard one."""


class Layer(Record):
    """What every layer has: its naming, repetition, activation and source line."""

    type: ClassVar[LayerType]
    name: str | None
    prefix: str  # of the default names: prefix + running number within the layer's scope
    first_index: int
    repeat: int
    act: str
    line: int

    def instance_name(self, i: int) -> str:
        """The name of the i-th (0-based) repetition of this layer."""
        if self.name is None:
            return f"{self.prefix}{self.first_index + i}"
        return self.name if self.repeat == 1 else f"{self.name}_{i + 1}"

    @property
    def label(self) -> str:
        """How errors name the layer: its first instance."""
        return self.instance_name(0)


class Windowed(Layer):
    """A layer that slides a k x k window over its input."""

    kernel: Pair
    stride: Pair
    padding: Padding


class Widened(Layer):
    """A conv whose output width is `out` channels, or `expand` times its input's."""

    out: int | None  # None: `expand` times the input's channels
    bias: bool
    bn: bool
    scale: Scale
    expand: Fraction | None = None  # out = floor(input channels * expand)


class Conv(Widened, Windowed):
    """A standard (or grouped) convolution."""

    type: ClassVar[LayerType] = LayerType.CONV
    groups: int


class Depthwise(Windowed):
    """A depthwise convolution: `multiplier` filters per input channel."""

    type: ClassVar[LayerType] = LayerType.DEPTHWISE
    multiplier: int
    bias: bool
    bn: bool


class Pointwise(Widened):
    """A 1x1 convolution."""

    type: ClassVar[LayerType] = LayerType.POINTWISE


class Separable(Windowed):
    """A depthwise-separable unit: a depthwise conv, then a 1x1 conv to `out` channels."""

    type: ClassVar[LayerType] = LayerType.SEPARABLE
    out: int
    bn: bool
    scale: Scale


class Pool(Layer):
    """Average or max pooling over a window, or over the whole input (`kernel` None)."""

    type: ClassVar[LayerType] = LayerType.POOL
    kind: PoolKind
    kernel: Pair | None  # None: global pooling
    stride: Pair
    padding: Padding
    ceil: bool = False  # PyTorch's ceil_mode: a last partial window counts
    output: Pair | None = None  # an adaptive pool's fixed output grid (kernel None)


class Fc(Layer):
    """A fully connected layer on the flattened input."""

    type: ClassVar[LayerType] = LayerType.FC
    out: int
    bias: bool
    scale: Scale


class Softmax(Layer):
    """A softmax over the channels: shapes unchanged, free by the paper's convention."""

    type: ClassVar[LayerType] = LayerType.SOFTMAX


class Block(Layer):
    """Layers in sequence, with an optional residual add around them."""

    type: ClassVar[LayerType] = LayerType.BLOCK
    layers: tuple[Layer, ...]
    residual: bool
    multiple: Pair | None = None  # its layers run on the map resized up to whole multiples


class Parallel(Layer):
    """Branches on one input, merged by concatenation or addition."""

    type: ClassVar[LayerType] = LayerType.PARALLEL
    branches: tuple[tuple[Layer, ...], ...]
    merge: Merge
    split: bool = False  # each branch takes its equal slice of the input channels


class Mbconv(Windowed):
    """The inverted residual (MobileNetV2) / MBConv (MnasNet, EfficientNet) unit.

    An optional 1x1 expansion to `expanded` channels (absent where they equal the input's),
    a k x k depthwise conv with the stride, optional squeeze-and-excite, a linear 1x1
    projection to `out`, and a residual add where the stride is 1 and the input and output
    channels match. Channels: `expand` is a ratio of the unit's input channels rounded by
    `expand_rounding` (round, floor or divisible); `expanded` is absolute, scaled by alpha
    like `out`. The squeeze width is `se` times the `se_base` channels (expanded or input),
    floored and at least 1, or made divisible by `se_divisor`.
    """

    type: ClassVar[LayerType] = LayerType.MBCONV
    out: int
    expand: Fraction | None
    expanded: int | None
    expand_rounding: ExpandRounding
    se: Fraction | None
    se_base: SeBase
    se_divisor: int | None
    residual: Residual
    bn: bool
    scale: Scale
    se_act: str = "none"  # after the squeeze-and-excite's first fc (parsed: default the unit's act)
    se_gate: str = "sigmoid"  # the activation after its second fc: one of GATES


class Se(Layer):
    """Squeeze-and-excite: the channels reweighted by two fcs on their global average."""

    type: ClassVar[LayerType] = LayerType.SE
    squeeze: int | None
    ratio: Fraction | None
    divisor: int | None = None  # make_divisible(floor(C * ratio), divisor) instead of max(1, ...)
    gate: str = "sigmoid"  # the activation after the second fc (`act` follows the first): GATES


class FusedMbconv(Windowed):
    """EfficientNetV2's fused-MBConv unit: an mbconv whose expansion and depthwise convs are
    one k x k conv.

    A k x k conv with the stride to the expanded width, then a linear 1x1 projection to `out`;
    where the expanded width equals the input's, one k x k conv with the stride straight to
    `out` (with `act`). A residual add where the stride is 1 and the channels match. Widths as
    an mbconv's: `expand` (rounded by `expand_rounding`) or `expanded`; no squeeze-and-excite.
    """

    type: ClassVar[LayerType] = LayerType.FUSED_MBCONV
    out: int
    expand: Fraction | None
    expanded: int | None
    expand_rounding: ExpandRounding
    residual: Residual
    bn: bool
    scale: Scale


class Aux(Layer):
    """An auxiliary head: layers on the current tensor whose output nothing reads, run in
    training only; the network goes on from the same tensor."""

    type: ClassVar[LayerType] = LayerType.AUX
    layers: tuple[Layer, ...]


class Norm(Layer):
    """A normalization of the channels at each position (size kept), with a learned scale and
    shift per channel: batch norm, layer norm over the channels, or group norm of `groups`."""

    type: ClassVar[LayerType] = LayerType.NORM
    kind: NormKind
    groups: int | None  # a group norm's number of groups; None for the others


class LayerScale(Layer):
    """A learned scale per channel multiplied in (ConvNeXt's layer scale): size kept."""

    type: ClassVar[LayerType] = LayerType.LAYER_SCALE


class Shuffle(Layer):
    """A channel shuffle over `groups` groups (ShuffleNet's): shapes unchanged, free."""

    type: ClassVar[LayerType] = LayerType.SHUFFLE
    groups: int


class Tokens(Layer):
    """An H x W map as one row of H*W tokens (1 x H*W x C), with a learned class token put
    first and a learned position embedding added, where asked."""

    type: ClassVar[LayerType] = LayerType.TOKENS
    class_token: bool
    position: bool


class Attention(Layer):
    """Multi-head self-attention with `heads` heads: a 1x1 qkv projection (with bias unless
    `bias` is false), the attention products, a 1x1 output projection. Every position sees
    every other, or (`partition`) only those of its `window` (block or grid) or `patch` offset,
    or (multi-query) the keys of the map down-sampled by `kv_stride`."""

    type: ClassVar[LayerType] = LayerType.ATTENTION
    heads: int
    partition: AttentionPartition | None = None  # None: global
    size: Pair | None = None  # the window (block, grid) or the patch
    position_bias: PositionBias = "none"  # "relative": a learned table per window offset;
    # "continuous": a table made by an MLP from the offsets (Swin V2)
    shift: bool = False  # windows shifted by half a window (Swin's odd blocks)
    padded: bool = False  # qkv and proj run on the map padded to whole windows, then cropped
    cosine: bool = False  # scaled cosine attention: a learned logit scale per head (Swin V2)
    # multi-query (mbcalc.spec.multi_query): separate q, k and v projections, k and v of
    # `kv_heads` heads of `head_width`, from the input down-sampled by `kv_stride`
    kv_heads: int | None = None
    head_width: int | None = None
    kv_stride: Pair = (1, 1)
    bias: bool = True  # the projections'


class Readout(Layer):
    """A row of tokens to one 1 x 1 x C vector for the head: the class token, or the mean."""

    type: ClassVar[LayerType] = LayerType.READOUT
    take: ReadoutTake


class SpaceToDepth(Layer):
    """Each `block` x `block` patch of neighbours side by side in the channels (Swin's patch
    merging): H x W x C -> ceil(H/b) x ceil(W/b) x b*b*C, the map padded at the bottom and
    right to whole patches; free."""

    type: ClassVar[LayerType] = LayerType.SPACE_TO_DEPTH
    block: int


class Stage(Block):
    """`count` copies of its layers, ceil(count x depth) under a depth multiplier; copies after
    the first have stride 1 (`mbcalc.spec.stage`). Never residual; its own `repeat` is 1."""

    type: ClassVar[LayerType] = LayerType.STAGE
    count: int


@dataclass(eq=False, frozen=True)
class Spec:
    """A whole architecture as written, before alpha and resolution are applied."""

    name: str
    source: str
    description: str
    input_size: Pair
    input_channels: int
    rounding: Rounding
    divisor: int
    batchnorm: bool
    layers: tuple[Layer, ...]
    defaults: SpecDefaults = NO_DEFAULTS

    def error(
        self, message: str, layer: Layer | None, path: str = "", hint: str | None = None
    ) -> SpecError:
        """A `SpecError` pointing at `layer` (named by its nesting `path`)."""
        return SpecError(
            message,
            source=self.source,
            line=None if layer is None else layer.line,
            layer=None if layer is None else (path or layer.label),
            hint=hint,
        )


def walk_layers(layers: tuple[Layer, ...]) -> Iterator[Layer]:
    """Every layer of a spec, nested ones included, in the order written."""
    for layer in layers:
        yield layer
        if isinstance(layer, Block | Aux):
            yield from walk_layers(layer.layers)
        elif isinstance(layer, Parallel):
            for branch in layer.branches:
                yield from walk_layers(branch)
