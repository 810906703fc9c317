"""Multi-query attention (MobileNetV4's Mobile MQA): the `attention` layer's `kv_heads`,
`head_width`, `kv_stride` and `bias`; its ops, their counts, alpha's rule, the errors.

Expected figures are the modules' formulas recomputed here, on an H x W x C map with `heads`
query heads and `kv_heads` key and value heads of width d, keys and values from the map
down-sampled by stride s (M = ceil(H/s) * ceil(W/s) positions): query H*W*C*heads*d,
each down-sampling depthwise 3x3 M*C*9 (and a batch norm, 2C), each key and value projection
M*C*kv_heads*d, the products 2 * H*W * M * heads*d, the output projection H*W*heads*d*C.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest

from mbcalc import Report, Settings, SpecError, analyze, build_graph, parse_spec
from mbcalc.core.profiles import PROFILES, count
from mbcalc.deploy.memory import memory_report
from mbcalc.grid.sweep import sweep
from mbcalc.kinds import OpKind
from mbcalc.spec.zoo import load_shipped
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc
from tests.helpers.sweep_check import assert_grid_matches_table

OPS = (
    "attn.query.proj",
    "attn.key.down_conv",
    "attn.key.proj",
    "attn.value.down_conv",
    "attn.value.proj",
    "attn.attend",
    "attn.output.proj",
)


def report_of(
    arguments: str, size: tuple[int, int], channels: int, settings: Settings | None = None
) -> Report:
    text = (
        f"input: {{size: [{size[0]}, {size[1]}], channels: {channels}}}\nbatchnorm: false\n"
        f"layers:\n  - attention: {{name: attn, {arguments}}}\n"
    )
    return analyze(build_graph(parse_spec(text), settings))


def by_formula(
    size: tuple[int, int], c: int, heads: int, kv_heads: int, d: int, stride: int, bias: bool
) -> dict[str, tuple[int, int, int]]:
    """(mult-adds, params, BN params) of each op, from the modules' formulas."""
    n = size[0] * size[1]
    m = math.ceil(size[0] / stride) * math.ceil(size[1] / stride)
    q, kv = heads * d, kv_heads * d
    down = (m * c * 9, 9 * c, 2 * c)
    projection = (m * c * kv, c * kv + (kv if bias else 0), 0)
    ops = {
        "attn.query.proj": (n * c * q, c * q + (q if bias else 0), 0),
        "attn.key.down_conv": down,
        "attn.key.proj": projection,
        "attn.value.down_conv": down,
        "attn.value.proj": projection,
        "attn.attend": (2 * n * m * q, 0, 0),
        "attn.output.proj": (n * q * c, q * c + (c if bias else 0), 0),
    }
    if stride == 1:
        del ops["attn.key.down_conv"], ops["attn.value.down_conv"]
        ops["attn.key.proj"] = ops["attn.value.proj"] = (n * c * kv, projection[1], 0)
    return ops


@pytest.mark.parametrize(
    ("size", "c", "heads", "kv_heads", "d", "stride", "bias"),
    [
        ((14, 14), 160, 4, 1, 64, 2, False),  # Hybrid-M's stage 2 at 224
        ((7, 7), 256, 4, 1, 64, 1, False),  # its stage 3
        ((7, 9), 24, 4, 2, 8, 2, True),  # odd sizes: the down-sampled map rounds up
        ((5, 3), 12, 6, 3, 4, 3, False),
    ],
)
def test_multi_query_attention_is_its_modules_formulas(
    size: tuple[int, int], c: int, heads: int, kv_heads: int, d: int, stride: int, bias: bool
) -> None:
    arguments = f"heads: {heads}, kv_heads: {kv_heads}, head_width: {d}, kv_stride: {stride}"
    report = report_of(f"{arguments}, bias: {str(bias).lower()}", size, c)
    counts = {
        row.op.name: (row.cost.mult_adds, row.cost.params, row.cost.bn_params)
        for row in report.rows
    }
    assert counts == by_formula(size, c, heads, kv_heads, d, stride, bias)


def test_the_ops_read_the_map_and_its_down_sampled_copies() -> None:
    report = report_of("heads: 4, kv_heads: 1, head_width: 8, kv_stride: 2", (6, 5), 16)
    rows = {row.op.name: row.op for row in report.rows}
    assert tuple(rows) == OPS
    assert rows["attn.key.down_conv"].output == (3, 3, 16)
    assert rows["attn.value.proj"].output == (3, 3, 8)
    assert rows["attn.query.proj"].output == (6, 5, 32)
    assert rows["attn.attend"].output == (6, 5, 32)
    assert rows["attn.output.proj"].output == (6, 5, 16)
    query, key, value = (rows[f"attn.{part}.proj"].index for part in ("query", "key", "value"))
    assert rows["attn.attend"].sources == (query, key, value)
    assert rows["attn.attend"].kind is OpKind.ATTEND


