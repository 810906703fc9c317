"""Channel split (`parallel: {split: true}`) and channel shuffle, as ShuffleNet V2 uses them.

Slices, sizes and memory are worked out by hand; the shuffle's permutation is the formula of
ShuffleNet's paper; the PyTorch module is checked against torchvision's `channel_shuffle` and
`chunk`, written out here as torchvision writes them.
"""

from __future__ import annotations

import textwrap
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from mbcalc import Report, Settings, analyze, build_graph, parse_spec
from mbcalc.core.graph import NETWORK_INPUT, OpKind
from mbcalc.deploy.memory import DType, live_tensors, memory_report, views_of
from mbcalc.deploy.roofline import resolve_device, roofline
from mbcalc.grid.sweep import sweep
from mbcalc.spec.zoo import load_shipped
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc, one_line_error

SHUFFLENETS = [
    "shufflenet_v2_x0_5",
    "shufflenet_v2_x1_0",
    "shufflenet_v2_x1_5",
    "shufflenet_v2_x2_0",
]


def report_of(body: str, size: int = 8, channels: int = 4) -> Report:
    text = f"input: {{size: {size}, channels: {channels}}}\n"
    return analyze(build_graph(parse_spec(text + textwrap.dedent(body))))


UNIT = """
layers:
  - parallel:
      name: unit
      split: true
      branches: [[], [pointwise: {name: pw, out: 2}]]
  - shuffle: {groups: 2}
"""
"""A stride-1 ShuffleNet V2 unit in small: half the channels pass, half go through a 1x1 conv."""


def test_each_branch_takes_its_slice() -> None:
    report = report_of(UNIT)
    ops = report.graph.ops
    assert [(op.name, op.kind, op.sources) for op in ops] == [
        ("unit.split1", OpKind.SPLIT, (NETWORK_INPUT,)),
        ("unit.split2", OpKind.SPLIT, (NETWORK_INPUT,)),
        ("unit.branch2.pw", OpKind.CONV, (1,)),
        ("unit.concat", OpKind.CONCAT, (0, 2)),
        ("shuffle1", OpKind.SHUFFLE, (3,)),
    ]
    assert [op.output for op in ops] == [(8, 8, 2), (8, 8, 2), (8, 8, 2), (8, 8, 4), (8, 8, 4)]
    cost = report.total.cost
    assert (cost.mult_adds, cost.params, cost.bn_params) == (64 * 2 * 2, 2 * 2, 2 * 2)


def test_slices_are_views_that_keep_the_input_alive() -> None:
    """The input lives until the concat reads its first half; the slices hold no memory."""
    report = report_of(UNIT)
    ops = report.graph.ops
    views = views_of(ops)
    assert views == {0: NETWORK_INPUT, 1: NETWORK_INPUT}
    alive = live_tensors([op.sources for op in ops], views)
    assert alive[3] == (NETWORK_INPUT, 0, 2, 3)
    memory = memory_report(report, DType.FP32)
    # the concat: the 8x8x4 input, the conv's 8x8x2, the concat's 8x8x4 (the slices are views)
    assert memory.peak.bytes == 64 * (4 + 2 + 4) * 4
    assert memory.peak.op == 3
    split = memory.ops[0]
    assert (split.input_bytes, split.output_bytes, split.weight_bytes) == (0, 0, 0)
    assert memory.ops[2].input_bytes == 64 * 2 * 4  # the conv reads its slice
    assert memory.ops[3].input_bytes == 64 * (2 + 2) * 4  # the concat reads both halves
    times = roofline(memory, resolve_device("jetson-nano")).ops
    assert times[0].seconds == times[1].seconds == 0


def test_a_grid_gives_the_memory_of_one_setting() -> None:
    spec = load_shipped("shufflenet_v2_x0_5")
    alphas, heights = [Fraction(1, 2), Fraction(1)], [96, 224]
    device = resolve_device("jetson-nano")
    grid = sweep(spec, alphas, heights, device=device)
    assert grid.peak_bytes is not None
    assert grid.latency is not None
    for a, alpha in enumerate(alphas):
        for r, height in enumerate(heights):
            report = analyze(build_graph(spec, Settings(alpha=alpha, res=height)))
            memory = memory_report(report, device.dtype)
            assert grid.peak_bytes[a, r] == memory.peak.bytes
            assert grid.latency[a, r] == pytest.approx(float(roofline(memory, device).seconds))


@pytest.mark.parametrize("name", SHUFFLENETS)
@pytest.mark.parametrize("alpha", [Fraction(1, 4), Fraction(3, 10), Fraction(1, 2), Fraction(3, 2)])
def test_half_the_input_under_any_alpha(name: str, alpha: Fraction) -> None:
    """A unit's concat joins two branches of one scaled width, so its split halves exactly."""
    graph = build_graph(load_shipped(name), Settings(alpha=alpha))
    splits = [op for op in graph.ops if op.kind is OpKind.SPLIT]
    assert len(splits) == 2 * (3 + 7 + 3)
    for op in splits:
        assert op.input[2] == 2 * op.output[2]


