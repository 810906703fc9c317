"""`mbcalc calibrate` and `mbcalc bench` on the command line, on a tiny grid and small budgets.

No timing is asserted: the tests check what is measured (every micro network, every op, the
runs the budget asks for), that the device file written reads back and drives the estimate,
and that the commands fail cleanly. The fitted model itself is tested on synthetic timings
with a known answer in tests/test_calibration_fit.py.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from mbcalc.deploy.micro_grid import MicroNetwork, micro_networks  # noqa: E402
from mbcalc.deploy.roofline import resolve_device  # noqa: E402
from mbcalc.kinds import Runtime  # noqa: E402
from mbcalc.pytorch.timing import Budget, measure, measure_in_turn  # noqa: E402
from tests.helpers.cli import assert_clean_failure, invoke_mbcalc, one_line_error  # noqa: E402

TINY = Budget(warmup=1, min_runs=3, min_seconds=0.0)


def tiny_grid(quick: bool = False) -> list[MicroNetwork]:
    """A network of every kind the quick grid has, at its first shape: a calibration in seconds."""
    seen: dict[str, MicroNetwork] = {}
    for network in micro_networks(quick=True):
        seen.setdefault(network.name.split()[0], network)
    return list(seen.values())


@pytest.fixture
def tiny_calibration(monkeypatch: pytest.MonkeyPatch) -> None:
    from mbcalc.pytorch import bench, calibrate

    monkeypatch.setattr(calibrate, "micro_networks", tiny_grid)
    monkeypatch.setattr(calibrate, "QUICK_ROUNDS", 3)
    monkeypatch.setattr(calibrate, "ROUNDS", 3)
    monkeypatch.setattr(bench, "BENCH_BUDGET", TINY)
    monkeypatch.setattr(bench, "OP_RUNS", 3)


def test_measure_takes_the_runs_its_budget_asks_for() -> None:
    calls: list[int] = []
    timing = measure(lambda: calls.append(1), Budget(warmup=4, min_runs=7, min_seconds=0.0))
    assert len(calls) == 4 + 7
    assert timing.runs == 7
    assert timing.q1 <= timing.median <= timing.q3


def test_measure_in_turn_runs_each_once_per_round() -> None:
    calls: list[int] = []
    runs = [lambda k=k: calls.append(k) for k in range(5)]
    rounds: list[int] = []
    timings = measure_in_turn(runs, 6, progress=rounds.append)
    assert [calls.count(k) for k in range(5)] == [1 + 6] * 5  # one warm-up call each
    assert rounds == list(range(1, 7))
    assert [t.runs for t in timings] == [6] * 5


def test_measure_in_turn_times_one_call_after_its_warm_calls() -> None:
    calls: list[int] = []
    runs = [lambda k=k: calls.append(k) for k in range(3)]
    timings = measure_in_turn(runs, 4, warm=2)
    assert [calls.count(k) for k in range(3)] == [1 + 4 * (2 + 1)] * 3  # one warm-up call each
    assert [t.runs for t in timings] == [4] * 3
    # after the warm-up, a callable's calls come in threes: its 2 warm calls, then the timed one
    after = calls[3:]
    assert all(len(set(after[i : i + 3])) == 1 for i in range(0, len(after), 3))


def test_every_runtime_has_its_warm_calls() -> None:
    from mbcalc.pytorch import calibrate

    assert set(calibrate.WARM_CALLS) == set(Runtime)


@pytest.mark.usefixtures("tiny_calibration")
def test_calibrate_writes_a_device_file_that_drives_the_estimate(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    result = invoke_mbcalc("calibrate", "-o", str(path), "--name", "test machine")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(f"wrote {path}\n")
    device = resolve_device(str(path))
    assert device.name == "test machine"
    calibration = device.calibration
    assert calibration is not None
    assert calibration.networks == len(tiny_grid())
    assert (calibration.runtime, calibration.device, calibration.threads) == ("torch", "cpu", 1)
    assert calibration.quality.held_out == len(tiny_grid()) // 5
    assert all(value >= 0 for value in calibration.model.coefficients.values())
    table = invoke_mbcalc("table", "mobilenet_v1", "--alpha", "0.25", "--device", str(path))
    assert table.exit_code == 0, table.output
    latency = next(line for line in table.stdout.splitlines() if line.startswith("latency"))
    assert "estimated (calibrated: torch on cpu, 1 thread, batch 1;" in latency
    assert "roofline lower bound" in latency


def test_calibrate_refuses_a_gpu_that_is_not_there(tmp_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    path = tmp_path / "gpu.yaml"
    result = invoke_mbcalc("calibrate", "-o", str(path), "--device", "cuda")
    assert_clean_failure(result, 1, "no CUDA device")
    assert "no CUDA device" in one_line_error(result)
    assert not path.exists()


def test_calibrate_needs_an_output_file() -> None:
    result = invoke_mbcalc("calibrate")
    assert result.exit_code == 2
    assert "--output" in result.stderr


@pytest.mark.usefixtures("tiny_calibration")
def test_bench_times_every_op_that_runs(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = invoke_mbcalc(
        "bench", "mobilenet_v1", "--alpha", "0.25", "--res", "32", "--estimate", "jetson-nano",
        "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text())
    assert (record["runtime"], record["device"], record["threads"], record["batch"]) == (
        "torch", "cpu", 1, 1,
    )  # fmt: skip
    measured = record["measured"]
    assert measured["runs"] == TINY.min_runs
    assert 0 < measured["q1_seconds"] <= measured["median_seconds"] <= measured["q3_seconds"]
    layers = record["layers"]
    assert len(layers) == 29  # MobileNet v1: a conv, 13 x (depthwise, pointwise), pool, fc
    assert all(layer["measured_seconds"] > 0 for layer in layers)
    assert all(layer["estimated_seconds"] > 0 for layer in layers if layer["mult_adds"])
    assert record["estimate"]["on"] == "roofline bound, Jetson Nano"
    assert record["mult_adds"] == sum(layer["mult_adds"] for layer in layers)


@pytest.mark.usefixtures("tiny_calibration")
def test_bench_as_csv_and_markdown() -> None:
    args = ("bench", "mobilenet_v1", "--alpha", "0.25", "--res", "32")
    rows = list(csv.DictReader(io.StringIO(invoke_mbcalc(*args, "-f", "csv").stdout)))
    assert len(rows) == 29
    assert rows[0]["name"] == "conv1"
    assert all(float(row["measured_seconds"]) > 0 for row in rows)
    assert all(row["estimated_seconds"] == "" for row in rows)  # no --estimate
    markdown = invoke_mbcalc(*args, "-f", "markdown").stdout
    assert markdown.count("\n| ") == 29 + 1  # the header and one row per op


@pytest.mark.usefixtures("tiny_calibration")
def test_bench_table_shows_the_measured_and_the_counted() -> None:
    result = invoke_mbcalc("bench", "mobilenet_v1", "--alpha", "0.25", "--res", "32")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "measured: " in text
    assert f"median of {TINY.min_runs} runs" in text
    assert "counted: " in text
    assert " mult-adds" in text


def test_bench_refuses_a_gpu_that_is_not_there() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    result = invoke_mbcalc("bench", "mobilenet_v1", "--device", "cuda")
    assert_clean_failure(result, 1, "no CUDA device")


def test_bench_refuses_an_unknown_runtime() -> None:
    result = invoke_mbcalc("bench", "mobilenet_v1", "--runtime", "tflite")
    assert result.exit_code == 2
    assert "tflite" in result.stderr
