"""The layer types of the spec language: one row of `LAYERS` each, with the prefix of its
default names, the arguments it takes, the builder that reads them (with their defaults) into its
spec object (`mbcalc.spec.model`), and its default activation."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Protocol, TypedDict

from mbcalc.kinds import LayerType, Padding, Pair
from mbcalc.spec.args import Args
from mbcalc.spec.model import (
    ACTIVATIONS,
    EXPAND_ROUNDINGS,
    GATES,
    MERGES,
    NORM_KINDS,
    POOL_KINDS,
    POSITION_BIASES,
    READOUT_TAKES,
    RESIDUALS,
    SE_BASES,
    Attention,
    AttentionPartition,
    Aux,
    Block,
    Conv,
    Depthwise,
    ExpandRounding,
    Fc,
    FusedMbconv,
    Layer,
    LayerScale,
    Mbconv,
    Norm,
    Parallel,
    Pointwise,
    Pool,
    PoolKind,
    Readout,
    Residual,
    Se,
    Separable,
    Shuffle,
    Softmax,
    SpaceToDepth,
    Stage,
    Tokens,
)
from mbcalc.spec.multi_query import MULTI_QUERY_ARGUMENTS, multi_query_args
from mbcalc.spec.record import Record
from mbcalc.spec.regnet import regnet_layers


class LayerContext(Protocol):
    """What a builder may ask of the spec being read: its batch-norm default, and the layers
    nested in a block or the branches of a parallel layer, read in the layer's scope."""

    batchnorm: bool

    def nested_layers(self, args: Args, key: str) -> tuple[Layer, ...]: ...

    def branches(self, args: Args) -> tuple[tuple[Layer, ...], ...]: ...


class Common(TypedDict):
    """What every layer has, read before its own arguments."""

    name: str | None
    prefix: str
    first_index: int
    repeat: int
    act: str
    line: int


class WindowArgs(TypedDict):
    """The window of a convolution: 3x3, stride 1, `same` padding unless the spec says."""

    kernel: Pair
    stride: Pair
    padding: Padding


def _window(a: Args) -> WindowArgs:
    return WindowArgs(
        kernel=a.pair("kernel", 3), stride=a.pair("stride", 1), padding=a.padding("same")
    )


def _width(a: Args) -> tuple[int | None, Fraction | None]:
    """`out` channels, or `expand`: a multiple of the input's (MobileNetV3's 6 x last width)."""
    if "expand" not in a.mapping:
        return a.int("out"), None
    if "out" in a.mapping:
        raise a.error("give `out` or `expand`, not both", a.mapping["expand"])
    return None, a.multiple("expand")


def _conv(p: LayerContext, a: Args, common: Common) -> Layer:
    out, expand = _width(a)
    return Conv(
        **common,
        out=out,
        expand=expand,
        **_window(a),
        groups=a.int("groups", 1),
        bias=a.bool("bias", False),
        bn=a.bool("bn", p.batchnorm),
        scale=a.scale(True),
    )


def _depthwise(p: LayerContext, a: Args, common: Common) -> Layer:
    return Depthwise(
        **common,
        **_window(a),
        multiplier=a.int("multiplier", 1),
        bias=a.bool("bias", False),
        bn=a.bool("bn", p.batchnorm),
    )


def _pointwise(p: LayerContext, a: Args, common: Common) -> Layer:
    out, expand = _width(a)
    return Pointwise(
        **common,
        out=out,
        expand=expand,
        bias=a.bool("bias", False),
        bn=a.bool("bn", p.batchnorm),
        scale=a.scale(True),
    )


def _separable(p: LayerContext, a: Args, common: Common) -> Layer:
    return Separable(
        **common,
        out=a.int("out"),
        **_window(a),
        bn=a.bool("bn", p.batchnorm),
        scale=a.scale(True),
    )


