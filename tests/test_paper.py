"""The MobileNets paper reproduced: Howard et al., "MobileNets: Efficient Convolutional Neural
Networks for Mobile Vision Applications", arXiv:1704.04861 (2017).

Printed figures (as the paper prints them) are constants here, each with its table, and
are compared at the precision the paper prints them ("569M": to the million; "4.2M": to 0.1M).
Expected exact counts are derived in this file from the paper's own layer list (Table 1) and cost
formulas (section 3), never taken from mbcalc's output. Where a printed figure disagrees with the
exact formula, a test asserts the exact figure and the size of the disagreement, with the most
likely reason.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pytest

import mbcalc
from mbcalc import Report, Settings, analyze, build_graph, parse_spec
from mbcalc.core.by_type import Family, breakdown
from mbcalc.core.graph import OpKind
from mbcalc.spec.zoo import load_shipped

# -- printed precision -----------------------------------------------------------------------


def as_printed(count: int, printed: str) -> str:
    """`count` in millions, rounded half up to as many decimals as `printed` shows ("4.2M")."""
    decimals = len(printed.removesuffix("M").partition(".")[2])
    rounded = math.floor(Fraction(count, 10**6) * 10**decimals + Fraction(1, 2))
    if not decimals:
        return f"{rounded}M"
    whole, fraction = divmod(rounded, 10**decimals)
    return f"{whole}.{fraction:0{decimals}d}M"


def percent(part: int, whole: int) -> Fraction:
    """A share in percent, rounded half up to the 2 decimals of Table 2."""
    return Fraction(math.floor(Fraction(100 * part, whole) * 100 + Fraction(1, 2)), 100)


def test_as_printed_rounds_at_the_printed_precision() -> None:
    """The helper itself: 568,740,352 reads as 569M, 4,210,088 as 4.2M, 266,752 as 0.27M."""
    assert as_printed(568_740_352, "569M") == "569M"
    assert as_printed(4_210_088, "4.2M") == "4.2M"
    assert as_printed(266_752, "0.27M") == "0.27M"
    assert as_printed(1_320_648, "1.32M") == "1.32M"
    assert as_printed(29_550_000, "29.6M") == "29.6M"  # halves round up
    assert as_printed(290_675_200, "290M") == "291M"


# -- Table 1, the paper's layer list ---------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One row of Table 1: type, stride, filter shape and input size as printed."""

    kind: str  # "conv", "dw", "pool" or "fc"
    stride: int
    filter: tuple[int, ...]  # conv: (k, k, M, N); dw: (k, k, M); fc: (M, N)
    input: tuple[int, int, int]


