"""Standalone norms (batch, layer, group) and layer scales: their counts, their errors, their
place in the profiles, the deployment view and the breakdown.

Expected figures come from the convention's formulas, recomputed here: a norm's scale and shift
are 2 values per channel (BN params for a batch norm, params for a layer or group norm), a layer
scale's factor 1 per channel, and none of them is a mult-add.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from mbcalc import Report, Settings, SpecError, analyze, build_graph, parse_spec
from mbcalc.core.by_type import breakdown
from mbcalc.core.norms import NORM_ELEMENTS
from mbcalc.core.profiles import PROFILES, Extra, ParamsRule, count, custom_profile, parse_extras
from mbcalc.deploy.memory import memory_report
from mbcalc.deploy.roofline import Bound, resolve_device, roofline
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc, ok

NORMS = {"batch": "", "layer": "", "group": ", groups: 4"}


def report_of(
    body: str, size: int = 6, channels: int = 8, settings: Settings | None = None
) -> Report:
    text = f"input: {{size: {size}, channels: {channels}}}\nbatchnorm: false\nlayers:\n{body}"
    return analyze(build_graph(parse_spec(text), settings))


@pytest.mark.parametrize("kind", NORMS)
@pytest.mark.parametrize(("size", "channels"), [(1, 4), (6, 8), (7, 12)])
def test_a_norm_is_two_values_per_channel_and_no_mult_adds(
    kind: str, size: int, channels: int
) -> None:
    (row,) = report_of(f"  - norm: {{kind: {kind}{NORMS[kind]}}}\n", size, channels).rows
    assert row.op.output == row.op.input == (size, size, channels)
    assert row.cost.mult_adds == 0
    # a batch norm folds into the conv before it: its BN params; the others stay as params
    assert row.cost.bn_params == (2 * channels if kind == "batch" else 0)
    assert row.cost.params == (0 if kind == "batch" else 2 * channels)


def test_a_layer_scale_is_one_param_per_channel() -> None:
    (row,) = report_of("  - layer_scale: {}\n", 5, 12).rows
    assert (row.cost.mult_adds, row.cost.params, row.cost.bn_params) == (0, 12, 0)
    assert row.op.output == (5, 5, 12)


def test_norms_follow_the_width_of_their_input() -> None:
    body = "  - conv: {out: 16}\n  - norm: {kind: group, groups: 2}\n  - layer_scale: {}\n"
    half = report_of(body, settings=Settings(alpha=Fraction(1, 2)))
    assert [row.cost.params for row in half.rows[1:]] == [2 * 8, 8]


def test_the_activation_after_a_norm_is_recorded() -> None:
    (row,) = report_of("  - norm: {act: relu}\n").rows
    assert row.op.act == "relu"


def test_params_and_bn_params_add_up_to_pytorchs_count() -> None:
    """conv 3x3 8 -> 16 (no bias), BN, layer norm, group norm, layer scale."""
    body = (
        "  - conv: {out: 16}\n  - norm: {}\n  - norm: {kind: layer}\n"
        "  - norm: {kind: group, groups: 4}\n  - layer_scale: {}\n"
    )
    total = report_of(body).total.cost
    assert total.params == 3 * 3 * 8 * 16 + 2 * 16 + 2 * 16 + 16
    assert total.bn_params == 2 * 16


@pytest.mark.parametrize(
    ("layer", "words"),
    [
        ("norm: {kind: group}", ["net.yaml:4", "norm1", "group norm needs `groups`"]),
        ("norm: {kind: layer, groups: 2}", ["net.yaml:4", "norm1", "not a layer norm's"]),
        ("norm: {kind: btach}", ["net.yaml:4", "must be one of batch, layer, group", "batch"]),
        ("norm: {kind: group, groups: 3}", ["net.yaml:4", "norm1", "`groups: 3` must divide"]),
        ("layer_scale: {init: 0.1}", ["net.yaml:4", "unknown argument `init`"]),
    ],
)
def test_a_wrong_norm_is_refused_in_one_line(tmp_path: Path, layer: str, words: list[str]) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(f"input: {{size: 4, channels: 8}}\nbatchnorm: false\nlayers:\n  - {layer}\n")
    assert_clean_failure(invoke_mbcalc("table", str(path)), 1, *words)


def test_group_norm_groups_that_stop_dividing_at_an_alpha_are_refused() -> None:
    spec = parse_spec("input: {size: 4, channels: 3}\nlayers:\n  - conv: {out: 8}\n"
                      "  - norm: {kind: group, groups: 4}\n")  # fmt: skip
    build_graph(spec, Settings(alpha=Fraction(1, 2)))  # 4 channels: 4 groups divide them
    with pytest.raises(SpecError, match="`groups: 4` must divide"):
        build_graph(spec, Settings(alpha=Fraction(3, 4)))  # 6 channels


def test_each_norm_has_its_own_count_key() -> None:
    """`--count` prices each kind's outputs: 6 x 6 x 8 = 288 elements each."""
    body = (
        "  - norm: {}\n  - norm: {kind: layer}\n  - norm: {kind: group, groups: 2}\n"
        "  - layer_scale: {}\n"
    )
    extras = parse_extras("bn=1,layer_norm=2,group_norm=3,layer_scale=4")
    counted = count(report_of(body), custom_profile(PROFILES["paper"], False, extras, None))
    assert counted.extras == {"bn": 288, "layer_norm": 2 * 288, "group_norm": 3 * 288,
                              "layer_scale": 4 * 288}  # fmt: skip