def _pool(p: LayerContext, a: Args, common: Common) -> Layer:
    kind: PoolKind = a.choice("kind", POOL_KINDS, "avg")
    if "output" in a.mapping:
        return _adaptive_pool(a, common, kind)
    is_global = a.bool("global", False)
    if is_global:
        extra = [key for key in ("kernel", "stride", "padding") if key in a.mapping]
        if extra:
            raise a.error(
                f"`global: true` pools the whole input and takes no `{extra[0]}`",
                a.mapping[extra[0]],
                f"remove `{extra[0]}` or `global`",
            )
        kernel: Pair | None = None
        stride: Pair = (1, 1)
        if "ceil" in a.mapping:
            raise a.error("`global: true` takes no `ceil`", a.mapping["ceil"], "remove `ceil`")
    else:
        if "kernel" not in a.mapping:
            raise a.error("missing `kernel`", hint="add `kernel: <size>` or `global: true`")
        kernel = a.pair("kernel", None)
        stride = a.optional_pair("stride") or kernel
    return Pool(
        **common,
        kind=kind,
        kernel=kernel,
        stride=stride,
        padding=a.padding((0, 0)),
        ceil=a.bool("ceil", False),
    )


def _adaptive_pool(a: Args, common: Common, kind: PoolKind) -> Layer:
    """A pool to a fixed `output` grid whatever its input (PyTorch's AdaptiveAvgPool2d /
    AdaptiveMaxPool2d); `output: 1` is the global pool."""
    extra = [key for key in ("kernel", "stride", "padding", "ceil", "global") if key in a.mapping]
    if extra:
        raise a.error(
            f"`output` fixes the pool's grid and takes no `{extra[0]}`",
            a.mapping[extra[0]],
            f"remove `{extra[0]}` or `output`",
        )
    output = a.pair("output", None)
    return Pool(**common, kind=kind, kernel=None, stride=(1, 1), padding=(0, 0), output=output)


def _shuffle(p: LayerContext, a: Args, common: Common) -> Layer:
    return Shuffle(**common, groups=a.int("groups", minimum=2))


def _fc(p: LayerContext, a: Args, common: Common) -> Layer:
    return Fc(
        **common,
        out=a.int("out"),
        bias=a.bool("bias", True),
        scale=a.scale(False),
    )


def _softmax(p: LayerContext, a: Args, common: Common) -> Layer:
    return Softmax(**common)


def _block(p: LayerContext, a: Args, common: Common) -> Layer:
    residual = a.bool("residual", False)
    if not residual and common["act"] != "none":
        raise a.error(
            "`act` on a block follows its residual add, and this block has none",
            a.mapping["act"],
            "put `act` on the block's last layer, or add `residual: true`",
        )
    layers = p.nested_layers(a, "layers")
    multiple = a.optional_pair("multiple")
    return Block(**common, layers=layers, residual=residual, multiple=multiple)


def _parallel(p: LayerContext, a: Args, common: Common) -> Layer:
    merge = a.choice("merge", MERGES, "concat")
    split = a.bool("split", False)
    return Parallel(
        **common,
        branches=p.branches(a),
        merge=merge,
        split=split,
    )


def _se(p: LayerContext, a: Args, common: Common) -> Layer:
    has_squeeze, has_ratio = "squeeze" in a.mapping, "ratio" in a.mapping
    if has_squeeze == has_ratio:
        raise a.error(
            "give exactly one of `squeeze` and `ratio`",
            hint="`squeeze: 8` sets the width; `ratio: 0.25` takes a share of the channels",
        )
    if "divisor" in a.mapping and not has_ratio:
        raise a.error("`divisor` rounds a `ratio`", a.mapping["divisor"], "give `ratio` too")
    return Se(
        **common,
        squeeze=a.int("squeeze") if has_squeeze else None,
        ratio=a.ratio("ratio") if has_ratio else None,
        divisor=a.int("divisor") if "divisor" in a.mapping else None,
        gate=a.choice("gate", GATES, "sigmoid"),
    )


