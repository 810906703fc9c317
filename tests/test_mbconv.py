"""The mbconv unit: expansion, depthwise, squeeze-and-excite, projection, residual.

Expected counts are worked out by hand from the unit's definition (Sandler et al. 2018,
arXiv:1801.04381, Table 1: 1x1 expansion to t*k channels, 3x3 depthwise with stride s, linear
1x1 projection), and the channel rules from torchvision's builders, quoted where used.
"""

from __future__ import annotations

import textwrap
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mbcalc import Report, Settings, SpecError, analyze, build_graph, parse_spec
from mbcalc.core.graph import OpKind
from mbcalc.grid.sweep import sweep
from tests.helpers.sweep_check import assert_grid_matches_table


def report_of(layers: str, size: int = 8, channels: int = 16, rounding: str = "floor") -> Report:
    text = f"input: {{size: {size}, channels: {channels}}}\nrounding: {rounding}\nlayers:\n"
    return analyze(build_graph(parse_spec(text + textwrap.indent(textwrap.dedent(layers), "  "))))


def test_an_inverted_residual_by_hand() -> None:
    """16 -> (x6) 96 -> dw 3x3 s2 -> 24 on 8x8, a BN after each conv, no residual (stride 2)."""
    report = report_of("- mbconv: {out: 24, expand: 6, stride: 2}")
    (unit,) = report.units
    names = [row.op.name for row in unit.rows]
    assert names == ["mbconv1.expand", "mbconv1.dw", "mbconv1.project"]
    expand, depthwise, project = (row.cost for row in unit.rows)
    assert (expand.mult_adds, expand.params, expand.bn_params) == (64 * 16 * 96, 16 * 96, 2 * 96)
    assert (depthwise.mult_adds, depthwise.params) == (16 * 9 * 96, 9 * 96)
    assert (project.mult_adds, project.params, project.bn_params) == (16 * 96 * 24, 96 * 24, 48)
    assert unit.rows[-1].op.output == (4, 4, 24)
    assert unit.rows[-1].op.act == "none"  # the projection is linear
    assert unit.rows[0].op.act == "relu6"
    # The standard twin: a full 3x3 conv 96 -> 96 with stride 2 instead of the depthwise one.
    full = 16 * 9 * 96 * 96
    assert unit.standard_mult_adds == unit.cost.mult_adds - depthwise.mult_adds + full
    assert report.total.standard_mult_adds == unit.standard_mult_adds
    assert unit.reduction_terms is None  # 1/N + 1/k^2 is the separable unit's, not this one's


def test_a_residual_joins_equal_shapes_at_stride_1() -> None:
    report = report_of("- mbconv: {out: 16, expand: 6}")
    ops = report.units[0].rows
    assert ops[-1].op.kind is OpKind.ADD
    assert ops[-1].op.sources == (-1, ops[-2].op.index)
    assert report.total.cost.mult_adds == 64 * 16 * 96 + 64 * 9 * 96 + 64 * 96 * 16


@pytest.mark.parametrize(
    ("layer", "has_add"),
    [
        ("{out: 24, expand: 6}", False),  # channels differ
        ("{out: 16, expand: 6, stride: 2}", False),  # size differs
        ("{out: 16, expand: 6, residual: never}", False),
    ],
)
def test_no_residual_where_shapes_differ_or_when_asked(layer: str, has_add: bool) -> None:
    kinds = [row.op.kind for row in report_of(f"- mbconv: {layer}").rows]
    assert (OpKind.ADD in kinds) == has_add


def test_no_residual_where_a_unit_without_expansion_shrinks_its_input() -> None:
    """A valid 3x3 depthwise conv takes 8x8 to 6x6: the shapes differ, so no add."""
    kinds = [row.op.kind for row in report_of("- mbconv: {out: 16, padding: 0}").rows]
    assert kinds == [OpKind.DEPTHWISE, OpKind.CONV]


def test_a_forced_residual_with_different_shapes_is_refused() -> None:
    with pytest.raises(SpecError, match="different shapes"):
        report_of("- mbconv: {out: 24, expand: 6, residual: always}")


@pytest.mark.parametrize("layer", ["{out: 24}", "{out: 24, expand: 1}", "{out: 24, expanded: 16}"])
def test_no_expansion_where_it_would_not_change_the_channels(layer: str) -> None:
    """torchvision: `if expand_ratio != 1` (V2), `if expanded != input` (V3, EfficientNet)."""
    names = [row.op.name for row in report_of(f"- mbconv: {layer}").rows]
    assert names == ["mbconv1.dw", "mbconv1.project"]


@pytest.mark.parametrize(
    ("rounding", "expanded"),
    [
        ("round", 12),  # int(round(5 * 2.5)) = round(12.5) = 12: Python rounds halves to even
        ("floor", 12),
        ("divisible", 16),  # make_divisible(12.5, 8): 16
    ],
)
def test_expansion_rounding(rounding: str, expanded: int) -> None:
    report = report_of(
        f"- mbconv: {{out: 8, expand: 2.5, expand_rounding: {rounding}}}", channels=5
    )
    assert report.rows[0].op.output[2] == expanded


