"""Adaptive pooling to a fixed grid: PyTorch's window rule, AlexNet and VGG at any size, and the
counting profiles that count pool elements, at one setting and over a grid.

Expected figures come from the conv and fc formulas recomputed here at sizes derived by hand,
from torchvision's published params, from PyTorch's own windows and from thop's formula as its
source writes it (float64, truncated).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from mbcalc import Settings, analyze, build_graph, parse_spec
from mbcalc.core.adaptive import adaptive_kernel, adaptive_reads, adaptive_window
from mbcalc.core.graph import PoolForm, pool_form
from mbcalc.core.profiles import PROFILES, count, custom_profile, parse_extras
from mbcalc.deploy.memory import memory_report
from mbcalc.grid.sweep import sweep
from mbcalc.spec.zoo import load_shipped, spec_text
from tests.helpers.cli import invoke_mbcalc
from tests.helpers.torchvision_figures import PUBLISHED


def conv_out(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


# -- the window rule ----------------------------------------------------------------------------


def brute_windows(size: int, cells: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive windows as its kernel loops over them, with real division."""
    return [
        (math.floor(Fraction(i * size, cells)), math.ceil(Fraction((i + 1) * size, cells)))
        for i in range(cells)
    ]


@pytest.mark.parametrize("size", range(1, 30))
@pytest.mark.parametrize("cells", range(1, 12))
def test_windows_and_the_largest_of_them(size: int, cells: int) -> None:
    windows = brute_windows(size, cells)
    assert [adaptive_window(i, size, cells) for i in range(cells)] == windows
    assert adaptive_kernel(size, cells) == max(end - start for start, end in windows)


@pytest.mark.parametrize("cells", range(1, 12))
def test_the_rows_all_windows_read(cells: int) -> None:
    """Summed window by window, for one size and for an array of them (a sweep's)."""
    sizes = range(1, 30)
    reads = [sum(end - start for start, end in brute_windows(size, cells)) for size in sizes]
    assert [adaptive_reads(size, cells) for size in sizes] == reads
    assert np.asarray(adaptive_reads(np.arange(1, 30), cells)).tolist() == reads


def test_the_global_pool_is_the_one_cell_case() -> None:
    graph = build_graph(
        parse_spec("input: {size: [13, 9], channels: 2}\nlayers: [pool: {output: 1}]")
    )
    (op,) = graph.ops
    assert op.global_pool
    assert op.kernel == (13, 9)
    assert pool_form(op) is PoolForm.GLOBAL


@pytest.mark.torch
@pytest.mark.parametrize(("size", "cells"), [(14, 7), (13, 7), (8, 7), (5, 7), (7, 6), (1, 3)])
def test_the_windows_are_pytorchs(size: int, cells: int) -> None:
    """Max pooling 0, 1, 2, ... gives each window's last index; of their negatives, its first."""
    torch = pytest.importorskip("torch")
    ramp = torch.arange(size, dtype=torch.float64).reshape(1, 1, 1, size)
    pool = torch.nn.AdaptiveMaxPool2d((1, cells))
    ends = [int(v) + 1 for v in pool(ramp).flatten()]
    starts = [int(-v) for v in pool(-ramp).flatten()]
    assert list(zip(starts, ends, strict=True)) == [
        adaptive_window(i, size, cells) for i in range(cells)
    ]


# -- AlexNet and VGG at 224 and 256 -------------------------------------------------------------


def without_avgpool(name: str) -> str:
    """The shipped spec's text without its adaptive pool (as these specs were written before)."""
    text = spec_text(name)
    lines = [line for line in text.splitlines() if "name: avgpool" not in line]
    assert len(lines) == len(text.splitlines()) - 1
    return "\n".join(lines)


@pytest.mark.parametrize("name", ["alexnet", "vgg11", "vgg16", "vgg16_bn", "vgg19_bn"])
def test_at_224_the_adaptive_pool_is_the_identity(name: str) -> None:
    with_pool = build_graph(load_shipped(name))
    (pool,) = [op for op in with_pool.ops if op.name == "avgpool"]
    assert pool.input == pool.output
    before = analyze(build_graph(parse_spec(without_avgpool(name)))).total.cost
    assert analyze(with_pool).total.cost == before


