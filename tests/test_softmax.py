"""The softmax layer: declared with `- softmax: {}`, shapes unchanged, free by the paper's
convention, and counted by a profile only where declared."""

from __future__ import annotations

import json
import math
from pathlib import Path

from mbcalc import analyze, build_graph, parse_spec
from mbcalc.core.graph import OpKind
from mbcalc.core.profiles import PROFILES, count
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc, ok

SPEC = """
input: {size: 6, channels: 3}
layers:
  - conv: {out: 8, kernel: 3, stride: 2}
  - softmax: {}
  - pool: {global: true}
  - fc: {out: 10}
  - softmax:
"""


def test_a_softmax_keeps_its_input_shape_and_costs_nothing() -> None:
    report = analyze(build_graph(parse_spec(SPEC)))
    softmaxes = [row for row in report.rows if row.op.kind is OpKind.SOFTMAX]
    assert [row.op.name for row in softmaxes] == ["softmax1", "softmax2"]
    assert [row.op.output for row in softmaxes] == [(3, 3, 8), (1, 1, 10)]
    assert all(row.op.input == row.op.output for row in softmaxes)
    assert all(
        row.cost.mult_adds == row.cost.params == row.cost.bn_params == 0 for row in softmaxes
    )
    assert report.total.cost.mult_adds == 3 * 3 * 3 * 3 * 3 * 8 + 8 * 10


def test_profiles_count_each_declared_softmax_on_its_elements() -> None:
    """thop: exp and division per element, C - 1 additions per position; ptflops: 1 each."""
    report = analyze(build_graph(parse_spec(SPEC)))
    map_elements, map_positions, classes = 3 * 3 * 8, 3 * 3, 10
    thop = count(report, PROFILES["thop"]).extras
    assert thop["softmax"] == 2 * (map_elements + classes)
    assert thop["softmax_sum"] == map_elements - map_positions + classes - 1
    assert count(report, PROFILES["ptflops"]).extras["softmax"] == map_elements + classes
    assert "softmax" not in count(report, PROFILES["fvcore"]).extras


def test_the_json_report_names_the_op_kind(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(SPEC)
    layers = json.loads(ok("table", str(path), "-f", "json"))["layers"]
    softmax = [layer for layer in layers if layer["op"] == "softmax"]
    assert len(softmax) == 2
    assert all(layer["mult_adds"] == layer["params"] == 0 for layer in softmax)
    assert softmax[1]["input"] == softmax[1]["output"]


def test_a_softmax_takes_no_arguments(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text("input: {size: 4}\nlayers:\n  - conv: {out: 2}\n  - softmax: {dim: 1}\n")
    assert_clean_failure(invoke_mbcalc("table", str(path)), 1, "net.yaml:4", "softmax1", "`dim`")


def test_count_keys_narrow_by_activation_and_pool_form() -> None:
    """`act.relu=0` drops the ReLU cost only; `act=0` every activation's."""
    report = analyze(build_graph(parse_spec(SPEC)))
    relu = math.prod((3, 3, 8))  # the conv's outputs: its default activation is relu
    full = json.loads(ok("table", "mobilenet_v1", "-p", "ptflops", "-f", "json"))
    no_relu = json.loads(
        ok("table", "mobilenet_v1", "-p", "ptflops", "--count", "act.relu=0", "-f", "json")
    )
    no_act = json.loads(
        ok("table", "mobilenet_v1", "-p", "ptflops", "--count", "act=0", "-f", "json")
    )
    assert "act.relu" in full["total"]["counted"]["extras"]
    assert "act.relu" not in no_relu["total"]["counted"]["extras"]
    assert no_relu["total"]["counted"] == no_act["total"]["counted"]  # v1 has ReLUs only
    assert count(report, PROFILES["ptflops"]).extras["act.relu"] == 2 * relu


def test_bad_count_keys_are_usage_errors() -> None:
    for key, words in (
        ("act.nope", ("--count", "act qualifier 'nope'")),
        ("pool.round", ("--count", "pool qualifier 'round'")),
        ("bn.x", ("--count", "bn takes no qualifier")),
    ):
        assert_clean_failure(invoke_mbcalc("table", "mobilenet_v1", "--count", key), 2, *words)


def test_ptflops_aten_is_a_profile_by_name() -> None:
    """ptflops' aten backend: mult-adds and the fc's 1,000 biases, PyTorch's params."""
    data = json.loads(ok("table", "mobilenet_v1", "-p", "ptflops-aten", "-f", "json"))
    assert data["total"]["counted"]["operations"] == data["total"]["mult_adds"] + 1000
    assert (
        data["total"]["counted"]["params"] == data["total"]["params"] + data["total"]["bn_params"]
    )