SE_USAGE = (
    "`se` is the squeeze ratio of the expanded channels, in (0, 1], e.g. `se: 0.25`; leave it "
    "out for no squeeze-and-excite, or give the width to a separate `se` layer: "
    "`se: {squeeze: 16}`"
)
"""What an mbconv's `se` takes, beside a value that is no number."""


class ExpansionArgs(TypedDict):
    """The widths and residual of an mbconv or fused-MBConv unit."""

    out: int
    expand: Fraction | None
    expanded: int | None
    expand_rounding: ExpandRounding
    residual: Residual


def _expansion(a: Args) -> ExpansionArgs:
    """`out`; the expanded width, `expand` (a ratio of the input channels, rounded by
    `expand_rounding`) or `expanded` (channels), not both; `residual`."""
    if "expand" in a.mapping and "expanded" in a.mapping:
        raise a.error(
            "give `expand` (a ratio of the input channels) or `expanded` (channels), not both",
            a.mapping["expanded"],
        )
    if "expand_rounding" in a.mapping and "expand" not in a.mapping:
        raise a.error("`expand_rounding` rounds an `expand` ratio", a.mapping["expand_rounding"])
    rounding = a.choice("expand_rounding", EXPAND_ROUNDINGS, "round")
    residual = a.choice("residual", RESIDUALS, "auto")
    return ExpansionArgs(
        out=a.int("out"),
        expand=a.multiple("expand") if "expand" in a.mapping else None,
        expanded=a.int("expanded") if "expanded" in a.mapping else None,
        expand_rounding=rounding,
        residual=residual,
    )


def _mbconv(p: LayerContext, a: Args, common: Common) -> Layer:
    expansion = _expansion(a)
    for key in ("se_base", "se_divisor", "se_act", "se_gate"):
        if key in a.mapping and "se" not in a.mapping:
            raise a.error(f"`{key}` shapes a squeeze-and-excite: give `se` too", a.mapping[key])
    base = a.choice("se_base", SE_BASES, "expanded")
    return Mbconv(
        **common,
        **expansion,
        **_window(a),
        se=a.ratio("se", SE_USAGE) if "se" in a.mapping else None,
        se_base=base,
        se_divisor=a.int("se_divisor") if "se_divisor" in a.mapping else None,
        bn=a.bool("bn", p.batchnorm),
        scale=a.scale(True),
        se_act=a.choice("se_act", ACTIVATIONS, common["act"]),
        se_gate=a.choice("se_gate", GATES, "sigmoid"),
    )


def _fused_mbconv(p: LayerContext, a: Args, common: Common) -> Layer:
    return FusedMbconv(
        **common,
        **_expansion(a),
        **_window(a),
        bn=a.bool("bn", p.batchnorm),
        scale=a.scale(True),
    )


def _aux(p: LayerContext, a: Args, common: Common) -> Layer:
    if common["act"] != "none":
        raise a.error(
            "an auxiliary head's output goes nowhere: it takes no `act`",
            a.mapping["act"],
            "put `act` on the head's layers",
        )
    return Aux(**common, layers=p.nested_layers(a, "layers"))


def _norm(p: LayerContext, a: Args, common: Common) -> Layer:
    kind = a.choice("kind", NORM_KINDS, "batch")
    if kind == "group" and "groups" not in a.mapping:
        raise a.error("a group norm needs `groups`", hint="add `groups: <number of groups>`")
    if kind != "group" and "groups" in a.mapping:
        raise a.error(
            f"`groups` divides a group norm's channels, not a {kind} norm's",
            a.mapping["groups"],
            "remove `groups`, or give `kind: group`",
        )
    return Norm(**common, kind=kind, groups=a.int("groups") if kind == "group" else None)


def _layer_scale(p: LayerContext, a: Args, common: Common) -> Layer:
    return LayerScale(**common)


def _tokens(p: LayerContext, a: Args, common: Common) -> Layer:
    return Tokens(
        **common, class_token=a.bool("class_token", False), position=a.bool("position", False)
    )