ALEXNET_CONVS = [  # (out, kernel, stride, padding), then whether a 3x3/2 max pool follows
    ((64, 11, 4, 2), True),
    ((192, 5, 1, 2), True),
    ((384, 3, 1, 1), False),
    ((256, 3, 1, 1), False),
    ((256, 3, 1, 1), True),
]


def alexnet_by_hand(res: int) -> tuple[int, int, int]:
    """(mult-adds, params, size before the adaptive pool) of torchvision's alexnet at `res`."""
    size, channels, mult_adds, params = res, 3, 0, 0
    for (out, kernel, stride, padding), pooled in ALEXNET_CONVS:
        size = conv_out(size, kernel, stride, padding)
        weights = kernel * kernel * channels * out
        mult_adds += size * size * weights
        params += weights + out
        channels = out
        if pooled:
            size = conv_out(size, 3, 2, 0)
    for fan_in, fan_out in [(256 * 6 * 6, 4096), (4096, 4096), (4096, 1000)]:
        mult_adds += fan_in * fan_out
        params += fan_in * fan_out + fan_out
    return mult_adds, params, size


def test_alexnet_at_256_feeds_its_classifier_6x6() -> None:
    mult_adds, params, features = alexnet_by_hand(256)
    assert features == 7  # 256 -> 63 -> 31 -> 31 -> 15 -> 15 -> 7: pooled to 6 in windows of 2
    assert params == PUBLISHED["alexnet"].num_params == 61_100_840
    graph = build_graph(load_shipped("alexnet"), Settings(res=256))
    (pool,) = [op for op in graph.ops if op.name == "avgpool"]
    assert (pool.input, pool.output, pool.kernel) == ((7, 7, 256), (6, 6, 256), (2, 2))
    cost = analyze(graph).total.cost
    assert (cost.mult_adds, cost.params) == (mult_adds, params)


VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
"""torchvision's cfgs["D"]."""


def vgg16_by_hand(res: int) -> tuple[int, int, int]:
    size, channels, mult_adds, params = res, 3, 0, 0
    for item in VGG16:
        if item == "M":
            size //= 2
            continue
        assert isinstance(item, int)
        mult_adds += size * size * 9 * channels * item
        params += 9 * channels * item + item
        channels = item
    for fan_in, fan_out in [(512 * 7 * 7, 4096), (4096, 4096), (4096, 1000)]:
        mult_adds += fan_in * fan_out
        params += fan_in * fan_out + fan_out
    return mult_adds, params, size


def test_vgg16_at_256_feeds_its_classifier_7x7() -> None:
    mult_adds, params, features = vgg16_by_hand(256)
    assert features == 8
    assert params == PUBLISHED["vgg16"].num_params
    cost = analyze(build_graph(load_shipped("vgg16"), Settings(res=256))).total.cost
    assert (cost.mult_adds, cost.params) == (mult_adds, params)
    assert vgg16_by_hand(224)[0] == analyze(build_graph(load_shipped("vgg16"))).total.cost.mult_adds


def test_the_classifier_keeps_its_params_at_every_size() -> None:
    grid = sweep(load_shipped("vgg11_bn"), [Fraction(1)], [32, 100, 224, 256, 333])
    assert grid.valid.all()
    trainable = {int(p + bn) for p, bn in zip(grid.params[0], grid.bn_params[0], strict=True)}
    assert trainable == {PUBLISHED["vgg11_bn"].num_params}


# -- what the tools count ------------------------------------------------------------------------


def pool_spec(size: int, channels: int, output: int | str, kind: str = "avg") -> str:
    pool = f"pool: {{kind: {kind}, output: {output}}}"
    return f"input: {{size: {size}, channels: {channels}}}\nlayers: [{pool}]"


def thop_formula(h_in: int, w_in: int, h_out: int, w_out: int, outputs: int) -> int:
    """thop 0.1.1's count_adap_avgpool: prod(in / out sides) + 1 per output, in float64."""
    return int(((h_in / h_out) * (w_in / w_out) + 1) * outputs)


