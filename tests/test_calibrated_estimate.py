"""The latency on a calibrated device: the cost model's estimate in table, compare, sweep, fit and
scale, beside an unchanged roofline bound.

The device files are written here with coefficients chosen here (`tests/helpers/calibrated.py`,
a different figure for every coefficient). Every expected time is the model's sum worked out
by hand from `mbcalc.analyze` and the memory report's bytes (`hand_seconds`): each op's
overhead, work, bytes and passes times their coefficients, plus the fixed cost of a run; never
through `mbcalc.deploy.roofline`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from fractions import Fraction
from typing import Any

import pytest

from mbcalc import Settings, analyze, build_graph
from mbcalc.core.by_type import categorized
from mbcalc.deploy.memory import DType, MemoryReport, memory_report
from mbcalc.spec.zoo import load_shipped
from mbcalc.views.text import category_label
from tests.helpers.calibrated import (
    chosen_coefficients,
    hand_op_seconds,
    hand_seconds,
    write_devices,
)
from tests.helpers.cli import markdown_table, ok

COEFFICIENTS = chosen_coefficients()
EXACT = 1e-12  # the grid engine, the one-setting engine and the hand sum add floats in turn
DESCRIPTION = "calibrated: torch on cpu, 1 thread, batch 1; held-out median error 9.2%"


@pytest.fixture(scope="module")
def devices(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The calibrated device file and the same device without its calibration."""
    calibrated, plain = write_devices(tmp_path_factory.mktemp("devices"), COEFFICIENTS)
    return str(calibrated), str(plain)


def hand_memory(
    name: str, settings: Settings | None = None, dtype: DType = DType.FP32, batch: int = 1
) -> MemoryReport:
    report = analyze(build_graph(load_shipped(name), settings or Settings()))
    return memory_report(report, dtype, batch)


def table_json(*args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok("table", *args, "--format", "json"))
    return data


def json_of(*args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(*args, "--format", "json"))
    return data


UNITS = {"s": 1.0, "ms": 1e-3, "µs": 1e-6, "ns": 1e-9}


def assert_shown(text: str, seconds: float) -> None:
    """A time written to three significant figures: within 0.5% of `seconds`."""
    number, unit = text.split()
    assert float(number) * UNITS[unit] == pytest.approx(seconds, rel=5e-3), (text, seconds)


# --- table -------------------------------------------------------------------------------------

NETWORKS = [
    "mobilenet_v1",  # pointwise, depthwise, a k x k conv, a global pool, an fc
    "mobilenet_v3_small",  # squeeze-and-excite: global pools, fcs, scales; hard swish
    "resnext50_32x4d",  # grouped convs, a max pool, residual adds
    "googlenet",  # max pools, concatenations
    "densenet121",  # average pools in windows, standalone batch norms
    "shufflenet_v2_x0_5",  # split views, channel shuffles
    "vit_b_16",  # tokens, attention, layer norms, GELU, the class token read out
    "swin_t",  # windows padded and cropped, patches merged (space to depth), attention in windows
    "maxvit_t",  # attention in blocks and in a grid
    "inception_v3",  # an auxiliary head, which does not run at inference
]