_PARTITIONS: tuple[tuple[str, AttentionPartition], ...] = (
    ("window", "block"),
    ("grid", "grid"),
    ("patch", "patch"),
)
"""The attention argument that sets each partition."""


def _attention(p: LayerContext, a: Args, common: Common) -> Layer:
    given = [(key, mode) for key, mode in _PARTITIONS if key in a.mapping]
    if len(given) > 1:
        first, second = given[0][0], given[1][0]
        raise a.error(
            f"`{first}` and `{second}` are two ways of partitioning attention; give one",
            a.mapping[second],
        )
    partition = given[0][1] if given else None
    size = a.pair(given[0][0], None) if given else None
    position_bias = a.choice("position_bias", POSITION_BIASES, "none")
    if position_bias != "none" and partition not in ("block", "grid"):
        raise a.error(
            f"a {position_bias} position bias is a table per window offset: it needs a window",
            a.mapping["position_bias"],
            "add `window: M` or `grid: M`, or remove `position_bias`",
        )
    heads = a.int("heads")
    multi_query = multi_query_args(a, heads, given[0][0] if given else None)
    return Attention(
        **common, heads=heads, partition=partition, size=size, position_bias=position_bias,
        **multi_query, **window_options(a, partition == "block"),
    )  # fmt: skip


class WindowOptions(TypedDict):
    """Attention in windows as Swin runs it (`shift`, `padded`) and Swin V2's `cosine`."""

    shift: bool
    padded: bool
    cosine: bool


_WINDOW_ONLY = {"shift": "shifts windows", "padded": "pads the map to whole windows"}
"""What the options that need contiguous windows do."""


def window_options(a: Args, windowed: bool) -> WindowOptions:
    """`shift` and `padded` need `window` (contiguous windows); all three default to false."""
    for key, what in _WINDOW_ONLY.items():
        if key in a.mapping and not windowed:
            hint = f"add `window: M`, or remove `{key}`"
            raise a.error(f"`{key}` {what}: it needs `window`", a.mapping[key], hint)
    return WindowOptions(
        shift=a.bool("shift", False), padded=a.bool("padded", False), cosine=a.bool("cosine", False)
    )


def _readout(p: LayerContext, a: Args, common: Common) -> Layer:
    return Readout(**common, take=a.choice("take", READOUT_TAKES, "class"))


def _space_to_depth(p: LayerContext, a: Args, common: Common) -> Layer:
    return SpaceToDepth(**common, block=a.int("block", 2))


def _regnet(p: LayerContext, a: Args, common: Common) -> Layer:
    """A RegNet trunk from its design-space parameters (`mbcalc.spec.regnet`): a block of stages."""
    return Block(**common, layers=regnet_layers(a, p.batchnorm, common["line"]), residual=False)


def _stage(p: LayerContext, a: Args, common: Common) -> Layer:
    if common["act"] != "none":
        raise a.error("a stage takes no `act`", a.mapping["act"], "put `act` on its layers")
    layers = p.nested_layers(a, "layers")
    count, common["repeat"] = common["repeat"], 1  # the stage itself is one layer
    return Stage(**common, count=count, layers=layers, residual=False)


Builder = Callable[[LayerContext, Args, Common], Layer]


class LayerRow(Record):
    """One layer type of the spec language."""

    prefix: str  # of its default names: prefix + running number within the scope
    arguments: tuple[str, ...]  # the keys it takes besides `name`, `repeat` and `act`
    build: Builder  # reads them, with their defaults, into the layer's spec object
    act: str = "none"  # the activation after it when the spec names none


_WINDOW = ("kernel", "stride", "padding")
_SE = ("se", "se_base", "se_divisor", "se_act", "se_gate")
_EXPANSION = ("out", "expand", "expanded", "expand_rounding")

