"""RegNet's trunk from its design-space parameters: the `regnet` layer of the spec language.

Radosavovic et al., "Designing Network Design Spaces" (arXiv:2003.13678), as torchvision builds
it (`BlockParams.from_init_params` and `ResBottleneckBlock`, torchvision/models/regnet.py): block
j of `depth` gets the width w0 * wm^round(log((w0 + j * wa) / w0) / log(wm)), quantized to a
multiple of 8, in single precision as torchvision computes it; runs of equal widths are the
stages, each width then made a multiple of its group width (the group width is at most the
bottleneck width). The layer expands here, at parse time, into blocks of `parallel` layers of
`conv` and `se` layers, so that nothing after the parser knows about it.
"""

from __future__ import annotations

import math
import struct
from typing import NamedTuple

from mbcalc.spec.args import Args, describe
from mbcalc.spec.model import MAX_VALUE, Block, Conv, Layer, Parallel, Se

QUANTUM = 8
"""RegNet's block widths are multiples of 8, as is `w0`."""

MAX_DEPTH = 10_000
"""Most blocks a `regnet` trunk may have: far beyond any real one (RegNetY-128GF has 27)."""


class Stage(NamedTuple):
    """One stage of a RegNet trunk: `depth` blocks of `width` channels, grouped 3x3 convs of
    `group_width` channels a group, on a bottleneck of `bottleneck` times the width."""

    depth: int
    width: int
    group_width: int


def _single(x: float) -> float:
    """`x` rounded to single precision, as a torch float32 tensor holds it."""
    return float(struct.unpack("f", struct.pack("f", x))[0])


def block_widths(depth: int, w0: int, wa: float, wm: float) -> list[int]:
    """Each block's width: torchvision's float32 steps, op by op, then multiples of 8."""
    log_wm = _single(math.log(wm))
    wa32, wm32 = _single(wa), _single(wm)
    widths = []
    for j in range(depth):
        continuous = _single(_single(j * wa32) + w0)
        capacity = round(_single(_single(math.log(_single(continuous / w0))) / log_wm))
        width = _single(_single(w0 * _single(math.pow(wm32, capacity))) / QUANTUM)
        widths.append(round(width) * QUANTUM)
    return widths


def _make_divisible(value: int, divisor: int) -> int:
    """torchvision's `_make_divisible`: the nearest multiple of `divisor`, never 10% below."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def regnet_stages(
    depth: int, w0: int, wa: float, wm: float, group_width: int, bottleneck: float = 1.0
) -> list[Stage]:
    """The stages `BlockParams.from_init_params` makes of RegNet's parameters."""
    stages: list[Stage] = []
    for width in block_widths(depth, w0, wa, wm):
        if stages and stages[-1].width == width:
            stages[-1] = stages[-1]._replace(depth=stages[-1].depth + 1)
            continue
        stages.append(Stage(1, width, group_width))
    adjusted = []
    for stage in stages:
        bottleneck_width = int(stage.width * bottleneck)
        group = min(group_width, bottleneck_width)
        width = int(_make_divisible(bottleneck_width, group) / bottleneck)
        adjusted.append(Stage(stage.depth, width, group))
    return adjusted


class _Trunk(NamedTuple):
    """What a `regnet` layer's arguments say."""

    stages: list[Stage]
    bottleneck: float
    se: float | None
    stem_width: int | None


def regnet_layers(args: Args, batchnorm: bool, line: int) -> tuple[Layer, ...]:
    """The stages of a `regnet` layer (`block1`, `block2` …), each a block of bottlenecks."""
    trunk = _read(args)
    width_in = trunk.stem_width
    layers: list[Layer] = []
    for number, stage in enumerate(trunk.stages, start=1):
        blocks: list[Layer] = []
        for index in range(stage.depth):
            name = f"block{number}-{index}"
            first = index == 0
            block = _bottleneck(args, trunk, stage, name, first, width_in, batchnorm, line)
            blocks.append(block)
            width_in = stage.width
        layers.append(_block(f"block{number}", tuple(blocks), line))
    return tuple(layers)