@pytest.mark.parametrize("alpha", ["0.25", "0.5", "1.5"])
def test_alpha_scales_the_map_not_the_heads(alpha: str) -> None:
    """heads x head_width stay 4 x 64 (timm's builder scales a block's out channels only)."""
    spec = load_shipped("mobilenetv4_hybrid_medium")
    report = analyze(build_graph(spec, Settings(alpha=Fraction(alpha), res=96)))
    query = next(row.op for row in report.rows if row.op.name.endswith("attn.query.proj"))
    assert query.output[2] == 4 * 64
    assert query.input[2] == 160 * Fraction(alpha)  # a multiple of 8 at these alphas


def test_bias_false_drops_the_biases_of_global_attentions_projections() -> None:
    (qkv, attend, proj) = report_of("heads: 2, bias: false", (3, 3), 6).rows
    assert (qkv.op.name, qkv.cost.params) == ("attn.qkv", 6 * 18)
    assert (attend.cost.params, proj.cost.params) == (0, 6 * 6)


def test_head_width_alone_keeps_one_key_head_per_query_head() -> None:
    report = report_of("heads: 2, head_width: 3", (2, 2), 4)
    assert report.total.cost.mult_adds == sum(
        ops[0] for ops in by_formula((2, 2), 4, 2, 2, 3, 1, True).values()
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("heads: 4, kv_heads: 3, head_width: 8", "`kv_heads` (3) must divide `heads` (4)"),
        ("heads: 4, kv_heads: 1", "`kv_heads` below `heads` needs `head_width`"),
        ("heads: 4, kv_heads: 0, head_width: 8", "`kv_heads` must be at least 1"),
        ("heads: 4, head_width: 8, kv_stride: 0", "`kv_stride` must be at least 1"),
        ("heads: 4, head_width: 1.5", "`head_width` must be a whole number"),
        ("heads: 4, bias: 0", "`bias` must be true or false"),
        ("heads: 4, window: 2, kv_stride: 2", "`kv_stride` is multi-query attention's"),
        ("heads: 4, patch: 2, head_width: 8", "remove `head_width` or `patch`"),
    ],
)
def test_bad_multi_query_arguments_are_refused(arguments: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        report_of(arguments, (4, 4), 8)
    assert message in str(caught.value)


def test_a_bad_multi_query_layer_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        "input: {size: 8, channels: 8}\nlayers:\n"
        "  - pointwise: {out: 16}\n  - attention: {heads: 4, kv_heads: 1}\n"
    )
    result = invoke_mbcalc("table", str(spec))
    assert_clean_failure(result, 1, "bad.yaml:4", "attention1", "head_width")


def test_hybrid_medium_over_a_grid_equals_the_one_setting_engine() -> None:
    spec = load_shipped("mobilenetv4_hybrid_medium")
    alphas = [Fraction(1, 4), Fraction(1, 2), Fraction(3, 4), Fraction(1), Fraction(5, 4)]
    grid = sweep(spec, alphas, [33, 64, 96, 127, 224])
    assert grid.valid.all()
    assert_grid_matches_table(grid)


def test_the_attention_matrix_is_heads_by_queries_by_keys() -> None:
    # 4x4 map of 8 channels, 2 query heads of 4, one key head, keys from a 2x2 map
    report = report_of("heads: 2, kv_heads: 1, head_width: 4, kv_stride: 2", (4, 4), 8)
    memory = memory_report(report)
    (attend,) = (
        op for row, op in zip(report.rows, memory.ops, strict=True) if row.op.name == "attn.attend"
    )
    matrix = 2 * 16 * 4
    q, k, v = 16 * 8, 4 * 4, 4 * 4
    assert attend.input_bytes == 4 * (q + k + v + matrix)
    assert attend.output_bytes == 4 * (16 * 8 + matrix)


def test_thop_and_ptflops_miss_the_products_of_multi_query_attention() -> None:
    report = report_of("heads: 2, kv_heads: 1, head_width: 4, kv_stride: 2", (4, 4), 8)
    products = 2 * 16 * 4 * 8
    total = report.total.cost.mult_adds
    assert count(report, PROFILES["thop"]).mult_adds == total - products
    assert count(report, PROFILES["ptflops"]).mult_adds == total - products
    assert count(report, PROFILES["fvcore"]).mult_adds == total
