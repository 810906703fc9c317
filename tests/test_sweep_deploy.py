"""The sweep's deployment arrays agree with `memory_report` and `roofline` at every setting.

Each cell of a grid swept with a number format, batch, BN folding and a device is compared
with the one-setting engine: `memory_report(analyze(build_graph(...)), dtype, batch, fold_bn)`
gives the peak activation bytes and the weight bytes (exactly), `roofline(...).seconds` the
latency (to a relative 1e-9: the sweep sums float64, the one-setting engine exact fractions).
Settings the one-setting engine refuses are invalid in the grid, with 0 in every array.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mbcalc import MbcalcError, Report, Settings, Spec, analyze, build_graph, parse_spec
from mbcalc.deploy.memory import DType, memory_report
from mbcalc.deploy.roofline import Device, parse_device, resolve_device, roofline, shipped_devices
from mbcalc.errors import SettingsError
from mbcalc.grid.bounds import INT64_SAFE
from mbcalc.grid.sweep import Grid, sweep
from mbcalc.spec.zoo import load_shipped
from tests.helpers.strategies import networks
from tests.helpers.zoo_cost import checked_in_full

JETSON = resolve_device("jetson-nano")
DEPTHWISE_PEAK = parse_device(
    "name: slow depthwise\nmult_adds_per_second: 35.6G\n"
    "depthwise_mult_adds_per_second: 6.6G\nbandwidth_bytes_per_second: 20G\nsource: made up\n",
    "slow-depthwise.yaml",
)
DEVICES = [JETSON, DEPTHWISE_PEAK]
OPTIONS = list(itertools.product(DType, (1, 4), (False, True), DEVICES))

Reports = dict[tuple[int, int], Report | None]


def reports_of(spec: Spec, alphas: list[Fraction], heights: list[int]) -> Reports:
    """The one-setting engine's report at every cell, None where it refuses the setting."""
    reports: Reports = {}
    for (a, alpha), (r, height) in itertools.product(enumerate(alphas), enumerate(heights)):
        try:
            reports[a, r] = analyze(build_graph(spec, Settings(alpha=alpha, res=height)))
        except MbcalcError:
            reports[a, r] = None
    return reports


def assert_deployment_matches(grid: Grid, reports: Reports) -> None:
    assert grid.peak_bytes is not None
    assert grid.weight_bytes is not None
    assert grid.dtype is not None
    for (a, r), report in reports.items():
        if report is None:
            assert not grid.valid[a, r]
            assert grid.peak_bytes[a, r] == grid.weight_bytes[a, r] == 0
            assert grid.latency is None or grid.latency[a, r] == 0
            continue
        assert grid.valid[a, r]
        memory = memory_report(report, grid.dtype, grid.batch, grid.fold_bn)
        cell = (grid.alphas[a], grid.resolutions[r])
        assert grid.peak_bytes[a, r] == memory.peak.bytes, cell
        assert grid.weight_bytes[a, r] == memory.weight_bytes, cell
        if grid.device is None:
            assert grid.latency is None
            continue
        assert grid.latency is not None
        seconds = float(roofline(memory, grid.device).seconds)
        assert grid.latency[a, r] == pytest.approx(seconds, rel=1e-9, abs=0), cell


@pytest.mark.parametrize("name", checked_in_full())
def test_every_shipped_spec_under_every_option(name: str) -> None:
    """Every number format, batch 1 and 4, BN folded or not, two devices; some cells invalid."""
    spec = load_shipped(name)
    alphas = [Fraction(n, 100) for n in (1, 25, 75, 100, 140)]  # 0.01: conv1 has no channels
    heights = [1, 7, 97, 160, 224]
    reports = reports_of(spec, alphas, heights)
    if spec.rounding == "floor":  # make_divisible never rounds a width down to nothing
        assert any(report is None for report in reports.values())  # invalid cells are covered
    for dtype, batch, fold_bn, device in OPTIONS:
        grid = sweep(
            spec, alphas, heights, dtype=dtype, batch=batch, fold_bn=fold_bn, device=device
        )
        assert (grid.dtype, grid.batch, grid.fold_bn, grid.device) == (
            dtype, batch, fold_bn, device,
        )  # fmt: skip
        assert_deployment_matches(grid, reports)