@pytest.mark.parametrize("name", NETWORKS)
def test_the_estimate_is_the_models_sum_over_the_ops(name: str, devices: tuple[str, str]) -> None:
    calibrated, plain = devices
    data = table_json(name, "--device", calibrated)
    assert data["total"]["estimate"] | {"by_type": None} == {
        "seconds": pytest.approx(hand_seconds(hand_memory(name), COEFFICIENTS), rel=EXACT, abs=0),
        "runtime": "torch",
        "device": "cpu",
        "threads": 1,
        "batch": 1,
        "held_out_median_error": 0.092,
        "by_type": None,
    }
    bound = table_json(name, "--device", plain)
    for layer, plain_layer in zip(data["layers"], bound["layers"], strict=True):
        assert layer["roofline"] == plain_layer["roofline"]
        assert "estimate" not in plain_layer
    assert data["total"]["roofline"]["seconds"] == bound["total"]["roofline"]["seconds"]
    assert "estimate" not in bound["total"]


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "densenet121"])
def test_the_estimate_by_layer_type_sums_each_types_ops(
    name: str, devices: tuple[str, str]
) -> None:
    """Each type's share of the estimate: its ops' hand-summed times over the network's."""
    calibrated, _ = devices
    memory = hand_memory(name)
    total = hand_seconds(memory, COEFFICIENTS)
    summed: dict[str, float] = {}
    for index, (_, category) in enumerate(categorized(memory.report)):
        label = category_label(category)
        summed[label] = summed.get(label, 0.0) + hand_op_seconds(memory, index, COEFFICIENTS)
    by_type = table_json(name, "--device", calibrated)["total"]["estimate"]["by_type"]
    assert {row["type"] for row in by_type} == set(summed)
    for row in by_type:
        assert row["time_share"] == pytest.approx(summed[row["type"]] / total, abs=5e-7), row
    shares = [row["time_share"] for row in by_type]
    assert shares == sorted(shares, reverse=True)  # the slowest type first


# Ops alike on the roofline (one shared `OpTime`, the same bytes) that differ in class or
# passes, and so in estimate: each must be written with its own.
OPTIONS = [(), ("--memory",)]
PER_LAYER = [
    pytest.param(options, name, id=f"{name}{'-memory' if options else ''}")
    for options in OPTIONS
    for name in NETWORKS
]


@pytest.mark.parametrize(("options", "name"), PER_LAYER)
def test_each_layers_estimate_is_its_ops_time(
    name: str, options: tuple[str, ...], devices: tuple[str, str]
) -> None:
    memory = hand_memory(name)
    total = hand_seconds(memory, COEFFICIENTS)
    layers = table_json(name, "--device", devices[0], *options)["layers"]
    assert [layer["name"] for layer in layers] == [row.op.name for row in memory.report.rows]
    for index, layer in enumerate(layers):
        seconds = hand_op_seconds(memory, index, COEFFICIENTS)
        assert layer["estimate"]["seconds"] == pytest.approx(seconds, rel=EXACT, abs=0), index
        assert layer["estimate"]["time_share"] == pytest.approx(seconds / total, abs=5e-7)


def test_the_estimate_follows_the_number_format_and_the_batch(devices: tuple[str, str]) -> None:
    """Bytes at fp16, and at batch 4 four times the work, bytes of activations and elements."""
    calibrated, _ = devices
    data = table_json("mobilevit_xxs", "--device", calibrated, "--dtype", "fp16", "--batch", "4")
    memory = hand_memory("mobilevit_xxs", dtype=DType.FP16, batch=4)
    expected = hand_seconds(memory, COEFFICIENTS)
    assert data["total"]["estimate"]["seconds"] == pytest.approx(expected, rel=EXACT, abs=0)
    assert expected != pytest.approx(hand_seconds(hand_memory("mobilevit_xxs"), COEFFICIENTS))


def test_the_json_roofline_object_is_the_roofline_alone(devices: tuple[str, str]) -> None:
    calibrated, plain = devices
    with_estimate = table_json("mobilenet_v1", "--device", calibrated)["total"]["roofline"]
    assert with_estimate == table_json("mobilenet_v1", "--device", plain)["total"]["roofline"]


def test_a_folded_batch_norm_takes_no_pass(devices: tuple[str, str]) -> None:
    calibrated, _ = devices
    data = table_json("mobilenet_v1", "--device", calibrated, "--fold-bn")
    report = analyze(build_graph(load_shipped("mobilenet_v1"), Settings()))
    expected = hand_seconds(memory_report(report, fold_bn=True), COEFFICIENTS, folded=True)
    assert data["total"]["estimate"]["seconds"] == pytest.approx(expected, rel=EXACT, abs=0)


LATENCY = re.compile(
    r"- latency: (\S+ \S+) estimated \((.*)\); roofline lower bound (\S+ \S+); "
    r"(\d+ of \d+ ops memory-bound)"
)
BOUND = re.compile(r"- latency: (\S+ \S+) estimated \(roofline lower bound\); (.*)")


