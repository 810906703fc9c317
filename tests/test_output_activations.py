"""Output activations (Dollár, Singh & Girshick, "Fast and Accurate Model Scaling",
arXiv:2103.06877): the elements of the outputs of convs, fcs and attention's products.

Against hand counts from each network's published shapes, against fvcore 0.1.5's
`ActivationCountAnalysis` (timm's `infer_macts`) on the modules mbcalc.torch builds, and in
every format of `table`, `compare` and `sweep`.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from fractions import Fraction
from typing import Any

import pytest

from mbcalc import Settings, analyze, build_graph, parse_spec
from mbcalc.core.graph import Graph
from mbcalc.kinds import OpKind
from mbcalc.spec.zoo import load_shipped
from tests.helpers.cli import ok
from tests.helpers.mobilenet_v1 import v1_activations_by_op

COUNTED = {OpKind.CONV, OpKind.DEPTHWISE, OpKind.FC, OpKind.ATTEND}
"""The op kinds fvcore's default handles see (convolutions and matrix products)."""


@pytest.mark.parametrize(("alpha", "side"), [(Fraction(1), 224), (Fraction(1, 2), 160)])
def test_mobilenet_v1_op_by_op(alpha: Fraction, side: int) -> None:
    report = analyze(build_graph(load_shipped("mobilenet_v1"), Settings(alpha, res=side)))
    counted = [row.activations for row in report.rows if row.op.kind in COUNTED]
    assert counted == v1_activations_by_op(alpha, side, side)
    assert report.total.activations == sum(v1_activations_by_op(alpha, side, side))


def test_vit_b_16_at_224_by_hand() -> None:
    """ViT-B/16 (arXiv:2010.11929, Table 1: width 768, MLP 3072, 12 heads, 12 layers) over
    196 patches and a class token. A layer writes q, k and v (3D per token), the attention
    matrix (heads x N x N), the weighted sum (D), the output projection (D), the MLP (3072, D)."""
    tokens, width, mlp, heads, layers = 14 * 14 + 1, 768, 3072, 12, 12
    layer = tokens * (3 * width + width + width + mlp + width) + heads * tokens * tokens
    expected = 14 * 14 * width + layers * layer + 1000  # the patch embedding, ..., the head
    assert analyze(build_graph(load_shipped("vit_b_16"))).total.activations == expected


def test_window_attention_counts_each_window_padded() -> None:
    """Swin T's first stage: a 56x56 map (224 / 4) in 7x7 windows, 3 heads of width 96."""
    report = analyze(build_graph(load_shipped("swin_t")))
    attend = next(row for row in report.rows if row.op.kind is OpKind.ATTEND)
    positions = 56 * 56
    assert attend.activations == 3 * positions * 7 * 7 + positions * 96


def test_free_ops_units_and_auxiliary_heads() -> None:
    """Pools, adds, norms, scaling, tokens...: none; a unit sums its ops; an auxiliary head
    (training only) none."""
    for name in ("mobilenet_v3_large", "resnet18", "swin_t", "mobilenetv4_hybrid_medium"):
        report = analyze(build_graph(load_shipped(name)))
        assert all(row.activations == 0 for row in report.rows if row.op.kind not in COUNTED)
        for unit in report.units:
            assert unit.activations == sum(row.activations for row in unit.rows)
    aux = analyze(build_graph(parse_spec(AUX_HEAD)))
    assert [row.activations for row in aux.rows if row.op.aux] == [0, 0, 0, 0]
    assert aux.total.activations == 8 * 8 * 8 + 8 * 8 * 16 + 10


AUX_HEAD = """
input: {size: 16, channels: 3}
layers:
  - conv: {out: 8, kernel: 3, stride: 2, padding: 1}
  - aux:
      name: head
      layers:
        - pool: {kind: avg, kernel: 4, stride: 4}
        - conv: {out: 4, kernel: 1}
        - pool: {global: true}
        - fc: {out: 10}
  - conv: {out: 16, kernel: 3, padding: 1}
  - pool: {global: true}
  - fc: {out: 10}
"""


# --- fvcore -------------------------------------------------------------------------------

