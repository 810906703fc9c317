"""The fused-MBConv unit and the EfficientNetV2 specs built from it.

Expected counts are worked out from the unit's definition (Tan & Le 2021, arXiv:2104.00298,
Figure 2: the expansion 1x1 conv and the depthwise k x k conv of an MBConv replaced by one
regular k x k conv) as torchvision's `FusedMBConv` builds it (torchvision/models/efficientnet.py):
with an expanded width unlike the input's, a k x k conv with the stride to it (BN, SiLU) and a
1x1 projection to the output (BN, no activation); otherwise one k x k conv with the stride to
the output (BN, SiLU); `use_res_connect = cnf.stride == 1 and cnf.input_channels ==
cnf.out_channels`. The V2 stage tables are torchvision's `_efficientnet_conf`.
"""

from __future__ import annotations

import math
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mbcalc import Report, Settings, SpecError, analyze, build_graph, parse_spec
from mbcalc.core.graph import OpKind
from mbcalc.core.report import OpRow
from mbcalc.grid.sweep import sweep
from mbcalc.spec import LayerType
from mbcalc.spec.zoo import load_shipped
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc, markdown_table, ok
from tests.helpers.sweep_check import assert_grid_matches_table
from tests.helpers.torchvision_figures import EFFICIENTNET_V2_STAGES, PUBLISHED


def spec_text(layers: str, size: int = 8, channels: int = 16, rounding: str = "floor") -> str:
    text = f"input: {{size: {size}, channels: {channels}}}\nrounding: {rounding}\nlayers:\n"
    return text + textwrap.indent(textwrap.dedent(layers), "  ")


def report_of(
    layers: str, size: int = 8, channels: int = 16, alpha: Fraction = Fraction(1)
) -> Report:
    spec = parse_spec(spec_text(layers, size, channels))
    return analyze(build_graph(spec, Settings(alpha=alpha)))


def names(report: Report) -> list[str]:
    return [row.op.name for row in report.rows]


# -- the unit by hand ------------------------------------------------------------------------


def test_an_expanding_unit_by_hand() -> None:
    """16 -> 3x3 s2 conv to 4 x 16 = 64 -> 1x1 to 24 on 8x8; no residual (stride 2)."""
    report = report_of("- fused_mbconv: {out: 24, expand: 4, stride: 2}")
    (unit,) = report.units
    assert unit.unit.type is LayerType.FUSED_MBCONV
    assert names(report) == ["fused_mbconv1.expand", "fused_mbconv1.project"]
    expand, project = (row.cost for row in unit.rows)
    assert (expand.mult_adds, expand.params, expand.bn_params) == (
        4 * 4 * 9 * 16 * 64,
        9 * 16 * 64,
        2 * 64,
    )
    assert (project.mult_adds, project.params, project.bn_params) == (
        4 * 4 * 64 * 24,
        64 * 24,
        2 * 24,
    )
    first, last = (row.op for row in unit.rows)
    assert (first.kernel, first.stride, first.groups, first.output) == (
        (3, 3),
        (2, 2),
        1,
        (4, 4, 64),
    )
    assert (last.kernel, last.stride, last.output) == ((1, 1), (1, 1), (4, 4, 24))
    assert (first.act, last.act) == ("swish", "none")  # EfficientNetV2's SiLU; a linear projection


def test_without_expansion_one_conv_goes_straight_to_out_and_adds_its_input() -> None:
    """torchvision's stage 1 of V2: FusedMBConvConfig(1, 3, 1, 24, 24, n), a 3x3 conv 24 -> 24
    with SiLU, and the input added."""
    report = report_of("- fused_mbconv: {out: 16, expand: 1, act: relu}")
    assert names(report) == ["fused_mbconv1.conv", "fused_mbconv1.add"]
    conv, add = report.rows
    assert (conv.cost.mult_adds, conv.cost.params, conv.cost.bn_params) == (
        8 * 8 * 9 * 16 * 16,
        9 * 16 * 16,
        2 * 16,
    )
    assert conv.op.act == "relu"  # the unit's activation follows the one conv
    assert add.op.kind is OpKind.ADD
    assert add.op.sources == (-1, conv.op.index)
    assert (add.op.act, add.cost.mult_adds) == ("none", 0)


@pytest.mark.parametrize("layer", ["{out: 24}", "{out: 24, expand: 1}", "{out: 24, expanded: 16}"])
def test_no_expansion_where_it_would_not_change_the_channels(layer: str) -> None:
    """torchvision: `if expanded_channels != cnf.input_channels`, else one conv to the output."""
    assert names(report_of(f"- fused_mbconv: {layer}")) == ["fused_mbconv1.conv"]


