"""Random networks for property tests: Hypothesis strategies that draw small specs which
build at every resolution and every alpha >= 1/4."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import yaml
from hypothesis import strategies as st

from mbcalc import Spec, parse_spec
from mbcalc.spec import ACTIVATIONS
from mbcalc.spec.regnet import regnet_stages

Layer = dict[str, dict[str, Any]]


def spec_of(
    layers: list[Layer],
    size: int | list[int],
    channels: int,
    rounding: str = "floor",
    divisor: int = 8,
) -> Spec:
    """A spec from plain data, written out as YAML text and parsed like a file."""
    data = {
        "input": {"size": size, "channels": channels},
        "rounding": rounding,
        "divisor": divisor,
        "layers": layers,
    }
    return parse_spec(yaml.safe_dump(data), source="<hypothesis>")


# -- strategies ------------------------------------------------------------------------------

kernels = st.one_of(st.integers(1, 5), st.lists(st.integers(1, 5), min_size=2, max_size=2))


@st.composite
def fitting_padding(draw: st.DrawFn, kernel: int | list[int]) -> str | list[int]:
    """`same`, or per-axis padding p with 2p >= k - 1, so a window fits any input size."""
    if draw(st.booleans()):
        return "same"
    k_h, k_w = kernel if isinstance(kernel, list) else (kernel, kernel)
    return [(k_h // 2) + draw(st.integers(0, 1)), (k_w // 2) + draw(st.integers(0, 1))]


@st.composite
def windowed(draw: st.DrawFn, /, kind: str, **args: Any) -> Layer:
    """A conv, depthwise or separable layer with a random kernel, stride and padding."""
    kernel = draw(kernels)
    stride = draw(st.one_of(st.integers(1, 2), st.lists(st.integers(1, 2), min_size=2, max_size=2)))
    return {
        kind: {"kernel": kernel, "stride": stride, "padding": draw(fitting_padding(kernel)), **args}
    }


# Each maker draws one layer for an input of `current` channels (at alpha 1) and returns it with
# its output channels; `out` is a drawn width, `fixed_width` says whether alpha stays 1.
LayerMaker = Callable[[st.DrawFn, int, int, bool], tuple[Layer, int]]


def _conv(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    groups = 1
    if fixed_width:  # at alpha 1 any common divisor of the two widths can be the group count
        shared = math.gcd(current, out)
        groups = draw(st.sampled_from([g for g in range(1, shared + 1) if shared % g == 0]))
    return draw(windowed("conv", out=out, groups=groups)), out


def _depthwise(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    multiplier = draw(st.integers(1, 3))
    return draw(windowed("depthwise", multiplier=multiplier)), current * multiplier


def _pointwise(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    return {"pointwise": {"out": out}}, out


def _separable(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    return draw(windowed("separable", out=out)), out


def _pool(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    windows: list[dict[str, Any]] = [{"kind": "max", "kernel": 2}, {"kernel": 3, "stride": 2}]
    window = draw(st.sampled_from(windows))
    return {"pool": {**window, "padding": 1}}, current  # padding 1 fits even a 1x1 input


def _se(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    return {"se": draw(st.sampled_from([{"ratio": 0.25}, {"ratio": 0.5}, {"squeeze": 3}]))}, current


def _concat(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    branches = [[{"pointwise": {"out": out}}], [{"conv": {"out": out, "kernel": 3}}], []]
    return {"parallel": {"merge": "concat", "branches": branches}}, current + 2 * out


def _residual(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    inner = [{"depthwise": {}}, {"pointwise": {"out": current}}]
    return {"block": {"residual": True, "layers": inner}}, current


def _add(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    branches = [[{"pointwise": {"out": current}}], []]
    return {"parallel": {"merge": "add", "branches": branches}}, current


def _fused_mbconv(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    """A fused-MBConv unit, expanded by a ratio or not at all; at alpha 1 only, a residual add
    where the shapes allow it (an output as wide as the input is drawn too)."""
    args: dict[str, Any] = {"expand": draw(st.sampled_from([1, 2, 4])), "residual": "never"}
    if fixed_width:
        out = draw(st.sampled_from([out, current]))
        args["residual"] = "auto"
    return draw(windowed("fused_mbconv", out=out, **args)), out


def _norm(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    """A standalone batch or layer norm, or a layer scale; at alpha 1 also a group norm whose
    groups divide the channels."""
    choices: list[Layer] = [{"norm": {}}, {"norm": {"kind": "layer"}}, {"layer_scale": {}}]
    if fixed_width:
        groups = draw(st.sampled_from([g for g in range(1, current + 1) if current % g == 0]))
        choices.append({"norm": {"kind": "group", "groups": groups}})
    return draw(st.sampled_from(choices)), current


def _regnet(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    """A RegNet trunk of one to four blocks (grouped convs: at alpha 1 only)."""
    depth, w0 = draw(st.integers(1, 4)), 8 * draw(st.integers(1, 3))
    wa, wm = draw(st.sampled_from([0, 4.5, 12.0])), draw(st.sampled_from([1.5, 2.5]))
    group_width = draw(st.sampled_from([4, 8, 16]))
    args: dict[str, Any] = {"depth": depth, "w0": w0, "wa": wa, "wm": wm}
    args["group_width"] = group_width
    if current >= 3 and draw(st.booleans()):  # round(0.25 x 2) is 0: no squeeze of 0 channels
        args |= {"se": 0.25, "stem_width": current}
    return {"regnet": args}, regnet_stages(depth, w0, wa, wm, group_width)[-1].width


def _stage(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    """A stage of 1 to 3 separable units: ceil(n x depth) of them under a depth multiplier."""
    inner = draw(windowed("separable", out=out))
    repeat = draw(st.integers(1, 3))
    return {"stage": {"repeat": repeat, "layers": [inner], "act": "none"}}, out  # act: its layers'


ANY_WIDTH: dict[str, LayerMaker] = {
    "conv": _conv,
    "depthwise": _depthwise,
    "pointwise": _pointwise,
    "separable": _separable,
    "pool": _pool,
    "se": _se,
    "concat": _concat,
    "fused_mbconv": _fused_mbconv,
    "norm": _norm,
    "stage": _stage,
}


def _shuffle(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    divisors = [g for g in range(2, current + 1) if current % g == 0]
    if not divisors:
        return {"pointwise": {"out": out}}, out
    return {"shuffle": {"groups": draw(st.sampled_from(divisors))}}, current


FIXED_WIDTH_ONLY: dict[str, LayerMaker] = {
    "residual": _residual,
    "add": _add,
    "shuffle": _shuffle,
    "regnet": _regnet,
}


def _any_pool(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    """A pool in any form PyTorch runs it in: global, a window module, or explicitly padded
    (SAME padding, or padding above half the kernel)."""
    kind = draw(st.sampled_from(["avg", "max"]))
    if draw(st.booleans()):
        return {"pool": {"kind": kind, "global": True}}, current
    kernel = draw(st.integers(1, 3))
    padding = draw(st.sampled_from(["same", kernel // 2, kernel]))
    stride = draw(st.integers(1, 2))
    return {"pool": {"kind": kind, "kernel": kernel, "stride": stride, "padding": padding}}, current


def _hard_se(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    """Squeeze-and-excite in a hard-swish unit: gated by a hard sigmoid (MobileNetV3)."""
    return {"se": {"ratio": 0.25, "act": "hswish"}}, current


def _aux(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    """An auxiliary head (run in training only) on the current tensor, in a block that goes on
    with a 1x1 max pool, so that the head never ends the network."""
    head = [
        {"pool": {"kernel": 2, "stride": 2, "padding": 1}},
        {
            "conv": {
                "out": out,
                "kernel": 1,
                "bias": True,
                "act": draw(st.sampled_from(ACTIVATIONS)),
            }
        },
        {"pool": {"global": True}},
        {"fc": {"out": draw(st.integers(1, 10))}},
    ]
    then = {"pool": {"kind": "max", "kernel": 1}}
    return {"block": {"act": "none", "layers": [{"aux": {"layers": head}}, then]}}, current


def _adaptive_pool(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    """A pool to a fixed grid, which may divide its input or not, or exceed it."""
    output = draw(st.lists(st.integers(1, 5), min_size=2, max_size=2))
    return {"pool": {"kind": draw(st.sampled_from(["avg", "max"])), "output": output}}, current


def _split_unit(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    """A ShuffleNet V2 unit after a concat of two equal widths, whose split halves at any alpha:
    one half passed through, the other through a 1x1 conv, concatenated and shuffled."""
    halves = {"parallel": {"branches": [[{"pointwise": {"out": out}}]] * 2}}
    unit = {"parallel": {"split": True, "branches": [[], [{"pointwise": {"out": out}}]]}}
    layers = [halves, unit, {"shuffle": {"groups": 2}}]
    return {"parallel": {"branches": [layers]}}, 2 * out  # one branch: `act` may follow it


VARIED: dict[str, LayerMaker] = {
    "any_pool": _any_pool,
    "hard_se": _hard_se,
    "aux": _aux,
    "adaptive_pool": _adaptive_pool,
    "split_unit": _split_unit,
}


@st.composite
def networks(
    draw: st.DrawFn, *, fixed_width: bool = False, head: str = "any", varied: bool = False
) -> Spec:
    """A random small network that builds at every resolution and every alpha >= 1/4.

    `fixed_width` also allows what only works at alpha 1: grouped convs, residual blocks and
    `add` merges. `head`: "any", or "global" (no classifier, or one after a global pool, so that
    no parameter depends on the resolution). `varied` also draws every activation, pools in
    every form, hard-sigmoid squeeze-and-excite, an auxiliary head and a softmax head.
    """
    rounding = draw(st.sampled_from(["floor", "divisible"]))
    divisor = draw(st.sampled_from([1, 2, 4, 8]))
    # With `divisible` rounding even alpha 1 rounds every width to a multiple of the divisor:
    # networks that must keep their widths at alpha 1 are drawn with such widths.
    step = divisor if fixed_width and rounding == "divisible" else 1
    channels = draw(st.integers(1, 8)) * step
    makers = {
        **ANY_WIDTH,
        **(FIXED_WIDTH_ONLY if fixed_width else {}),
        **(VARIED if varied else {}),
    }
    current = channels
    layers: list[Layer] = []
    for kind in draw(st.lists(st.sampled_from(sorted(makers)), min_size=1, max_size=6)):
        out = -(-draw(st.integers(4, 24)) // step) * step
        layer, current = makers[kind](draw, current, out, fixed_width)
        if varied and kind != "regnet":  # a regnet trunk ends each block with its own ReLU
            (args,) = layer.values()
            args.setdefault("act", draw(st.sampled_from(ACTIVATIONS)))
        layers.append(layer)
    classifier = {"fc": {"out": draw(st.integers(1, 20))}}
    heads = [[], [{"pool": {"global": True}}, classifier]]
    if head == "any":
        heads.append([classifier])
    if varied:
        heads += [[classifier, {"softmax": {}}], [{"softmax": {}}]]
    layers += draw(st.sampled_from(heads))
    height = draw(st.integers(1, 24))
    width = draw(st.integers(-(-height // 2), 2 * height))  # keeps width >= 1 at any --res
    size: int | list[int] = height if height == width else [height, width]
    return spec_of(layers, size, channels, rounding, divisor)


@st.composite
def token_networks(draw: st.DrawFn) -> Spec:
    """A random small transformer that builds at every resolution and every alpha >= 1/4: a
    patch embedding (or the input's own positions) as tokens, with a class token and positions
    or not, encoder layers (layer norm, attention with residual, an MLP with residual, each
    drawn), a class or mean readout and an fc, or neither."""
    width = draw(st.integers(4, 12))
    layers: list[Layer] = []
    if draw(st.booleans()):
        patch = draw(st.integers(1, 3))
        embed = {"out": width, "kernel": patch, "stride": patch, "padding": "same", "bias": True}
        layers.append({"conv": {**embed, "act": "none"}})
    else:
        width = draw(st.integers(1, 6))  # the input's own channels: alpha leaves them
    tokens = {"class_token": draw(st.booleans()), "position": draw(st.booleans())}
    layers.append({"tokens": tokens})
    for _ in range(draw(st.integers(0, 3))):
        attention: list[Layer] = [
            {"norm": {"kind": "layer"}},
            {"attention": {"heads": draw(st.integers(1, 4))}},
        ]
        mlp: list[Layer] = [
            {"pointwise": {"out": draw(st.integers(4, 16)), "bias": True, "act": "gelu"}},
            {"pointwise": {"out": width, "bias": True, "act": "none"}},
        ]
        if "conv" not in layers[0]:  # the input's width, which alpha leaves: no MLP back to it
            mlp = []
        for inner in (attention, mlp):
            residual: bool = draw(st.booleans())
            if inner and residual:
                layers.append({"block": {"residual": True, "layers": inner}})
            elif inner:
                layers.extend(inner)
    if draw(st.booleans()):
        layers.append({"readout": {"take": draw(st.sampled_from(["class", "mean"]))}})
        layers.append({"fc": {"out": draw(st.integers(1, 10))}})
    height = draw(st.integers(1, 12))
    size = [height, draw(st.integers(-(-height // 2), 2 * height))]
    channels = 3 if "conv" in layers[0] else width
    return spec_of(layers, size, channels, draw(st.sampled_from(["floor", "divisible"])), 1)


@st.composite
def partitioned_networks(draw: st.DrawFn) -> Spec:
    """A random small network of attention on a feature map in windows, grids or patches (with
    a relative position bias or not), between per-position layers: a patch embedding, encoder
    layers (layer norm, attention, an MLP, each with a residual or not), a mean readout and an
    fc or neither."""
    width = draw(st.integers(4, 12))
    patch = draw(st.integers(1, 3))
    embed = {"out": width, "kernel": patch, "stride": patch, "padding": "same", "bias": True}
    layers: list[Layer] = [{"conv": {**embed, "act": "none"}}]
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(["window", "grid", "patch"]))
        size = draw(st.integers(1, 4) | st.lists(st.integers(1, 4), min_size=2, max_size=2))
        attention: dict[str, object] = {"heads": draw(st.integers(1, 4)), key: size}
        if key != "patch" and draw(st.booleans()):
            attention["position_bias"] = "relative"
        mlp: list[Layer] = [
            {"pointwise": {"out": draw(st.integers(4, 16)), "bias": True, "act": "gelu"}},
            {"pointwise": {"out": width, "bias": True, "act": "none"}},
        ]
        encoder: list[Layer] = [{"norm": {"kind": "layer"}}, {"attention": attention}]
        for inner in (encoder, mlp):
            if draw(st.booleans()):
                layers.append({"block": {"residual": True, "layers": inner}})
            else:
                layers.extend(inner)
    if draw(st.booleans()):
        layers.extend([{"readout": {"take": "mean"}}, {"fc": {"out": draw(st.integers(1, 10))}}])
    height = draw(st.integers(1, 16))
    size = [height, draw(st.integers(-(-height // 2), 2 * height))]
    return spec_of(layers, size, 3, draw(st.sampled_from(["floor", "divisible"])), 1)


@st.composite
def multi_query_networks(draw: st.DrawFn) -> Spec:
    """A random small hybrid of MobileNetV4's kind: a stem conv, then multi-query attention
    blocks (batch norm, attention with `kv_heads` dividing the heads, a `head_width`, keys and
    values down-sampled by a `kv_stride` or not, projection biases or not, a layer scale; with
    a residual or not) between pointwise layers, a mean readout and an fc or neither."""
    width = draw(st.integers(4, 24))
    layers: list[Layer] = [{"conv": {"out": width, "stride": draw(st.integers(1, 2))}}]
    for _ in range(draw(st.integers(1, 3))):
        heads = draw(st.integers(1, 4))
        attention: dict[str, object] = {
            "heads": heads,
            "kv_heads": draw(st.sampled_from([k for k in range(1, heads + 1) if heads % k == 0])),
            "head_width": draw(st.integers(1, 8)),
            "bias": draw(st.booleans()),
        }
        if draw(st.booleans()):
            attention["kv_stride"] = draw(
                st.integers(1, 3) | st.lists(st.integers(1, 3), min_size=2, max_size=2)
            )
        block: list[Layer] = [
            {"norm": {"kind": "batch"}},
            {"attention": attention},
            {"layer_scale": {}},
        ]
        layers.append({"block": {"residual": draw(st.booleans()), "layers": block}})
        layers.append({"pointwise": {"out": width}})
    if draw(st.booleans()):
        layers.extend([{"readout": {"take": "mean"}}, {"fc": {"out": draw(st.integers(1, 10))}}])
    height = draw(st.integers(1, 12))
    size = [height, draw(st.integers(-(-height // 2), 2 * height))]
    return spec_of(layers, size, 3, draw(st.sampled_from(["floor", "divisible"])), 1)


@st.composite
def swin_networks(draw: st.DrawFn) -> Spec:
    """A random small Swin: a patch embedding and layer norm, stages of blocks (attention in
    windows, shifted or not, padded or not, with a relative, continuous or no position bias,
    cosine or not; an MLP; each part with a residual, V2's post-norm or V1's pre-norm), patch
    mergings (a space-to-depth, a norm and a pointwise conv) between the stages."""
    width = draw(st.integers(2, 6)) * 2
    layers: list[Layer] = [
        {"conv": {"out": width, "kernel": 2, "stride": 2, "padding": "same", "bias": True}},
        {"norm": {"kind": "layer"}},
    ]
    post_norm = draw(st.booleans())
    for stage in range(draw(st.integers(1, 3))):
        if stage:
            width *= 2
            merge: list[Layer] = [
                {"norm": {"kind": "layer"}},
                {"pointwise": {"out": width, "bias": False, "act": "none"}},
            ]
            layers += [{"space_to_depth": {}}, *(merge[::-1] if post_norm else merge)]
        for _ in range(draw(st.integers(1, 2))):
            attention: dict[str, object] = {
                "heads": draw(st.sampled_from([1, 2])),
                "window": draw(
                    st.integers(1, 4) | st.lists(st.integers(2, 4), min_size=2, max_size=2)
                ),
                "shift": draw(st.booleans()),
                "padded": draw(st.booleans()),
                "position_bias": draw(st.sampled_from(["none", "relative", "continuous"])),
                "cosine": draw(st.booleans()),
            }
            mlp: list[Layer] = [
                {"pointwise": {"out": 2 * width, "bias": True, "act": "gelu"}},
                {"pointwise": {"out": width, "bias": True, "act": "none"}},
            ]
            for part in ([{"attention": attention}], mlp):
                norm: Layer = {"norm": {"kind": "layer"}}
                inner = [*part, norm] if post_norm else [norm, *part]
                layers.append({"block": {"residual": True, "layers": inner}})
    layers += [{"norm": {"kind": "layer"}}, {"pool": {"global": True}}, {"fc": {"out": 5}}]
    height = draw(st.integers(2, 20))
    size = [height, draw(st.integers(-(-height // 2), 2 * height))]
    return spec_of(layers, size, 3, draw(st.sampled_from(["floor", "divisible"])), 1)
