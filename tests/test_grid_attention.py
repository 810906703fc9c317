"""Grid attention in MaxViT-T: the shipped spec over a sweep grid against the one-setting
engine, its maps padded up to whole partitions, and what the counting profiles see of a
relative position bias.

A grid of Mh x Mw positions spread evenly over an H x W map, padded up to whole windows:
Nq = ceil(H / Mh) * Mh * ceil(W / Mw) * Mw queries, each attending to the K = Mh * Mw positions
of its group, so the products cost 2 * Nq * K * D mult-adds (D the attention width); a
relative position bias table is (2 Mh - 1)(2 Mw - 1) params per head.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from mbcalc import Settings, analyze, build_graph, parse_spec
from mbcalc.core.profiles import PROFILES, count
from mbcalc.grid.sweep import sweep
from mbcalc.kinds import OpKind
from mbcalc.spec.zoo import load_shipped
from tests.helpers.sweep_check import assert_grid_matches_table

STAGE_CHANNELS = (64, 128, 256, 512)  # MaxViT-T's, heads of 32 channels


def test_maxvit_t_over_a_grid_equals_the_one_setting_engine() -> None:
    alphas = [Fraction(1, 4), Fraction(1, 2), Fraction(3, 4), Fraction(1)]
    grid = sweep(load_shipped("maxvit_t"), alphas, [32, 65, 97, 224, 320])
    assert grid.valid.all()
    assert_grid_matches_table(grid)


@pytest.mark.parametrize("res", [64, 97, 224])
def test_maxvit_t_pads_each_stage_map_up_to_whole_partitions(res: int) -> None:
    report = analyze(build_graph(load_shipped("maxvit_t"), Settings(alpha=Fraction(1, 4), res=res)))
    attends = [row for row in report.rows if row.op.kind is OpKind.ATTEND]
    assert [row.op.partition for row in attends[:2]] == ["block", "grid"]
    side = math.ceil(res / 2)  # the stem
    expected = []
    for channels, layers in zip(STAGE_CHANNELS, (2, 2, 5, 2), strict=True):
        side = math.ceil(side / 2)
        queries = (math.ceil(side / 7) * 7) ** 2
        width = channels // 4  # alpha 1/4, floored
        expected += [(2 * queries * 49 * width, 169 * (channels // 32))] * (2 * layers)
    assert [(row.cost.mult_adds, row.cost.params) for row in attends] == expected


def test_no_tool_counts_the_relative_position_bias() -> None:
    # 4x4 map of 8 channels, a 2x2 grid, 2 heads: what fvcore, thop and ptflops measured on
    # the module mbcalc.torch builds (tests/test_profiles_tools.py runs them on MaxViT-T)
    spec = parse_spec(
        "input: {size: 4, channels: 8}\nbatchnorm: false\nlayers:\n"
        "  - attention: {heads: 2, grid: 2, position_bias: relative}\n"
    )
    report = analyze(build_graph(spec))
    positions, table = 16, 3 * 3 * 2
    projections = positions * 8 * 24 + positions * 8 * 8
    products = 2 * positions * 4 * 8
    biases = positions * 24 + positions * 8  # qkv's and proj's, not the table's
    params = 8 * 24 + 24 + 8 * 8 + 8 + table
    assert report.total.cost.params == params
    assert count(report, PROFILES["fvcore"]).operations == projections + products
    thop = count(report, PROFILES["thop"])
    assert (thop.operations, thop.params) == (projections, params - table)
    assert count(report, PROFILES["ptflops"]).operations == projections + biases
    assert count(report, PROFILES["ptflops-aten"]).operations == projections + products + biases
