"""Depth, the third multiplier: stages, specs that store their own defaults, and a depth axis.

EfficientNet's compound scaling as torchvision writes it (torchvision/models/efficientnet.py,
`_efficientnet_conf`): B0's seven stages of n = 1, 2, 2, 3, 3, 4, 1 blocks, each of
ceil(n x depth_mult) blocks under `MBConvConfig.adjust_depth`, whose first block keeps the
stage's stride and channel change; every width `_make_divisible(c x width_mult, 8)`
(`adjust_channels`), and the head conv 4 x the last stage's adjusted width. B1 to B7 are B0 at
the (width, depth, resolution) of torchvision's builders and weights.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mbcalc import MbcalcError, Settings, Spec, analyze, build_graph, parse_spec
from mbcalc.core.graph import Graph
from mbcalc.core.settings import Request
from mbcalc.errors import SpecError
from mbcalc.grid.sweep import sweep
from mbcalc.spec import load_spec
from mbcalc.spec.zoo import load_shipped
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc, ok, one_line_error
from tests.helpers.strategies import networks
from tests.helpers.torchvision_figures import PUBLISHED

# torchvision's builders: name -> (width_mult, depth_mult, eval crop size)
TORCHVISION_B = {
    "efficientnet_b0": ("1.0", "1.0", 224),
    "efficientnet_b1": ("1.0", "1.1", 240),
    "efficientnet_b2": ("1.1", "1.2", 288),
    "efficientnet_b3": ("1.2", "1.4", 300),
    "efficientnet_b4": ("1.4", "1.8", 380),
    "efficientnet_b5": ("1.6", "2.2", 456),
    "efficientnet_b6": ("1.8", "2.6", 528),
    "efficientnet_b7": ("2.0", "3.1", 600),
}
B0_LAYERS = (1, 2, 2, 3, 3, 4, 1)  # inverted_residual_setting's num_layers, stages 1 to 7
B0_WIDTHS = (16, 24, 40, 80, 112, 192, 320)  # its out_channels
B0_STRIDES = (1, 2, 2, 2, 1, 2, 1)


def make_divisible(value: Fraction, divisor: int = 8) -> int:
    """torchvision's _make_divisible, on the exact value."""
    new = max(divisor, int(value + Fraction(divisor, 2)) // divisor * divisor)
    return new + divisor if new < Fraction(9, 10) * value else new


def units_of(graph: Graph, stage: int) -> list[str]:
    prefix = f"features.{stage}."
    return [unit.name for unit in graph.units if unit.name.startswith(prefix)]


def b0_at(name: str) -> Graph:
    width, depth, res = TORCHVISION_B[name]
    return build_graph(
        load_shipped("efficientnet_b0"),
        Settings(alpha=Fraction(width), res=res, depth=Fraction(depth)),
    )


def signature(graph: Graph) -> list[tuple[str, object, object]]:
    return [(op.name, op.input, op.output) for op in graph.ops]


# -- EfficientNet B0 to B7 ---------------------------------------------------------------------


@pytest.mark.parametrize("name", TORCHVISION_B)
def test_b0_at_each_builders_width_depth_and_resolution_is_the_shipped_spec(name: str) -> None:
    scaled, shipped = b0_at(name), build_graph(load_shipped(name), _own(name))
    assert signature(scaled) == signature(shipped)
    assert analyze(scaled).total.cost == analyze(shipped).total.cost


def _own(name: str) -> Settings:
    """A shipped spec at its own defaults (nothing asked)."""
    return Request().settings(load_shipped(name).defaults)


@pytest.mark.parametrize("name", TORCHVISION_B)
def test_each_stage_has_ceil_n_times_depth_blocks_named_as_torchvision(name: str) -> None:
    graph = b0_at(name)
    depth = Fraction(TORCHVISION_B[name][1])
    for stage, layers in enumerate(B0_LAYERS, start=1):
        blocks = math.ceil(layers * depth)
        assert units_of(graph, stage) == [f"features.{stage}.{i}" for i in range(blocks)]


@pytest.mark.parametrize("name", TORCHVISION_B)
def test_only_a_stages_first_block_strides_and_changes_the_width(name: str) -> None:
    graph = b0_at(name)
    width = Fraction(TORCHVISION_B[name][0])
    stem = make_divisible(32 * width)
    assert graph.ops[0].output[2] == stem
    previous = stem
    for stage, (out, stride) in enumerate(zip(B0_WIDTHS, B0_STRIDES, strict=True), start=1):
        adjusted = make_divisible(out * width)
        for block in units_of(graph, stage):
            depthwise = next(op for op in graph.ops if op.name == f"{block}.dw")
            first = block.endswith(".0")
            assert depthwise.stride == ((stride, stride) if first else (1, 1)), block
            entry = next(op for op in graph.ops if op.name.startswith(f"{block}."))
            assert entry.input[2] == (previous if first else adjusted), block
            project = next(op for op in graph.ops if op.name == f"{block}.project")
            assert project.output[2] == adjusted
        previous = adjusted
    head = next(op for op in graph.ops if op.name == "features.8")
    assert head.output[2] == 4 * make_divisible(320 * width)


def test_explicit_options_win_over_a_specs_defaults() -> None:
    b0 = json.loads(ok("table", "efficientnet_b0", "--format", "json"))
    as_b0 = json.loads(
        ok("table", "efficientnet_b7", "--alpha", "1", "--depth", "1", "--res", "224", "-f", "json")
    )
    assert as_b0["total"] == b0["total"]
    assert (as_b0["alpha"], as_b0["depth"], as_b0["resolution"]) == (1.0, 1.0, [224, 224])


def test_the_command_line_scales_b0_to_b3_to_the_unit() -> None:
    scaled = ok("table", "efficientnet_b0", "--alpha", "1.2", "--depth", "1.4", "--res", "300")
    shipped = ok("table", "efficientnet_b3")
    assert scaled.replace("EfficientNet-B0", "EfficientNet-B3") == shipped
    assert "alpha 1.2, depth 1.4, 300x300" in shipped


def test_compare_takes_depth_per_argument() -> None:
    data = json.loads(
        ok(
            "compare",
            "efficientnet_b0@alpha=1.2,depth=1.4,res=300",
            "efficientnet_b3",
            "-f",
            "json",
        )
    )
    first, second = data["columns"]
    assert first["depth"] == second["depth"] == 1.4
    assert first["total"] == second["total"]


# -- the stage construct -----------------------------------------------------------------------

STAGED = """
input: {size: 32, channels: 3}
layers:
  - conv: {out: 8, stride: 2}
  - stage:
      name: s
      repeat: %d
      layers:
        - separable: {out: 16, stride: 2}
  - conv: {name: tail, out: 4, repeat: 3}
"""


@pytest.mark.parametrize(
    ("repeat", "depth"), [(1, "1"), (2, "1.1"), (3, "1.5"), (4, "0.5"), (3, "1/3"), (2, "0.01")]
)
def test_a_stage_repeats_ceil_n_times_depth_and_plain_repeat_keeps_its_count(
    repeat: int, depth: str
) -> None:
    spec = parse_spec(STAGED % repeat)
    graph = build_graph(spec, Settings(depth=Fraction(depth)))
    copies = math.ceil(repeat * Fraction(depth))
    units = [unit.name for unit in graph.units]
    assert units == ["conv1", *(f"s.{i}" for i in range(copies)), "tail_1", "tail_2", "tail_3"]
    # first copy 16x16x8 -> 8x8x16; every later one 8x8x16 -> 8x8x16
    ops = {op.name: op for op in graph.ops}
    assert ops["s.0.dw"].input == (16, 16, 8)
    for i in range(1, copies):
        assert ops[f"s.{i}.dw"].input == ops[f"s.{i}.pw"].output == (8, 8, 16)
    separable = 16 * 9 * 8 * 8 + 16 * 16 * 8 * 8  # one later copy: dw 3x3 + pw 16 -> 16 at 8x8
    first = 8 * 9 * 8 * 8 + 8 * 16 * 8 * 8
    stem, tail = 3 * 8 * 9 * 16 * 16, 16 * 4 * 9 * 8 * 8 + 2 * (4 * 4 * 9 * 8 * 8)
    total = analyze(graph).total.mult_adds
    assert total == stem + first + (copies - 1) * separable + tail


def test_a_stage_of_several_layers_makes_a_block_per_copy() -> None:
    text = """
input: {size: 16, channels: 4}
layers:
  - stage:
      name: layer1
      repeat: 2
      layers:
        - conv: {name: conv1, out: 8, stride: 2}
        - conv: {name: conv2, out: 8}
"""
    graph = build_graph(parse_spec(text), Settings(depth=Fraction(3, 2)))
    names = [op.name for op in graph.ops]
    assert names == [f"layer1.{i}.conv{k}" for i in range(3) for k in (1, 2)]
    assert [op.stride for op in graph.ops] == [(2, 2)] + [(1, 1)] * 5


@settings(max_examples=40, deadline=None)
@given(
    spec=networks(fixed_width=True),
    depths=st.lists(st.fractions(Fraction(1, 4), 3, max_denominator=10), min_size=1, max_size=4),
    alphas=st.lists(st.fractions(Fraction(1, 4), 2, max_denominator=8), min_size=1, max_size=3),
    heights=st.lists(st.integers(1, 40), min_size=1, max_size=3),
)
def test_the_depth_axis_of_a_grid_equals_the_one_setting_engine(
    spec: Spec, depths: list[Fraction], alphas: list[Fraction], heights: list[int]
) -> None:
    grid = sweep(spec, alphas, heights, depths=depths)
    assert grid.alphas == tuple(alpha for _ in depths for alpha in alphas)
    assert grid.depths == tuple(depth for depth in depths for _ in alphas)
    for row, (alpha, depth) in enumerate(zip(grid.alphas, grid.depths, strict=True)):
        for r, height in enumerate(heights):
            try:
                graph = build_graph(spec, Settings(alpha=alpha, res=height, depth=depth))
            except MbcalcError:
                assert not grid.valid[row, r]
                continue
            cost = analyze(graph).total.cost
            cell = (grid.mult_adds[row, r], grid.params[row, r], grid.bn_params[row, r])
            assert cell == (cost.mult_adds, cost.params, cost.bn_params)


def test_efficientnet_b0_over_depths_alphas_and_resolutions() -> None:
    depths = [Fraction(n, 10) for n in (10, 11, 14, 15, 31)]
    alphas, heights = [Fraction(1), Fraction(6, 5)], [224, 300]
    spec = load_shipped("efficientnet_b0")
    grid = sweep(spec, alphas, heights, depths=depths)
    for row, (alpha, depth) in enumerate(zip(grid.alphas, grid.depths, strict=True)):
        for r, height in enumerate(heights):
            cost = analyze(build_graph(spec, Settings(alpha=alpha, res=height, depth=depth)))
            assert grid.mult_adds[row, r] == cost.total.mult_adds
            assert grid.params[row, r] == cost.total.params


def test_sweep_and_fit_show_the_depth_axis() -> None:
    rows = ok("sweep", "efficientnet_b0", "--alpha", "1", "--depth", "1,1.4", "-f", "csv")
    assert rows.splitlines()[0].startswith("depth,alpha,height,width")
    assert [line.split(",")[0] for line in rows.splitlines()[1:]] == ["1.0", "1.4"]
    data = json.loads(
        ok("fit", "efficientnet_b0", "--max-mult-adds", "1G", "--alpha", "1", "--depth", "1:2:0.5",
           "--res", "224", "-f", "json")
    )  # fmt: skip
    assert data["searched"] == 3
    spec = load_shipped("efficientnet_b0")
    costs = {  # the one-setting engine at each depth searched: the largest that fits is best
        depth: analyze(build_graph(spec, Settings(res=224, depth=Fraction(depth)))).total.mult_adds
        for depth in ("1", "1.5", "2")
    }
    fitting = {depth: cost for depth, cost in costs.items() if cost <= 10**9}
    (best,) = [fit for fit in data["frontier"] if fit["best"]]
    assert best["mult_adds"] == max(fitting.values())
    assert best["depth"] == float(max(fitting, key=fitting.__getitem__))


# -- defaults and base: mistakes ---------------------------------------------------------------


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_missing_base_is_one_line_naming_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "net.yaml", "name: net\nbase: efficientnet_b9\n")
    result = invoke_mbcalc("table", str(path))
    assert_clean_failure(result, 1, "net.yaml:2", "efficientnet_b9")
    assert "no shipped spec" in one_line_error(result)