def _bottleneck(
    args: Args,
    trunk: _Trunk,
    stage: Stage,
    name: str,
    first: bool,
    width_in: int | None,
    batchnorm: bool,
    line: int,
) -> Parallel:
    """torchvision's ResBottleneckBlock: 1x1, grouped 3x3 (the stride), [SE], linear 1x1, added
    to the shortcut (a projection where the block strides, as each stage's first does), ReLU."""
    stride = 2 if first else 1
    inner = round(stage.width * trunk.bottleneck)
    body: list[Layer] = [
        _conv("a", inner, 1, 1, 1, "relu", batchnorm, line),
        _conv("b", inner, 3, stride, inner // stage.group_width, "relu", batchnorm, line),
    ]
    if trunk.se is not None:
        assert width_in is not None  # `se` asks for `stem_width`
        squeeze = round(trunk.se * width_in)
        if squeeze < 1:
            raise args.error(
                f"the squeeze-and-excite of {name} would have {squeeze} channels "
                f"(se {trunk.se:g} of {width_in})",
                args.mapping["se"],
                "raise `se`",
            )
        body.append(_se(squeeze, line))
    body.append(_conv("c", stage.width, 1, 1, 1, "none", batchnorm, line))
    shortcut: tuple[Layer, ...] = ()
    if first:
        shortcut = (_conv("proj", stage.width, 1, stride, 1, "none", batchnorm, line),)
    return Parallel(
        name=name,
        prefix="parallel",
        first_index=1,
        repeat=1,
        act="relu",
        line=line,
        branches=(tuple(body), shortcut),
        merge="add",
    )


def _conv(
    name: str,
    out: int,
    kernel: int,
    stride: int,
    groups: int,
    act: str,
    batchnorm: bool,
    line: int,
) -> Conv:
    """A conv without bias, padded as torchvision's Conv2dNormActivation pads: (k - 1) / 2."""
    pad = (kernel - 1) // 2
    return Conv(
        name=name,
        prefix="conv",
        first_index=1,
        repeat=1,
        act=act,
        line=line,
        out=out,
        kernel=(kernel, kernel),
        stride=(stride, stride),
        padding=(pad, pad),
        groups=groups,
        bias=False,
        bn=batchnorm,
        scale=True,
    )


def _se(squeeze: int, line: int) -> Se:
    return Se(
        name="se",
        prefix="se",
        first_index=1,
        repeat=1,
        act="relu",
        line=line,
        squeeze=squeeze,
        ratio=None,
    )


def _block(name: str, layers: tuple[Layer, ...], line: int) -> Block:
    return Block(
        name=name,
        prefix="block",
        first_index=1,
        repeat=1,
        act="none",
        line=line,
        layers=layers,
        residual=False,
    )


def _read(args: Args) -> _Trunk:
    """The arguments, refused where torchvision refuses them or where a width runs past the
    spec language's limits."""
    for key in ("repeat", "act"):
        if key in args.mapping:
            raise args.error(
                f"`{key}` does not apply to a `regnet` trunk",
                args.mapping[key],
                "`depth` sets the number of blocks; each ends with a ReLU",
            )
    depth = args.int("depth")
    if depth > MAX_DEPTH:
        raise args.error(
            f"`depth` must be at most {MAX_DEPTH:,}, got {depth:,}", args.mapping["depth"]
        )
    w0 = args.int("w0")
    if w0 % QUANTUM:
        raise args.error(
            f"`w0` must be a multiple of {QUANTUM}, got {w0}",
            args.mapping["w0"],
            "RegNet's widths are multiples of 8",
        )
    wa = _number(args, "wa", 0.0, False)
    wm = _number(
        args, "wm", 1.0, True, "`wm` is the ratio between stage widths, above 1 (e.g. 2.5)"
    )
    group_width = args.int("group_width")
    bottleneck = _number(args, "bottleneck", 0.0, True) if "bottleneck" in args.mapping else 1.0
    se = float(args.ratio("se")) if "se" in args.mapping else None
    stem_width = _stem_width(args, se is not None)
    if int(w0 * bottleneck) < 1:
        raise args.error(
            f"a bottleneck of {bottleneck:g} leaves the first blocks no channels",
            args.mapping["bottleneck"],
        )
    stages = regnet_stages(depth, w0, wa, wm, group_width, bottleneck)
    for stage in stages:
        inner = round(stage.width * bottleneck)
        if max(stage.width, inner) > MAX_VALUE or inner < stage.group_width:
            raise args.error(
                f"these parameters make a stage of {stage.width:,} channels "
                f"({inner:,} in its bottleneck, {stage.group_width} a group)",
                hint=f"RegNet's widths grow to about w0 + depth x wa; at most {MAX_VALUE:,}",
            )
    return _Trunk(stages, bottleneck, se, stem_width)


def _number(args: Args, key: str, lower: float, strict: bool, hint: str | None = None) -> float:
    """A finite number above `lower` (or at least it, where not `strict`), as the float it is."""
    value = args.required(key, hint)
    data = value.data
    if isinstance(data, bool) or not isinstance(data, int | float):
        raise args.error(f"`{key}` must be a number, got {describe(value)}", value, hint)
    below = data <= lower if strict else data < lower
    if not math.isfinite(data) or below or data > MAX_VALUE:
        bound = f"above {lower:g}" if strict else f"at least {lower:g}"
        raise args.error(
            f"`{key}` must be {bound} and at most {MAX_VALUE:,}, got {data}", value, hint
        )
    return float(data)


def _stem_width(args: Args, has_se: bool) -> int | None:
    """The trunk's input width, which the first block's squeeze-and-excite is a share of."""
    if not has_se:
        if "stem_width" in args.mapping:
            raise args.error(
                "`stem_width` sets the first squeeze-and-excite's width: give `se` too",
                args.mapping["stem_width"],
            )
        return None
    value = args.required(
        "stem_width", "give the width of the layer before the trunk, e.g. `stem_width: 32`"
    )
    return args.check_int("stem_width", value)