@settings(max_examples=60, deadline=None)
@given(
    spec=networks(fixed_width=True),
    alphas=st.lists(st.fractions(Fraction(1, 40), 3, max_denominator=40), min_size=1, max_size=4),
    heights=st.lists(st.integers(1, 48), min_size=1, max_size=4),
    chunk=st.integers(1, 12),
    dtype=st.sampled_from(DType),
    batch=st.sampled_from([1, 4]),
    fold_bn=st.booleans(),
    device=st.sampled_from([*DEVICES, *(resolve_device(name) for name in shipped_devices())]),
)
def test_random_networks_over_random_grids(
    spec: Spec,
    alphas: list[Fraction],
    heights: list[int],
    chunk: int,
    dtype: DType,
    batch: int,
    fold_bn: bool,
    device: Device,
) -> None:
    """Residuals, branches, SE and concat, random chunking, settings where shapes fail."""
    grid = sweep(
        spec, alphas, heights, chunk_cells=chunk, dtype=dtype, batch=batch, fold_bn=fold_bn,
        device=device,
    )  # fmt: skip
    assert_deployment_matches(grid, reports_of(spec, alphas, heights))


EVERY_FEATURE = """
input: {size: [12, 10], channels: 3}
rounding: divisible
divisor: 4
layers:
  - conv: {out: 16, stride: 2, bias: true}     # a bias and a BN: folding adds nothing
  - depthwise: {bias: true, multiplier: 2}
  - block:
      residual: true
      layers:
        - separable: {out: 24}
        - pointwise: {out: 32, bn: false}
  - parallel:
      merge: concat
      branches:
        - []                                   # the input read twice by the concat
        - []
        - [{pool: {kind: max, kernel: 3, stride: 1, padding: 1}}]
  - se: {ratio: 0.25}
  - conv: {out: 8, kernel: 3, padding: valid, groups: 4, scale: false}  # no fit below 3x3
  - pool: {global: true}
  - fc: {out: 10}
"""


@pytest.mark.parametrize(("fold_bn", "device"), list(itertools.product((False, True), DEVICES)))
def test_every_feature_by_hand(fold_bn: bool, device: Device) -> None:
    """Biases next to batch norms, a residual, an input read twice, SE, groups, a classifier."""
    spec = parse_spec(EVERY_FEATURE)
    alphas = [Fraction(n, 4) for n in (1, 2, 3, 4, 6)]
    heights = [1, 2, 5, 12, 30]
    reports = reports_of(spec, alphas, heights)
    assert 0 < sum(report is None for report in reports.values()) < len(reports)
    for dtype, batch in itertools.product(DType, (1, 4)):
        grid = sweep(
            spec, alphas, heights, chunk_cells=3, dtype=dtype, batch=batch, fold_bn=fold_bn,
            device=device,
        )  # fmt: skip
        assert_deployment_matches(grid, reports)


def test_the_options_leave_the_counts_alone() -> None:
    """Without options no deployment array; with them the cost arrays stay the same."""
    spec = load_shipped("mobilenet_v1")
    alphas, heights = [Fraction(n, 8) for n in range(1, 9)], [1, 96, 224]
    plain = sweep(spec, alphas, heights)
    assert (plain.peak_bytes, plain.weight_bytes, plain.latency, plain.dtype) == (None,) * 4
    full = sweep(spec, alphas, heights, dtype=DType.INT8, batch=4, fold_bn=True, device=JETSON)
    for name in ("mult_adds", "params", "bn_params", "valid"):
        before, after = getattr(plain, name), getattr(full, name)
        assert before.dtype == after.dtype, name
        assert np.array_equal(before, after), name


