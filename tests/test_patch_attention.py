"""MobileViT's pieces in the spec language: attention over patches (`attention: {patch: p}`)
and a block run on the map resized up to whole multiples (`block: {multiple: p}`).

Expected figures are formulas recomputed here: over an H x W map of width D cut into p x p
patches, each of the H*W queries meets the ceil(H/p)*ceil(W/p) keys at its offset, so the
products cost 2 * H*W * ceil(H/p)*ceil(W/p) * D; a resize is free in the paper's convention,
and costs fvcore 4 and ptflops 1 per output element where it changes the size (the tools'
rules, measured in tests/test_profiles_tools.py).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from mbcalc import Report, Settings, SpecError, analyze, build_graph, parse_spec
from mbcalc.core.by_type import Family, breakdown
from mbcalc.core.profiles import PROFILES, count
from mbcalc.grid.sweep import sweep
from mbcalc.kinds import OpKind
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc
from tests.helpers.sweep_check import assert_grid_matches_table


def spec_text(body: str, size: tuple[int, int], channels: int) -> str:
    return (
        f"input: {{size: [{size[0]}, {size[1]}], channels: {channels}}}\nbatchnorm: false\n"
        f"layers:\n{body}"
    )


def report_of(body: str, size: tuple[int, int], channels: int = 4) -> Report:
    return analyze(build_graph(parse_spec(spec_text(body, size, channels))))


RESIZED = """\
  - block:
      name: patches
      multiple: 2
      layers:
        - pointwise: {name: pw, out: 8, act: none}
"""


def ceil_to(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


@pytest.mark.parametrize("size", [(5, 7), (4, 6), (1, 1), (6, 3)])
def test_a_resized_blocks_layers_run_on_whole_multiples(size: tuple[int, int]) -> None:
    resize, pointwise, restore = report_of(RESIZED, size).rows
    up = (ceil_to(size[0], 2), ceil_to(size[1], 2))
    assert (resize.op.name, resize.op.kind) == ("patches.resize", OpKind.RESIZE)
    assert (resize.op.input, resize.op.output) == ((*size, 4), (*up, 4))
    assert pointwise.op.input == (*up, 4)
    assert pointwise.cost.mult_adds == up[0] * up[1] * 4 * 8
    assert (restore.op.name, restore.op.input, restore.op.output) == (
        "patches.restore",
        (*up, 8),
        (*size, 8),
    )
    assert resize.cost == restore.cost == type(resize.cost)(0, 0, 0)


@pytest.mark.parametrize("size", [(5, 7), (4, 6), (3, 3)])
def test_fvcore_and_ptflops_count_a_resize_that_changes_the_size(size: tuple[int, int]) -> None:
    report = report_of(RESIZED, size)
    up = (ceil_to(size[0], 2), ceil_to(size[1], 2))
    changed = up != size
    outputs = (up[0] * up[1] * 4 + size[0] * size[1] * 8) if changed else 0
    mult_adds = up[0] * up[1] * 4 * 8
    assert count(report, PROFILES["fvcore"]).operations == mult_adds + 4 * outputs
    assert count(report, PROFILES["ptflops"]).operations == mult_adds + outputs
    assert count(report, PROFILES["thop"]).operations == mult_adds


def test_the_breakdown_names_the_resizes() -> None:
    families = {row.category.family: row.ops for row in breakdown(report_of(RESIZED, (3, 3)))}
    assert families[Family.RESIZE] == 2


def test_a_resized_block_over_a_grid_equals_the_one_setting_engine() -> None:
    text = spec_text(
        "  - conv: {out: 8, stride: 2}\n" + RESIZED.replace("out: 8", "out: 16"), (16, 16), 3
    )
    grid = sweep(parse_spec(text), [Fraction(1, 2), Fraction(1), Fraction(3, 2)], [9, 10, 13, 16])
    assert grid.valid.all()
    assert_grid_matches_table(grid)


@pytest.mark.parametrize(
    ("multiple", "message"),
    [("0", "`multiple` must be at least 1"), ("[2, 2, 2]", "[height, width]"), ("two", "multiple")],
)
def test_a_bad_multiple_is_one_line_naming_it(multiple: str, message: str) -> None:
    body = RESIZED.replace("multiple: 2", f"multiple: {multiple}")
    with pytest.raises(SpecError) as caught:
        report_of(body, (4, 4))
    assert message in str(caught.value)


def test_a_bad_multiple_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(spec_text(RESIZED.replace("multiple: 2", "multiple: -2"), (4, 4), 4))
    assert_clean_failure(invoke_mbcalc("table", str(spec)), 1, "bad.yaml:6", "patches", "multiple")


def test_a_resized_block_at_a_setting_keeps_its_input_size() -> None:
    graph = build_graph(
        parse_spec(spec_text(RESIZED, (8, 8), 4)), Settings(alpha=Fraction(1, 2), res=11)
    )
    assert graph.ops[-1].output[:2] == (11, 11)
    assert graph.ops[0].output[:2] == (12, 12)
