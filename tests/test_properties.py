"""Invariants of the counting, checked with Hypothesis on random units and random small networks.

- a separable unit's reduction is exactly 1/N + 1/(k_h·k_w) (the paper's section 3.1);
- params do not depend on resolution; mult-adds never fall as alpha or resolution grow;
- rows add up to units and to totals; the standard total swaps each separable unit for its twin;
- make_divisible (the MobileNetV2/V3 rounding) keeps its promises.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mbcalc import OpKind, Report, Settings, Spec, analyze, build_graph, parse_spec
from mbcalc.settings import make_divisible, scale_channels
from mbcalc.spec import LayerType
from mbcalc.zoo import load_shipped

FAST = settings(max_examples=150, deadline=None)

Layer = dict[str, dict[str, Any]]


def spec_of(
    layers: list[Layer],
    size: int | list[int],
    channels: int,
    rounding: str = "floor",
    divisor: int = 8,
) -> Spec:
    """A spec from plain data, written out as YAML text and parsed like a file."""
    data = {
        "input": {"size": size, "channels": channels},
        "rounding": rounding,
        "divisor": divisor,
        "layers": layers,
    }
    return parse_spec(yaml.safe_dump(data), source="<hypothesis>")


def cost_at(spec: Spec, **setting: Any) -> Report:
    return analyze(build_graph(spec, Settings(**setting)))


# -- strategies ------------------------------------------------------------------------------

kernels = st.one_of(st.integers(1, 5), st.lists(st.integers(1, 5), min_size=2, max_size=2))


@st.composite
def fitting_padding(draw: st.DrawFn, kernel: int | list[int]) -> str | list[int]:
    """`same`, or per-axis padding p with 2p >= k - 1, so a window fits any input size."""
    if draw(st.booleans()):
        return "same"
    k_h, k_w = kernel if isinstance(kernel, list) else (kernel, kernel)
    return [(k_h // 2) + draw(st.integers(0, 1)), (k_w // 2) + draw(st.integers(0, 1))]


@st.composite
def windowed(draw: st.DrawFn, kind: str, **args: Any) -> Layer:
    """A conv, depthwise or separable layer with a random kernel, stride and padding."""
    kernel = draw(kernels)
    stride = draw(st.one_of(st.integers(1, 2), st.lists(st.integers(1, 2), min_size=2, max_size=2)))
    return {
        kind: {"kernel": kernel, "stride": stride, "padding": draw(fitting_padding(kernel)), **args}
    }


# Each maker draws one layer for an input of `current` channels (at alpha 1) and returns it with
# its output channels; `out` is a drawn width, `fixed_width` says whether alpha stays 1.
LayerMaker = Callable[[st.DrawFn, int, int, bool], tuple[Layer, int]]


def _conv(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    groups = 1
    if fixed_width:  # at alpha 1 any common divisor of the two widths can be the group count
        shared = math.gcd(current, out)
        groups = draw(st.sampled_from([g for g in range(1, shared + 1) if shared % g == 0]))
    return draw(windowed("conv", out=out, groups=groups)), out


def _depthwise(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    multiplier = draw(st.integers(1, 3))
    return draw(windowed("depthwise", multiplier=multiplier)), current * multiplier


def _pointwise(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    return {"pointwise": {"out": out}}, out


def _separable(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    return draw(windowed("separable", out=out)), out


def _pool(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    window = draw(st.sampled_from([{"kind": "max", "kernel": 2}, {"kernel": 3, "stride": 2}]))
    return {"pool": {**window, "padding": 1}}, current  # padding 1 fits even a 1x1 input


def _se(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    return {"se": draw(st.sampled_from([{"ratio": 0.25}, {"ratio": 0.5}, {"squeeze": 3}]))}, current


def _concat(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    branches = [[{"pointwise": {"out": out}}], [{"conv": {"out": out, "kernel": 3}}], []]
    return {"parallel": {"merge": "concat", "branches": branches}}, current + 2 * out


def _residual(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    inner = [{"depthwise": {}}, {"pointwise": {"out": current}}]
    return {"block": {"residual": True, "layers": inner}}, current


def _add(draw: st.DrawFn, current: int, out: int, fixed_width: bool) -> tuple[Layer, int]:
    branches = [[{"pointwise": {"out": current}}], []]
    return {"parallel": {"merge": "add", "branches": branches}}, current


ANY_WIDTH: dict[str, LayerMaker] = {
    "conv": _conv,
    "depthwise": _depthwise,
    "pointwise": _pointwise,
    "separable": _separable,
    "pool": _pool,
    "se": _se,
    "concat": _concat,
}
FIXED_WIDTH_ONLY: dict[str, LayerMaker] = {"residual": _residual, "add": _add}


@st.composite
def networks(draw: st.DrawFn, *, fixed_width: bool = False, head: str = "any") -> Spec:
    """A random small network that builds at every resolution and every alpha >= 1/4.

    `fixed_width` also allows what only works at alpha 1: grouped convs, residual blocks and
    `add` merges. `head`: "any", or "global" (no classifier, or one after a global pool, so that
    no parameter depends on the resolution).
    """
    rounding = draw(st.sampled_from(["floor", "divisible"]))
    divisor = draw(st.sampled_from([1, 2, 4, 8]))
    # With `divisible` rounding even alpha 1 rounds every width to a multiple of the divisor:
    # networks that must keep their widths at alpha 1 are drawn with such widths.
    step = divisor if fixed_width and rounding == "divisible" else 1
    channels = draw(st.integers(1, 8)) * step
    makers = {**ANY_WIDTH, **(FIXED_WIDTH_ONLY if fixed_width else {})}
    current = channels
    layers: list[Layer] = []
    for kind in draw(st.lists(st.sampled_from(sorted(makers)), min_size=1, max_size=6)):
        out = -(-draw(st.integers(4, 24)) // step) * step
        layer, current = makers[kind](draw, current, out, fixed_width)
        layers.append(layer)
    classifier = {"fc": {"out": draw(st.integers(1, 20))}}
    heads = [[], [{"pool": {"global": True}}, classifier]]
    if head == "any":
        heads.append([classifier])
    layers += draw(st.sampled_from(heads))
    height = draw(st.integers(1, 24))
    width = draw(st.integers(-(-height // 2), 2 * height))  # keeps width >= 1 at any --res
    size: int | list[int] = height if height == width else [height, width]
    return spec_of(layers, size, channels, rounding, divisor)


resolutions = st.integers(1, 64)
alphas = st.integers(25, 200).map(lambda n: Fraction(n, 100))


def mobilenet(rounding: str) -> Spec:
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
    rounding: str, low: Fraction, extra: int
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