def test_the_norm_keys_are_profile_keys() -> None:
    assert {Extra(key) for key in NORM_ELEMENTS.values()} == {
        Extra.LAYER_NORM, Extra.GROUP_NORM, Extra.LAYER_SCALE
    }  # fmt: skip


def test_thop_counts_no_params_of_group_norms_and_layer_scales() -> None:
    body = "  - norm: {}\n  - norm: {kind: layer}\n  - norm: {kind: group, groups: 2}\n" + (
        "  - layer_scale: {}\n"
    )
    report = report_of(body)
    assert PROFILES["thop"].params is ParamsRule.THOP
    assert count(report, PROFILES["thop"]).params == 2 * 8 + 2 * 8  # the batch and layer norms'
    assert count(report, PROFILES["torch"]).params == 2 * 8 * 3 + 8


def test_params_thop_on_the_command_line() -> None:
    spec = "archs/convnext_tiny.yaml"
    data = json.loads(ok("table", spec, "--params", "thop", "--format", "json"))
    total = data["total"]
    layer_scales = 3 * 96 + 3 * 192 + 9 * 384 + 3 * 768
    assert total["counted"]["params"] == total["params"] - layer_scales


def test_a_norm_reads_and_writes_its_tensor() -> None:
    """6 x 6 x 8 fp32 values in and out; its weights are its params or BN values."""
    memory = memory_report(report_of("  - norm: {kind: layer}\n  - norm: {}\n"))
    layer, batch = memory.ops
    assert layer.input_bytes == layer.output_bytes == 6 * 6 * 8 * 4
    assert (layer.params, layer.bn_values, layer.weight_bytes) == (16, 0, 16 * 4)
    assert (batch.params, batch.bn_values) == (0, 4 * 8)  # scale, shift, running mean, variance


def test_folding_keeps_a_standalone_batch_norms_scale_and_shift() -> None:
    """No conv before it to fold into: it stays a per-channel scale and shift."""
    folded = memory_report(report_of("  - pool: {global: true}\n  - norm: {}\n"), fold_bn=True)
    assert (folded.params, folded.bn_values) == (2 * 8, 0)


def test_a_norm_is_memory_bound_on_the_roofline() -> None:
    report = report_of("  - conv: {out: 8}\n  - norm: {kind: layer}\n")
    times = roofline(memory_report(report), resolve_device("jetson-nano"))
    norm = times.ops[1]
    assert norm.compute_seconds == 0
    assert norm.bound is Bound.MEMORY


def test_norms_and_layer_scales_have_their_own_breakdown_rows() -> None:
    body = "  - conv: {out: 8}\n  - norm: {}\n  - norm: {kind: layer}\n  - layer_scale: {}\n"
    rows = {str(row.category): row for row in breakdown(report_of(body))}
    assert rows["norm"].ops == 2
    assert (rows["norm"].cost.params, rows["norm"].cost.bn_params) == (16, 16)
    assert rows["layer_scale"].cost.params == 8


def test_thop_counts_a_prelus_weight() -> None:
    report = report_of("  - conv: {out: 8, act: prelu}\n")
    assert count(report, PROFILES["thop"]).params == 3 * 3 * 8 * 8 + 1