def test_a_base_cycle_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "base: b.yaml\n")
    write(tmp_path, "b.yaml", "base: a.yaml\n")
    with pytest.raises(SpecError, match=r"cycle: a\.yaml -> b\.yaml -> a\.yaml"):
        load_spec(tmp_path / "a.yaml")
    assert_clean_failure(invoke_mbcalc("table", str(tmp_path / "a.yaml")), 1, "cycle")


def test_a_spec_with_a_base_takes_only_name_description_and_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "net.yaml", "base: mobilenet_v1\nrounding: divisible\n")
    assert_clean_failure(invoke_mbcalc("table", str(path)), 1, "net.yaml:2", "rounding")


def test_a_relative_base_file_and_its_defaults(tmp_path: Path) -> None:
    write(tmp_path, "small.yaml", "base: efficientnet_b3\nname: small\ndefaults: {res: 224}\n")
    spec = load_spec(tmp_path / "small.yaml")
    assert (spec.defaults.alpha, spec.defaults.depth, spec.defaults.res) == (
        Fraction(6, 5), Fraction(7, 5), 224,
    )  # fmt: skip
    data = json.loads(ok("table", str(tmp_path / "small.yaml"), "-f", "json"))
    assert (data["spec"], data["alpha"], data["depth"], data["resolution"]) == (
        "small", 1.2, 1.4, [224, 224],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("defaults", "words"),
    [
        ("{alpha: 0}", "`alpha` must be in"),
        ("{depth: -1}", "`depth` must be in"),
        ("{width: 2}", "unknown key of `defaults` `width`"),
        ("[1, 2]", "`defaults` must be a mapping"),
        ("{res: 0}", "`res`"),
    ],
)
def test_bad_defaults_are_refused_with_their_line(defaults: str, words: str) -> None:
    text = (
        f"input: {{size: 8, channels: 3}}\ndefaults: {defaults}\nlayers: [{{conv: {{out: 4}}}}]\n"
    )
    with pytest.raises(SpecError) as caught:
        parse_spec(text, source="net.yaml")
    assert caught.value.line == 2
    assert words in str(caught.value)