def test_the_summary_gives_the_estimate_its_conditions_and_the_bound(
    devices: tuple[str, str],
) -> None:
    calibrated, plain = devices
    found = LATENCY.search(ok("table", "mobilenet_v3_small", "-d", calibrated, "-f", "markdown"))
    bound = BOUND.search(ok("table", "mobilenet_v3_small", "-d", plain, "-f", "markdown"))
    assert found is not None
    assert bound is not None
    assert_shown(found[1], hand_seconds(hand_memory("mobilenet_v3_small"), COEFFICIENTS))
    assert found[2] == DESCRIPTION
    assert (found[3], found[4]) == (bound[1], bound[2])
    terminal = " ".join(ok("table", "mobilenet_v3_small", "--device", calibrated).split())
    assert f"estimated ({DESCRIPTION}); roofline lower bound {bound[1]}" in terminal


def test_each_rows_time_is_its_estimate(devices: tuple[str, str]) -> None:
    calibrated, _ = devices
    memory = hand_memory("mobilenet_v1")
    rows = markdown_table(ok("table", "mobilenet_v1", "--device", calibrated, "-f", "markdown"))
    time = rows[0].index("time")
    ops = [row for row in rows[1:] if not row[0].startswith("**")]  # units are bold
    assert len(ops) == len(memory.ops)
    for index, row in enumerate(ops):
        assert_shown(row[time], hand_op_seconds(memory, index, COEFFICIENTS))


def test_the_csv_carries_each_ops_estimate(devices: tuple[str, str]) -> None:
    calibrated, _ = devices
    memory = hand_memory("mobilenet_v1")
    rows = list(
        csv.DictReader(io.StringIO(ok("table", "mobilenet_v1", "-d", calibrated, "-f", "csv")))
    )
    expected = [hand_op_seconds(memory, i, COEFFICIENTS) for i in range(len(memory.ops))]
    columns = [
        column
        for column in rows[0]
        if all(
            re.fullmatch(r"[-+.eE\d]+", row[column])
            and float(row[column]) == pytest.approx(seconds, rel=1e-9)
            for row, seconds in zip(rows, expected, strict=True)
        )
    ]
    assert columns


# --- compare -----------------------------------------------------------------------------------


def test_compare_puts_the_estimates_side_by_side(devices: tuple[str, str]) -> None:
    calibrated, _ = devices
    data = json_of("compare", "mobilenet_v1", "mobilenet_v3_small", "--device", calibrated)
    first = hand_seconds(hand_memory("mobilenet_v1"), COEFFICIENTS)
    second = hand_seconds(hand_memory("mobilenet_v3_small"), COEFFICIENTS)
    deployments = [column["deployment"] for column in data["columns"]]
    assert deployments[0]["latency_seconds"] == pytest.approx(first, rel=EXACT, abs=0)
    assert deployments[1]["latency_seconds"] == pytest.approx(second, rel=EXACT, abs=0)
    assert deployments[1]["vs_first"]["latency"] == pytest.approx(second / first, abs=5e-7)
    text = ok("compare", "mobilenet_v1", "mobilenet_v3_small", "--device", calibrated)
    assert f"(x{second / first:.2f}) on 2-core x86" in " ".join(text.split())


# --- sweep, fit and scale: the grid engine -----------------------------------------------------

SWEPT = [
    ("mobilenet_v3_small", "0.5,0.75,1", "128,160,224", ()),  # squeeze-and-excite
    ("mobilenet_v3_small", "0.5,1", "160,224", ("--dtype", "fp16", "--batch", "2")),
    ("efficientnet_b0", "0.5,1", "192,224", ()),  # squeeze-and-excite, swish
    ("mobilevit_xxs", "0.5,1", "192,256", ()),  # attention between convs
    ("vit_b_16", "0.5,1", "160,224", ()),  # attention throughout
    ("swin_t", "0.5,1", "192,224", ()),  # attention in windows
    ("shufflenet_v2_x0_5", "0.5,1", "160,224", ()),  # splits and shuffles
]


