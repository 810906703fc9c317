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
from mbcalc.kinds import OpKind
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc


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


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("  - space_to_depth: {block: 0}\n", "block"),
        ("  - space_to_depth: {block: two}\n", "block"),
        ("  - space_to_depth: {size: 2}\n", "size"),
    ],
)
def test_a_bad_space_to_depth_is_one_line_naming_the_argument(body: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        report_of(body, (4, 4), 2)
    assert message in str(caught.value)


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