@pytest.mark.parametrize(
    ("layer", "has_add"),
    [
        ("{out: 16, expand: 4}", True),
        ("{out: 24, expand: 4}", False),  # channels differ
        ("{out: 16, expand: 4, stride: 2}", False),  # size differs
        ("{out: 16, expand: 4, residual: never}", False),
        ("{out: 16, expand: 4, kernel: 3, padding: 0}", False),  # a valid 3x3 shrinks 8 to 6
        ("{out: 16, expand: 1, kernel: 3, padding: 0}", False),  # likewise, with one conv
    ],
)
def test_a_residual_where_stride_1_keeps_the_shape(layer: str, has_add: bool) -> None:
    kinds = [row.op.kind for row in report_of(f"- fused_mbconv: {layer}").rows]
    assert (OpKind.ADD in kinds) == has_add


def test_a_forced_residual_with_different_shapes_is_refused() -> None:
    with pytest.raises(SpecError, match="different shapes"):
        report_of("- fused_mbconv: {out: 24, expand: 4, residual: always}")


@pytest.mark.parametrize(
    ("rounding", "expanded"),
    [
        ("round", 12),  # round(5 * 2.5) = round(12.5) = 12, halves to even
        ("floor", 12),
        ("divisible", 16),  # make_divisible(12.5, 8) = 16
    ],
)
def test_expansion_rounds_as_mbconvs_do(rounding: str, expanded: int) -> None:
    layer = f"- fused_mbconv: {{out: 8, expand: 2.5, expand_rounding: {rounding}}}"
    assert report_of(layer, channels=5).rows[0].op.output[2] == expanded


def test_widths_scale_with_alpha_by_the_specs_rounding() -> None:
    """`expanded` and `out` are scaled like an mbconv's: floor(64 / 2) and floor(40 / 2)."""
    report = report_of("- fused_mbconv: {out: 40, expanded: 64}", alpha=Fraction(1, 2))
    expand, project = report.rows
    assert (expand.op.output[2], project.op.output[2]) == (32, 20)


CASES = [
    (size, kernel, stride, expand, channels, out)
    for size, kernel, stride in [(8, 3, 1), (9, 3, 2), (7, 5, 2), (6, 1, 1)]
    for expand, channels, out in [(1, 8, 12), (2, 8, 12), (4, 6, 6), (6, 3, 5)]
]


@pytest.mark.parametrize(("size", "kernel", "stride", "expand", "channels", "out"), CASES)
def test_costs_are_the_textbook_forms(
    size: int, kernel: int, stride: int, expand: int, channels: int, out: int
) -> None:
    """H' = ceil(H / s) (SAME); E = C x t. k x k conv: H'^2 k^2 C E mult-adds and k^2 C E
    weights; projection: H'^2 E N and E N; without expansion one conv: H'^2 k^2 C N and k^2 C N;
    BN: 2 per output channel of each conv."""
    layer = f"- fused_mbconv: {{out: {out}, expand: {expand}, kernel: {kernel}, stride: {stride}}}"
    cost = report_of(layer, size=size, channels=channels).total.cost
    side = math.ceil(size / stride)
    width = channels * expand
    taps = kernel * kernel
    if width == channels:
        expected = (side**2 * taps * channels * out, taps * channels * out, 2 * out)
    else:
        expected = (
            side**2 * taps * channels * width + side**2 * width * out,
            taps * channels * width + width * out,
            2 * width + 2 * out,
        )
    assert (cost.mult_adds, cost.params, cost.bn_params) == expected


def test_a_fused_unit_has_no_standard_twin() -> None:
    """Nothing depthwise to replace: like a conv, no reduction; an mbconv beside it keeps its."""
    report = report_of(
        """
        - mbconv: {out: 16, expand: 2}
        - fused_mbconv: {out: 16, expand: 2}
        """
    )
    mbconv, fused = report.units
    assert fused.standard_mult_adds is None
    assert fused.reduction is None
    assert mbconv.standard_mult_adds is not None
    twin_extra = mbconv.standard_mult_adds - mbconv.cost.mult_adds
    assert twin_extra == 8 * 8 * 9 * 32 * 32 - 8 * 8 * 9 * 32  # full 3x3 32 -> 32 for the dw
    assert report.total.standard_mult_adds == report.total.cost.mult_adds + twin_extra