@pytest.mark.parametrize(("name", "alphas", "heights", "options"), SWEPT)
def test_each_sweep_cell_is_the_estimate_at_that_setting(
    name: str, alphas: str, heights: str, options: tuple[str, ...], devices: tuple[str, str]
) -> None:
    calibrated, _ = devices
    args = ("--alpha", alphas, "--res", heights, "--device", calibrated, *options)
    cells = json_of("sweep", name, *args)["settings"]
    assert len(cells) == len(alphas.split(",")) * len(heights.split(","))
    dtype, batch = (DType.FP16, 2) if options else (DType.FP32, 1)
    for cell in cells:
        alpha, height = str(cell["alpha"]), cell["resolution"][0]
        settings = Settings(alpha=Fraction(alpha), res=height)
        expected = hand_seconds(hand_memory(name, settings, dtype, batch), COEFFICIENTS)
        assert cell["latency_seconds"] == pytest.approx(expected, rel=EXACT, abs=0), cell
        one = table_json(name, "--alpha", alpha, "--res", str(height), "-d", calibrated, *options)
        assert cell["latency_seconds"] == pytest.approx(
            one["total"]["estimate"]["seconds"], rel=EXACT, abs=0
        )


def test_an_adaptive_pool_is_priced_alike_by_sweep_and_table(devices: tuple[str, str]) -> None:
    calibrated, _ = devices
    cell = json_of("sweep", "alexnet", "--alpha", "1", "--res", "224", "-d", calibrated)
    one = table_json("alexnet", "--device", calibrated)
    assert cell["settings"][0]["latency_seconds"] == pytest.approx(
        one["total"]["estimate"]["seconds"], rel=EXACT, abs=0
    )


FIT_GRID = ("--alpha", "0.5,0.75,1", "--res", "160,192,224")


def test_fit_keeps_the_settings_whose_estimate_is_within_the_budget(
    devices: tuple[str, str],
) -> None:
    calibrated, _ = devices
    estimates = {
        (alpha, height): hand_seconds(
            hand_memory("mobilenet_v3_small", Settings(alpha=alpha, res=height)), COEFFICIENTS
        )
        for alpha in (Fraction(1, 2), Fraction(3, 4), Fraction(1))
        for height in (160, 192, 224)
    }
    ordered = sorted(estimates.values())
    budget = (ordered[4] + ordered[5]) / 2  # between the fifth and sixth settings' estimates
    data = json_of(
        "fit", "mobilenet_v3_small", *FIT_GRID, "-d", calibrated,
        "--max-latency", f"{budget * 1e3:.9f}ms", "--all",
    )  # fmt: skip
    kept = {
        (Fraction(str(row["alpha"])), row["resolution"][0]): row for row in data["within_budget"]
    }
    assert set(kept) == {setting for setting, seconds in estimates.items() if seconds <= budget}
    assert len(kept) == 5
    for setting, row in kept.items():
        assert row["latency_seconds"] == pytest.approx(estimates[setting], rel=EXACT, abs=0)


def test_scale_gives_each_phi_its_estimate(devices: tuple[str, str]) -> None:
    calibrated, _ = devices
    data = json_of("scale", "mobilenet_v3_small", "--phi", "0:2", "--device", calibrated)
    assert len(data["settings"]) == 3
    for row in data["settings"]:
        settings = Settings(
            alpha=Fraction(str(row["alpha"])),
            depth=Fraction(str(row["depth"])),
            res=row["resolution"][0],
        )
        expected = hand_seconds(hand_memory("mobilenet_v3_small", settings), COEFFICIENTS)
        assert row["latency_seconds"] == pytest.approx(expected, rel=EXACT, abs=0), row


def test_scale_says_which_latency_it_gives(devices: tuple[str, str]) -> None:
    calibrated, plain = devices
    for device, kind in ((calibrated, "calibrated estimate"), (plain, "roofline bound")):
        text = " ".join(ok("scale", "mobilenet_v3_small", "--phi", "0:1", "-d", device).split())
        assert f"latency: {kind} on 2-core x86" in text