@pytest.mark.parametrize("depth", ["0", "-1", "abc"])
def test_a_bad_depth_is_refused(depth: str) -> None:
    result = invoke_mbcalc("table", "efficientnet_b0", "--depth", depth)
    assert result.exit_code in (1, 2)
    assert "Traceback" not in result.output
    assert "--depth" in result.stderr


def test_a_stage_takes_no_act() -> None:
    text = (
        "input: {size: 8, channels: 3}\nlayers:\n  - stage: {act: relu, layers: [conv: {out: 4}]}\n"
    )
    with pytest.raises(SpecError, match="a stage takes no `act`"):
        parse_spec(text)


def test_a_depth_past_the_op_limit_is_refused_before_any_copy_past_it() -> None:
    result = invoke_mbcalc("table", "efficientnet_b0", "--depth", "1e9")
    assert_clean_failure(result, 1, "more than 100,000 operations", "the depth")


@pytest.mark.torch
def test_the_torch_builder_fills_in_the_specs_own_defaults() -> None:
    pytest.importorskip("torch")
    from torch import nn

    from mbcalc.pytorch import build

    published = PUBLISHED["efficientnet_b3"].num_params  # torchvision's B3 weights metadata

    def trainable(module: nn.Module) -> int:
        return sum(p.numel() for p in module.parameters())

    assert trainable(build("efficientnet_b3", res=64)) == published  # B3's own width and depth
    assert trainable(build("efficientnet_b0", alpha=1.2, depth=1.4, res=64)) == published
    assert trainable(build("efficientnet_b0", res=64)) == PUBLISHED["efficientnet_b0"].num_params
    with pytest.raises(ValueError, match="not both"):
        build("efficientnet_b0", Settings(), depth=2)
