"""Roofline estimates against hand computation, device files, and the measured timings."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mbcalc import Spec, SpecError, analyze, build_graph, parse_spec
from mbcalc.core.graph import OpKind
from mbcalc.deploy.memory import DType, memory_report
from mbcalc.deploy.roofline import (
    DEFAULT_DEVICE,
    Bound,
    parse_device,
    repeated_sum,
    resolve_device,
    roofline,
    shipped_devices,
)
from mbcalc.spec.zoo import load_shipped
from tests.helpers.strategies import networks

TOY = parse_device(
    "name: toy\nmult_adds_per_second: 1000\nbandwidth_bytes_per_second: 100\nsource: made up\n",
    "toy.yaml",
)


def test_one_conv_by_hand() -> None:
    """conv 3x3 4->8 on 4x4 (same padding), fp32, no BN: M = 4*4*9*4*8, B = (64+128+288)*4."""
    spec = parse_spec(
        "input: {size: 4, channels: 4}\nbatchnorm: false\nlayers:\n  - conv: {out: 8}\n"
    )
    report = analyze(build_graph(spec))
    estimate = roofline(memory_report(report, DType.FP32), TOY)
    (op,) = estimate.ops
    mult_adds, moved = 16 * 9 * 4 * 8, (16 * 4 + 16 * 8 + 9 * 4 * 8) * 4
    assert (op.mult_adds, op.bytes) == (mult_adds, moved)
    assert op.compute_seconds == Fraction(mult_adds, 1000)
    assert op.memory_seconds == Fraction(moved, 100)
    assert op.seconds == max(Fraction(mult_adds, 1000), Fraction(moved, 100))
    assert op.bound is Bound.MEMORY  # 4.608 s of compute against 19.2 s of traffic
    assert op.intensity == Fraction(mult_adds, moved)
    assert estimate.seconds == op.seconds


def test_pooling_is_memory_bound() -> None:
    spec = parse_spec("input: {size: 4, channels: 2}\nlayers:\n  - pool: {global: true}\n")
    (op,) = roofline(memory_report(analyze(build_graph(spec))), TOY).ops
    assert op.mult_adds == 0
    assert op.bound is Bound.MEMORY
    assert op.seconds == Fraction((16 * 2 + 2) * 4, 100)


def test_a_depthwise_peak_slows_depthwise_ops_only() -> None:
    device = parse_device(
        "name: d\nmult_adds_per_second: 1000\ndepthwise_mult_adds_per_second: 10\n"
        "bandwidth_bytes_per_second: 1e9\nsource: made up\n",
        "d.yaml",
    )
    spec = parse_spec("input: {size: 4, channels: 4}\nlayers:\n  - separable: {out: 8}\n")
    report = analyze(build_graph(spec))
    depthwise, pointwise = roofline(memory_report(report), device).ops
    assert depthwise.compute_seconds == Fraction(16 * 9 * 4, 10)
    assert pointwise.compute_seconds == Fraction(16 * 4 * 8, 1000)


# Measured: each conv/fc layer of MobileNet v1 1.0-224 timed alone in PyTorch on a 2-core x86
# CPU, 1 thread, batch 1, fp32: depthwise 6.6 GMAC/s, pointwise 35.6 GMAC/s; depthwise layers
# took 14.4% of the time (3.06% of the mult-adds).
MEASURED_CPU = parse_device(
    "name: 2-core x86, 1 thread (measured)\nmult_adds_per_second: 35.6G\n"
    "depthwise_mult_adds_per_second: 6.6G\nbandwidth_bytes_per_second: 20G\n"
    "source: measured per-layer throughput\n",
    "measured.yaml",
)


def depthwise_share(device_text_or_device: object, dtype: DType = DType.FP32) -> float:
    report = analyze(build_graph(load_shipped("mobilenet_v1")))
    device = device_text_or_device
    assert not isinstance(device, str)
    estimate = roofline(memory_report(report, dtype), device)  # type: ignore[arg-type]
    depthwise = sum(
        (t.seconds for t, row in zip(estimate.ops, report.rows, strict=True)
         if row.op.kind is OpKind.DEPTHWISE),
        Fraction(0),
    )  # fmt: skip
    return float(estimate.time_share(depthwise))


def test_measured_throughputs_land_depthwise_where_measured() -> None:
    """With the measured per-type throughputs the estimate gives depthwise ~14.4% of the time."""
    assert depthwise_share(MEASURED_CPU) == pytest.approx(0.144, abs=0.01)


def test_depthwise_share_of_time_is_far_above_its_share_of_mult_adds() -> None:
    """On every shipped device the memory-bound depthwise ops take > 3.06% of the time."""
    for name in shipped_devices():
        device = resolve_device(name)
        assert depthwise_share(device, device.dtype) > 3 * 0.0306, name


def test_h200_at_batch_1_puts_depthwise_near_the_measured_share() -> None:
    """Measured on an H200 at batch 1, fp16: 42.6%. The vendor roofline lands in that region."""
    assert 0.25 < depthwise_share(resolve_device("h200-sxm"), DType.FP16) < 0.6


def test_shipped_devices_cite_their_sources() -> None:
    assert DEFAULT_DEVICE in shipped_devices()
    folder = Path(__file__).parent.parent / "mbcalc" / "deploy" / "devices"
    for name in shipped_devices():
        text = (folder / f"{name}.yaml").read_text(encoding="utf-8")
        assert text.startswith("# "), name
        assert "data sheet" in text or "product page" in text, name
        device = resolve_device(name)
        assert device.source
        assert device.ridge == device.mult_adds_per_second / device.bandwidth


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("name: x\nbandwidth_bytes_per_second: 1G\nsource: s\n", 1, "mult_adds_per_second"),
        ("name: x\nmult_adds_per_second: fast\nbandwidth_bytes_per_second: 1G\nsource: s\n", 2,
         "positive number"),
        ("name: x\nmult_adds_per_second: -1\nbandwidth_bytes_per_second: 1G\nsource: s\n", 2,
         "positive number"),
        ("name: x\nmult_adds_per_second: 1G\nbandwidth: 1G\nsource: s\n", 3, "unknown field"),
        ("name: x\nmult_adds_per_second: 1G\nbandwidth_bytes_per_second: 1G\n", 1, "source"),
        ("name: x\ndtype: fp64\nmult_adds_per_second: 1G\nbandwidth_bytes_per_second: 1G\n"
         "source: s\n", 2, "dtype"),
        ("- a\n- b\n", 1, "mapping"),
    ],
)  # fmt: skip
def test_bad_device_files_name_file_and_line(text: str, line: int, words: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_device(text, "dev.yaml")
    assert caught.value.source == "dev.yaml"
    assert caught.value.line == line
    assert words in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1


def test_an_unknown_device_name_lists_the_shipped_ones() -> None:
    with pytest.raises(SpecError, match="jetson-nano"):
        resolve_device("no-such-board")


@settings(max_examples=60, deadline=None)
@given(spec=networks(fixed_width=True))
def test_each_estimate_is_at_least_both_bounds(spec: Spec) -> None:
    estimate = roofline(memory_report(analyze(build_graph(spec))), TOY)
    for op in estimate.ops:
        assert op.seconds >= op.compute_seconds
        assert op.seconds >= op.memory_seconds
    assert estimate.seconds >= max(op.seconds for op in estimate.ops)


@given(st.lists(st.fractions(min_value=0, max_value=10**12, max_denominator=10**9), max_size=40))
def test_a_repeated_sum_is_the_sum_added_one_by_one(values: list[Fraction]) -> None:
    repeats = values + values[: len(values) // 2]  # some values more than once
    expected = Fraction(0)
    for value in repeats:
        expected += value
    assert repeated_sum(repeats) == expected
    assert isinstance(repeated_sum(repeats), Fraction)


def test_ops_alike_share_one_time_and_the_total_counts_each_op() -> None:
    report = analyze(build_graph(parse_spec(SEPARABLE_REPEATS)))
    estimate = roofline(memory_report(report), TOY)
    times = {id(op) for op in estimate.ops}
    assert len(times) < len(estimate.ops)
    expected = Fraction(0)
    for op in estimate.ops:
        expected += max(op.compute_seconds, op.memory_seconds)
    assert estimate.seconds == expected


SEPARABLE_REPEATS = (
    "input: {size: 8, channels: 8}\nlayers:\n  - separable: {out: 8, repeat: 20}\n"
    "  - pool: {global: true}\n  - fc: {out: 10}\n"
)


@pytest.mark.parametrize("name", ["shufflenet_v2_x1_0", "inception_v3"])
def test_ops_that_do_not_run_are_neither_timed_nor_counted_memory_bound(name: str) -> None:
    report = analyze(build_graph(load_shipped(name)))
    estimate = roofline(memory_report(report), TOY)
    idle = [op for op in report.graph.ops if op.aux or op.kind is OpKind.SPLIT]
    assert idle  # a split's slices (views) or an auxiliary head (training only)
    assert len(estimate.running) == len(report.graph.ops) - len(idle)
    assert all(time.seconds for time in estimate.running)
    bound = [t for t in estimate.ops if t.seconds and t.bound is Bound.MEMORY]
    assert estimate.memory_bound == len(bound)
