"""The deployment view on the command line: `table --memory/--device/--dtype/--batch/--fold-bn`,
`devices`, `roofline` (with `--plot`), and the same options of `compare` and `sweep`.

Every expected figure is derived here, never read from mbcalc's own output:

- the ops of MobileNet v1 (shapes, mult-adds, params, BN params) from the paper's Table 1 and
  formulas (`v1_ops`), checked against the paper's totals;
- activation bytes = height x width x channels x bytes per value x batch; weights = params plus 4
  values per BN channel (scale, shift, running mean and variance), or a bias of C_out values per
  BN conv without one when BN is folded; peak = the largest input + output of any op, since
  MobileNet v1 is a chain whose tensors die after their one reader (`Expected`);
- roofline time = max(mult-adds / peak, bytes moved / bandwidth), with the Jetson Nano's data
  sheet figures (472 GFLOPS FP16 = 236 G mult-adds/s, 25.6 GB/s) or the throughputs measured per
  layer on a 2-core CPU (share of mult-adds against share of time).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shlex
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from mbcalc.views.convention import CONVENTION
from tests.helpers.cli import (
    LAYER_KEYS,
    PNG_MAGIC,
    assert_clean_failure,
    invoke_mbcalc,
    markdown_table,
    ok,
    ok_plotting,
    one_line_error,
)
from tests.helpers.docs import read_page
from tests.helpers.mobilenet_v1 import (
    V1_BN_PARAMS,
    V1_CLASSES,
    V1_MULT_ADDS,
    V1_PARAMS,
    V1_SEPARABLE,
    V1_STEM,
)

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "docs" / "deployment.md"
DEVICES = ROOT / "mbcalc" / "deploy" / "devices"

BYTES = {"fp32": 4, "fp16": 2, "int8": 1}

# --- MobileNet v1 from the paper ---------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One primitive op of MobileNet v1 as the paper's Table 1 and formulas give it."""

    name: str
    kind: str  # the report's `op`
    type: str  # the paper's Table 2 layer type
    input: tuple[int, int, int]
    output: tuple[int, int, int]
    mult_adds: int
    params: int
    bn_params: int
    bias: bool = False


def volume(shape: tuple[int, int, int]) -> int:
    return shape[0] * shape[1] * shape[2]


