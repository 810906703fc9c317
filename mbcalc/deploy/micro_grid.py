"""The small networks `mbcalc calibrate` times: one kind of layer repeated, over a grid of shapes.

Each micro network is a spec of its own (text, parsed as any spec is): an input of H x H x C and
one layer (a conv, a depthwise conv, a residual block, a squeeze-and-excite, an attention, ...)
repeated `repeat` times, so that the layer runs as it does inside a network, after another op,
on a fresh output. Never a whole network: what the fit learns, it learns from the op kinds one
at a time. The grids go from 8 to 1024 channels and from 7 x 7 to 112 x 112 positions, kernels
1 to 7, strides 1 and 2, with a few layers as large as VGG's beyond them; `quick` keeps every
kind with fewer shapes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from mbcalc.spec import Spec
from mbcalc.spec.parser import parse_spec

REPEAT = 4
"""How many times a micro network repeats its layer (1 for the networks that tell the fixed
cost of a run from an op's)."""

_MULT_ADD_CAP = 150_000_000
"""The most mult-adds a micro network's layer may cost: enough for a conv to run at its best,
and a default grid that is timed in under 3 minutes."""


_ELEMENT_CAP = 112 * 112 * 256
"""The largest map a micro network takes: more than a network's largest (MobileNet v2's
112 x 112 x 96, EfficientNet-B0's 112 x 112 x 96 after its stem)."""


@dataclass(frozen=True, slots=True)
class MicroNetwork:
    """One network of the grid: its name (what it repeats, at which shape) and its spec."""

    name: str
    spec: Spec


def _spec(name: str, size: int, channels: int, layers: list[dict[str, Any]]) -> MicroNetwork:
    text = yaml.safe_dump(
        {
            "name": name,
            "input": {"size": size, "channels": channels},
            "batchnorm": True,
            "layers": layers,
        },
        sort_keys=False,
    )
    return MicroNetwork(name, parse_spec(text, source=f"<calibration {name}>", default_name=name))


def _chain(name: str, size: int, channels: int, layer: dict[str, Any], repeat: int) -> MicroNetwork:
    ((kind, args),) = layer.items()
    return _spec(name, size, channels, [{kind: {**args, "repeat": repeat}}])


def _fits(mult_adds: int) -> bool:
    return 0 < mult_adds <= _MULT_ADD_CAP


def micro_networks(quick: bool = False) -> list[MicroNetwork]:
    """The calibration grid, in a fixed order (`quick`: fewer shapes of every kind)."""
    return list(_grid(quick))


_ACTIVATIONS = ("relu", "hswish", "swish", "relu6", "gelu", "sigmoid", "tanh")
"""Taken in turn by the convs of the grid: every part of the model is timed."""


def _grid(quick: bool) -> Iterator[MicroNetwork]:
    sizes = (7, 28, 112) if quick else (7, 14, 28, 56, 112)
    widths = (16, 128, 512) if quick else (8, 32, 96, 256, 512, 1024)
    shapes = [(s, c) for s in sizes for c in widths if s * s * c <= _ELEMENT_CAP]
    for i, (size, width) in enumerate(shapes):
        act = _ACTIVATIONS[i % len(_ACTIVATIONS)]
        bn = i % 3 != 0  # most convs with a batch norm, some without: both are timed
        yield from _convs(size, width, act, bn, quick)
        yield from _pools(size, width)
        yield from _merges(size, width)
    yield from _attention(quick)
    yield from _local_attention(quick)
    yield from _large(quick)
    for width in (256, 1024) if quick else (128, 512, 1280, 4096):
        yield _chain(f"fc {width}", 1, width, {"fc": {"out": width, "act": "relu"}}, REPEAT)
    for size in (7, 56) if quick else (7, 14, 56, 112):
        yield _chain(f"global pool 256 @{size}", size, 256, {"pool": {"global": True}}, 1)
    conv = {"conv": {"out": 32, "kernel": 3, "stride": 2, "padding": 1}}
    yield _chain("stem conv3x3/2 @224", 224, 3, conv, 1)
    yield _chain("single pointwise 8 @7", 7, 8, {"pointwise": {"out": 8, "act": "none"}}, 1)
    yield _chain("single depthwise 8 @7", 7, 8, {"depthwise": {"kernel": 3, "padding": 1}}, 1)


def _convs(size: int, width: int, act: str, bn: bool, quick: bool) -> Iterator[MicroNetwork]:
    """Pointwise, k x k, grouped and depthwise convs at one shape."""
    at = f"{width} @{size}"
    if _fits(size * size * width * width):
        pointwise = {"pointwise": {"out": width, "act": act, "bn": bn}}
        yield _chain(f"pointwise {at}", size, width, pointwise, REPEAT)
    conv = {"conv": {"out": width, "kernel": 3, "padding": 1, "act": act, "bn": bn}}
    if _fits(size * size * width * width * 9):
        yield _chain(f"conv3x3 {at}", size, width, conv, REPEAT)
    if width >= 32 and _fits(size * size * width * 16 * 9):
        grouped = {"conv": {"out": width, "kernel": 3, "padding": 1, "groups": width // 16}}
        yield _chain(f"grouped3x3 {width}/16 @{size}", size, width, grouped, REPEAT)
    for kernel in (3, 5) if quick else (3, 5, 7):
        args = {"kernel": kernel, "padding": kernel // 2, "act": act, "bn": bn}
        yield _chain(f"depthwise{kernel}x{kernel} {at}", size, width, {"depthwise": args}, REPEAT)
    if size >= 28:
        args = {"kernel": 3, "stride": 2, "padding": 1, "act": act}
        yield _chain(f"depthwise3x3/2 {at}", size, width, {"depthwise": args}, 2)


def _large(quick: bool) -> Iterator[MicroNetwork]:
    """Layers above the grid's cap, as the largest of VGG's and AlexNet's: 3x3 convs of 462 M
    mult-adds, and an fc of 268 MB of weights (where a network's weights stream from memory)."""
    for size, width in ((56, 128),) if quick else ((112, 64), (56, 128), (28, 256)):
        conv = {"conv": {"out": width, "kernel": 3, "padding": 1, "act": "relu", "bn": False}}
        yield _chain(f"conv3x3 {width} @{size}", size, width, conv, 2)
    if not quick:
        yield _chain("fc 8192", 1, 8192, {"fc": {"out": 8192, "act": "relu"}}, 2)


def _pools(size: int, width: int) -> Iterator[MicroNetwork]:
    """Max and average pools with and without stride: with both, an average pool's window
    reads and its bytes are in more than one ratio, and the fit tells their costs apart."""
    at = f"{width} @{size}"
    if size >= 14:
        pool = {"pool": {"kind": "max", "kernel": 3, "stride": 1, "padding": 1}}
        yield _chain(f"maxpool3x3 {at}", size, width, pool, 2)
        pool = {"pool": {"kind": "avg", "kernel": 3, "stride": 1, "padding": 1}}
        yield _chain(f"avgpool3x3 {at}", size, width, pool, 2)
    if size >= 28:
        pool = {"pool": {"kind": "max", "kernel": 3, "stride": 2, "padding": 1}}
        yield _chain(f"maxpool3x3/2 {at}", size, width, pool, 2)
        pool = {"pool": {"kind": "avg", "kernel": 2, "stride": 2}}
        yield _chain(f"avgpool2x2/2 {at}", size, width, pool, 2)
        pool = {"pool": {"kind": "max", "kernel": 2, "stride": 2}}
        yield _chain(f"maxpool2x2/2 {at}", size, width, pool, 2)


def _merges(size: int, width: int) -> Iterator[MicroNetwork]:
    """Batch norms alone and in residual blocks (an add's cost told from a norm's),
    concatenations, channel shuffles (alone, and after a split as in ShuffleNet V2: a copy's cost
    told from a view's), squeeze-and-excite, layer norms."""
    at = f"{width} @{size}"
    norm = {"norm": {"kind": "batch"}}
    yield _chain(f"batch_norm {at}", size, width, norm, REPEAT)
    yield _chain(
        f"residual {at}", size, width, {"block": {"residual": True, "layers": [norm]}}, REPEAT
    )
    half = {"pointwise": {"out": max(width // 2, 1), "act": "none", "bn": False}}
    concat = {"parallel": {"merge": "concat", "branches": [[half], [half]]}}
    yield _chain(f"concat {at}", size, width, concat, REPEAT)
    yield _chain(f"se {at}", size, width, {"se": {"ratio": 0.25, "act": "relu"}}, REPEAT)
    yield _chain(f"layer_norm {at}", size, width, {"norm": {"kind": "layer"}}, REPEAT)
    if width >= 32:
        branch = [{"pointwise": {"out": width // 2}}]
        split = {"parallel": {"merge": "concat", "split": True, "branches": [[], branch]}}
        shuffled = {"block": {"layers": [split, {"shuffle": {"groups": 2}}]}}
        yield _chain(f"split-shuffle {at}", size, width, shuffled, REPEAT)
        yield _chain(f"shuffle {at}", size, width, {"shuffle": {"groups": 2}}, REPEAT)


def _attention(quick: bool) -> Iterator[MicroNetwork]:
    """Global self-attention over the tokens of small maps, as a transformer's blocks run it."""
    for size in (3, 7, 14) if quick else (1, 3, 5, 7, 10, 14):
        for width in (64, 384) if quick else (64, 192, 384):
            layers = [{"norm": {"kind": "layer"}}, {"attention": {"heads": width // 32}}]
            yield _spec(
                f"attention {width}/{width // 32} @{size}", size, width,
                [{"tokens": {"class_token": False, "position": True}},
                 {"block": {"residual": True, "repeat": REPEAT, "layers": layers}}],
            )  # fmt: skip


def _local_attention(quick: bool) -> Iterator[MicroNetwork]:
    """Attention in windows, as Swin's blocks run it (shifted and padded; V2's scaled cosine
    with a continuous position bias), and in a grid, as MaxViT's."""
    shapes = (
        ((28, 96), (14, 192), (14, 96))
        if quick
        else ((14, 96), (28, 96), (56, 96), (14, 384), (28, 192))
    )
    forms = {
        "window": {"window": 7, "shift": True, "padded": True, "position_bias": "relative"},
        "grid": {"grid": 7, "position_bias": "relative"},
    }
    if not quick:
        forms["cosine window"] = {
            "window": 8, "shift": True, "padded": True, "cosine": True,
            "position_bias": "continuous",
        }  # fmt: skip
    for size, width in shapes:
        for form, args in forms.items():
            attention = {"attention": {"heads": width // 32, **args}}
            layers = [{"norm": {"kind": "layer"}}, attention]
            yield _chain(
                f"{form} attention {width}/{width // 32} @{size}", size, width,
                {"block": {"residual": True, "layers": layers}}, REPEAT,
            )  # fmt: skip