FVCORE_SETTINGS = {
    "mobilenet_v1": Settings(),
    "resnet18": Settings(res=64),
    "vit_b_16": Settings(Fraction(1, 4), res=64),
    "mobilenetv4_hybrid_medium": Settings(Fraction(1, 2), res=96),  # multi-query attention
    "mobilenet_v3_large": Settings(Fraction(1, 2), res=96),  # squeeze-and-excite's fcs
    "efficientnet_b0": Settings(Fraction(1, 2), res=96),
    "swin_t": Settings(Fraction(1, 4), res=64),  # shifted windows, padded
    "swin_v2_t": Settings(Fraction(1, 4), res=64),  # cosine attention, continuous bias
    "mobilevit_xs": Settings(Fraction(1, 2), res=64),  # attention over patches
}


def fvcore_activations(graph: Graph) -> int:
    """fvcore's count (batch 1) on the module mbcalc.torch builds for `graph`."""
    torch = pytest.importorskip("torch")
    network = pytest.importorskip("mbcalc.pytorch.network")
    fvcore_nn = pytest.importorskip("fvcore.nn")
    logging.getLogger("fvcore").setLevel(logging.ERROR)
    height, width, channels = graph.input_shape
    module = network.Network(graph).eval()
    analysis = fvcore_nn.ActivationCountAnalysis(module, torch.zeros(1, channels, height, width))
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return int(analysis.total())


@pytest.mark.torch
@pytest.mark.parametrize("name", FVCORE_SETTINGS)
def test_equals_fvcore_activation_count(name: str) -> None:
    graph = build_graph(load_shipped(name), FVCORE_SETTINGS[name])
    assert analyze(graph).total.activations == fvcore_activations(graph)


@pytest.mark.torch
def test_an_auxiliary_head_is_not_counted_by_fvcore_either() -> None:
    graph = build_graph(parse_spec(AUX_HEAD))
    assert analyze(graph).total.activations == fvcore_activations(graph)


# --- reports ------------------------------------------------------------------------------

V1_TOTAL = sum(v1_activations_by_op(Fraction(1), 224, 224))


def test_table_summary_line() -> None:
    assert f"activations    {V1_TOTAL:,} (" in ok("table", "mobilenet_v1")


def test_json_layers_and_total() -> None:
    data: dict[str, Any] = json.loads(ok("table", "mobilenet_v1", "--format", "json"))
    counted = [layer["activations"] for layer in data["layers"] if layer["op"] in COUNTED]
    assert counted == v1_activations_by_op(Fraction(1), 224, 224)
    assert data["total"]["activations"] == V1_TOTAL


def test_csv_column_sums_to_the_total() -> None:
    rows = list(csv.DictReader(io.StringIO(ok("table", "mobilenet_v1", "--format", "csv"))))
    assert sum(int(row["activations"]) for row in rows) == V1_TOTAL


def test_markdown_summary() -> None:
    assert f"Activations: {V1_TOTAL:,} (" in ok("table", "mobilenet_v1", "--format", "markdown")


def test_compare_side_by_side() -> None:
    half = sum(v1_activations_by_op(Fraction(1), 112, 112))
    args = ("compare", "mobilenet_v1", "mobilenet_v1@res=112")
    data = json.loads(ok(*args, "--format", "json"))
    assert [column["total"]["activations"] for column in data["columns"]] == [V1_TOTAL, half]
    assert f"{half:,} activations ({half - V1_TOTAL:+,}, " in ok(*args)
    assert f"| {V1_TOTAL:,} |  |" in ok(*args, "--format", "markdown")
    rows = list(csv.DictReader(io.StringIO(ok(*args, "--format", "csv"))))
    totals = [int(row["activations"]) for row in rows if row["row"] == "total"]
    assert totals == [V1_TOTAL, half]
    units = [
        int(row["activations"]) for row in rows if row["row"] != "total" and row["column"] == "1"
    ]
    assert sum(units) == V1_TOTAL


def test_sweep_json_and_csv() -> None:
    args = ("sweep", "mobilenet_v1", "--alpha", "1", "--res", "224,112")
    records = json.loads(ok(*args, "--format", "json"))["settings"]
    expected = [V1_TOTAL, sum(v1_activations_by_op(Fraction(1), 112, 112))]
    assert [record["activations"] for record in records] == expected
    rows = list(csv.DictReader(io.StringIO(ok(*args, "--format", "csv"))))
    assert [int(row["activations"]) for row in rows] == expected