def _unit(channels: int, out: int, size: int, stride: int) -> list[Row]:
    """A depthwise row and its 1x1 row, as Table 1 prints each separable unit."""
    return [
        Row("dw", stride, (3, 3, channels), (size, size, channels)),
        Row("conv", 1, (1, 1, channels, out), (size // stride, size // stride, channels)),
    ]


# Table 1 ("MobileNet Body Architecture"). The 13th depthwise row is printed "Conv dw / s2" on a
# 7x7x1024 input, but the next row's input is 7x7x1024 again: the stride must be 1 (as in every
# released implementation), and it is 1 here.
TABLE_1: tuple[Row, ...] = (
    Row("conv", 2, (3, 3, 3, 32), (224, 224, 3)),
    *_unit(32, 64, 112, 1),
    *_unit(64, 128, 112, 2),
    *_unit(128, 128, 56, 1),
    *_unit(128, 256, 56, 2),
    *_unit(256, 256, 28, 1),
    *_unit(256, 512, 28, 2),
    *[row for _ in range(5) for row in _unit(512, 512, 14, 1)],
    *_unit(512, 1024, 14, 2),
    *_unit(1024, 1024, 7, 1),
    Row("pool", 1, (7, 7), (7, 7, 1024)),
    Row("fc", 1, (1024, 1000), (1, 1, 1024)),
)


@dataclass(frozen=True)
class LayerCost:
    """Mult-adds, weights and biases of one layer, with its Table 2 type."""

    label: str
    mult_adds: int
    weights: int
    biases: int


def table1_costs(
    rows: tuple[Row, ...] = TABLE_1, alpha: Fraction = Fraction(1), resolution: int = 224
) -> Iterator[LayerCost]:
    """Section 3's formulas over Table 1's rows: D_K·D_K·M·N·D_F·D_F for a conv,
    D_K·D_K·M·D_F·D_F for a depthwise conv, M·N for the fc; D_F is the output side.

    Alpha scales every channel count by floor(alpha·c) except the 3 image channels and the 1000
    classes (section 4.2); the resolution scales every side (exactly, at 224/192/160/128).
    """

    def width(channels: int) -> int:
        return channels if channels in (3, 1000) else math.floor(alpha * channels)

    def out_side(row: Row) -> int:
        side = Fraction(row.input[0] * resolution, 224)
        assert side.denominator == 1, "the sides of Table 1 scale exactly at this resolution"
        return math.ceil(side / row.stride)

    for row in rows:
        if row.kind == "conv":
            k, _, m, n = row.filter
            label = "Conv 1x1" if k == 1 else "Conv 3x3"
            weights = k * k * width(m) * width(n)
            yield LayerCost(label, weights * out_side(row) ** 2, weights, 0)
        elif row.kind == "dw":
            k, _, m = row.filter
            weights = k * k * width(m)
            yield LayerCost("Conv DW 3x3", weights * out_side(row) ** 2, weights, 0)
        elif row.kind == "fc":
            m, n = row.filter
            yield LayerCost("FC", width(m) * n, width(m) * n, n)


def totals(costs: Iterator[LayerCost]) -> tuple[int, int]:
    """(mult-adds, params with biases) of a list of layer costs."""
    listed = list(costs)
    return sum(c.mult_adds for c in listed), sum(c.weights + c.biases for c in listed)


def conv_mobilenet(rows: tuple[Row, ...] = TABLE_1) -> tuple[Row, ...]:
    """Table 4's "Conv MobileNet": each depthwise row and its 1x1 row become one 3x3 conv of the
    same input channels, output channels and stride (section 4.1)."""
    result = []
    for row, after in itertools.pairwise(rows):
        if row.kind == "dw":
            n = after.filter[3]  # the output channels of the 1x1 row that follows
            result.append(Row("conv", row.stride, (3, 3, row.filter[2], n), row.input))
        elif not (row.kind == "conv" and row.filter[0] == 1):
            result.append(row)
    return (*result, rows[-1])


def shallow_mobilenet(rows: tuple[Row, ...] = TABLE_1) -> tuple[Row, ...]:
    """Table 5's "Shallow MobileNet": the 5 separable units at 14x14x512 removed (section 4.2)."""
    repeated = {
        Row("dw", 1, (3, 3, 512), (14, 14, 512)),
        Row("conv", 1, (1, 1, 512, 512), (14, 14, 512)),
    }
    return tuple(row for row in rows if row not in repeated)


# Exact anchors of MobileNet v1 1.0-224; test_table_1_anchors derives them from Table 1.
MOBILENET_MULT_ADDS = 568_740_352
MOBILENET_PARAMS = 4_210_088
MOBILENET_BN_PARAMS = 21_888
CONV_MOBILENET_MULT_ADDS = 4_867_293_184
FC_MULT_ADDS = 1024 * 1000


def report(name: str, **settings: Any) -> Report:
    """A shipped spec analyzed at the given settings."""
    return analyze(build_graph(load_shipped(name), Settings(**settings)))


# -- the shipped spec is Table 1 -------------------------------------------------------------


def test_shipped_mobilenet_is_table_1() -> None:
    """Every conv, depthwise and fc op of `mobilenet_v1` is the Table 1 row in the same place:
    same kind, kernel, stride, input shape and output channels."""
    kinds = {"conv": OpKind.CONV, "dw": OpKind.DEPTHWISE, "fc": OpKind.FC, "pool": OpKind.POOL}
    ops = report("mobilenet_v1").graph.ops
    assert len(ops) == len(TABLE_1)
    for op, row in zip(ops, TABLE_1, strict=True):
        assert op.kind is kinds[row.kind]
        assert op.input == row.input
        if row.kind in ("conv", "dw"):
            assert op.kernel == row.filter[:2]
            assert op.stride == (row.stride, row.stride)
            assert op.output[2] == (row.filter[3] if row.kind == "conv" else row.filter[2])
    assert ops[-1].output == (1, 1, 1000)


def test_table_1_anchors() -> None:
    """The exact MobileNet v1 figures follow from Table 1 and section 3's formulas."""
    assert totals(table1_costs()) == (MOBILENET_MULT_ADDS, MOBILENET_PARAMS)
    assert totals(table1_costs(conv_mobilenet()))[0] == CONV_MOBILENET_MULT_ADDS
    # BN follows the first conv and both parts of each of the 13 units, 2 per output channel:
    # 32 + (32 + 64 + 128 + 128 + 256 + 256 + 5·512 + 512 + 1024) + (64 + 2·128 + 2·256 + 6·512
    # + 2·1024) = 32 + 4,960 + 5,952 channels.
    bn_channels = sum(row.filter[-1] for row in TABLE_1 if row.kind in ("conv", "dw"))
    assert bn_channels == 32 + 4_960 + 5_952
    assert 2 * bn_channels == MOBILENET_BN_PARAMS


def test_mobilenet_totals() -> None:
    """MobileNet 1.0-224: the exact totals."""
    result = report("mobilenet_v1")
    assert result.total.cost.mult_adds == MOBILENET_MULT_ADDS
    assert result.total.cost.params == MOBILENET_PARAMS
    assert result.total.cost.bn_params == MOBILENET_BN_PARAMS
    assert result.total.standard_mult_adds == CONV_MOBILENET_MULT_ADDS
    assert round(float(result.total.reduction), 5) == 0.11685


def test_first_separable_unit() -> None:
    """sep1 (112x112x32 -> 64): 112·112·9·32 + 112·112·32·64 mult-adds, 9·32 + 32·64 params;
    its standard twin is 112·112·9·32·64."""
    sep1 = next(u for u in report("mobilenet_v1").units if u.unit.name == "sep1")
    assert sep1.cost.mult_adds == 112 * 112 * 9 * 32 + 112 * 112 * 32 * 64 == 29_302_784
    assert sep1.cost.params == 9 * 32 + 32 * 64 == 2_336
    assert sep1.standard_mult_adds == 112 * 112 * 9 * 32 * 64 == 231_211_008
    assert round(float(sep1.reduction or 0), 6) == 0.126736


def test_eight_to_nine_times_less_computation() -> None:
    """Section 3.1: 3x3 depthwise separable convolutions use "between 8 to 9 times less
    computation than standard convolutions"; over the whole network 4,867M / 569M = 8.56."""
    ratio = 1 / report("mobilenet_v1").total.reduction
    assert 8 < ratio < 9


def test_keras_total_adds_running_statistics() -> None:
    """Keras' MobileNet (1.0-224) `model.summary()` total is 4,253,864: weights,
    biases and 4 numbers per BN channel (scale, shift, running mean, running variance), that is
    params + 2·bn_params. PyTorch's trainable count is params + bn_params."""
    keras_total = 4_253_864
    total = report("mobilenet_v1").total.cost
    assert total.params + 2 * total.bn_params == keras_total
    assert keras_total == MOBILENET_PARAMS + 4 * (MOBILENET_BN_PARAMS // 2)


# -- Table 2: resources per layer type -------------------------------------------------------

TABLE_2_MULT_ADDS = {"Conv 1x1": "94.86", "Conv DW 3x3": "3.06", "Conv 3x3": "1.19", "FC": "0.18"}
TABLE_2_PARAMS = {"Conv 1x1": "74.59", "Conv DW 3x3": "1.06", "Conv 3x3": "0.02", "FC": "24.33"}


def table_2_rows() -> dict[str, tuple[int, int]]:
    """mbcalc's breakdown of MobileNet 1.0-224 under the paper's labels: (mult-adds, params)."""
    labels = {
        (Family.POINTWISE, (1, 1)): "Conv 1x1",
        (Family.DEPTHWISE, (3, 3)): "Conv DW 3x3",
        (Family.CONV, (3, 3)): "Conv 3x3",
        (Family.FC, None): "FC",
    }
    rows = {}
    for row in breakdown(report("mobilenet_v1")):
        if row.category.family is Family.POOL:
            assert row.cost.mult_adds == row.cost.params == 0  # the average pool
            continue
        label = labels[(row.category.family, row.category.kernel)]
        rows[label] = (row.cost.mult_adds, row.cost.params)
    return rows


def table_2_expected() -> dict[str, tuple[int, int, int]]:
    """(mult-adds, weights, biases) per Table 2 type, summed over Table 1."""
    sums: dict[str, tuple[int, int, int]] = {}
    for cost in table1_costs():
        m, w, b = sums.get(cost.label, (0, 0, 0))
        sums[cost.label] = (m + cost.mult_adds, w + cost.weights, b + cost.biases)
    return sums


def test_breakdown_is_importable_from_mbcalc() -> None:
    assert mbcalc.breakdown is breakdown


def test_table_2_breakdown_sums_table_1() -> None:
    """The breakdown's four types carry Table 1's sums, and nothing else costs anything."""
    expected = {label: (m, w + b) for label, (m, w, b) in table_2_expected().items()}
    assert table_2_rows() == expected
    assert expected["Conv 3x3"] == (112 * 112 * 3 * 3 * 3 * 32, 3 * 3 * 3 * 32)


@pytest.mark.parametrize("label", ["Conv 1x1", "Conv DW 3x3", "FC"])
def test_table_2_mult_add_shares(label: str) -> None:
    """Table 2's mult-add shares that the formula reproduces to 2 decimals."""
    rows = table_2_rows()
    total = sum(m for m, _ in rows.values())
    assert total == MOBILENET_MULT_ADDS
    assert percent(rows[label][0], total) == Fraction(TABLE_2_MULT_ADDS[label])


def test_table_2_conv_3x3_share_is_misprinted() -> None:
    """Table 2 prints 1.19% for the first 3x3 conv; the formula gives 1.91%
    (112·112·3·3·3·32 = 10,838,016 of 568,740,352): the two digits are transposed. With 1.19 the
    four printed shares sum to 99.29%; with 1.91 they sum to 100.01% (rounding)."""
    rows = table_2_rows()
    share = percent(rows["Conv 3x3"][0], MOBILENET_MULT_ADDS)
    assert rows["Conv 3x3"][0] == 10_838_016
    assert share == Fraction("1.91")
    assert share - Fraction(TABLE_2_MULT_ADDS["Conv 3x3"]) == Fraction("0.72")
    assert sorted(f"{float(share):.2f}") == sorted(TABLE_2_MULT_ADDS["Conv 3x3"])
    printed = sum(Fraction(v) for v in TABLE_2_MULT_ADDS.values())
    assert printed == Fraction("99.29")
    assert printed - Fraction(TABLE_2_MULT_ADDS["Conv 3x3"]) + share == Fraction("100.01")


@pytest.mark.parametrize("label", ["Conv DW 3x3", "Conv 3x3"])
def test_table_2_param_shares(label: str) -> None:
    """Table 2's param shares that the formula reproduces to 2 decimals as mbcalc counts params
    (weights and biases)."""
    rows = table_2_rows()
    assert percent(rows[label][1], MOBILENET_PARAMS) == Fraction(TABLE_2_PARAMS[label])


def test_table_2_param_shares_leave_out_the_fc_bias() -> None:
    """Table 2 prints 74.59% (Conv 1x1) and 24.33% (FC) of the parameters; with the FC's 1,000
    biases counted (mbcalc's params) the shares are 74.57% and 24.35%, 0.02 points off each.
    The printed figures are the shares of the weights alone (4,209,088): 3,139,584 / 4,209,088
    and 1,024,000 / 4,209,088, and the four printed shares then sum to exactly 100.00%."""
    rows = table_2_rows()
    pointwise, fc = rows["Conv 1x1"][1], rows["FC"][1]
    assert (pointwise, fc) == (3_139_584, 1_024_000 + 1_000)
    assert percent(pointwise, MOBILENET_PARAMS) == Fraction("74.57")
    assert percent(fc, MOBILENET_PARAMS) == Fraction("24.35")
    assert Fraction(TABLE_2_PARAMS["Conv 1x1"]) - Fraction("74.57") == Fraction("0.02")
    assert Fraction(TABLE_2_PARAMS["FC"]) - Fraction("24.35") == Fraction("-0.02")
    weights = MOBILENET_PARAMS - 1_000
    assert percent(pointwise, weights) == Fraction(TABLE_2_PARAMS["Conv 1x1"])
    assert percent(fc - 1_000, weights) == Fraction(TABLE_2_PARAMS["FC"])
    assert sum(Fraction(v) for v in TABLE_2_PARAMS.values()) == 100


# -- Table 3: one layer, 14x14x512 -> 512, kernel 3 ------------------------------------------


def one_layer(layer: str, channels: int, **settings: Any) -> Report:
    """A 14x14 input of `channels` channels through one layer."""
    text = f"input: {{size: 14, channels: {channels}}}\nlayers:\n  - {layer}\n"
    return analyze(build_graph(parse_spec(text, source="table3"), Settings(**settings)))


def test_table_3_standard_conv() -> None:
    """Table 3: a standard 3x3 conv, 14x14x512 -> 512: 462M mult-adds, 2.36M params."""
    result = one_layer("conv: {out: 512, kernel: 3}", 512)
    assert result.total.cost.mult_adds == 14 * 14 * 3 * 3 * 512 * 512
    assert result.total.cost.params == 3 * 3 * 512 * 512
    assert as_printed(result.total.cost.mult_adds, "462M") == "462M"
    assert as_printed(result.total.cost.params, "2.36M") == "2.36M"


def test_table_3_separable() -> None:
    """Table 3: the depthwise separable layer: 52.3M mult-adds, 0.27M params; its standard twin
    is the standard row."""
    result = one_layer("separable: {out: 512}", 512)
    (unit,) = result.units
    assert unit.cost.mult_adds == 14 * 14 * 9 * 512 + 14 * 14 * 512 * 512
    assert unit.cost.params == 9 * 512 + 512 * 512
    assert unit.standard_mult_adds == 14 * 14 * 3 * 3 * 512 * 512
    assert as_printed(unit.cost.mult_adds, "52.3M") == "52.3M"
    assert as_printed(unit.cost.params, "0.27M") == "0.27M"


# The paper's alpha = 0.75 thins the layer's input as well as its output: 512 -> 384 both sides.
# mbcalc never scales a spec's input channels (the spec format), so the one-layer spec that
# stands for "this layer inside a 0.75 network" takes 384 input channels, and alpha 0.75 scales
# its `out: 512` to 384.
def test_table_3_width_multiplier() -> None:
    """Table 3, alpha = 0.75: 29.6M mult-adds, 0.15M params (384 channels in and out)."""
    result = one_layer("separable: {out: 512}", 384, alpha=Fraction("0.75"))
    assert result.rows[-1].op.output == (14, 14, 384)
    assert result.total.cost.mult_adds == 14 * 14 * 9 * 384 + 14 * 14 * 384 * 384
    assert result.total.cost.params == 9 * 384 + 384 * 384
    assert as_printed(result.total.cost.mult_adds, "29.6M") == "29.6M"
    assert as_printed(result.total.cost.params, "0.15M") == "0.15M"


def test_table_3_resolution_multiplier() -> None:
    """Table 3, rho = 0.714 (224 -> 160) on top of alpha 0.75: 14 · 0.714 = 9.996, a 10x10 map:
    15.1M mult-adds, params unchanged at 0.15M."""
    result = one_layer("separable: {out: 512}", 384, alpha=Fraction("0.75"), rho=Fraction("0.714"))
    assert result.graph.resolution == (10, 10)
    assert result.total.cost.mult_adds == 10 * 10 * 9 * 384 + 10 * 10 * 384 * 384
    assert result.total.cost.params == 9 * 384 + 384 * 384
    assert as_printed(result.total.cost.mult_adds, "15.1M") == "15.1M"
    assert as_printed(result.total.cost.params, "0.15M") == "0.15M"


# -- Table 4: depthwise separable vs full convolutions ---------------------------------------


def test_table_4_mobilenet() -> None:
    """Table 4: MobileNet 569M mult-adds, 4.2M params."""
    total = report("mobilenet_v1").total.cost
    assert as_printed(total.mult_adds, "569M") == "569M"
    assert as_printed(total.params, "4.2M") == "4.2M"


def test_table_4_conv_mobilenet_params() -> None:
    """Table 4: Conv MobileNet's 29.3M params; it is MobileNet's standard twin, exactly."""
    result = report("mobilenet_v1_conv")
    expected = totals(table1_costs(conv_mobilenet()))
    assert (result.total.cost.mult_adds, result.total.cost.params) == expected
    assert result.total.cost.mult_adds == report("mobilenet_v1").total.standard_mult_adds
    assert as_printed(result.total.cost.params, "29.3M") == "29.3M"


def test_table_4_conv_mobilenet_mult_adds_differ() -> None:
    """Table 4 prints 4866M for Conv MobileNet; the formula gives 4,867,293,184, which is 4867M
    rounded and truncated alike: the printed figure is 1M (1,293,184) below. Leaving out the
    classifier (1024·1000 = 1,024,000) gives 4,866,269,184, which does print as 4866M: the most
    likely reading, though the same table's 569M for MobileNet does count the classifier."""
    mult_adds = report("mobilenet_v1_conv").total.cost.mult_adds
    assert mult_adds == CONV_MOBILENET_MULT_ADDS
    assert as_printed(mult_adds, "4866M") == "4867M"
    assert mult_adds // 10**6 == 4867
    assert mult_adds - 4866 * 10**6 == 1_293_184
    assert as_printed(mult_adds - FC_MULT_ADDS, "4866M") == "4866M"


# -- Table 5: narrow vs shallow --------------------------------------------------------------


def test_table_5_narrow() -> None:
    """Table 5: 0.75 MobileNet, 325M mult-adds, 2.6M params."""
    total = report("mobilenet_v1", alpha=Fraction("0.75")).total.cost
    assert (total.mult_adds, total.params) == totals(table1_costs(alpha=Fraction("0.75")))
    assert as_printed(total.mult_adds, "325M") == "325M"
    assert as_printed(total.params, "2.6M") == "2.6M"


def test_table_5_shallow() -> None:
    """Table 5: Shallow MobileNet (the five 14x14x512 units removed), 307M and 2.9M."""
    total = report("mobilenet_v1_shallow").total.cost
    assert (total.mult_adds, total.params) == totals(table1_costs(shallow_mobilenet()))
    assert as_printed(total.mult_adds, "307M") == "307M"
    assert as_printed(total.params, "2.9M") == "2.9M"


# -- Table 6: width multiplier ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("alpha", "mult_adds", "params"),
    [
        ("1.0", "569M", "4.2M"),
        ("0.75", "325M", "2.6M"),
        ("0.5", "149M", "1.3M"),
        ("0.25", "41M", "0.5M"),
    ],
)
def test_table_6_width_multiplier(alpha: str, mult_adds: str, params: str) -> None:
    """Table 6: MobileNet at alpha 1, 0.75, 0.5, 0.25 and resolution 224."""
    total = report("mobilenet_v1", alpha=Fraction(alpha)).total.cost
    assert (total.mult_adds, total.params) == totals(table1_costs(alpha=Fraction(alpha)))
    assert as_printed(total.mult_adds, mult_adds) == mult_adds
    assert as_printed(total.params, params) == params


# -- Table 7: resolution multiplier ----------------------------------------------------------


@pytest.mark.parametrize(("resolution", "mult_adds"), [(224, "569M"), (192, "418M"), (128, "186M")])
def test_table_7_resolution(resolution: int, mult_adds: str) -> None:
    """Table 7: MobileNet 1.0 at 224, 192 and 128; 4.2M params at every resolution."""
    total = report("mobilenet_v1", res=resolution).total.cost
    assert (total.mult_adds, total.params) == totals(table1_costs(resolution=resolution))
    assert as_printed(total.mult_adds, mult_adds) == mult_adds
    assert as_printed(total.params, "4.2M") == "4.2M"


def rho_squared_estimate(mult_adds_at_224: int, resolution: int) -> Fraction:
    """What section 4.2's "reduces computational cost by rho²" gives when applied to a whole
    network's total, classifier included."""
    return mult_adds_at_224 * Fraction(resolution, 224) ** 2


def test_table_7_160_differs() -> None:
    """Table 7 prints 290M at 160; the formula gives 290,675,200, i.e. 291M (0.675M above 290M).
    The convolutions do scale by rho² = (160/224)² exactly (every map side halves evenly from
    160), but the classifier after the global pool does not. Scaling the whole 224 total,
    classifier included, by rho² gives 290,173,649, which prints 290M; it also reproduces the
    192 and 128 rows (418M, 186M). Truncation does not explain it: 568.7M is printed as 569M."""
    mult_adds = report("mobilenet_v1", res=160).total.cost.mult_adds
    convolutions = (MOBILENET_MULT_ADDS - FC_MULT_ADDS) * Fraction(160, 224) ** 2
    assert mult_adds == convolutions + FC_MULT_ADDS == 290_675_200
    assert as_printed(mult_adds, "290M") == "291M"
    assert mult_adds - 290 * 10**6 == 675_200
    for resolution, printed in [(224, "569M"), (192, "418M"), (160, "290M"), (128, "186M")]:
        estimate = rho_squared_estimate(MOBILENET_MULT_ADDS, resolution)
        assert as_printed(math.floor(estimate + Fraction(1, 2)), printed) == printed
    assert MOBILENET_MULT_ADDS // 10**6 == 568


# -- Table 8: MobileNet against popular models -----------------------------------------------


def test_table_8_mobilenet() -> None:
    """Table 8: 1.0 MobileNet-224, 569M mult-adds and 4.2M params."""
    total = report("mobilenet_v1").total.cost
    assert as_printed(total.mult_adds, "569M") == "569M"
    assert as_printed(total.params, "4.2M") == "4.2M"


# VGG 16, configuration D (Simonyan & Zisserman, arXiv:1409.1556, Table 1): 3x3 convs with bias,
# padding 1; (maps side, channels out, count) per stage; 2x2 max pools between stages; then fc
# 7·7·512 -> 4096 -> 4096 -> 1000 with bias.
VGG16_STAGES = [(224, 64, 2), (112, 128, 2), (56, 256, 3), (28, 512, 3), (14, 512, 3)]
VGG16_FCS = [(7 * 7 * 512, 4096), (4096, 4096), (4096, 1000)]


def vgg16_convs() -> Iterator[tuple[int, int]]:
    """(mult-adds, params) of VGG 16's 13 convolutions."""
    channels = 3
    for side, out, count in VGG16_STAGES:
        for _ in range(count):
            weights = 3 * 3 * channels * out
            yield side * side * weights, weights + out
            channels = out


def test_table_8_vgg16_params() -> None:
    """Table 8: VGG 16 has 138M params (138,357,544, torchvision's count for vgg16)."""
    result = report("vgg16")
    convs = list(vgg16_convs())
    fc_params = sum(m * n + n for m, n in VGG16_FCS)
    assert result.total.cost.params == sum(p for _, p in convs) + fc_params == 138_357_544
    assert as_printed(result.total.cost.params, "138M") == "138M"


def test_table_8_vgg16_mult_adds_differ() -> None:
    """Table 8 prints 15300M for VGG 16; the formula gives 15,470,264,320 (15.47G), 170M (1.1%)
    above. The 13 convolutions alone make 15,346,630,656, which is 15.3G at the 3 significant
    figures printed: the printed figure most likely leaves out the three fc layers (123,633,664
    mult-adds)."""
    mult_adds = report("vgg16").total.cost.mult_adds
    conv_mult_adds = sum(m for m, _ in vgg16_convs())
    fc_mult_adds = sum(m * n for m, n in VGG16_FCS)
    assert mult_adds == conv_mult_adds + fc_mult_adds == 15_470_264_320
    assert as_printed(mult_adds, "15300M") == "15470M"
    assert as_printed(mult_adds - 15_300 * 10**6, "170M") == "170M"
    assert fc_mult_adds == 123_633_664
    assert round(conv_mult_adds, -8) == 15_300 * 10**6
    assert round(mult_adds, -8) == 15_500 * 10**6


# -- Table 9: a small MobileNet --------------------------------------------------------------


def test_table_9_params() -> None:
    """Table 9: 0.50 MobileNet-160 has 1.32M params (as 0.5 MobileNet-224: no dependence on
    resolution)."""
    total = report("mobilenet_v1", alpha=Fraction("0.5"), res=160).total.cost
    assert total.params == totals(table1_costs(alpha=Fraction("0.5")))[1]
    assert as_printed(total.params, "1.32M") == "1.32M"


def test_table_9_mult_adds_differ() -> None:
    """Table 9 prints 76M for 0.50 MobileNet-160; the formula gives 76,524,800, i.e. 77M (0.52M
    above 76M). As for Table 7's 160 row, rho² = (160/224)² applied to the whole 0.5-224 total
    (149,497,088, classifier included) gives 76,273,004, which prints 76M."""
    mult_adds = report("mobilenet_v1", alpha=Fraction("0.5"), res=160).total.cost.mult_adds
    at_224 = totals(table1_costs(alpha=Fraction("0.5")))[0]
    expected = totals(table1_costs(alpha=Fraction("0.5"), resolution=160))[0]
    assert at_224 == 149_497_088
    assert mult_adds == expected == (at_224 - 512 * 1000) * Fraction(160, 224) ** 2 + 512 * 1000
    assert mult_adds == 76_524_800
    assert as_printed(mult_adds, "76M") == "77M"
    assert mult_adds - 76 * 10**6 == 524_800
    assert as_printed(math.floor(rho_squared_estimate(at_224, 160)), "76M") == "76M"