def test_the_tables_reduction_cell_is_empty_for_a_fused_unit(tmp_path: Path) -> None:
    path = tmp_path / "fused.yaml"
    path.write_text(
        spec_text("- mbconv: {out: 16, expand: 2}\n- fused_mbconv: {out: 16, expand: 2}\n"),
        encoding="utf-8",
    )
    rows = markdown_table(ok("table", str(path), "--format", "markdown"))
    header = rows[0]
    reduction = header.index("reduction")
    by_layer = {row[0]: row for row in rows[1:]}
    assert by_layer["**fused_mbconv1**"][1] == "fused_mbconv"
    assert by_layer["**fused_mbconv1**"][reduction] == ""
    assert by_layer["**mbconv1**"][reduction].endswith("of a full conv")


@pytest.mark.parametrize(
    ("layer", "words"),
    [
        ("{out: 8, expand: 4, expanded: 32}", "not both"),
        ("{out: 8, expand_rounding: round}", "`expand_rounding` rounds"),
        ("{out: 8, expand: 0}", "(0, 1024]"),
        ("{out: 8, residual: maybe}", "auto"),
        ("{out: 8, scale: down}", "true, false or up"),
        ("{out: 8, se: 0.25}", "unknown argument `se`"),  # torchvision's FusedMBConv has none
        ("{expand: 4}", "missing `out`"),
    ],
)
def test_mistakes_are_refused_with_the_line(layer: str, words: str) -> None:
    with pytest.raises(SpecError) as caught:
        report_of(f"- fused_mbconv: {layer}")
    assert words in str(caught.value)
    assert caught.value.line == 4


def test_the_command_line_refuses_a_mistake_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "fused.yaml"
    path.write_text(spec_text("- fused_mbconv: {out: 8, se: 0.25}\n"), encoding="utf-8")
    result = invoke_mbcalc("table", str(path))
    assert_clean_failure(result, 1, "fused.yaml:4", "fused_mbconv1", "unknown argument `se`")


@st.composite
def fused_networks(draw: st.DrawFn) -> str:
    """Random stacks of fused-MBConv units over their arguments, as spec text."""
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        args = [f"out: {draw(st.integers(4, 32))}", f"kernel: {draw(st.sampled_from([1, 3, 5]))}"]
        args.append(f"stride: {draw(st.sampled_from([1, 1, 2]))}")
        choice = draw(st.sampled_from(["none", "expand", "expanded"]))
        if choice == "expand":
            ratio = draw(st.sampled_from(["1", "2.5", "4"]))
            rounding = draw(st.sampled_from(["round", "floor", "divisible"]))
            args += [f"expand: {ratio}", f"expand_rounding: {rounding}"]
        elif choice == "expanded":
            args.append(f"expanded: {draw(st.integers(4, 64))}")
        lines.append("- fused_mbconv: {" + ", ".join(args) + "}\n")
    size = draw(st.integers(5, 40))
    return spec_text("".join(lines), size, 16, draw(st.sampled_from(["floor", "divisible"])))


@settings(max_examples=40, deadline=None)
@given(
    text=fused_networks(),
    alphas=st.lists(
        st.sampled_from([Fraction(n, 8) for n in range(1, 13)]), min_size=1, max_size=3
    ),
    heights=st.lists(st.integers(1, 48), min_size=1, max_size=3),
)
def test_sweep_cells_equal_the_table(text: str, alphas: list[Fraction], heights: list[int]) -> None:
    """The grid engine plans and counts fused units as the one-setting engine does."""
    assert_grid_matches_table(sweep(parse_spec(text), alphas, heights))


# -- EfficientNetV2 --------------------------------------------------------------------------

V2_STAGES = EFFICIENTNET_V2_STAGES