def test_round_takes_halves_to_the_even_neighbour() -> None:
    """7 x 1.5 = 10.5 rounds to 10 and 5 x 1.5 = 7.5 to 8, as Python's round does."""
    assert report_of("- mbconv: {out: 8, expand: 1.5}", channels=7).rows[0].op.output[2] == 10
    assert report_of("- mbconv: {out: 8, expand: 1.5}", channels=5).rows[0].op.output[2] == 8


@pytest.mark.parametrize(
    ("se", "squeeze"),
    [
        ("se: 0.25", 96 // 4),  # a quarter of the expanded channels
        ("se: 0.25, se_base: input", 16 // 4),  # EfficientNet: a quarter of the unit's input
        ("se: 0.25, se_divisor: 8", 24),  # MobileNetV3: make_divisible(96 // 4, 8)
    ],
)
def test_squeeze_and_excite_widths(se: str, squeeze: int) -> None:
    report = report_of(f"- mbconv: {{out: 24, expand: 6, {se}}}")
    fc1, fc2 = (row for row in report.rows if row.op.kind is OpKind.FC)
    assert fc1.op.output[2] == squeeze
    assert fc1.cost.params == 96 * squeeze + squeeze
    assert fc2.cost.params == squeeze * 96 + 96
    assert fc1.cost.mult_adds + fc2.cost.mult_adds == 2 * 96 * squeeze


def test_the_v3_squeeze_rounds_up_past_90_percent() -> None:
    """torchvision MobileNetV3: _make_divisible(72 // 4, 8) = 24 (16 is under 90% of 18)."""
    report = report_of("- mbconv: {out: 24, expanded: 72, se: 0.25, se_divisor: 8}")
    fc1 = next(row for row in report.rows if row.op.kind is OpKind.FC)
    assert fc1.op.output[2] == 24


def test_expanded_channels_scale_with_alpha() -> None:
    layers = "- mbconv: {out: 40, expanded: 120}"
    report = analyze(
        build_graph(
            parse_spec(
                f"input: {{size: 8, channels: 16}}\nrounding: divisible\nlayers:\n  {layers}\n"
            ),
            Settings(alpha=Fraction(1, 2)),
        )
    )
    expand, _, project = report.rows
    assert expand.op.output[2] == 64  # make_divisible(60, 8): 64
    assert project.op.output[2] == 24  # make_divisible(20, 8): 24


@pytest.mark.parametrize(
    ("layer", "words"),
    [
        ("{out: 8, expand: 6, expanded: 96}", "not both"),
        ("{out: 8, expand_rounding: round}", "`expand_rounding` rounds"),
        ("{out: 8, se_base: input}", "give `se` too"),
        ("{out: 8, se: 1.5}", "(0, 1]"),
        ("{out: 8, expand: 0}", "(0, 1024]"),
        ("{out: 8, residual: maybe}", "auto"),
        ("{out: 8, scale: down}", "true, false or up"),
        ("{expand: 6}", "missing `out`"),
    ],
)
def test_mistakes_are_refused_with_the_line(layer: str, words: str) -> None:
    with pytest.raises(SpecError) as caught:
        report_of(f"- mbconv: {layer}")
    assert words in str(caught.value)
    assert caught.value.line == 4


# -- the vectorized sweep agrees ---------------------------------------------------------


@st.composite
def mbconv_networks(draw: st.DrawFn) -> str:
    """Random stacks of mbconv units over every argument, as spec text."""
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        args = [f"out: {draw(st.integers(4, 48))}", f"kernel: {draw(st.sampled_from([3, 5]))}"]
        args.append(f"stride: {draw(st.sampled_from([1, 1, 2]))}")
        choice = draw(st.sampled_from(["none", "expand", "expanded"]))
        if choice == "expand":
            ratio = draw(st.sampled_from(["1", "2.5", "4", "6"]))
            rounding = draw(st.sampled_from(["round", "floor", "divisible"]))
            args += [f"expand: {ratio}", f"expand_rounding: {rounding}"]
        elif choice == "expanded":
            args.append(f"expanded: {draw(st.integers(4, 96))}")
        if draw(st.booleans()):
            args.append(f"se: {draw(st.sampled_from(['0.25', '0.5']))}")
            args.append(f"se_base: {draw(st.sampled_from(['expanded', 'input']))}")
            if draw(st.booleans()):
                args.append("se_divisor: 8")
        lines.append("  - mbconv: {" + ", ".join(args) + "}")
    rounding = draw(st.sampled_from(["floor", "divisible"]))
    size = draw(st.integers(5, 40))
    return f"input: {{size: {size}, channels: 16}}\nrounding: {rounding}\nlayers:\n" + "\n".join(
        lines
    )


@settings(max_examples=60, deadline=None)
@given(
    text=mbconv_networks(),
    alphas=st.lists(
        st.sampled_from([Fraction(n, 8) for n in range(1, 13)]), min_size=1, max_size=4
    ),
    heights=st.lists(st.integers(1, 48), min_size=1, max_size=3),
)
def test_sweep_cells_equal_the_table(text: str, alphas: list[Fraction], heights: list[int]) -> None:
    assert_grid_matches_table(sweep(parse_spec(text), alphas, heights))


def test_units_sum_to_totals_with_adds_inside_units() -> None:
    report = report_of("- mbconv: {out: 16, expand: 6, se: 0.25}\n- mbconv: {out: 16, expand: 4}")
    assert sum(u.cost.mult_adds for u in report.units) == report.total.cost.mult_adds
