"""Invariants of the counting, checked with Hypothesis on random units and random small networks.

- a separable unit's reduction is exactly 1/N + 1/(k_h·k_w) (the paper's section 3.1);
- params do not depend on resolution; mult-adds never fall as alpha or resolution grow;
- rows add up to units and to totals; the standard total swaps each separable unit for its twin;
- make_divisible (the MobileNetV2/V3 rounding) keeps its promises.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mbcalc import OpKind, Report, Settings, Spec, analyze, build_graph
from mbcalc.core.settings import make_divisible, scale_channels
from mbcalc.spec import LayerType, Rounding
from mbcalc.spec.zoo import load_shipped
from tests.helpers.strategies import networks, spec_of

FAST = settings(max_examples=150, deadline=None)


def cost_at(spec: Spec, **setting: Any) -> Report:
    return analyze(build_graph(spec, Settings(**setting)))


resolutions = st.integers(1, 64)
alphas = st.integers(25, 200).map(lambda n: Fraction(n, 100))


def mobilenet(rounding: Rounding) -> Spec:
    """The shipped MobileNet v1 under either rounding rule."""
    return dataclasses.replace(load_shipped("mobilenet_v1"), rounding=rounding)


# -- the separable reduction -----------------------------------------------------------------


@FAST
@given(
    channels=st.integers(1, 256),
    out=st.integers(1, 256),
    kernel=st.lists(st.integers(1, 7), min_size=2, max_size=2),
    stride=st.lists(st.integers(1, 3), min_size=2, max_size=2),
    size=st.lists(st.integers(1, 40), min_size=2, max_size=2),
    padding=st.one_of(st.just("same"), st.integers(0, 3)),
)
def test_separable_reduction_is_exact(
    channels: int,
    out: int,
    kernel: list[int],
    stride: list[int],
    size: list[int],
    padding: str | int,
) -> None:
    """(depthwise + pointwise) / standard == 1/N + 1/(k_h·k_w), as exact fractions."""
    if padding != "same":
        assert isinstance(padding, int)
        assume(all(side + 2 * padding >= k for side, k in zip(size, kernel, strict=True)))
    unit = {"out": out, "kernel": kernel, "stride": stride, "padding": padding}
    (row,) = cost_at(spec_of([{"separable": unit}], size, channels)).units
    expected = Fraction(1, out) + Fraction(1, kernel[0] * kernel[1])
    assert row.reduction == expected
    assert row.expected_reduction == expected


# -- resolution ------------------------------------------------------------------------------


@FAST
@given(
    spec=networks(fixed_width=True, head="global"),
    res=st.lists(resolutions, min_size=2, max_size=2),
)
def test_params_do_not_depend_on_resolution(spec: Spec, res: list[int]) -> None:
    """Weights, biases and BN params are the same at every input resolution."""
    first, second = (cost_at(spec, res=r).total.cost for r in res)
    assert (first.params, first.bn_params) == (second.params, second.bn_params)


@FAST
@given(res=st.integers(1, 448))
def test_mobilenet_params_do_not_depend_on_resolution(res: int) -> None:
    """MobileNet v1 has the same params at any resolution as at 224 (Table 7: 4.2M each)."""
    spec = load_shipped("mobilenet_v1")
    at_224, at_res = cost_at(spec).total.cost, cost_at(spec, res=res).total.cost
    assert (at_res.params, at_res.bn_params) == (at_224.params, at_224.bn_params)


@FAST
@given(spec=networks(fixed_width=True), low=resolutions, extra=st.integers(0, 32))
def test_mult_adds_never_fall_as_resolution_grows(spec: Spec, low: int, extra: int) -> None:
    """A larger input never costs fewer mult-adds (every map side is monotone in the input's)."""
    smaller = cost_at(spec, res=low).total
    larger = cost_at(spec, res=low + extra).total
    assert smaller.cost.mult_adds <= larger.cost.mult_adds
    assert smaller.standard_mult_adds <= larger.standard_mult_adds


@FAST
@given(low=st.integers(1, 448), extra=st.integers(0, 64))
def test_mobilenet_mult_adds_never_fall_as_resolution_grows(low: int, extra: int) -> None:
    """MobileNet v1 from 1x1 to 512x512."""
    spec = load_shipped("mobilenet_v1")
    smaller = cost_at(spec, res=low).total.cost.mult_adds
    assert smaller <= cost_at(spec, res=low + extra).total.cost.mult_adds


# -- width multiplier ------------------------------------------------------------------------


@FAST
@given(spec=networks(), low=alphas, extra=st.integers(0, 100))
def test_mult_adds_never_fall_as_alpha_grows(spec: Spec, low: Fraction, extra: int) -> None:
    """A wider network never costs less, under `floor` and `divisible` rounding alike."""
    high = low + Fraction(extra, 100)
    narrow, wide = cost_at(spec, alpha=low).total.cost, cost_at(spec, alpha=high).total.cost
    assert narrow.mult_adds <= wide.mult_adds
    assert narrow.params <= wide.params


@FAST
@given(
    rounding=st.sampled_from(["floor", "divisible"]),
    low=st.integers(4, 200).map(lambda n: Fraction(n, 100)),
    extra=st.integers(0, 50),
)
def test_mobilenet_mult_adds_never_fall_as_alpha_grows(
    rounding: Rounding, low: Fraction, extra: int
) -> None:
    """MobileNet v1 from alpha 0.04 to 2.5, steps of 0.01, both rounding rules."""
    spec = mobilenet(rounding)
    narrow = cost_at(spec, alpha=low).total.cost
    wide = cost_at(spec, alpha=low + Fraction(extra, 100)).total.cost
    assert narrow.mult_adds <= wide.mult_adds
    assert narrow.params <= wide.params


@FAST
@given(
    channels=st.integers(1, 2048),
    low=st.fractions(min_value=Fraction(1, 100), max_value=4, max_denominator=1000),
    extra=st.fractions(min_value=0, max_value=1, max_denominator=1000),
    rounding=st.sampled_from(["floor", "divisible"]),
    divisor=st.integers(1, 16),
)
def test_scaled_channels_never_fall_as_alpha_grows(
    channels: int, low: Fraction, extra: Fraction, rounding: str, divisor: int
) -> None:
    """Each layer's width is monotone in alpha under both rules, the root of the two tests above."""
    narrow = scale_channels(channels, low, rounding, divisor)
    assert narrow <= scale_channels(channels, low + extra, rounding, divisor)
    if rounding == "floor":
        assert narrow == math.floor(channels * low)


# -- sums ------------------------------------------------------------------------------------


@FAST
@given(spec=networks(fixed_width=True), res=resolutions)
def test_rows_and_units_sum_to_totals(spec: Spec, res: int) -> None:
    """Op rows sum to the total; so do units, since the only ops outside units are merges, which
    cost nothing."""
    result = cost_at(spec, res=res)
    total = result.total.cost
    assert sum(row.cost.mult_adds for row in result.rows) == total.mult_adds
    assert sum(row.cost.params for row in result.rows) == total.params
    assert sum(row.cost.bn_params for row in result.rows) == total.bn_params
    in_units = [index for unit in result.units for index in unit.unit.ops]
    assert len(in_units) == len(set(in_units))
    outside = [row for row in result.rows if row.op.index not in set(in_units)]
    assert all(row.op.kind in (OpKind.ADD, OpKind.CONCAT) for row in outside)
    assert all(row.cost.mult_adds == row.cost.params == row.cost.bn_params == 0 for row in outside)
    assert sum(unit.cost.mult_adds for unit in result.units) == total.mult_adds
    assert sum(unit.cost.params for unit in result.units) == total.params
    assert sum(unit.cost.bn_params for unit in result.units) == total.bn_params


@FAST
@given(spec=networks(), alpha=alphas, res=resolutions)
def test_standard_total_swaps_each_separable_unit_for_its_twin(
    spec: Spec, alpha: Fraction, res: int
) -> None:
    """total.standard_mult_adds == total - separable units + their standard twins, each twin
    being one k_h x k_w conv from the unit's input to its output: H_out·W_out·k_h·k_w·M·N."""
    result = cost_at(spec, alpha=alpha, res=res)
    separable = [unit for unit in result.units if unit.unit.type is LayerType.SEPARABLE]
    twins = 0
    for unit in separable:
        depthwise, pointwise = (result.rows[index].op for index in unit.unit.ops)
        assert depthwise.kernel is not None
        height, width, n = pointwise.output
        twin = height * width * depthwise.kernel[0] * depthwise.kernel[1] * depthwise.input[2] * n
        assert unit.standard_mult_adds == twin
        twins += twin
    total = result.total
    separable_cost = sum(unit.cost.mult_adds for unit in separable)
    assert total.standard_mult_adds == total.cost.mult_adds - separable_cost + twins
    others = [unit for unit in result.units if unit.unit.type is not LayerType.SEPARABLE]
    assert all(unit.standard_mult_adds is None for unit in others)


# -- make_divisible --------------------------------------------------------------------------

values = st.fractions(min_value=Fraction(1, 100), max_value=4096, max_denominator=100)


@FAST
@given(value=values, divisor=st.integers(1, 32))
def test_make_divisible(value: Fraction, divisor: int) -> None:
    """A multiple of the divisor, at least the divisor, at least 90% of the value, and less than
    one divisor above it."""
    result = make_divisible(value, divisor)
    assert result % divisor == 0
    assert result >= divisor
    assert result >= Fraction(9, 10) * value
    assert result < value + divisor


@FAST
@given(low=values, extra=values, divisor=st.integers(1, 32))
def test_make_divisible_is_monotone(low: Fraction, extra: Fraction, divisor: int) -> None:
    """A larger value never rounds to a smaller width (why `divisible` keeps alpha monotone)."""
    assert make_divisible(low, divisor) <= make_divisible(low + extra, divisor)


@FAST
@given(value=values, divisor=st.integers(1, 32))
def test_make_divisible_is_the_nearest_multiple_unless_too_small(
    value: Fraction, divisor: int
) -> None:
    """The nearest multiple of the divisor (halves up); the divisor where that is 0; one divisor
    more where it is below 90% of the value."""
    nearest = math.floor(value / divisor + Fraction(1, 2)) * divisor
    result = make_divisible(value, divisor)
    if nearest == 0:
        assert result == divisor
    elif nearest < Fraction(9, 10) * value:
        assert result == nearest + divisor
    else:
        assert result == nearest