@pytest.mark.parametrize("name", V2_STAGES)
def test_efficientnet_v2_blocks_follow_torchvisions_stage_table(name: str) -> None:
    """Each block at torchvision's module path: its type, widths, stride and residual; the stem
    a 3x3/2 conv to the first stage's input, the head a 1x1 conv to 1280 and fc 1000."""
    report = analyze(build_graph(load_shipped(name), Settings(res=224)))
    units = {unit.unit.name: unit for unit in report.units}
    stages = V2_STAGES[name]
    stem = units["features.0"].rows[0].op
    assert (stem.kernel, stem.stride, stem.output) == ((3, 3), (2, 2), (112, 112, stages[0][4]))
    side = 112
    for number, (fused, ratio, kernel, stride, first_input, out, layers) in enumerate(stages, 1):
        for index in range(layers):
            unit = units[f"features.{number}.{index}"]
            c_in, s = (first_input, stride) if index == 0 else (out, 1)
            side = math.ceil(side / s)
            ops = [row.op for row in unit.rows]
            assert unit.unit.type is (LayerType.FUSED_MBCONV if fused else LayerType.MBCONV)
            assert ops[0].input[2] == c_in
            windowed = next(op for op in ops if op.kernel == (kernel, kernel))
            assert windowed.stride == (s, s)
            assert windowed.output[2] == (out if ratio == 1 else c_in * ratio)
            assert windowed.kind is (OpKind.CONV if fused else OpKind.DEPTHWISE)
            assert ops[-1].output == (side, side, out)
            assert (ops[-1].kind is OpKind.ADD) == (s == 1 and c_in == out)
    head = units[f"features.{len(stages) + 1}"].rows[0].op
    assert (head.kernel, head.input[2], head.output) == ((1, 1), stages[-1][5], (side, side, 1280))
    assert report.rows[-1].op.output[2] == 1000


@pytest.mark.parametrize("name", V2_STAGES)
def test_efficientnet_v2_block_counts(name: str) -> None:
    types = [unit.unit.type for unit in analyze(build_graph(load_shipped(name))).units]
    fused = sum(stage[-1] for stage in V2_STAGES[name] if stage[0])
    plain = sum(stage[-1] for stage in V2_STAGES[name] if not stage[0])
    assert (types.count(LayerType.FUSED_MBCONV), types.count(LayerType.MBCONV)) == (fused, plain)


# -- PyTorch ---------------------------------------------------------------------------------

UNITS = [
    "- fused_mbconv: {out: 24, expand: 4, stride: 2}",
    "- fused_mbconv: {out: 16, expand: 1}",
    "- fused_mbconv: {out: 16, expand: 4, kernel: 5}",
    "- fused_mbconv: {out: 12, expanded: 40, kernel: [3, 1], stride: [2, 1], padding: [1, 0]}",
]


@pytest.mark.torch
@pytest.mark.parametrize("layer", UNITS)
def test_verify_builds_each_form_and_agrees(layer: str) -> None:
    pytest.importorskip("torch")
    from mbcalc.pytorch import verify

    for size in (8, 9):
        spec = parse_spec(spec_text(layer, size=size))
        verification = verify(analyze(build_graph(spec)))
        assert verification.ok, verification.verdict


def weighted(report: Report) -> list[OpRow]:
    """The conv and fc ops in order: what torch's Conv2d and Linear hooks see."""
    return [row for row in report.rows if row.op.kind in (OpKind.CONV, OpKind.DEPTHWISE, OpKind.FC)]


@pytest.mark.torch
@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("efficientnet_v2_s", 384),
        pytest.param("efficientnet_v2_m", 128, marks=pytest.mark.slow),
        pytest.param("efficientnet_v2_l", 128, marks=pytest.mark.slow),
    ],
)
def test_torchvisions_efficientnet_v2_rebuilt_by_hand_agrees_op_by_op(name: str, size: int) -> None:
    """Trainable params, and per Conv2d / Linear in execution order: output shape, mult-adds,
    weights and biases, and the activation that follows (tests/helpers/efficientnet_v2_torch.py)."""
    pytest.importorskip("torch")
    from tests.helpers.efficientnet_v2_torch import EfficientNetV2
    from tests.helpers.mobile_torch import count

    counted = count(EfficientNetV2(name), size)
    if size == PUBLISHED[name].eval_size:  # the rebuild is torchvision's model
        assert counted.params == PUBLISHED[name].num_params
        assert (counted.mult_adds + 500_000) // 1_000_000 == PUBLISHED[name].gflops * 1000
    mine = analyze(build_graph(load_shipped(name), Settings(res=size)))
    assert counted.params == mine.total.cost.params + mine.total.cost.bn_params
    assert counted.mult_adds == mine.total.cost.mult_adds
    rows = weighted(mine)
    assert len(rows) == len(counted.layers)
    for row, layer in zip(rows, counted.layers, strict=True):
        where = (row.op.name, layer.name)
        assert row.op.output == layer.output, where
        assert (row.cost.mult_adds, row.cost.params) == (layer.mult_adds, layer.params), where
        if layer.act is not None:
            assert row.op.act == layer.act, where