def v1_ops(alpha: Fraction = Fraction(1), height: int = 224) -> list[Op]:
    """MobileNet v1's ops: 'same' padding, channels floor(c * alpha), a BN after every conv."""
    channels = math.floor(V1_STEM * alpha)
    side = -(-height // 2)
    ops = [
        Op("conv1", "conv", "Conv 3x3", (height, height, 3), (side, side, channels),
           side * side * 9 * 3 * channels, 9 * 3 * channels, 2 * channels),
    ]  # fmt: skip
    for number, (stride, out) in enumerate(V1_SEPARABLE, start=1):
        n = math.floor(out * alpha)
        before, side = side, -(-side // stride)
        ops += [
            Op(f"sep{number}.dw", "depthwise", "Conv DW 3x3", (before, before, channels),
               (side, side, channels), side * side * 9 * channels, 9 * channels, 2 * channels),
            Op(f"sep{number}.pw", "conv", "Conv 1x1", (side, side, channels), (side, side, n),
               side * side * channels * n, channels * n, 2 * n),
        ]  # fmt: skip
        channels = n
    return [
        *ops,
        Op("pool1", "pool", "Pool", (side, side, channels), (1, 1, channels), 0, 0, 0),
        Op("fc1", "fc", "Fully connected", (1, 1, channels), (1, 1, V1_CLASSES),
           channels * V1_CLASSES, channels * V1_CLASSES + V1_CLASSES, 0, bias=True),
    ]  # fmt: skip


V1 = v1_ops()
assert sum(op.mult_adds for op in V1) == V1_MULT_ADDS  # the paper's total
assert sum(op.params for op in V1) == V1_PARAMS
assert sum(op.bn_params for op in V1) == V1_BN_PARAMS
BN_CHANNELS = V1_BN_PARAMS // 2  # 10,944: one folded bias value per BN channel
DEPTHWISE_MULT_ADDS = sum(op.mult_adds for op in V1 if op.kind == "depthwise")
assert round(DEPTHWISE_MULT_ADDS / V1_MULT_ADDS, 4) == 0.0306  # the paper's Table 2: 3.06%


# --- devices -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Device:
    peak: Fraction  # mult-adds per second
    bandwidth: Fraction  # bytes per second
    depthwise: Fraction | None = None

    def peak_for(self, op: Op) -> Fraction:
        return self.depthwise if op.kind == "depthwise" and self.depthwise else self.peak


# NVIDIA Jetson Nano data sheet: 472 GFLOPS FP16 (one mult-add is 2 FLOPs), 25.6 GB/s LPDDR4.
JETSON = Device(Fraction(472 * 10**9, 2), Fraction(256 * 10**8))
JETSON_RIDGE = Fraction(236, Fraction(256, 10))  # 9.21875 mult-adds per byte

# Measured per layer on a 2-core x86 CPU, 1 thread, batch 1, fp32: pointwise
# 35.6 GMAC/s, depthwise 6.6 GMAC/s; depthwise layers took 14.4% of the time. The measurement gives
# no bandwidth: 20 GB/s is assumed, and from there up the measured throughputs bind, not the
# bandwidth (`test_a_measured_profile_lands_depthwise_near_the_measured_share`).
MEASURED_SHARE = 0.144
CPU_PROFILE = """\
# A 2-core x86 CPU, one thread, fp32: throughputs measured per layer.
name: 2-core x86 (measured)
description: PyTorch, 1 thread, channels-last, best of 5
dtype: fp32
mult_adds_per_second: 35.6G
depthwise_mult_adds_per_second: 6.6G
bandwidth_bytes_per_second: {bandwidth}
source: mbcalc per-layer timing, measured 2026-11-27
"""


def cpu(bandwidth: str = "20G") -> Device:
    scale = {"G": 10**9, "T": 10**12}[bandwidth[-1]]
    return Device(
        Fraction("35.6") * 10**9, Fraction(bandwidth[:-1]) * scale, Fraction("6.6") * 10**9
    )


# --- the expected deployment figures -----------------------------------------------------------


@dataclass(frozen=True)
class OpFigures:
    input_bytes: int
    output_bytes: int
    weight_bytes: int
    compute: Fraction  # seconds at the device's peak
    memory: Fraction  # seconds at its bandwidth

    @property
    def moved(self) -> int:
        return self.input_bytes + self.output_bytes + self.weight_bytes

    @property
    def seconds(self) -> Fraction:
        return max(self.compute, self.memory)

    @property
    def bound(self) -> str:
        return "compute" if self.compute > self.memory else "memory"


@dataclass(frozen=True)
class Expected:
    ops: list[Op]
    figures: list[OpFigures]
    peak_bytes: int
    peak_op: str
    weight_bytes: int
    deployed_params: int
    bn_values: int

    @property
    def seconds(self) -> Fraction:
        return sum((figures.seconds for figures in self.figures), Fraction(0))

    def share(self, seconds: Fraction) -> float:
        return float(seconds / self.seconds)

    def by_op(self) -> Iterator[tuple[Op, OpFigures]]:
        return zip(self.ops, self.figures, strict=True)

    def type_seconds(self, layer_type: str) -> Fraction:
        return sum((f.seconds for op, f in self.by_op() if op.type == layer_type), Fraction(0))


def expected(
    ops: list[Op],
    dtype: str = "fp16",
    batch: int = 1,
    fold_bn: bool = False,
    device: Device = JETSON,
) -> Expected:
    """Bytes, peak and roofline of a chain of ops, worked out from the formulas above."""
    size = BYTES[dtype]
    figures, deployed, bn_values = [], 0, 0
    for op in ops:
        folded_bias = op.output[2] if fold_bn and op.bn_params and not op.bias else 0
        params, kept_bn = op.params + folded_bias, 0 if fold_bn else 2 * op.bn_params
        deployed, bn_values = deployed + params, bn_values + kept_bn
        input_bytes = volume(op.input) * size * batch
        output_bytes = volume(op.output) * size * batch
        weight_bytes = (params + kept_bn) * size
        moved = input_bytes + output_bytes + weight_bytes
        compute = Fraction(op.mult_adds * batch) / device.peak_for(op)
        figures.append(
            OpFigures(input_bytes, output_bytes, weight_bytes, compute, moved / device.bandwidth)
        )
    # A chain: while an op runs, its input and its output are alive, nothing else.
    alive = [f.input_bytes + f.output_bytes for f in figures]
    peak = max(range(len(ops)), key=alive.__getitem__)
    weights = sum(f.weight_bytes for f in figures)
    return Expected(ops, figures, alive[peak], ops[peak].name, weights, deployed, bn_values)


# The peak of MobileNet v1: sep1.pw reads 112x112x32 and writes 112x112x64.
SEP1_PW_VALUES = 112 * 112 * (32 + 64)
JETSON_V1 = expected(V1)
assert (JETSON_V1.peak_op, JETSON_V1.peak_bytes) == ("sep1.pw", SEP1_PW_VALUES * 2)


# --- how mbcalc writes numbers (docs/design.md, rounding and units: binary bytes, 3 figures) ---


def binary(count: int) -> str:
    """Bytes in binary units with two decimals: 802,816 B (112x112x32 at fp16) is 784.00 KiB."""
    for power, unit in ((3, "GiB"), (2, "MiB"), (1, "KiB")):
        if count >= 1024**power:
            return f"{count / 1024**power:.2f} {unit}"
    return f"{count} B"


def pct(share: float | Fraction) -> str:
    return f"{float(share) * 100:.2f}%"


TIME_UNITS = {"s": Fraction(1), "ms": Fraction(1, 10**3), "µs": Fraction(1, 10**6),
              "ns": Fraction(1, 10**9)}  # fmt: skip


def assert_time(cell: str, seconds: Fraction) -> None:
    """A time written to three significant figures: within 0.5% of `seconds`."""
    number, unit = cell.split()
    shown = Fraction(number) * TIME_UNITS[unit]
    assert abs(shown - seconds) <= seconds * Fraction(5, 1000), (cell, float(seconds))


# --- reading the outputs -----------------------------------------------------------------------


def table_json(*args: str) -> dict[str, Any]:
    data = json.loads(ok("table", *args, "--format", "json"))
    assert isinstance(data, dict)
    return data


def op_rows(text: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Headings and rows of the per-op table (`sep1.dw` for the indented `.dw` under `sep1`)."""
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("┃ layer"))
    headings = [cell.strip() for cell in header.split("┃")[1:-1]]
    rows: dict[str, dict[str, str]] = {}
    unit = ""
    for line in lines:
        if not line.startswith("│"):
            continue
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        assert len(cells) == len(headings), line
        name = cells[0]
        if cells[1] == "separable":
            unit = name
        elif name.startswith("."):
            name = unit + name
        rows[name] = dict(zip(headings, cells, strict=True))
    return headings, rows


def summary(text: str) -> dict[str, list[str]]:
    """The summary under a table: label -> its text, then its unlabelled continuation lines."""
    lines = text.splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith(("└", "┗")))
    result: dict[str, list[str]] = {}
    label = ""
    for line in lines[start + 1 :]:
        if not line.strip() or line.startswith("convention:"):
            continue
        if line.startswith(" "):
            result[label].append(line.strip())
            continue
        found = re.fullmatch(r"(\S.*?)\s{2,}(\S.*)", line)
        assert found, line
        label = found[1]
        result[label] = [found[2]]
    return result


def type_lines(shown: Expected, mult_adds: int = V1_MULT_ADDS) -> set[str]:
    """The summary's line per layer type: its share of the time and of the mult-adds."""
    lines = set()
    for layer_type in {op.type for op in shown.ops}:
        seconds = shown.type_seconds(layer_type)
        ops = sum(op.mult_adds for op in shown.ops if op.type == layer_type)
        lines.add(
            f"{layer_type}: {pct(shown.share(seconds))} of the time, "
            f"{pct(Fraction(ops, mult_adds))} of the mult-adds"
        )
    return lines


JETSON_SOURCE = "NVIDIA Jetson Nano data sheet (472 GFLOPS FP16, 25.6 GB/s LPDDR4)"
DEVICE_LINE = f"Jetson Nano: 236 GMAC/s, 25.6 GB/s, ridge 9.2 MAC/B — {JETSON_SOURCE}"
V1_ARGS = ("mobilenet_v1", "--device", "jetson-nano", "--memory")
V1_TABLE = ("table", *V1_ARGS)


# --- table --device jetson-nano --memory: the columns ----------------------------------------


def test_each_op_shows_its_bytes_intensity_bound_and_share_of_time() -> None:
    headings, rows = op_rows(ok(*V1_TABLE))
    extra = ["in", "out", "weights", "MAC/B", "bound", "time", "% time"]
    assert headings[-len(extra) :] == extra
    assert headings.index("% time") > headings.index("%")  # beside the share of mult-adds
    for op, figures in JETSON_V1.by_op():
        row = rows[op.name]
        assert row["op"] == op.kind
        assert row["input → output"] == (
            f"{'x'.join(map(str, op.input))} → {'x'.join(map(str, op.output))}"
        )
        assert row["in"] == binary(figures.input_bytes), op.name
        assert row["out"] == binary(figures.output_bytes), op.name
        assert row["weights"] == binary(figures.weight_bytes), op.name
        assert row["MAC/B"] == f"{op.mult_adds / figures.moved:.1f}", op.name
        assert row["bound"] == figures.bound, op.name
        assert_time(row["time"], figures.seconds)
        assert row["% time"] == pct(JETSON_V1.share(figures.seconds)), op.name
        assert row["%"] == pct(Fraction(op.mult_adds, V1_MULT_ADDS)), op.name
    total = rows["total"]
    assert total["weights"] == binary(JETSON_V1.weight_bytes)
    assert_time(total["time"], JETSON_V1.seconds)
    assert total["% time"] == "100.00%"


def test_a_separable_units_row_sums_its_two_ops_time() -> None:
    _, rows = op_rows(ok(*V1_TABLE))
    figures = dict(zip([op.name for op in V1], JETSON_V1.figures, strict=True))
    for number in range(1, len(V1_SEPARABLE) + 1):
        seconds = figures[f"sep{number}.dw"].seconds + figures[f"sep{number}.pw"].seconds
        unit = rows[f"sep{number}"]
        assert_time(unit["time"], seconds)
        assert unit["% time"] == f"({pct(JETSON_V1.share(seconds))})"  # not counted in the 100%
        assert unit["in"] == unit["out"] == unit["weights"] == ""  # no byte sums for a unit


def test_every_depthwise_op_is_memory_bound_and_takes_more_time_than_mult_adds() -> None:
    """9 mult-adds per output value against one value read and one written (2 bytes each at
    fp16): at most 9/4 = 2.25 MAC/B at stride 1 and 9/10 at stride 2, far below the ridge of
    236/25.6 = 9.2 MAC/B, where every 1x1 conv (at least 32x64/(2x96) = 10.7 MAC/B) sits above.
    """
    data = table_json(*V1_ARGS)
    _, rows = op_rows(ok(*V1_TABLE))
    depthwise = [layer for layer in data["layers"] if layer["op"] == "depthwise"]
    assert len(depthwise) == len(V1_SEPARABLE)
    for layer in depthwise:
        stride = layer["stride"][0]
        assert layer["roofline"]["intensity"] <= (2.25 if stride == 1 else 0.9)
        assert layer["roofline"]["intensity"] < float(JETSON_RIDGE)
        assert layer["roofline"]["bound"] == rows[layer["name"]]["bound"] == "memory"
        assert layer["roofline"]["time_share"] > layer["mult_adds"] / V1_MULT_ADDS
        row = rows[layer["name"]]
        assert float(row["% time"].rstrip("%")) > float(row["%"].rstrip("%"))
    for layer in data["layers"]:
        if layer["op"] == "conv" and layer["kernel"] == [1, 1]:
            assert layer["roofline"]["bound"] == "compute"
            assert layer["roofline"]["intensity"] > float(JETSON_RIDGE)


# --- the summary -----------------------------------------------------------------------------


def test_the_summary_names_peak_weights_device_latency_and_time_by_type() -> None:
    lines = summary(ok(*V1_TABLE))
    weights = (V1_PARAMS + 2 * V1_BN_PARAMS) * 2  # fp16, the Jetson profile's number format
    assert JETSON_V1.weight_bytes == weights
    assert lines["weights"] == [
        f"{binary(weights)} at fp16: {V1_PARAMS:,} params, {2 * V1_BN_PARAMS:,} BN values"
    ]
    assert lines["peak memory"] == [
        f"{binary(SEP1_PW_VALUES * 2)} of activations (batch 1) while sep1.pw runs; "
        "alive: sep1.dw, sep1.pw"
    ]
    assert lines["device"] == [DEVICE_LINE]
    latency, *by_type = lines["latency"]
    time, rest = latency.split(" estimated ")
    assert_time(time, JETSON_V1.seconds)
    memory_bound = sum(f.bound == "memory" for f in JETSON_V1.figures)
    assert rest == f"(roofline lower bound); {memory_bound} of {len(V1)} ops memory-bound"
    assert set(by_type) == type_lines(JETSON_V1)
    assert len(by_type) == 5
    # Slowest first: pointwise, then depthwise at 3.06% of the mult-adds and some 14% of the time.
    assert by_type[0].startswith("Conv 1x1: ")
    assert by_type[1].startswith("Conv DW 3x3: ")
    assert by_type[1].endswith("of the time, 3.06% of the mult-adds")
    assert 0.13 < JETSON_V1.share(JETSON_V1.type_seconds("Conv DW 3x3")) < 0.15


@pytest.mark.parametrize(
    ("options", "dtype"),
    [((), "fp32"), (("--dtype", "fp32"), "fp32"), (("--device", "jetson-nano"), "fp16")],
)
def test_the_peak_is_the_first_pointwise_conv(options: tuple[str, ...], dtype: str) -> None:
    """sep1.pw reads 112x112x32 and writes 112x112x64: 112*112*96*4 bytes at fp32."""
    data = table_json("mobilenet_v1", "--memory", *options)
    memory = data["total"]["memory"]
    assert memory["dtype"] == dtype
    assert memory["peak_op"] == "sep1.pw"
    assert memory["peak_alive"] == ["sep1.dw", "sep1.pw"]
    assert memory["peak_bytes"] == SEP1_PW_VALUES * BYTES[dtype]
    lines = summary(ok("table", "mobilenet_v1", "--memory", *options))
    assert lines["peak memory"][0].startswith(
        f"{binary(SEP1_PW_VALUES * BYTES[dtype])} of activations (batch 1) while sep1.pw runs"
    )


# --- JSON, CSV and Markdown additions ---------------------------------------------------------


def without_deployment(data: dict[str, Any]) -> dict[str, Any]:
    layers = [{k: v for k, v in layer.items() if k not in {"memory", "roofline"}}
              for layer in data["layers"]]  # fmt: skip
    total = {k: v for k, v in data["total"].items() if k not in {"memory", "roofline"}}
    return {**data, "layers": layers, "total": total}


def test_json_adds_memory_and_roofline_objects_and_removes_nothing() -> None:
    data = table_json(*V1_ARGS)
    assert without_deployment(data) == table_json("mobilenet_v1")
    for layer, (op, figures) in zip(data["layers"], JETSON_V1.by_op(), strict=True):
        assert layer["name"] == op.name
        assert layer["memory"] == {
            "input_bytes": figures.input_bytes,
            "output_bytes": figures.output_bytes,
            "weight_bytes": figures.weight_bytes,
        }
        assert all(type(value) is int for value in layer["memory"].values())
        roofline = layer["roofline"]
        assert set(roofline) == {"bytes_moved", "intensity", "bound", "seconds", "time_share"}
        assert roofline["bytes_moved"] == figures.moved
        assert type(roofline["bytes_moved"]) is int
        assert roofline["intensity"] == round(op.mult_adds / figures.moved, 6)
        assert roofline["bound"] == figures.bound
        assert roofline["seconds"] == pytest.approx(float(figures.seconds), rel=1e-12)
        assert roofline["time_share"] == round(JETSON_V1.share(figures.seconds), 6)
    assert sum(layer["roofline"]["time_share"] for layer in data["layers"]) == pytest.approx(
        1, abs=1e-5
    )


def test_json_total_holds_the_memory_and_the_device() -> None:
    total = table_json(*V1_ARGS)["total"]
    assert total["memory"] == {
        "dtype": "fp16",
        "batch": 1,
        "fold_bn": False,
        "weight_bytes": JETSON_V1.weight_bytes,
        "deployed_params": V1_PARAMS,
        "bn_values": 2 * V1_BN_PARAMS,
        "peak_bytes": JETSON_V1.peak_bytes,
        "peak_op": "sep1.pw",
        "peak_alive": ["sep1.dw", "sep1.pw"],
    }
    roofline = total["roofline"]
    assert roofline["device"] == "Jetson Nano"
    assert roofline["mult_adds_per_second"] == float(JETSON.peak)
    assert roofline["depthwise_mult_adds_per_second"] is None
    assert roofline["bandwidth_bytes_per_second"] == float(JETSON.bandwidth)
    assert roofline["ridge"] == float(JETSON_RIDGE) == 9.21875
    assert roofline["source"] == JETSON_SOURCE
    assert roofline["seconds"] == pytest.approx(float(JETSON_V1.seconds), rel=1e-12)
    by_type = roofline["by_type"]
    assert sum(row["time_share"] for row in by_type) == pytest.approx(1, abs=1e-5)
    for row in by_type:
        ops = sum(op.mult_adds for op in V1 if op.type == row["type"])
        assert row["mult_adds_share"] == round(ops / V1_MULT_ADDS, 6)
        assert row["time_share"] == round(JETSON_V1.share(JETSON_V1.type_seconds(row["type"])), 6)
    assert [row["type"] for row in by_type] == sorted(
        {op.type for op in V1}, key=lambda t: -JETSON_V1.type_seconds(t)
    )


MEMORY_FIELDS = ["input_bytes", "output_bytes", "weight_bytes"]
ROOFLINE_FIELDS = ["bytes_moved", "intensity", "bound", "seconds", "time_share"]


def test_csv_adds_byte_and_time_columns_that_sum_to_the_totals() -> None:
    text = ok(*V1_TABLE, "--format", "csv")
    header = next(csv.reader(io.StringIO(text)))
    assert header == [*LAYER_KEYS, *MEMORY_FIELDS, *ROOFLINE_FIELDS]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["name"] for row in rows] == [op.name for op in V1]
    for row, figures in zip(rows, JETSON_V1.figures, strict=True):
        assert int(row["input_bytes"]) == figures.input_bytes
        assert int(row["output_bytes"]) == figures.output_bytes
        assert int(row["weight_bytes"]) == figures.weight_bytes
        assert int(row["bytes_moved"]) == sum(int(row[key]) for key in MEMORY_FIELDS)
        assert row["bound"] == figures.bound
    assert sum(int(row["weight_bytes"]) for row in rows) == JETSON_V1.weight_bytes
    assert sum(int(row["bytes_moved"]) for row in rows) == sum(f.moved for f in JETSON_V1.figures)
    total = table_json(*V1_ARGS)["total"]
    assert sum(float(row["seconds"]) for row in rows) == pytest.approx(
        total["roofline"]["seconds"], rel=1e-12
    )
    assert sum(float(row["time_share"]) for row in rows) == pytest.approx(1, abs=1e-5)


def test_csv_with_a_device_alone_adds_the_time_columns_only() -> None:
    text = ok("table", "mobilenet_v1", "--device", "jetson-nano", "--format", "csv")
    assert next(csv.reader(io.StringIO(text))) == [*LAYER_KEYS, *ROOFLINE_FIELDS]


def test_markdown_adds_the_columns_and_the_summary() -> None:
    text = ok(*V1_TABLE, "--format", "markdown")
    header, *body = markdown_table(text)
    extra = ["in", "out", "weights", "MAC/B", "bound", "time", "% time"]
    assert header[-len(extra) :] == extra
    rows = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    for op, figures in JETSON_V1.by_op():
        row = rows[op.name]
        assert row["in"] == binary(figures.input_bytes)
        assert row["weights"] == binary(figures.weight_bytes)
        assert row["bound"] == figures.bound
        assert row["% time"] == pct(JETSON_V1.share(figures.seconds))
    total = rows["**total**"]
    assert total["weights"] == binary(JETSON_V1.weight_bytes)
    assert total["% time"] == "100.00%"
    assert f"- device: {DEVICE_LINE}" in text.splitlines()
    assert f"- peak memory: {binary(JETSON_V1.peak_bytes)} of activations (batch 1)" in text
    for line in type_lines(JETSON_V1):
        assert f"  - {line}" in text.splitlines()


# --- number format, batch, folding -----------------------------------------------------------


@pytest.mark.parametrize("dtype", ["fp32", "fp16", "int8"])
def test_the_number_format_scales_activation_and_weight_bytes(dtype: str) -> None:
    """fp16 halves and int8 quarters every byte count of fp32."""
    data = table_json("mobilenet_v1", "--dtype", dtype)
    size = BYTES[dtype]
    for layer, op in zip(data["layers"], V1, strict=True):
        assert layer["memory"] == {
            "input_bytes": volume(op.input) * size,
            "output_bytes": volume(op.output) * size,
            "weight_bytes": (op.params + 2 * op.bn_params) * size,
        }
    memory = data["total"]["memory"]
    assert memory["peak_bytes"] == SEP1_PW_VALUES * size
    assert memory["weight_bytes"] == (V1_PARAMS + 2 * V1_BN_PARAMS) * size
    fp32 = table_json("mobilenet_v1", "--dtype", "fp32")["total"]["memory"]
    assert memory["peak_bytes"] * 4 == fp32["peak_bytes"] * size
    assert memory["weight_bytes"] * 4 == fp32["weight_bytes"] * size
    assert summary(ok("table", "mobilenet_v1", "--dtype", dtype))["weights"][0].startswith(
        f"{binary(memory['weight_bytes'])} at {dtype}: "
    )


def test_a_batch_multiplies_activations_not_weights() -> None:
    one, four = table_json(*V1_ARGS), table_json(*V1_ARGS, "--batch", "4")
    shown = expected(V1, batch=4)
    for a, b, figures in zip(one["layers"], four["layers"], shown.figures, strict=True):
        assert b["memory"]["input_bytes"] == 4 * a["memory"]["input_bytes"]
        assert b["memory"]["output_bytes"] == 4 * a["memory"]["output_bytes"]
        assert b["memory"]["weight_bytes"] == a["memory"]["weight_bytes"]
        assert b["mult_adds"] == a["mult_adds"]  # the report's counts stay per image
        assert b["roofline"]["seconds"] == pytest.approx(float(figures.seconds), rel=1e-12)
    assert four["total"]["memory"]["peak_bytes"] == 4 * SEP1_PW_VALUES * 2
    assert four["total"]["memory"]["weight_bytes"] == one["total"]["memory"]["weight_bytes"]
    assert four["total"]["memory"]["batch"] == 4
    lines = summary(ok(*V1_TABLE, "--batch", "4"))
    assert lines["peak memory"][0].startswith(f"{binary(4 * SEP1_PW_VALUES * 2)} of activations")
    assert "(batch 4)" in lines["peak memory"][0]


def test_folding_bn_adds_a_bias_per_bn_conv_and_drops_the_bn_values() -> None:
    """Every BN conv of MobileNet v1 has no bias: each gains C_out values, 10,944 in all."""
    data = table_json("mobilenet_v1", "--fold-bn")
    memory = data["total"]["memory"]
    assert memory["fold_bn"] is True
    assert memory["deployed_params"] == V1_PARAMS + BN_CHANNELS == 4_210_088 + 10_944
    assert memory["bn_values"] == 0
    assert memory["weight_bytes"] == (V1_PARAMS + BN_CHANNELS) * 4
    assert data["total"]["params"] == V1_PARAMS  # the counted params stay the paper's
    for layer, op in zip(data["layers"], V1, strict=True):
        gained = op.output[2] if op.bn_params else 0
        assert layer["memory"]["weight_bytes"] == (op.params + gained) * 4, op.name
    assert summary(ok("table", "mobilenet_v1", "--fold-bn"))["weights"] == [
        f"{binary((V1_PARAMS + BN_CHANNELS) * 4)} at fp32: {V1_PARAMS + BN_CHANNELS:,} params, "
        "folded into the convs"
    ]
    unfolded = table_json("mobilenet_v1", "--memory")["total"]["memory"]
    assert unfolded["bn_values"] == 4 * BN_CHANNELS  # scale, shift, mean, variance


def test_folding_leaves_a_conv_with_a_bias_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "biased.yaml"
    path.write_text(
        "input: {size: 8, channels: 3}\nlayers:\n  - conv: {out: 4, bias: true}\n"
        "  - conv: {out: 6}\n",
        encoding="utf-8",
    )
    plain, folded = (table_json(str(path), *flag) for flag in (("--memory",), ("--fold-bn",)))
    first, second = 3 * 3 * 3 * 4 + 4, 3 * 3 * 4 * 6  # weights (and the first conv's bias)
    assert [layer["params"] for layer in plain["layers"]] == [first, second]
    assert [layer["memory"]["weight_bytes"] for layer in folded["layers"]] == [
        first * 4,
        (second + 6) * 4,
    ]
    assert [layer["memory"]["weight_bytes"] for layer in plain["layers"]] == [
        (first + 4 * 4) * 4,
        (second + 4 * 6) * 4,
    ]


@pytest.mark.parametrize(
    "options",
    [("--memory",), ("--dtype", "int8"), ("--batch", "2"), ("--fold-bn",)],
    ids=["memory", "dtype", "batch", "fold-bn"],
)
def test_each_memory_option_alone_turns_the_memory_view_on(options: tuple[str, ...]) -> None:
    headings, _ = op_rows(ok("table", "mobilenet_v1", *options))
    assert headings[-3:] == ["in", "out", "weights"]
    assert "time" not in headings
    lines = summary(ok("table", "mobilenet_v1", *options))
    assert {"weights", "peak memory"} <= lines.keys()
    assert "device" not in lines
    data = table_json("mobilenet_v1", *options)
    assert "memory" in data["layers"][0]
    assert "roofline" not in data["layers"][0]
    assert "roofline" not in data["total"]


def test_without_deployment_options_the_report_is_unchanged() -> None:
    headings, _ = op_rows(ok("table", "mobilenet_v1"))
    assert headings[-1] == "reduction"
    assert not {"weights", "peak memory", "device"} & summary(ok("table", "mobilenet_v1")).keys()


def test_a_device_alone_adds_the_time_columns_and_the_memory_summary() -> None:
    headings, _ = op_rows(ok("table", "mobilenet_v1", "--device", "jetson-nano"))
    assert headings[-4:] == ["MAC/B", "bound", "time", "% time"]
    assert "in" not in headings
    lines = summary(ok("table", "mobilenet_v1", "--device", "jetson-nano"))
    assert {"weights", "peak memory", "device", "latency"} <= lines.keys()


# --- a device file of the user's ---------------------------------------------------------------


@pytest.mark.parametrize("bandwidth", ["20G", "50G", "1T"])
def test_a_measured_profile_lands_depthwise_near_the_measured_share(
    bandwidth: str, tmp_path: Path
) -> None:
    """The measured throughputs put depthwise at ~14.4% of the time, as measured."""
    path = tmp_path / "cpu.yaml"
    path.write_text(CPU_PROFILE.format(bandwidth=bandwidth), encoding="utf-8")
    shown = expected(V1, "fp32", device=cpu(bandwidth))
    share = shown.share(shown.type_seconds("Conv DW 3x3"))
    assert share == pytest.approx(MEASURED_SHARE, abs=0.005)
    data = table_json("mobilenet_v1", "--device", str(path))
    roofline = data["total"]["roofline"]
    assert roofline["device"] == "2-core x86 (measured)"
    assert roofline["depthwise_mult_adds_per_second"] == 6.6e9
    assert data["total"]["memory"]["dtype"] == "fp32"  # the profile's number format
    (depthwise,) = [row for row in roofline["by_type"] if row["type"] == "Conv DW 3x3"]
    assert depthwise["time_share"] == round(share, 6)
    assert depthwise["mult_adds_share"] == round(DEPTHWISE_MULT_ADDS / V1_MULT_ADDS, 6)
    lines = summary(ok("table", "mobilenet_v1", "--device", str(path)))
    device = lines["device"][0]
    assert device.startswith("2-core x86 (measured): 35.6 GMAC/s (6.6 GMAC/s depthwise)")
    assert device.endswith("— mbcalc per-layer timing, measured 2026-11-27")


def test_compute_bound_the_measured_throughputs_give_the_measured_share() -> None:
    """With no bandwidth limit: (17.4M / 6.6G) / (17.4M / 6.6G + 551.4M / 35.6G) = 14.5%."""
    depthwise = Fraction(DEPTHWISE_MULT_ADDS) / Fraction("6.6e9")
    rest = Fraction(V1_MULT_ADDS - DEPTHWISE_MULT_ADDS) / cpu().peak
    assert float(depthwise / (depthwise + rest)) == pytest.approx(MEASURED_SHARE, abs=0.002)


BAD_DEVICES = [
    ("name: x\nbandwidth_bytes_per_second: 1G\nsource: s\n", 1, "missing `mult_adds_per_second`"),
    ("name: x\nmult_adds_per_second: fast\nbandwidth_bytes_per_second: 1G\nsource: s\n", 2,
     "`mult_adds_per_second` must be a positive number such as 236G or 4.8T"),
    ("name: x\nmult_adds_per_second: 1G\nbandwidth_bytes_per_second: 0\nsource: s\n", 3,
     "`bandwidth_bytes_per_second` must be a positive number"),
    ("name: x\nmult_adds_per_second: 1G\nbandwidth: 1G\nsource: s\n", 3,
     "unknown field `bandwidth`"),
    ("name: x\nmult_adds_per_second: 1G\nbandwidth_bytes_per_second: 1G\n", 1, "missing `source`"),
    ("name: x\ndtype: fp64\nmult_adds_per_second: 1G\nbandwidth_bytes_per_second: 1G\nsource: s\n",
     2, "`dtype` must be fp32, fp16 or int8"),
    ("name: x\nname: y\n", 2, "duplicate key 'name'"),
    ("name: [x\n", 2, "YAML syntax error"),
    ("- a\n- b\n", 1, "a device file must be a mapping"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "words"), BAD_DEVICES)
def test_a_bad_device_file_is_one_line_naming_file_and_line(
    text: str, line: int, words: str, tmp_path: Path
) -> None:
    path = tmp_path / "board.yaml"
    path.write_text(text, encoding="utf-8")
    result = invoke_mbcalc("table", "mobilenet_v1", "--device", str(path))
    assert_clean_failure(result, 1, words)
    assert one_line_error(result).startswith(f"{path}:{line}: ")


@pytest.mark.parametrize(
    "command",
    [
        ("table", "mobilenet_v1"),
        ("roofline", "mobilenet_v1"),
        ("compare", "mobilenet_v1", "mobilenet_v1@alpha=0.5"),
        ("sweep", "mobilenet_v1"),
    ],
    ids=["table", "roofline", "compare", "sweep"],
)
def test_every_command_refuses_a_bad_device_the_same_way(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    path = tmp_path / "board.yaml"
    path.write_text("name: x\nmult_adds_per_second: 1G\nbandwidth: 1G\nsource: s\n", "utf-8")
    result = invoke_mbcalc(*command, "--device", str(path))
    assert_clean_failure(result, 1, "unknown field `bandwidth`")
    assert one_line_error(result).startswith(f"{path}:3: ")


def test_an_unknown_device_name_lists_the_shipped_profiles() -> None:
    result = invoke_mbcalc("table", "mobilenet_v1", "--device", "pi-zero")
    shipped = sorted(path.stem for path in DEVICES.glob("*.yaml"))
    assert_clean_failure(result, 1, "pi-zero", *shipped, "mbcalc devices")
    one_line_error(result)


def test_a_missing_device_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    result = invoke_mbcalc("table", "mobilenet_v1", "--device", str(path))
    assert_clean_failure(result, 1, str(path), "no such file")
    one_line_error(result)


# --- mbcalc devices ------------------------------------------------------------------------------


def shipped_profiles() -> dict[str, dict[str, Any]]:
    """The shipped device files, read with PyYAML (not mbcalc's reader)."""
    profiles = {}
    for path in sorted(DEVICES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(data, dict)
        profiles[path.stem] = data
    return profiles


UNIT = {"K": 10**3, "G": 10**9, "T": 10**12}


def rate_of(text: str) -> Fraction:
    """`236G` -> 236 * 10**9, `494.75T` -> 494.75 * 10**12."""
    return Fraction(text[:-1]) * UNIT[text[-1]]


def si(value: Fraction, unit: str) -> str:
    """A rate to four significant figures with an SI prefix: 494.75T -> 494.8 TMAC/s."""
    for prefix, scale in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if value >= scale:
            return f"{float(value / scale):.4g} {prefix}{unit}"
    return f"{float(value):.4g} {unit}"


def test_devices_lists_every_shipped_profile_with_its_source() -> None:
    text = ok("devices")
    profiles = shipped_profiles()
    assert len(profiles) >= 3
    for stem, data in profiles.items():
        (line,) = [line for line in text.splitlines() if line.startswith(f"│ {stem} ")]
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        assert cells[0] == stem + (" (default)" if stem == "jetson-nano" else "")
        assert cells[1] == data["name"]
        assert cells[2] == data["dtype"]
        assert cells[-1] == data["source"]
        assert "data sheet" in data["source"] or "product page" in data["source"]
        ridge = rate_of(data["mult_adds_per_second"]) / rate_of(data["bandwidth_bytes_per_second"])
        assert cells[-2] == f"{float(ridge):.1f} MAC/B"
        assert cells[3] == si(rate_of(data["mult_adds_per_second"]), "MAC/s")
        assert cells[4] == si(rate_of(data["bandwidth_bytes_per_second"]), "B/s")
    jetson = next(line for line in text.splitlines() if line.startswith("│ jetson-nano"))
    assert "236 GMAC/s" in jetson
    assert "25.6 GB/s" in jetson


# --- mbcalc roofline --------------------------------------------------------------------------


def roofline_rows(text: str) -> dict[str, list[str]]:
    rows = {}
    for line in text.splitlines():
        if line.startswith("│"):
            cells = [cell.strip() for cell in line.split("│")[1:-1]]
            rows[cells[0]] = cells
    return rows


def test_roofline_defaults_to_the_jetson_nano_and_shows_the_ridge() -> None:
    text = ok("roofline", "mobilenet_v1")
    assert text.splitlines()[0].strip() == "MobileNet v1 on Jetson Nano — fp16, batch 1"
    assert "ridge 9.2" in text.splitlines()[2]
    rows = roofline_rows(text)
    assert list(rows) == [op.name for op in V1]
    for op, figures in JETSON_V1.by_op():
        name, kind, intensity, strip, bound, attains, time, share, mult_adds = rows[op.name]
        assert kind == op.kind
        assert intensity == f"{op.mult_adds / figures.moved:.1f}"
        assert strip.count("●") + strip.count("◂") == 1, name
        assert bound == figures.bound
        assert_time(time, figures.seconds)
        assert share == pct(JETSON_V1.share(figures.seconds))
        assert mult_adds == pct(Fraction(op.mult_adds, V1_MULT_ADDS))
        if figures.bound == "compute":
            assert attains == "236 GMAC/s"  # the peak itself
        elif op.mult_adds:
            attained = op.mult_adds / figures.seconds  # = intensity x bandwidth
            assert attains == f"{float(attained) / 1e9:.4g} GMAC/s"
    lines = summary(text)
    assert lines["device"] == [DEVICE_LINE]
    assert set(lines["latency"][1:]) == type_lines(JETSON_V1)


def test_roofline_in_the_other_formats_is_the_report_with_its_times() -> None:
    data = json.loads(ok("roofline", "mobilenet_v1", "--format", "json"))
    table = table_json("mobilenet_v1", "--device", "jetson-nano")
    assert data["layers"] == table["layers"]
    assert {key: table["total"][key] for key in data["total"]} == data["total"]
    assert data["total"]["roofline"] == table["total"]["roofline"]
    assert data["total"]["roofline"]["ridge"] == float(JETSON_RIDGE)
    assert "memory" not in data["layers"][0]
    text = ok("roofline", "mobilenet_v1", "--format", "csv")
    assert next(csv.reader(io.StringIO(text))) == [*LAYER_KEYS, *ROOFLINE_FIELDS]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["bound"] for row in rows] == [f.bound for f in JETSON_V1.figures]
    markdown = ok("roofline", "mobilenet_v1", "--format", "markdown")
    header, *_ = markdown_table(markdown)
    assert header[-4:] == ["MAC/B", "bound", "time", "% time"]
    assert f"- device: {DEVICE_LINE}" in markdown.splitlines()


def test_roofline_takes_a_device_and_the_memory_options(tmp_path: Path) -> None:
    path = tmp_path / "cpu.yaml"
    path.write_text(CPU_PROFILE.format(bandwidth="20G"), encoding="utf-8")
    text = ok("roofline", "mobilenet_v1", "--device", str(path), "--batch", "2", "--fold-bn")
    assert text.splitlines()[0].strip() == "MobileNet v1 on 2-core x86 (measured) — fp32, batch 2"
    shown = expected(V1, "fp32", batch=2, fold_bn=True, device=cpu())
    rows = roofline_rows(text)
    for op, figures in shown.by_op():
        assert rows[op.name][7] == pct(shown.share(figures.seconds))


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_roofline_plot_writes_a_real_image(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"roofline{suffix}"
    text = ok_plotting(path, "roofline", "mobilenet_v1", "--plot", str(path))
    assert text == ok("roofline", "mobilenet_v1")  # the chart still goes to standard output
    image = path.read_bytes()
    if suffix == ".png":
        assert image.startswith(PNG_MAGIC)
        width, height = int.from_bytes(image[16:20], "big"), int.from_bytes(image[20:24], "big")
        assert width > 300
        assert height > 200
    else:
        root = ET.fromstring(image)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert b"Jetson Nano" in image
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


@pytest.mark.parametrize("name", ["roofline.pdf", "roofline"])
def test_roofline_plot_refuses_other_suffixes_and_writes_nothing(name: str, tmp_path: Path) -> None:
    result = invoke_mbcalc("roofline", "mobilenet_v1", "--plot", str(tmp_path / name))
    assert_clean_failure(result, 1, "PNG or SVG")
    one_line_error(result)
    assert list(tmp_path.iterdir()) == []


# --- compare ------------------------------------------------------------------------------------

HALF_160 = expected(v1_ops(Fraction(1, 2), 160))


def test_compare_shows_each_columns_peak_weights_and_latency_against_the_first() -> None:
    args = ("compare", "mobilenet_v1", "mobilenet_v1@alpha=0.5,res=160")
    text = ok(*args, "--memory", "--device", "jetson-nano")
    # 0.50 MobileNet-160: conv1 writes 80x80x16; sep1.pw reads 80x80x16 and writes 80x80x32.
    assert (HALF_160.peak_op, HALF_160.peak_bytes) == ("sep1.pw", 80 * 80 * (16 + 32) * 2)
    lines = {line.split()[0]: line for line in text.splitlines() if "peak activations" in line}
    first, second = lines["mobilenet_v1"], lines["mobilenet_v1@alpha=0.5,res=160"]
    assert (
        f"peak activations {binary(JETSON_V1.peak_bytes)} · weights "
        f"{binary(JETSON_V1.weight_bytes)} at fp16 · " in first
    )
    assert first.endswith(" on Jetson Nano")
    peak = HALF_160.peak_bytes / JETSON_V1.peak_bytes
    weights = HALF_160.weight_bytes / JETSON_V1.weight_bytes
    latency = HALF_160.seconds / JETSON_V1.seconds
    assert (
        f"peak activations {binary(HALF_160.peak_bytes)} (x{peak:.2f}) · weights "
        f"{binary(HALF_160.weight_bytes)} (x{weights:.2f}) at fp16 · " in second
    )
    assert second.endswith(f"(x{float(latency):.2f}) on Jetson Nano")

    data = json.loads(ok(*args, "--memory", "--device", "jetson-nano", "--format", "json"))
    for column, shown in zip(data["columns"], (JETSON_V1, HALF_160), strict=True):
        deployment = column["deployment"]
        assert deployment["peak_bytes"] == shown.peak_bytes
        assert deployment["weight_bytes"] == shown.weight_bytes
        assert (deployment["dtype"], deployment["batch"], deployment["fold_bn"]) == (
            "fp16", 1, False,
        )  # fmt: skip
        assert deployment["device"] == "Jetson Nano"
        assert deployment["latency_seconds"] == pytest.approx(float(shown.seconds), rel=1e-12)
    assert data["columns"][1]["deployment"]["vs_first"] == {
        "peak": round(peak, 6),
        "weights": round(weights, 6),
        "latency": round(float(latency), 6),
    }


def test_compare_csv_and_markdown_carry_the_deployment_figures() -> None:
    args: tuple[str, ...] = (
        "compare",
        "mobilenet_v1",
        "mobilenet_v1@alpha=0.5,res=160",
        "--memory",
    )
    args += ("--device", "jetson-nano")
    rows = list(csv.DictReader(io.StringIO(ok(*args, "--format", "csv"))))
    totals = [row for row in rows if row["row"] == "total"]
    for row, shown in zip(totals, (JETSON_V1, HALF_160), strict=True):
        assert int(row["peak_bytes"]) == shown.peak_bytes
        assert int(row["weight_bytes"]) == shown.weight_bytes
        assert float(row["latency_seconds"]) == pytest.approx(float(shown.seconds), rel=1e-12)
    assert all(row["peak_bytes"] == "" for row in rows if row["row"] != "total")
    markdown = ok(*args, "--format", "markdown")
    assert (
        f"- `mobilenet_v1`: peak activations {binary(JETSON_V1.peak_bytes)} · weights "
        f"{binary(JETSON_V1.weight_bytes)} at fp16" in markdown
    )


def test_compare_columns_agree_with_table_under_the_same_options() -> None:
    options = ("--dtype", "int8", "--batch", "3", "--fold-bn", "--device", "jetson-nano")
    data = json.loads(
        ok("compare", "mobilenet_v1", "mobilenet_v1_shallow", *options, "--format", "json")
    )
    for column, spec in zip(data["columns"], ("mobilenet_v1", "mobilenet_v1_shallow"), strict=True):
        total = table_json(spec, *options)["total"]
        deployment = column["deployment"]
        assert deployment["peak_bytes"] == total["memory"]["peak_bytes"]
        assert deployment["weight_bytes"] == total["memory"]["weight_bytes"]
        assert deployment["latency_seconds"] == total["roofline"]["seconds"]


def test_compare_without_deployment_options_has_no_deployment() -> None:
    data = json.loads(ok("compare", "mobilenet_v1", "mobilenet_v1@alpha=0.5", "--format", "json"))
    assert all("deployment" not in column for column in data["columns"])


# --- sweep --------------------------------------------------------------------------------------

SWEEP_OPTIONS = [
    ("--memory",),
    ("--device", "jetson-nano"),
    ("--memory", "--device", "jetson-nano"),
    ("--dtype", "int8", "--batch", "4", "--fold-bn", "--device", "jetson-nano"),
    ("--batch", "2"),
    ("--fold-bn",),
]


@pytest.mark.parametrize("options", SWEEP_OPTIONS, ids=" ".join)
def test_each_sweep_cell_equals_table_at_that_setting(options: tuple[str, ...]) -> None:
    grid = ("--alpha", "1,0.5", "--res", "224,160")
    data = json.loads(ok("sweep", "mobilenet_v1", *grid, *options, "--format", "json"))
    device = "--device" in options
    for record in data["settings"]:
        alpha, height = f"{record['alpha']:g}", str(record["resolution"][0])
        total = table_json("mobilenet_v1", "--alpha", alpha, "--res", height, *options)["total"]
        assert record["peak_bytes"] == total["memory"]["peak_bytes"], (alpha, height)
        assert record["weight_bytes"] == total["memory"]["weight_bytes"], (alpha, height)
        if device:
            seconds = total["roofline"]["seconds"]
            assert record["latency_seconds"] == pytest.approx(seconds, rel=1e-9)
        else:
            assert "latency_seconds" not in record
    memory = table_json("mobilenet_v1", *options)["total"]["memory"]
    assert data["deployment"] == {
        "dtype": memory["dtype"],
        "batch": memory["batch"],
        "fold_bn": memory["fold_bn"],
        "device": "Jetson Nano" if device else None,
    }


def test_sweep_grids_of_peak_weights_and_latency_from_the_formulas() -> None:
    grid = ("--alpha", "1,0.5", "--res", "224,160")
    args = ("sweep", "mobilenet_v1", *grid, "--memory", "--device", "jetson-nano")
    rows = list(csv.DictReader(io.StringIO(ok(*args, "--format", "csv"))))
    assert list(rows[0])[-3:] == ["peak_bytes", "weight_bytes", "latency_seconds"]
    for row in rows:
        shown = expected(v1_ops(Fraction(row["alpha"]), int(row["height"])))
        assert int(row["peak_bytes"]) == shown.peak_bytes
        assert int(row["weight_bytes"]) == shown.weight_bytes
        assert float(row["latency_seconds"]) == pytest.approx(float(shown.seconds), rel=1e-9)
    text = ok(*args)
    assert "MobileNet v1 — peak activations · weights (fp16, batch 1)" in text
    assert "MobileNet v1 — estimated latency on Jetson Nano (fp16, batch 1)" in text
    cell = f"{binary(JETSON_V1.peak_bytes)} · {binary(JETSON_V1.weight_bytes)}"
    assert re.search(rf"│\s+1 │ {re.escape(cell)} │", text)


def test_sweep_with_a_device_file(tmp_path: Path) -> None:
    path = tmp_path / "cpu.yaml"
    path.write_text(CPU_PROFILE.format(bandwidth="20G"), encoding="utf-8")
    args = ("--alpha", "1", "--res", "224", "--device", str(path), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(ok("sweep", "mobilenet_v1", *args))))
    shown = expected(V1, "fp32", device=cpu())
    assert float(rows[0]["latency_seconds"]) == pytest.approx(float(shown.seconds), rel=1e-9)
    assert int(rows[0]["peak_bytes"]) == SEP1_PW_VALUES * 4


def test_sweep_without_deployment_options_has_no_deployment() -> None:
    data = json.loads(ok("sweep", "mobilenet_v1", "--format", "json"))
    assert "deployment" not in data
    assert set(data["settings"][0]) == {
        "alpha", "depth", "resolution", "valid", "mult_adds", "params", "bn_params",
        "activations",
    }  # fmt: skip


# --- what docs/deployment.md's deployment view says of its examples --------------------------
# (tests/test_docs.py runs every example and compares its output)


def readme_section() -> str:
    return read_page(README).section("Deployment view")


def readme_example(args: tuple[str, ...]) -> str:
    """The output the deployment view's page shows for `mbcalc ARGS`."""
    page = read_page(README)
    (block,) = [
        block
        for block in page.blocks_in("Deployment view", "text")
        if block.first == f"$ mbcalc {shlex.join(args)}"
    ]
    return block.text.partition("\n")[2]


@pytest.fixture
def readme_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding the section's device files (yaml blocks headed `# FILE.yaml`),
    as a reader would save them."""
    for block in read_page(README).blocks_in("Deployment view", "yaml"):
        found = re.match(r"# (\S+\.yaml)\b", block.first)
        if found:
            (tmp_path / found[1]).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / found[1]).write_text(block.text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_readmes_table_example_has_the_whole_summary() -> None:
    lines = readme_example(V1_TABLE).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("total "))
    assert all(line.strip() != "…" for line in lines[start:])  # nothing left out
    convention = next(i for i, line in enumerate(lines) if line.startswith("convention:"))
    assert " ".join(lines[convention:]) == CONVENTION  # the last lines, folded at 100 columns
    for label in ("weights", "peak memory", "device", "latency"):
        assert any(line.startswith(f"{label} ") for line in lines[start:]), label


@pytest.mark.usefixtures("readme_folder")
def test_the_readmes_measured_against_estimated_shares_are_real() -> None:
    """Each row of the table of depthwise shares: the estimate is what its command prints."""
    rows = re.findall(r"^\| (.+?) \| (.+?) \| ([\d.]+)% \| `mbcalc (.+?)`", readme_section(), re.M)
    assert len(rows) == 4
    measured = {"14.4%", "42.6%", "43.9%", "not measured"}  # as measured
    assert {row[1] for row in rows} == measured
    for _, _, share, command in rows:
        lines = summary(ok(*shlex.split(command)))
        assert f"Conv DW 3x3: {share}% of the time, 3.06% of the mult-adds" in lines["latency"]


def assert_fragment(shown: object, real: object, where: str = "") -> None:
    """`shown` is `real` with keys left out where it says `"…": "…"`; list items by name."""
    if isinstance(shown, dict):
        assert isinstance(real, dict), where
        for key, value in shown.items():
            if key != "…":
                assert key in real, f"{where}.{key}"
                assert_fragment(value, real[key], f"{where}.{key}")
        if "…" not in shown:
            assert set(shown) == set(real), where
    elif isinstance(shown, list) and shown and isinstance(shown[0], dict) and "name" in shown[0]:
        assert isinstance(real, list), where
        named = {item["name"]: item for item in real}
        for item in shown:
            assert_fragment(item, named[item["name"]], f"{where}[{item['name']}]")
    else:
        assert shown == real, where


def test_the_readmes_json_example_is_real_output() -> None:
    (block,) = re.findall(r"```json\n(.*?)```", readme_section(), re.S)
    assert_fragment(json.loads(block), table_json(*V1_ARGS))


# --- bugs found ------------------------------------------------------------------------------


def residual_spec(folder: Path) -> Path:
    path = folder / "residual.yaml"
    path.write_text(
        "input: {size: 56, channels: 32}\nlayers:\n"
        "  - block:\n      residual: true\n      layers:\n"
        "        - pointwise: {out: 64}\n        - pointwise: {out: 32}\n"
        "  - pool: {global: true}\n  - fc: {out: 10}\n",
        encoding="utf-8",
    )
    return path


def test_time_by_layer_type_covers_the_merges(tmp_path: Path) -> None:
    data = table_json(str(residual_spec(tmp_path)), "--device", "jetson-nano")
    add = next(layer for layer in data["layers"] if layer["op"] == "add")
    # The add reads the block's input and its output (56x56x32 each) and writes 56x56x32, fp16.
    assert add["roofline"]["bytes_moved"] == 3 * 56 * 56 * 32 * 2
    assert add["roofline"]["time_share"] > 0.05
    by_type = data["total"]["roofline"]["by_type"]
    assert sum(row["time_share"] for row in by_type) == pytest.approx(1, abs=1e-5)


def cpu_like(folder: Path, peak: str, bandwidth: str = "1000000T") -> Path:
    path = folder / "fast.yaml"
    path.write_text(
        f"name: t\nmult_adds_per_second: {peak}\nbandwidth_bytes_per_second: {bandwidth}\n"
        "source: made up\n",
        encoding="utf-8",
    )
    return path


def test_a_latency_just_under_a_millisecond_is_not_written_as_an_exponent(
    tmp_path: Path,
) -> None:
    # Compute-bound everywhere (bandwidth 10**18 B/s): latency = 568,740,352 / peak = 0.9998 ms.
    peak = 568_854_100_000
    seconds = Fraction(V1_MULT_ADDS, peak)
    assert Fraction(9995, 10**7) < seconds < Fraction(1, 1000)
    lines = summary(ok("table", "mobilenet_v1", "--device", str(cpu_like(tmp_path, str(peak)))))
    time = lines["latency"][0].split(" estimated")[0]
    assert "e+" not in time, time
    assert_time(time, seconds)


def test_times_keep_three_significant_figures() -> None:
    # pool1 moves 7x7x1024 + 1024 values of 2 bytes at 25.6 GB/s: exactly 4.00 us.
    assert Fraction((7 * 7 * 1024 + 1024) * 2) / JETSON.bandwidth == Fraction(4, 10**6)
    _, rows = op_rows(ok(*V1_TABLE))
    assert rows["pool1"]["time"] == "4.00 µs"


def test_a_device_needs_a_name_and_a_source_that_say_something(tmp_path: Path) -> None:
    path = tmp_path / "blank.yaml"
    path.write_text(
        "name: ''\nmult_adds_per_second: 1G\nbandwidth_bytes_per_second: 1G\nsource: ' '\n",
        encoding="utf-8",
    )
    result = invoke_mbcalc("table", "mobilenet_v1", "--device", str(path))
    assert_clean_failure(result, 1, str(path))


def test_device_file_errors_speak_of_device_files(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    for argument in (str(path), str(tmp_path)):
        error = one_line_error(invoke_mbcalc("table", "mobilenet_v1", "--device", argument))
        assert "spec" not in error, error
        assert "`layers`" not in error, error


def test_the_roofline_charts_header_has_one_cell_per_column() -> None:
    lines = ok("roofline", "mobilenet_v1").splitlines()
    header = next(line for line in lines if line.startswith("┃ layer"))
    row = next(line for line in lines if line.startswith("│ conv1"))
    assert header.count("┃") == row.count("│")