def test_shufflenet_v2_x1_0_by_hand() -> None:
    """Table 5 of Ma et al. 2018, 1x: each unit's convs and the stem, head and classifier."""
    mult_adds = params = 0
    size, channels = 56, 24  # after conv1 (3x3/2) and the 3x3/2 max pool
    mult_adds += 112 * 112 * 9 * 3 * 24
    params += 9 * 3 * 24
    for width, units in ((116, 4), (232, 8), (464, 4)):
        half = width // 2
        size = (size + 1) // 2
        # the first unit: branch1 depthwise 3x3/2 + 1x1; branch2 1x1 (full size), 3x3/2, 1x1
        convs = [(size, 9 * channels), (size, channels * half)]
        convs += [(2 * size, channels * half), (size, 9 * half), (size, half * half)]
        convs += [(size, half * half), (size, 9 * half), (size, half * half)] * (units - 1)
        mult_adds += sum(side * side * weights for side, weights in convs)
        params += sum(weights for _, weights in convs)
        channels = width
    mult_adds += size * size * channels * 1024 + 1024 * 1000
    params += channels * 1024 + 1024 * 1000 + 1000
    cost = analyze(build_graph(load_shipped("shufflenet_v2_x1_0"))).total.cost
    assert (cost.mult_adds, cost.params) == (mult_adds, params)


# -- refusals ------------------------------------------------------------------------------------


def refused(tmp_path: Path, body: str, *args: str) -> str:
    path = tmp_path / "net.yaml"
    path.write_text("input: {size: 8, channels: 6}\n" + textwrap.dedent(body), encoding="utf-8")
    result = invoke_mbcalc("table", str(path), *args)
    assert_clean_failure(result, 1)
    return one_line_error(result)


def test_channels_that_do_not_split_equally_are_refused(tmp_path: Path) -> None:
    body = """
    layers:
      - parallel: {name: unit, split: true, branches: [[], [], [], []]}
    """
    assert refused(tmp_path, body).endswith(
        "net.yaml:4: layer 'unit': split: the 6 input channels do not divide into 4 equal "
        "slices (hint: give the split's input a multiple of its branch count of channels)"
    )


def test_a_shuffle_whose_groups_do_not_divide_is_refused(tmp_path: Path) -> None:
    body = """
    layers:
      - shuffle: {groups: 4}
    """
    assert "layer 'shuffle1': `groups: 4` must divide both the 6 input" in refused(tmp_path, body)


def test_alpha_that_leaves_an_odd_split_is_refused(tmp_path: Path) -> None:
    body = """
    layers:
      - pointwise: {out: 8}
      - parallel: {name: unit, split: true, branches: [[], []]}
    """
    assert "split: the 3 input channels" in refused(tmp_path, body, "--alpha", "0.4")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [("{}", "missing `groups`"), ("{groups: 1}", "`groups` must be at least 2, got 1")],
)
def test_a_shuffle_needs_two_groups_or_more(tmp_path: Path, arguments: str, message: str) -> None:
    assert message in refused(tmp_path, f"layers:\n  - shuffle: {arguments}\n")


# -- PyTorch ------------------------------------------------------------------------------------


@pytest.mark.torch
def test_the_module_chunks_and_shuffles_as_torchvision() -> None:
    torch = pytest.importorskip("torch")
    from mbcalc.pytorch import Network
    from mbcalc.pytorch.split_modules import ChannelShuffle

    def channel_shuffle(x: Any, groups: int) -> Any:  # torchvision's, as it is written
        batch, channels, height, width = x.size()
        x = x.view(batch, groups, channels // groups, height, width)
        x = torch.transpose(x, 1, 2).contiguous()
        return x.view(batch, -1, height, width)

    network = Network(build_graph(parse_spec("input: {size: 3, channels: 4}\n" + UNIT[1:])))
    x = torch.arange(36, dtype=torch.float32).reshape(1, 4, 3, 3)
    first, second = x.chunk(2, dim=1)
    pointwise = network.ops[2]
    expected = channel_shuffle(torch.cat((first, pointwise(second)), dim=1), 2)
    assert torch.equal(network(x), expected)
    # ShuffleNet's shuffle: output channel j is input channel (j mod g) * C / g + j div g
    six = torch.arange(6, dtype=torch.float32).reshape(1, 6, 1, 1)
    shuffled = ChannelShuffle(3)(six)
    assert shuffled.flatten().tolist() == [(j % 3) * 2 + j // 3 for j in range(6)]
