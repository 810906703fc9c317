"""Four shipped specs against torchvision's models: resnet18, resnet50, googlenet, squeezenet1_1.

The reference figures are torchvision's model documentation
(https://pytorch.org/vision/stable/models.html, the classification table): the trainable parameter
count, which the spec's params plus BN params must equal exactly, and "GFLOPS", which are G mult-
adds printed to two decimals. The exact counts are also derived in this file from the papers'
architecture tables (and torchvision's departures from them, noted where they occur), never taken
from mbcalc's output; the shapes are checked against the tables and against PyTorch's pooling
arithmetic.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import pytest

from mbcalc import Report, Settings, analyze, build_graph
from mbcalc.core.graph import NETWORK_INPUT, Graph, OpKind
from mbcalc.core.plan import make_plan
from mbcalc.core.shapes import window_size
from mbcalc.errors import SpecError
from mbcalc.spec.zoo import load_shipped, shipped_names
from tests.helpers.cli import ok
from tests.helpers.torchvision_figures import (
    TORCHVISION_GFLOPS,
    TORCHVISION_OPS_META,
    TORCHVISION_PARAMS,
)

NAMES = ("resnet18", "resnet50", "googlenet", "squeezenet1_1")
ALL_TORCHVISION = tuple(TORCHVISION_PARAMS)  # these four and the mobile ones


def report(name: str) -> Report:
    return analyze(build_graph(load_shipped(name)))


# -- exact counts from the architecture tables -----------------------------------------------


@dataclass(frozen=True)
class Counts:
    mult_adds: int = 0
    params: int = 0
    bn_params: int = 0
    convs: int = 0
    fcs: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.mult_adds + other.mult_adds,
            self.params + other.params,
            self.bn_params + other.bn_params,
            self.convs + other.convs,
            self.fcs + other.fcs,
        )


def conv(
    size: int, k: int, c_in: int, c_out: int, *, bias: bool = False, bn: bool = True
) -> Counts:
    """A k x k conv with a size x size output (the paper's formula)."""
    weights = k * k * c_in * c_out
    return Counts(
        size * size * weights, weights + (c_out if bias else 0), 2 * c_out if bn else 0, convs=1
    )


def fc(c_in: int, c_out: int) -> Counts:
    return Counts(c_in * c_out, c_in * c_out + c_out, fcs=1)


def total(parts: Iterator[Counts] | list[Counts]) -> Counts:
    return sum(parts, Counts())


# He et al., arXiv:1512.03385, Table 1: conv1 7x7/2 to 112x112x64, a 3x3/2 max pool, then the
# stages conv2_x ... conv5_x at 56, 28, 14 and 7 pixels, 64 << stage channels wide.
RESNET_SIZES = (56, 28, 14, 7)
RESNET_BLOCKS = {"resnet18": (2, 2, 2, 2), "resnet50": (3, 4, 6, 3)}


def resnet_counts(blocks: tuple[int, ...], bottleneck: bool) -> Counts:
    """Basic blocks (two 3x3) or bottlenecks (1x1, 3x3, 1x1 four times wider), torchvision's:
    a stage's first block strides on its 3x3 conv (v1.5) and, where the shape changes, has a
    1x1 projection shortcut; every conv is followed by a BN."""
    parts = [conv(112, 7, 3, 64)]
    c_in = 64
    for stage, (n, size) in enumerate(zip(blocks, RESNET_SIZES, strict=True)):
        width = 64 << stage
        c_out = 4 * width if bottleneck else width
        for i in range(n):
            size_in = 2 * size if stage > 0 and i == 0 else size
            if bottleneck:
                parts += [
                    conv(size_in, 1, c_in, width),
                    conv(size, 3, width, width),
                    conv(size, 1, width, c_out),
                ]
            else:
                parts += [conv(size, 3, c_in, width), conv(size, 3, width, width)]
            if c_in != c_out or size_in != size:
                parts.append(conv(size, 1, c_in, c_out))
            c_in = c_out
    parts.append(fc(c_in, 1000))
    return total(parts)


# Szegedy et al., arXiv:1409.4842, Table 1: per inception module its output size and
# #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
INCEPTION = {
    "inception3a": (28, 64, 96, 128, 16, 32, 32),
    "inception3b": (28, 128, 128, 192, 32, 96, 64),
    "inception4a": (14, 192, 96, 208, 16, 48, 64),
    "inception4b": (14, 160, 112, 224, 24, 64, 64),
    "inception4c": (14, 128, 128, 256, 24, 64, 64),
    "inception4d": (14, 112, 144, 288, 32, 64, 64),
    "inception4e": (14, 256, 160, 320, 32, 128, 128),
    "inception5a": (7, 256, 160, 320, 32, 128, 128),
    "inception5b": (7, 384, 192, 384, 48, 128, 128),
}
# Table 1's "output size" column for the inception modules: the depth of their concatenation.
INCEPTION_OUTPUT = (256, 480, 512, 512, 512, 528, 832, 832, 1024)


def googlenet_counts() -> Counts:
    """Table 1 with torchvision's BasicConv2d (conv without bias, BN) and its "5x5" branch a
    3x3 conv (torchvision's known difference, github.com/pytorch/vision/issues/906)."""
    parts = [conv(112, 7, 3, 64), conv(56, 1, 64, 64), conv(56, 3, 64, 192)]
    c_in = 192
    for size, one, reduce3, three, reduce5, five, proj in INCEPTION.values():
        parts += [
            conv(size, 1, c_in, one),
            conv(size, 1, c_in, reduce3),
            conv(size, 3, reduce3, three),
            conv(size, 1, c_in, reduce5),
            conv(size, 3, reduce5, five),  # the paper's 5x5
            conv(size, 1, c_in, proj),
        ]
        c_in = one + three + five + proj
    parts.append(fc(c_in, 1000))
    return total(parts)


# Iandola et al., arXiv:1602.07360, Table 1: each fire module's s1x1, e1x1, e3x3 (the same in
# versions 1.0 and 1.1). Version 1.1 (torchvision squeezenet1_1) has conv1 3x3/2 with 64 filters
# (224 -> 111) and 3x3/2 max pools after conv1, fire3 and fire5 (-> 55, 27, 13).
FIRE = {
    "fire2": (55, 16, 64, 64),
    "fire3": (55, 16, 64, 64),
    "fire4": (27, 32, 128, 128),
    "fire5": (27, 32, 128, 128),
    "fire6": (13, 48, 192, 192),
    "fire7": (13, 48, 192, 192),
    "fire8": (13, 64, 256, 256),
    "fire9": (13, 64, 256, 256),
}


def squeezenet_counts() -> Counts:
    """Convolutions with bias and without BN; conv10 is a 1x1 conv to the classes."""
    parts = [conv(111, 3, 3, 64, bias=True, bn=False)]
    c_in = 64
    for size, squeeze, e1, e3 in FIRE.values():
        parts += [
            conv(size, 1, c_in, squeeze, bias=True, bn=False),
            conv(size, 1, squeeze, e1, bias=True, bn=False),
            conv(size, 3, squeeze, e3, bias=True, bn=False),
        ]
        c_in = e1 + e3
    parts.append(conv(13, 1, c_in, 1000, bias=True, bn=False))
    return total(parts)


EXPECTED = {
    "resnet18": resnet_counts(RESNET_BLOCKS["resnet18"], bottleneck=False),
    "resnet50": resnet_counts(RESNET_BLOCKS["resnet50"], bottleneck=True),
    "googlenet": googlenet_counts(),
    "squeezenet1_1": squeezenet_counts(),
}

# Conv and fc layers, from the tables: ResNet conv1 + 2 or 3 convs per block + 3 or 4 projection
# shortcuts, fc; GoogLeNet conv1, conv2 (3x3 reduce), conv3, 6 convs in each of 9 inception
# modules, fc; SqueezeNet conv1, 3 convs in each of 8 fire modules, conv10, no fc.
LAYER_COUNTS = {
    "resnet18": (1 + 2 * 8 + 3, 1),
    "resnet50": (1 + 3 * 16 + 4, 1),
    "googlenet": (3 + 6 * 9, 1),
    "squeezenet1_1": (1 + 3 * 8 + 1, 0),
}

# Layers with parameters on the longest path through the network: the depth each paper names
# (ResNet-18, ResNet-50; GoogLeNet "22 layers deep when counting only layers with parameters",
# section 5). SqueezeNet: conv1, two convs deep per fire module, conv10.
DEPTH = {"resnet18": 18, "resnet50": 50, "googlenet": 22, "squeezenet1_1": 18}


# -- the torchvision figures -------------------------------------------------------------------


def test_the_torchvision_specs_are_shipped_and_listed() -> None:
    assert set(ALL_TORCHVISION) <= set(shipped_names())
    listed = {line.split("│")[1].strip() for line in ok("list").splitlines() if "│" in line}
    assert set(ALL_TORCHVISION) <= listed


@pytest.mark.parametrize("name", ALL_TORCHVISION)
def test_params_and_bn_params_are_torchvisions_trainable_parameters(name: str) -> None:
    cost = report(name).total.cost
    assert cost.params + cost.bn_params == TORCHVISION_PARAMS[name]


@pytest.mark.parametrize("name", ALL_TORCHVISION)
def test_mult_adds_are_torchvisions_gflops_as_printed(name: str) -> None:
    mult_adds = report(name).total.cost.mult_adds
    assert round(mult_adds / 1e9, 2) == TORCHVISION_GFLOPS[name]
    assert round(mult_adds / 1e9, 3) == TORCHVISION_OPS_META[name]


@pytest.mark.parametrize("name", NAMES)
def test_counts_are_those_derived_from_the_architecture_tables(name: str) -> None:
    expected = EXPECTED[name]
    # The derivation stands on its own: it gives torchvision's parameter count.
    assert expected.params + expected.bn_params == TORCHVISION_PARAMS[name]
    cost = report(name).total.cost
    assert (cost.mult_adds, cost.params, cost.bn_params) == (
        expected.mult_adds,
        expected.params,
        expected.bn_params,
    )
    assert LAYER_COUNTS[name] == (expected.convs, expected.fcs)


def test_exact_mult_adds() -> None:
    """The exact counts behind the printed GFLOPS (a torch.nn build of each model agrees)."""
    assert {name: report(name).total.cost.mult_adds for name in NAMES} == {
        "resnet18": 1_814_073_344,
        "resnet50": 4_089_184_256,
        "googlenet": 1_498_376_192,
        "squeezenet1_1": 349_151_936,
    }


@pytest.mark.parametrize("name", NAMES)
def test_conv_and_fc_layers_are_the_models(name: str) -> None:
    kinds = [op.kind for op in build_graph(load_shipped(name)).ops]
    assert (kinds.count(OpKind.CONV), kinds.count(OpKind.FC)) == LAYER_COUNTS[name]
    assert OpKind.DEPTHWISE not in kinds


def weighted_depth(graph: Graph) -> int:
    """Most conv and fc ops on one path from the input to the output."""
    depth: list[int] = []
    for op in graph.ops:
        before = max(0 if source == NETWORK_INPUT else depth[source] for source in op.sources)
        depth.append(before + (op.kind in (OpKind.CONV, OpKind.FC)))
    return depth[-1]


@pytest.mark.parametrize("name", NAMES)
def test_depth_is_the_papers(name: str) -> None:
    assert weighted_depth(build_graph(load_shipped(name))) == DEPTH[name]


@pytest.mark.parametrize("name", NAMES)
def test_alpha_scales_everything_but_the_classes(name: str) -> None:
    """torchvision does not width-scale these families; at alpha 0.5 the 1,000 classes stay."""
    half = build_graph(load_shipped(name), Settings(alpha=Fraction(1, 2)))
    assert half.output_shape == (1, 1, 1000)
    full = build_graph(load_shipped(name))
    for small, big in zip(half.ops, full.ops, strict=True):
        if small.kind is OpKind.CONV and big.output[2] != 1000:
            assert small.output[2] == big.output[2] // 2, small.name


# -- shapes against the papers' tables ---------------------------------------------------------


def outputs(name: str) -> dict[str, tuple[int, int, int]]:
    return {op.name: op.output for op in build_graph(load_shipped(name)).ops}


@pytest.mark.parametrize(
    ("name", "widths"), [("resnet18", (64, 128, 256, 512)), ("resnet50", (256, 512, 1024, 2048))]
)
def test_resnet_stage_outputs(name: str, widths: tuple[int, ...]) -> None:
    """Table 1: conv1 112x112, conv2_x ... conv5_x 56, 28, 14, 7 (the last block's add)."""
    shapes = outputs(name)
    assert shapes["conv1"] == (112, 112, 64)
    assert shapes["maxpool"] == (56, 56, 64)
    for stage, (blocks, size, width) in enumerate(
        zip(RESNET_BLOCKS[name], RESNET_SIZES, widths, strict=True), start=1
    ):
        assert shapes[f"layer{stage}.{blocks - 1}.add"] == (size, size, width)
    # v1.5: the stride is on the 3x3 conv; the first 1x1 conv keeps its input's size.
    if name == "resnet50":
        assert shapes["layer2.0.branch1.conv1"] == (56, 56, 128)
        assert shapes["layer2.0.branch1.conv2"] == (28, 28, 128)
    assert shapes["fc"] == (1, 1, 1000)


def test_googlenet_table_1_shapes() -> None:
    shapes = outputs("googlenet")
    assert shapes["conv1"] == (112, 112, 64)
    assert shapes["maxpool1"] == (56, 56, 64)
    assert shapes["conv3"] == (56, 56, 192)
    assert shapes["maxpool2"] == (28, 28, 192)
    assert shapes["maxpool3"] == (14, 14, 480)
    assert shapes["maxpool4"] == (7, 7, 832)
    for (module, row), depth in zip(INCEPTION.items(), INCEPTION_OUTPUT, strict=True):
        size = row[0]
        assert shapes[f"{module}.concat"] == (size, size, depth), module
    assert shapes["avgpool"] == (1, 1, 1024)
    assert shapes["fc"] == (1, 1, 1000)


def test_googlenet_follows_torchvision_where_it_departs_from_the_paper() -> None:
    """No 5x5 conv: each "5x5" branch is 3x3; maxpool4 is 2x2/2 where Table 1 has 3x3/2."""
    graph = build_graph(load_shipped("googlenet"))
    (maxpool4,) = [op for op in graph.ops if op.name == "maxpool4"]
    assert (maxpool4.kernel, maxpool4.stride) == ((2, 2), (2, 2))
    kernels = {op.kernel for op in graph.ops if op.kind is OpKind.CONV}
    assert kernels == {(1, 1), (3, 3), (7, 7)}
    branch3 = [op for op in graph.ops if ".branch3." in op.name]
    assert [op.kernel for op in branch3] == [(1, 1), (3, 3)] * 9


def test_squeezenet_1_1_shapes() -> None:
    shapes = outputs("squeezenet1_1")
    assert shapes["conv1"] == (111, 111, 64)
    assert shapes["maxpool1"] == (55, 55, 64)
    assert shapes["maxpool2"] == (27, 27, 128)
    assert shapes["maxpool3"] == (13, 13, 256)
    for module, (size, _, e1, e3) in FIRE.items():
        assert shapes[f"{module}.expand.concat"] == (size, size, e1 + e3), module
    assert shapes["classifier"] == (13, 13, 1000)
    assert shapes["avgpool"] == (1, 1, 1000)


# -- ceil-mode pooling -------------------------------------------------------------------------


def torch_pool_size(size: int, kernel: int, stride: int, padding: int, ceil: bool) -> int:
    """torch.nn.MaxPool2d's output size as its documentation states it
    (https://pytorch.org/docs/stable/generated/torch.nn.MaxPool2d.html):
    H_out = floor((H_in + 2 padding - dilation (kernel_size - 1) - 1) / stride + 1), ceil in
    place of floor with ceil_mode=True, where "sliding windows are allowed to go off-bounds if
    they start within the left padding or the input. Sliding windows that would start in the
    right padded region are ignored." Dilation 1."""
    exact = Fraction(size + 2 * padding - (kernel - 1) - 1, stride) + 1
    count = math.ceil(exact) if ceil else math.floor(exact)
    # window i starts at i * stride - padding; drop those that start in the right padding
    return sum(1 for i in range(count) if i * stride - padding < size)


# Pooling windows (kernel, stride, padding): the four specs' and two more whose last ceil-mode
# window can start in the padding.
WINDOWS = [(3, 2, 0), (2, 2, 0), (3, 1, 1), (3, 2, 1), (2, 2, 1), (5, 3, 2)]


@pytest.mark.parametrize(
    ("size", "pool", "expected"),
    [
        (112, (3, 2, 0, True), 56),  # googlenet maxpool1
        (56, (3, 2, 0, True), 28),  # googlenet maxpool2
        (28, (3, 2, 0, True), 14),  # googlenet maxpool3
        (14, (2, 2, 0, True), 7),  # googlenet maxpool4
        (14, (3, 2, 0, True), 7),  # the paper's 3x3 maxpool4 agrees at 224
        (28, (3, 1, 1, True), 28),  # an inception pool branch
        (111, (3, 2, 0, True), 55),  # squeezenet maxpool1
        (55, (3, 2, 0, True), 27),  # squeezenet maxpool2
        (27, (3, 2, 0, True), 13),  # squeezenet maxpool3
        (112, (3, 2, 1, False), 56),  # resnet maxpool
        (111, (3, 2, 0, False), 55),
        (56, (3, 2, 0, False), 27),  # floor mode loses the last partial window
        (5, (2, 2, 1, True), 3),  # ceil gives 4, but the 4th window starts in the padding
    ],
)
def test_pool_sizes_by_the_documented_formula(
    size: int, pool: tuple[int, int, int, bool], expected: int
) -> None:
    assert torch_pool_size(size, *pool) == expected
    assert window_size(size, *pool) == expected


def test_window_size_is_the_documented_formula_for_a_range_of_sizes() -> None:
    for kernel, stride, padding in WINDOWS:
        for ceil in (False, True):
            for size in range(max(1, kernel - 2 * padding), 120):
                documented = torch_pool_size(size, kernel, stride, padding, ceil)
                assert window_size(size, kernel, stride, padding, ceil) == documented


RESOLUTIONS = (33, 64, 97, 160, 223, 224, 225, 299)


def pool_shapes(name: str, resolution: int) -> Iterator[tuple[str, int, int, int, int, int, bool]]:
    """Every windowed pool of `name` at `resolution`: its input and output size and window."""
    spec = load_shipped(name)
    plan = make_plan(spec)
    graph = build_graph(spec, Settings(res=resolution), plan)
    for step, op in zip(plan.steps, graph.ops, strict=True):
        if op.kind is OpKind.POOL and step.kernel is not None:
            assert step.stride is not None
            assert isinstance(step.padding, tuple)
            assert op.input[0] == op.input[1]
            yield (
                op.name,
                op.input[0],
                op.output[0],
                step.kernel[0],
                step.stride[0],
                step.padding[0],
                step.ceil,
            )


# The smallest input each model accepts, the `min_size` of its weights' meta in torchvision
# (resnet.py's _COMMON_META (1, 1); googlenet (15, 15); squeezenet1_1 (17, 17)): below it a
# ceil-mode pool's window no longer fits.
TORCHVISION_MIN_SIZE = {"resnet18": 1, "resnet50": 1, "googlenet": 15, "squeezenet1_1": 17}


@pytest.mark.parametrize("name", NAMES)
def test_smallest_input_is_torchvisions_min_size(name: str) -> None:
    spec = load_shipped(name)
    smallest = TORCHVISION_MIN_SIZE[name]
    build_graph(spec, Settings(res=smallest))
    if smallest > 1:
        with pytest.raises(SpecError, match="does not fit"):
            build_graph(spec, Settings(res=smallest - 1))


@pytest.mark.parametrize("name", NAMES)
def test_spec_pools_follow_the_documented_formula(name: str) -> None:
    ceil_pools = 0
    for resolution in RESOLUTIONS:
        for op, size, out, kernel, stride, padding, ceil in pool_shapes(name, resolution):
            assert out == torch_pool_size(size, kernel, stride, padding, ceil), (op, resolution)
            ceil_pools += ceil
    # resnet's max pool is in floor mode (with padding 1); the other three use ceil_mode
    assert (ceil_pools > 0) == (not name.startswith("resnet"))


@pytest.mark.torch
def test_ceil_mode_against_torch() -> None:
    torch = pytest.importorskip("torch")
    for (kernel, stride, padding), ceil in itertools.product(WINDOWS, (False, True)):
        pool = torch.nn.MaxPool2d(kernel, stride=stride, padding=padding, ceil_mode=ceil)
        for size in range(max(1, kernel - 2 * padding), 120):
            height, width = pool(torch.zeros(1, 1, size, size + 1)).shape[-2:]
            window = (kernel, stride, padding, ceil, size)
            assert height == window_size(size, kernel, stride, padding, ceil), window
            assert width == window_size(size + 1, kernel, stride, padding, ceil), window


@pytest.mark.torch
@pytest.mark.parametrize("name", NAMES)
def test_spec_pools_against_torch(name: str) -> None:
    torch = pytest.importorskip("torch")
    for resolution in RESOLUTIONS:
        for op, size, out, kernel, stride, padding, ceil in pool_shapes(name, resolution):
            pool = torch.nn.MaxPool2d(kernel, stride=stride, padding=padding, ceil_mode=ceil)
            assert pool(torch.zeros(1, 1, size, size)).shape[-1] == out, (op, resolution)
