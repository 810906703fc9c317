"""Swin's pieces in the spec language: the space-to-depth of patch merging, attention in
shifted windows with its position bias, and the grid engine on them.

Expected figures are recomputed here: a space-to-depth of block b makes ceil(H/b) x ceil(W/b)
x b*b*C for free; attention in M x M windows on an H x W map pads it to whole windows,
Hp = ceil(H/M)*M (torchvision's `shifted_window_attention`), and runs qkv, the products
(Hp*Wp queries of M*M keys each: 2 * Hp*Wp * M*M * D) and proj on the padded map.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest

from mbcalc import Report, Settings, SpecError, analyze, build_graph, parse_spec
from mbcalc.core.by_type import Family, breakdown
from mbcalc.core.profiles import PROFILES, count
from mbcalc.grid.sweep import sweep
from mbcalc.kinds import OpKind
from mbcalc.spec.zoo import load_shipped
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc
from tests.helpers.sweep_check import assert_grid_matches_table


def report_of(
    body: str, size: tuple[int, int], channels: int, settings: Settings | None = None
) -> Report:
    text = (
        f"input: {{size: [{size[0]}, {size[1]}], channels: {channels}}}\nbatchnorm: false\n"
        f"layers:\n{body}"
    )
    return analyze(build_graph(parse_spec(text), settings))


@pytest.mark.parametrize("block", [2, 3])
@pytest.mark.parametrize(("size", "channels"), [((1, 1), 1), ((4, 6), 3), ((5, 7), 8)])
def test_space_to_depth_gathers_each_patch_into_the_channels_for_free(
    block: int, size: tuple[int, int], channels: int
) -> None:
    (row,) = report_of(f"  - space_to_depth: {{block: {block}}}\n", size, channels).rows
    assert row.op.kind is OpKind.SPACE_TO_DEPTH
    height, width = (math.ceil(side / block) for side in size)
    assert row.op.output == (height, width, block * block * channels)
    assert (row.cost.mult_adds, row.cost.params, row.cost.bn_params) == (0, 0, 0)


def test_patch_merging_costs_its_linear_on_the_gathered_map() -> None:
    # Swin's PatchMerging on a 7x7x6 map: padded to 8x8, 4x4 positions of 24 channels
    body = (
        "  - space_to_depth: {block: 2}\n  - norm: {kind: layer}\n"
        "  - pointwise: {out: 12, bias: false, act: none}\n"
    )
    merge, norm, reduction = report_of(body, (7, 7), 6).rows
    assert merge.op.output == norm.op.output == (4, 4, 24)
    assert norm.cost.params == 2 * 24
    assert (reduction.cost.mult_adds, reduction.cost.params) == (4 * 4 * 24 * 12, 24 * 12)


def test_the_breakdown_has_a_space_to_depth_family() -> None:
    report = report_of("  - space_to_depth: {}\n", (4, 4), 2)
    (row,) = breakdown(report)
    assert row.category.family is Family.SPACE_TO_DEPTH
    assert row.ops == 1


def test_a_bad_space_to_depth_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("input: {size: 4, channels: 8}\nlayers:\n  - space_to_depth: {block: -2}\n")
    assert_clean_failure(
        invoke_mbcalc("table", str(spec)), 1, "bad.yaml:3", "space_to_depth1", "block"
    )


def test_alpha_scales_the_gathered_channels() -> None:
    body = "  - conv: {out: 8, kernel: 1, act: none}\n  - space_to_depth: {}\n"
    _, merge = report_of(body, (6, 6), 3, Settings(alpha=Fraction(1, 2))).rows
    assert merge.op.output == (3, 3, 4 * 4)


SWIN_ATTENTION = "heads: {heads}, window: {window}, shift: true, padded: true, {bias}"


def swin_attention(heads: int, window: int, v2: bool) -> str:
    bias = "position_bias: continuous, cosine: true" if v2 else "position_bias: relative"
    return SWIN_ATTENTION.format(heads=heads, window=window, bias=bias)


@pytest.mark.parametrize(("size", "window"), [((5, 6), 3), ((7, 7), 7), ((3, 2), 4), ((9, 4), 2)])
def test_padded_window_attention_runs_qkv_the_products_and_proj_on_whole_windows(
    size: tuple[int, int], window: int
) -> None:
    heads, channels = 2, 6
    body = f"  - attention: {{{swin_attention(heads, window, v2=False)}}}\n"
    pad, qkv, attend, proj, crop = report_of(body, size, channels).rows
    padded = (math.ceil(size[0] / window) * window, math.ceil(size[1] / window) * window)
    positions = padded[0] * padded[1]
    assert [pad.op.kind, crop.op.kind] == [OpKind.PAD, OpKind.CROP]
    assert pad.op.output == (*padded, channels)
    assert qkv.cost.mult_adds == positions * channels * 3 * channels
    assert attend.cost.mult_adds == 2 * positions * window * window * channels
    assert attend.cost.params == (2 * window - 1) ** 2 * heads
    assert proj.cost.mult_adds == positions * channels * channels
    assert crop.op.output == (*size, channels)
    assert pad.cost == crop.cost == type(pad.cost)()


def test_the_shift_is_free() -> None:
    def costs(shift: str) -> list[tuple[int, int]]:
        body = f"  - attention: {{heads: 2, window: 3, shift: {shift}, padded: true}}\n"
        rows = report_of(body, (5, 5), 4).rows
        return [(row.cost.mult_adds, row.cost.params) for row in rows]

    assert costs("true") == costs("false")


@pytest.mark.parametrize(("size", "window", "heads"), [((8, 8), 8, 3), ((5, 3), 2, 4)])
@pytest.mark.parametrize("alpha", [Fraction(1), Fraction(1, 2)])
def test_a_continuous_position_bias_is_an_mlp_on_the_windows_offsets(
    size: tuple[int, int], window: int, heads: int, alpha: Fraction
) -> None:
    body = (
        "  - conv: {out: 16, kernel: 1, act: none}\n"
        f"  - attention: {{heads: {heads}, window: {window}, position_bias: continuous}}\n"
    )
    rows = report_of(body, size, 3, Settings(alpha=alpha)).rows
    _, _, positions, hidden, table, attend, _ = rows
    offsets = (2 * window - 1) ** 2  # whatever the map and alpha
    assert positions.op.kind is OpKind.POSITIONS
    assert positions.op.output == (2 * window - 1, 2 * window - 1, 2)
    assert (hidden.cost.mult_adds, hidden.cost.params) == (offsets * 2 * 512, 2 * 512 + 512)
    assert hidden.op.act == "relu"
    assert (table.cost.mult_adds, table.cost.params) == (offsets * 512 * heads, 512 * heads)
    assert attend.op.sources[1] == table.op.index  # the products read the table
    assert attend.cost.params == 0


@pytest.mark.parametrize("bias", ["none", "relative"])
def test_cosine_attention_learns_a_logit_scale_per_head(bias: str) -> None:
    body = f"  - attention: {{heads: 3, window: 2, cosine: true, position_bias: {bias}}}\n"
    _, attend, _ = report_of(body, (4, 4), 6).rows
    table = 3 * 3 * 3 if bias == "relative" else 0
    assert attend.cost.params == table + 3
    assert attend.cost.mult_adds == 2 * 16 * 4 * 6


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("space_to_depth: {block: 0}", "block"),
        ("space_to_depth: {block: two}", "block"),
        ("space_to_depth: {size: 2}", "size"),
        ("attention: {heads: 1, shift: true}", "`shift`"),
        ("attention: {heads: 1, grid: 2, padded: true}", "`padded`"),
        ("attention: {heads: 1, window: 2, shift: 1}", "`shift` must be true or false"),
        ("attention: {heads: 1, window: 2, cosine: 2}", "`cosine`"),
        ("attention: {heads: 1, patch: 2, position_bias: continuous}", "needs a window"),
        ("attention: {heads: 1, position_bias: continuous}", "needs a window"),
    ],
)
def test_bad_swin_layers_are_one_line_naming_the_argument(body: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        report_of(f"  - {body}\n", (4, 4), 2)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_bad_window_option_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        "input: {size: 4, channels: 8}\nlayers:\n  - attention: {heads: 2, shift: true}\n"
    )
    assert_clean_failure(invoke_mbcalc("table", str(spec)), 1, "bad.yaml:3", "attention1", "shift")


def test_the_tools_add_no_bias_for_a_position_bias_table_and_thop_skips_its_params() -> None:
    heads, channels = 2, 4
    body = f"  - attention: {{{swin_attention(heads, 2, v2=False)}}}\n"
    report = report_of(body, (4, 4), channels)
    projections = 16 * channels * 3 * channels + 16 * channels * channels
    biases = 16 * 3 * channels + 16 * channels  # qkv's and proj's outputs
    products = 2 * 16 * 4 * channels
    table = 3 * 3 * heads
    weights = 3 * channels * channels + 3 * channels + channels * channels + channels
    ptflops = count(report, PROFILES["ptflops"])
    assert (ptflops.operations, ptflops.params) == (projections + biases, weights + table)
    aten = count(report, PROFILES["ptflops-aten"])
    assert aten.operations == projections + biases + products
    assert count(report, PROFILES["thop"]).params == weights  # no rule for the products' module


@pytest.mark.parametrize("name", ["swin_t", "swin_v2_t"])
def test_a_swin_over_a_grid_equals_the_one_setting_engine(name: str) -> None:
    alphas = [Fraction(1, 4), Fraction(3, 10), Fraction(1, 2), Fraction(1)]
    grid = sweep(load_shipped(name), alphas, [32, 96, 160, 224, 250])
    assert grid.valid.all()
    assert_grid_matches_table(grid)


@pytest.mark.parametrize("alpha", [Fraction(3, 10), Fraction(1, 3)])
def test_alpha_keeps_every_swin_head_whole(alpha: Fraction) -> None:
    report = analyze(build_graph(load_shipped("swin_t"), Settings(alpha=alpha)))
    for row in report.rows:
        if row.op.kind is OpKind.ATTEND:
            assert row.op.output[2] % (row.op.groups or 1) == 0


def test_the_breakdown_names_swins_free_ops() -> None:
    result = invoke_mbcalc("breakdown", "swin_v2_t", "--res", "160")
    assert result.exit_code == 0, result.output
    for label in ("Space to depth", "Pad", "Crop", "Window offsets", "Attention products"):
        assert label in result.stdout