# (size, channels, cells, what thop 0.1.1 printed less than inputs + outputs, run on
# AdaptiveAvgPool2d(cells) over a zero input of that shape)
THOP_RUNS = [(14, 256, 7, 0), (13, 256, 7, 0), (8, 512, 7, 1), (13, 256, 6, 1), (5, 256, 7, 0)]


@pytest.mark.parametrize(("size", "channels", "cells", "short"), THOP_RUNS)
def test_thop_truncates_its_float_product(size: int, channels: int, cells: int, short: int) -> None:
    graph = build_graph(parse_spec(pool_spec(size, channels, cells)))
    inputs, outputs = size * size * channels, cells * cells * channels
    counted = count(analyze(graph), PROFILES["thop"])
    assert counted.operations == thop_formula(size, size, cells, cells, outputs)
    assert counted.operations == inputs + outputs - short
    assert counted.extras == {"pool_window.adaptive": counted.operations}
    assert count(analyze(graph), PROFILES["fvcore"]).operations == inputs
    assert count(analyze(graph), PROFILES["ptflops"]).operations == 2 * inputs


def test_a_max_pool_is_counted_by_ptflops_alone() -> None:
    graph = build_graph(parse_spec(pool_spec(13, 4, "[6, 5]", "max")))
    report = analyze(graph)
    assert [count(report, PROFILES[name]).operations for name in ("fvcore", "thop")] == [0, 0]
    assert count(report, PROFILES["ptflops"]).operations == 2 * 13 * 13 * 4


def test_memory_reads_the_input_and_writes_the_grid() -> None:
    report = analyze(build_graph(parse_spec(pool_spec(13, 4, 6))))
    (op,) = memory_report(report).ops
    assert (op.input_bytes, op.output_bytes) == (13 * 13 * 4 * 4, 6 * 6 * 4 * 4)


@pytest.mark.parametrize("profile", ["thop", "fvcore", "ptflops"])
def test_a_grid_counts_what_one_setting_counts(profile: str) -> None:
    """VGG 11 BN from 32 to 300 pixels: the adaptive pool sees 1x1 to 9x9 features, dividing 7
    or not, each cell as `mbcalc table --profile` counts it."""
    spec = load_shipped("vgg11_bn")
    heights = [32, 64, 100, 224, 256, 288, 300]
    alphas = [Fraction(1, 4), Fraction(1)]
    grid = sweep(spec, alphas, heights, profile=PROFILES[profile], device=None, batch=2)
    assert grid.counted is not None
    assert grid.peak_bytes is not None
    for a, alpha in enumerate(alphas):
        for r, height in enumerate(heights):
            report = analyze(build_graph(spec, Settings(alpha=alpha, res=height)))
            counted = count(report, PROFILES[profile])
            assert grid.counted.operations[a, r] == counted.operations, (alpha, height)
            assert grid.peak_bytes[a, r] == memory_report(report, batch=2).peak.bytes


# -- the spec language ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("{output: 7, kernel: 2}", "`output` fixes the pool's grid and takes no `kernel`"),
        ("{output: 7, global: true}", "`output` fixes the pool's grid and takes no `global`"),
        ("{output: 0}", "`output` must be at least 1, got 0"),
        ("{output: [7, 7, 7]}", "`output` must be one number or [height, width]"),
    ],
)
def test_a_wrong_output_is_refused_in_one_line(
    tmp_path: Path, arguments: str, message: str
) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(f"input: {{size: 16, channels: 3}}\nlayers:\n  - pool: {arguments}\n")
    result = invoke_mbcalc("table", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert re.fullmatch(
        rf"mbcalc: error: {re.escape(str(path))}:3: layer 'pool1': {re.escape(message)}.*\n",
        result.stderr,
    )


def test_the_adaptive_form_and_thops_rule_are_keys_of_count() -> None:
    report = analyze(build_graph(parse_spec(pool_spec(8, 512, 7))))
    extras = parse_extras("pool.adaptive,pool_window.adaptive=2")
    counted = count(report, custom_profile(PROFILES["paper"], False, extras, None))
    inputs, outputs = 8 * 8 * 512, 7 * 7 * 512
    assert counted.extras == {
        "pool.adaptive": inputs,
        "pool_window.adaptive": 2 * thop_formula(8, 8, 7, 7, outputs),
    }
