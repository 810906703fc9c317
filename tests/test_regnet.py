"""The `regnet` layer: RegNet's trunk from its design-space parameters, as torchvision builds it.

STAGES holds what torchvision 0.28's `BlockParams.from_init_params` (torchvision/models/regnet.py)
returns for the parameters its fifteen builders pass (stage depths, widths and group widths),
printed by running that function with PyTorch. The counts below are recomputed from those stages
with the textbook formulas; the published totals are checked in tests/test_zoo_published.py.
"""

from __future__ import annotations

import math
import random
import textwrap
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import pytest

from mbcalc import Settings, SpecError, analyze, build_graph
from mbcalc.spec import Block, Conv, Parallel, Se, parse_spec
from mbcalc.spec.regnet import block_widths, regnet_stages
from mbcalc.spec.zoo import load_shipped
from tests.helpers.cli import invoke_mbcalc, one_line_error


class Params(NamedTuple):
    depth: int
    w0: int
    wa: float
    wm: float
    group_width: int
    se: bool


# torchvision's builders: regnet_y_400mf(...) calls from_init_params(depth=16, w_0=48, ...).
PARAMS = {
    "regnet_x_400mf": Params(22, 24, 24.48, 2.54, 16, False),
    "regnet_x_800mf": Params(16, 56, 35.73, 2.28, 16, False),
    "regnet_x_1_6gf": Params(18, 80, 34.01, 2.25, 24, False),
    "regnet_x_3_2gf": Params(25, 88, 26.31, 2.25, 48, False),
    "regnet_x_8gf": Params(23, 80, 49.56, 2.88, 120, False),
    "regnet_x_16gf": Params(22, 216, 55.59, 2.1, 128, False),
    "regnet_x_32gf": Params(23, 320, 69.86, 2.0, 168, False),
    "regnet_y_400mf": Params(16, 48, 27.89, 2.09, 8, True),
    "regnet_y_800mf": Params(14, 56, 38.84, 2.4, 16, True),
    "regnet_y_1_6gf": Params(27, 48, 20.71, 2.65, 24, True),
    "regnet_y_3_2gf": Params(21, 80, 42.63, 2.66, 24, True),
    "regnet_y_8gf": Params(17, 192, 76.82, 2.19, 56, True),
    "regnet_y_16gf": Params(18, 200, 106.23, 2.48, 112, True),
    "regnet_y_32gf": Params(20, 232, 115.89, 2.53, 232, True),
    "regnet_y_128gf": Params(27, 456, 160.83, 2.52, 264, True),
}

# from_init_params(...): (depths, widths, group_widths), as torchvision returns them.
STAGES = {
    "regnet_x_400mf": ([1, 2, 7, 12], [32, 64, 160, 400], [16, 16, 16, 16]),
    "regnet_x_800mf": ([1, 3, 7, 5], [64, 128, 288, 672], [16, 16, 16, 16]),
    "regnet_x_1_6gf": ([2, 4, 10, 2], [72, 168, 408, 912], [24, 24, 24, 24]),
    "regnet_x_3_2gf": ([2, 6, 15, 2], [96, 192, 432, 1008], [48, 48, 48, 48]),
    "regnet_x_8gf": ([2, 5, 15, 1], [80, 240, 720, 1920], [80, 120, 120, 120]),
    "regnet_x_16gf": ([2, 6, 13, 1], [256, 512, 896, 2048], [128, 128, 128, 128]),
    "regnet_x_32gf": ([2, 7, 13, 1], [336, 672, 1344, 2520], [168, 168, 168, 168]),
    "regnet_y_400mf": ([1, 3, 6, 6], [48, 104, 208, 440], [8, 8, 8, 8]),
    "regnet_y_800mf": ([1, 3, 8, 2], [64, 144, 320, 784], [16, 16, 16, 16]),
    "regnet_y_1_6gf": ([2, 6, 17, 2], [48, 120, 336, 888], [24, 24, 24, 24]),
    "regnet_y_3_2gf": ([2, 5, 13, 1], [72, 216, 576, 1512], [24, 24, 24, 24]),
    "regnet_y_8gf": ([2, 4, 10, 1], [224, 448, 896, 2016], [56, 56, 56, 56]),
    "regnet_y_16gf": ([2, 4, 11, 1], [224, 448, 1232, 3024], [112, 112, 112, 112]),
    "regnet_y_32gf": ([2, 5, 12, 1], [232, 696, 1392, 3712], [232, 232, 232, 232]),
    "regnet_y_128gf": ([2, 7, 17, 1], [528, 1056, 2904, 7392], [264, 264, 264, 264]),
}