LAYERS: dict[LayerType, LayerRow] = {
    LayerType.CONV: LayerRow(
        prefix="conv",
        arguments=("out", "expand", *_WINDOW, "groups", "bias", "bn", "scale"),
        build=_conv,
        act="relu",
    ),
    LayerType.DEPTHWISE: LayerRow(
        prefix="dw", arguments=(*_WINDOW, "multiplier", "bias", "bn"), build=_depthwise, act="relu"
    ),
    LayerType.POINTWISE: LayerRow(
        prefix="pw",
        arguments=("out", "expand", "bias", "bn", "scale"),
        build=_pointwise,
        act="relu",
    ),
    LayerType.SEPARABLE: LayerRow(
        prefix="sep", arguments=("out", *_WINDOW, "bn", "scale"), build=_separable, act="relu"
    ),
    LayerType.POOL: LayerRow(
        prefix="pool", arguments=("kind", *_WINDOW, "global", "ceil", "output"), build=_pool
    ),
    LayerType.FC: LayerRow(prefix="fc", arguments=("out", "bias", "scale"), build=_fc),
    LayerType.BLOCK: LayerRow(
        prefix="block", arguments=("layers", "residual", "multiple"), build=_block
    ),
    LayerType.PARALLEL: LayerRow(
        prefix="parallel", arguments=("branches", "merge", "split"), build=_parallel
    ),
    # `act` follows the first fc, as in Hu et al.'s squeeze-and-excite
    LayerType.SE: LayerRow(
        prefix="se", arguments=("squeeze", "ratio", "divisor", "gate"), build=_se, act="relu"
    ),
    # MobileNetV2's activation; V3 and EfficientNet name theirs
    LayerType.MBCONV: LayerRow(
        prefix="mbconv",
        arguments=(
            "out",
            "expand",
            "expanded",
            "expand_rounding",
            *_WINDOW,
            *_SE,
            "residual",
            "bn",
            "scale",
        ),
        build=_mbconv,
        act="relu6",
    ),
    LayerType.SOFTMAX: LayerRow(prefix="softmax", arguments=(), build=_softmax),
    # EfficientNetV2's activation
    LayerType.FUSED_MBCONV: LayerRow(
        prefix="fused_mbconv",
        arguments=(*_EXPANSION, *_WINDOW, "residual", "bn", "scale"),
        build=_fused_mbconv,
        act="swish",
    ),
    LayerType.AUX: LayerRow(prefix="aux", arguments=("layers",), build=_aux),
    LayerType.NORM: LayerRow(prefix="norm", arguments=("kind", "groups"), build=_norm),
    LayerType.LAYER_SCALE: LayerRow(prefix="layer_scale", arguments=(), build=_layer_scale),
    LayerType.SHUFFLE: LayerRow(prefix="shuffle", arguments=("groups",), build=_shuffle),
    LayerType.TOKENS: LayerRow(
        prefix="tokens", arguments=("class_token", "position"), build=_tokens
    ),
    LayerType.ATTENTION: LayerRow(
        prefix="attention",
        arguments=(
            "heads",
            *(key for key, _ in _PARTITIONS),
            "position_bias",
            *MULTI_QUERY_ARGUMENTS,
            "shift",
            "padded",
            "cosine",
        ),
        build=_attention,
    ),
    LayerType.READOUT: LayerRow(prefix="readout", arguments=("take",), build=_readout),
    LayerType.SPACE_TO_DEPTH: LayerRow(
        prefix="space_to_depth", arguments=("block",), build=_space_to_depth
    ),
    LayerType.REGNET: LayerRow(
        prefix="regnet",
        arguments=("depth", "w0", "wa", "wm", "group_width", "bottleneck", "se", "stem_width"),
        build=_regnet,
    ),
    # `repeat` copies, ceil(repeat x depth) under --depth (mbcalc.spec.stage)
    LayerType.STAGE: LayerRow(prefix="stage", arguments=("layers",), build=_stage),
}
"""Every layer type of the spec language."""