def test_chunking_does_not_change_the_deployment_arrays() -> None:
    spec = load_shipped("mobilenet_v1")
    alphas = [Fraction(n, 40) for n in range(1, 41)]
    heights = list(range(16, 256, 8))
    options = {"dtype": DType.FP16, "batch": 4, "device": DEPTHWISE_PEAK}
    whole = sweep(spec, alphas, heights, **options)  # type: ignore[arg-type]
    for chunk in (1, 7, 64, 333):
        parts = sweep(spec, alphas, heights, chunk_cells=chunk, **options)  # type: ignore[arg-type]
        for name in ("peak_bytes", "weight_bytes", "latency"):
            assert np.array_equal(getattr(parts, name), getattr(whole, name)), (chunk, name)


def test_mobilenet_v1_by_hand() -> None:
    """At 1.0-224, fp32: the peak is sep1.pw (112x112x(32+64) values); 4,210,088 params and
    10,944 BN channels with 4 values each (tests/test_memory.py works these out)."""
    grid = sweep(load_shipped("mobilenet_v1"), [Fraction(1)], dtype=DType.FP32)
    assert grid.peak_bytes is not None
    assert grid.weight_bytes is not None
    assert grid.peak_bytes[0, 0] == 112 * 112 * (32 + 64) * 4
    assert grid.weight_bytes[0, 0] == (4_210_088 + 4 * 10_944) * 4
    assert grid.latency is None
    folded = sweep(load_shipped("mobilenet_v1"), [Fraction(1)], dtype=DType.FP32, fold_bn=True)
    assert folded.weight_bytes is not None
    assert folded.weight_bytes[0, 0] == (4_210_088 + 10_944) * 4


@pytest.mark.parametrize(
    ("options", "dtype", "latency"),
    [
        ({"dtype": DType.INT8}, DType.INT8, False),
        ({"batch": 4}, DType.FP32, False),
        ({"fold_bn": True}, DType.FP32, False),
        ({"device": JETSON}, JETSON.dtype, True),  # the device's own number format
        ({"device": JETSON, "dtype": DType.FP32}, DType.FP32, True),
    ],
)
def test_any_option_asks_for_the_deployment_arrays(
    options: dict[str, object], dtype: DType, latency: bool
) -> None:
    """As `mbcalc.deploy.deployment.deploy`: the number format is the device's, else fp32."""
    spec = load_shipped("mobilenet_v1")
    grid = sweep(spec, [Fraction(1, 2), Fraction(1)], [160, 224], **options)  # type: ignore[arg-type]
    assert grid.dtype is dtype
    assert (grid.latency is not None) is latency
    assert_deployment_matches(grid, reports_of(spec, [Fraction(1, 2), Fraction(1)], [160, 224]))


def test_values_too_large_for_int64_stay_exact() -> None:
    """VGG 16 at a 5,000,000-pixel side passes 2**62 mult-adds: all in exact Python ints."""
    spec = load_shipped("vgg16")
    grid = sweep(spec, [Fraction(1)], [5_000_000], dtype=DType.FP32, batch=4, device=JETSON)
    assert int(grid.mult_adds[0, 0]) >= INT64_SAFE
    assert grid.peak_bytes is not None
    assert grid.weight_bytes is not None
    assert grid.peak_bytes.dtype == grid.weight_bytes.dtype == object
    assert_deployment_matches(grid, reports_of(spec, [Fraction(1)], [5_000_000]))


def test_a_large_batch_widens_only_the_deployment_arrays() -> None:
    """Mult-adds fit int64; times a batch of 10**9 they do not, so the deployment arithmetic
    runs in Python ints while the cost arrays keep their int64."""
    spec = load_shipped("mobilenet_v1")
    grid = sweep(spec, [Fraction(1)], [5_000], batch=10**9, device=DEPTHWISE_PEAK)
    assert grid.mult_adds.dtype == np.int64
    assert grid.peak_bytes is not None
    assert grid.peak_bytes.dtype == object
    assert int(grid.mult_adds[0, 0]) * 10**9 >= INT64_SAFE
    assert_deployment_matches(grid, reports_of(spec, [Fraction(1)], [5_000]))


@pytest.mark.parametrize("batch", [0, -1, True, 10**9 + 1])
def test_an_impossible_batch_is_refused(batch: int) -> None:
    with pytest.raises(SettingsError, match="batch"):
        sweep(load_shipped("mobilenet_v1"), [Fraction(1)], batch=batch)