STEM = 32  # torchvision's stem_width: a 3x3 conv with stride 2 and padding 1
CLASSES = 1000


@pytest.mark.parametrize("name", PARAMS)
def test_stages_are_torchvisions(name: str) -> None:
    p = PARAMS[name]
    stages = regnet_stages(p.depth, p.w0, p.wa, p.wm, p.group_width)
    depths, widths, group_widths = STAGES[name]
    assert [stage.depth for stage in stages] == depths
    assert [stage.width for stage in stages] == widths
    assert [stage.group_width for stage in stages] == group_widths


@pytest.mark.torch
def test_block_widths_follow_torchs_single_precision_steps() -> None:
    """The widths as torchvision computes them, in float32 tensors, for random parameters,
    some of which land a float64 computation on the other side of a rounding."""
    torch = pytest.importorskip("torch")
    draw = random.Random(11)
    for _ in range(3000):
        depth, w0 = draw.randint(1, 40), 8 * draw.randint(1, 60)
        wa, wm = round(draw.uniform(0, 200), 2), round(draw.uniform(1.01, 3.5), 2)
        continuous = torch.arange(depth) * wa + w0
        capacity = torch.round(torch.log(continuous / w0) / math.log(wm))
        expected = (torch.round(w0 * torch.pow(wm, capacity) / 8) * 8).int().tolist()
        assert block_widths(depth, w0, wa, wm) == expected, (depth, w0, wa, wm)


def trunk_of(name: str) -> Block:
    (trunk,) = [layer for layer in load_shipped(name).layers if layer.name == "trunk_output"]
    assert isinstance(trunk, Block)
    return trunk


def named(layers: tuple[object, ...]) -> dict[str, object]:
    return {getattr(layer, "name", ""): layer for layer in layers}


@pytest.mark.parametrize("name", PARAMS)
def test_blocks_are_torchvisions_res_bottleneck_blocks(name: str) -> None:
    depths, widths, group_widths = STAGES[name]
    trunk = trunk_of(name)
    assert [stage.name for stage in trunk.layers] == [f"block{i}" for i in range(1, 5)]
    width_in = STEM
    for number, stage in enumerate(trunk.layers, start=1):
        assert isinstance(stage, Block)
        width, group_width = widths[number - 1], group_widths[number - 1]
        assert len(stage.layers) == depths[number - 1]
        for index, block in enumerate(stage.layers):
            assert isinstance(block, Parallel)
            assert (block.name, block.merge, block.act) == (f"block{number}-{index}", "add", "relu")
            body, shortcut = block.branches
            parts = named(body)
            stride = (2, 2) if index == 0 else (1, 1)
            a, b, c = parts["a"], parts["b"], parts["c"]
            assert isinstance(a, Conv)
            assert isinstance(b, Conv)
            assert isinstance(c, Conv)
            assert (a.out, a.kernel, a.stride, a.act) == (width, (1, 1), (1, 1), "relu")
            assert (b.out, b.kernel, b.stride, b.padding) == (width, (3, 3), stride, (1, 1))
            assert b.groups == width // group_width
            assert (c.out, c.kernel, c.act) == (width, (1, 1), "none")
            assert all(not conv.bias and conv.bn for conv in (a, b, c))
            if PARAMS[name].se:
                se = parts["se"]
                assert isinstance(se, Se)
                assert se.squeeze == round(0.25 * width_in)
                assert [layer.name for layer in body] == ["a", "b", "se", "c"]
            else:
                assert [layer.name for layer in body] == ["a", "b", "c"]
            if index == 0:
                (proj,) = shortcut
                assert isinstance(proj, Conv)
                assert (proj.name, proj.out, proj.kernel, proj.stride) == (
                    "proj", width, (1, 1), (2, 2),
                )  # fmt: skip
            else:
                assert shortcut == ()
            width_in = width


class Count(NamedTuple):
    mult_adds: int
    params: int
    bn_params: int


def conv(h_out: int, k: int, c_in: int, c_out: int, groups: int = 1) -> Count:
    """A bias-free conv with its batch norm."""
    weights = k * k * (c_in // groups) * c_out
    return Count(h_out * h_out * weights, weights, 2 * c_out)


def naive_regnet(name: str, alpha: Fraction, res: int) -> Count:
    """Stem, trunk, fc of the RegNet `name` from its stages: every width int(c * alpha), the
    group counts and squeeze widths those of alpha 1."""
    depths, widths, group_widths = STAGES[name]

    def scaled(c: int) -> int:
        return int(c * alpha)

    size = (res + 2 - 3) // 2 + 1
    parts = [conv(size, 3, 3, scaled(STEM))]
    width_in = STEM
    for depth, width, group_width in zip(depths, widths, group_widths, strict=True):
        for index in range(depth):
            stride = 2 if index == 0 else 1
            out = (size + 2 - 3) // stride + 1
            c_in, c = scaled(width_in), scaled(width)
            parts.append(conv(size, 1, c_in, c))
            parts.append(conv(out, 3, c, c, width // group_width))
            if PARAMS[name].se:
                squeeze = round(0.25 * width_in)
                parts.append(Count(2 * c * squeeze, 2 * c * squeeze + squeeze + c, 0))
            parts.append(conv(out, 1, c, c))
            if index == 0:
                parts.append(conv(out, 1, c_in, c))
            size, width_in = out, width
    last = scaled(width_in)
    parts.append(Count(last * CLASSES, last * CLASSES + CLASSES, 0))
    return Count(*(sum(column) for column in zip(*parts, strict=True)))


def mbcalc_count(name: str, setting: Settings) -> Count:
    cost = analyze(build_graph(load_shipped(name), setting)).total.cost
    return Count(cost.mult_adds, cost.params, cost.bn_params)


@pytest.mark.parametrize("name", PARAMS)
def test_counts_are_the_formulas_over_torchvisions_stages(name: str) -> None:
    res = load_shipped(name).input_size[0]
    assert mbcalc_count(name, Settings(res=res)) == naive_regnet(name, Fraction(1), res)


@pytest.mark.parametrize(
    ("name", "alpha", "res"),
    [
        ("regnet_x_400mf", Fraction(1, 2), 160),
        ("regnet_y_400mf", Fraction(1, 2), 224),
        ("regnet_x_8gf", Fraction(1, 4), 64),
        ("regnet_y_128gf", Fraction(1, 4), 64),
        ("regnet_y_800mf", Fraction(3, 2), 96),
    ],
)
def test_alpha_scales_the_widths_and_keeps_groups_and_squeezes(
    name: str, alpha: Fraction, res: int
) -> None:
    assert mbcalc_count(name, Settings(alpha=alpha, res=res)) == naive_regnet(name, alpha, res)


@pytest.mark.parametrize("name", PARAMS)
@pytest.mark.parametrize("alpha", [Fraction(1, 2), Fraction(1, 4)])
def test_a_half_or_a_quarter_of_every_width_divides_into_its_groups(
    name: str, alpha: Fraction
) -> None:
    assert mbcalc_count(name, Settings(alpha=alpha, res=64)) == naive_regnet(name, alpha, 64)


def test_an_alpha_that_splits_a_group_is_refused_in_one_line() -> None:
    # int(32 * 0.3) = 9 channels cannot make the 2 groups of block1-0's 3x3 conv
    result = invoke_mbcalc("table", "regnet_x_400mf", "--alpha", "0.3")
    assert result.exit_code == 1
    assert result.stdout == ""
    error = one_line_error(result)
    assert "regnet_x_400mf.yaml" in error
    assert "trunk_output.block1.block1-0.branch1.b" in error
    assert "groups: 2" in error


LONG_HAND = """\
input: {size: 64, channels: 3}
layers:
  - conv: {name: stem, out: 16, kernel: 3, stride: 2, padding: 1}
  - block:
      name: trunk
      layers:
        - block:
            name: block1
            layers:
              - parallel:
                  name: "block1-0"
                  merge: add
                  act: relu
                  branches:
                    - - conv: {name: a, out: 16, kernel: 1}
                      - conv: {name: b, out: 16, kernel: 3, stride: 2, padding: 1, groups: 2}
                      - se: {name: se, squeeze: 4}
                      - conv: {name: c, out: 16, kernel: 1, act: none}
                    - - conv: {name: proj, out: 16, kernel: 1, stride: 2, act: none}
        - block:
            name: block2
            layers:
              - parallel:
                  name: "block2-0"
                  merge: add
                  act: relu
                  branches:
                    - - conv: {name: a, out: 40, kernel: 1}
                      - conv: {name: b, out: 40, kernel: 3, stride: 2, padding: 1, groups: 5}
                      - se: {name: se, squeeze: 4}
                      - conv: {name: c, out: 40, kernel: 1, act: none}
                    - - conv: {name: proj, out: 40, kernel: 1, stride: 2, act: none}
              - parallel:
                  name: "block2-1"
                  merge: add
                  act: relu
                  branches:
                    - - conv: {name: a, out: 40, kernel: 1}
                      - conv: {name: b, out: 40, kernel: 3, padding: 1, groups: 5}
                      - se: {name: se, squeeze: 10}
                      - conv: {name: c, out: 40, kernel: 1, act: none}
                    - []
  - pool: {global: true}
  - fc: {out: 10}
"""

# depth 3, w0 16, wa 12, wm 2.5: continuous widths 16, 28, 40; log(w / 16) / log(2.5) rounds
# to 0, 1, 1; widths 16, 40, 40 (multiples of 8); group width 8: 2 and 5 groups.
CONSTRUCT = """\
input: {size: 64, channels: 3}
layers:
  - conv: {name: stem, out: 16, kernel: 3, stride: 2, padding: 1}
  - regnet: {name: trunk, depth: 3, w0: 16, wa: 12, wm: 2.5, group_width: 8, se: 0.25,
             stem_width: 16}
  - pool: {global: true}
  - fc: {out: 10}
"""


@pytest.mark.parametrize("alpha", [Fraction(1), Fraction(1, 2)])
def test_the_layer_is_the_trunk_written_out(alpha: Fraction) -> None:
    setting = Settings(alpha=alpha)
    expected = analyze(build_graph(parse_spec(LONG_HAND), setting))
    report = analyze(build_graph(parse_spec(CONSTRUCT), setting))
    ops = [(row.op.name, row.op.kind, row.op.output, row.cost) for row in report.rows]
    assert ops == [(row.op.name, row.op.kind, row.op.output, row.cost) for row in expected.rows]


def regnet_error(arguments: str) -> SpecError:
    text = textwrap.dedent(f"""\
        input: {{size: 64, channels: 3}}
        layers:
          - conv: {{out: 32, stride: 2}}
          - regnet: {{name: trunk, {arguments}}}
        """)
    with pytest.raises(SpecError) as caught:
        parse_spec(text, source="net.yaml")
    return caught.value


GOOD = "depth: 4, w0: 24, wa: 24.48, wm: 2.54, group_width: 16"


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ("depth: 4, w0: 20, wa: 24.48, wm: 2.54, group_width: 16", "`w0` must be a multiple of 8"),
        ("depth: 4, w0: 24, wa: -1, wm: 2.54, group_width: 16", "`wa` must be at least 0"),
        ("depth: 4, w0: 24, wa: 24.48, wm: 1, group_width: 16", "`wm` must be above 1"),
        ("depth: 4, w0: 24, wa: 24.48, wm: .nan, group_width: 16", "`wm` must be above 1"),
        ("depth: 4, w0: 24, wa: fast, wm: 2.54, group_width: 16", "`wa` must be a number"),
        ("depth: 0, w0: 24, wa: 24.48, wm: 2.54, group_width: 16", "`depth` must be at least 1"),
        ("depth: 20000, w0: 24, wa: 1, wm: 2.54, group_width: 16", "`depth` must be at most"),
        ("w0: 24, wa: 24.48, wm: 2.54, group_width: 16", "missing `depth`"),
        (f"{GOOD}, se: 0.25", "missing `stem_width`"),
        (f"{GOOD}, stem_width: 32", "`stem_width` sets the first squeeze-and-excite"),
        (f"{GOOD}, se: 1.5, stem_width: 32", "`se` must be in (0, 1]"),
        (f"{GOOD}, se: 0.01, stem_width: 32", "would have 0 channels"),
        (f"{GOOD}, bottleneck: 0.01", "leaves the first blocks no channels"),
        (f"{GOOD}, repeat: 2", "`repeat` does not apply to a `regnet` trunk"),
        (f"{GOOD}, act: relu", "`act` does not apply to a `regnet` trunk"),
        (f"{GOOD}, groups: 2", "unknown argument `groups`"),
        ("depth: 4, w0: 24, wa: 1000000000, wm: 2.54, group_width: 16", "a stage of"),
    ],
)
def test_bad_parameters_name_the_file_line_and_layer(arguments: str, words: str) -> None:
    error = regnet_error(arguments)
    assert (error.source, error.line, error.layer) == ("net.yaml", 4, "trunk")
    assert words in error.message, error.message
    assert "\n" not in str(error)


def test_a_bad_parameter_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(
        "input: {size: 64, channels: 3}\nlayers:\n  - conv: {out: 32}\n"
        "  - regnet: {depth: 4, w0: 24, wa: 24.48, wm: 0.5, group_width: 16}\n",
        encoding="utf-8",
    )
    result = invoke_mbcalc("table", str(spec))
    assert result.exit_code == 1
    assert one_line_error(result).startswith(f"{spec}:4: layer 'regnet1': `wm` must be above 1")
