"""The documented limits (`mbcalc.core.limits`): each refused before any work, in one error line.

A value beyond a limit on the command line exits 2; a device file beyond one exits 1 and names
the file, the line and the field.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from mbcalc.core.graph import build_graph
from mbcalc.core.limits import (
    MAX_BATCH,
    MAX_COUNT_WEIGHT,
    MAX_GRID_CELLS,
    MAX_RATE,
    MAX_VERIFY_BYTES,
    MIN_RATE,
)
from mbcalc.core.profiles import parse_extras
from mbcalc.core.report import analyze
from mbcalc.deploy.deployment import deploy
from mbcalc.deploy.memory import memory_report
from mbcalc.deploy.roofline import parse_device, roofline
from mbcalc.errors import LimitError, SpecError
from mbcalc.grid import sweep as sweep_module
from mbcalc.grid.fit import fit
from mbcalc.grid.sweep import sweep
from mbcalc.spec import parse_spec
from mbcalc.spec.zoo import load_shipped
from tests.helpers.cli import invoke_mbcalc


def assert_refused(args: tuple[str, ...], code: int, *words: str) -> str:
    """Exit `code`, nothing on stdout, exactly one `mbcalc: error:` line holding `words`."""
    result = invoke_mbcalc(*args)
    assert result.exit_code == code, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("mbcalc: error: "), line
    for word in words:
        assert word in line, (word, line)
    return line


# -- batch ------------------------------------------------------------------------------------

HUGE = "1" + "0" * 320


@pytest.mark.parametrize(
    "command",
    [
        ("table", "mobilenet_v1", "--memory"),
        ("roofline", "mobilenet_v1"),
        ("compare", "mobilenet_v1", "mobilenet_v1@alpha=0.5", "--memory"),
        ("sweep", "mobilenet_v1", "--memory", "-f", "json"),
    ],
)
@pytest.mark.parametrize("batch", [HUGE, str(MAX_BATCH + 1)])
def test_a_batch_beyond_the_limit_is_a_usage_error(command: tuple[str, ...], batch: str) -> None:
    line = assert_refused((*command, "--batch", batch), 2, f"{MAX_BATCH:,}")
    assert len(line) < 200  # a 321-digit batch is not echoed


def test_the_largest_batch_is_accepted() -> None:
    report = analyze(build_graph(load_shipped("mobilenet_v1")))
    deployment = deploy(report, batch=MAX_BATCH)
    assert deployment.memory.batch == MAX_BATCH
    with pytest.raises(LimitError):
        deploy(report, batch=MAX_BATCH + 1)


# -- device rates -----------------------------------------------------------------------------


def device_text(rate: str, bandwidth: str = "10G") -> str:
    return (
        f"name: x\nsource: s\nmult_adds_per_second: {rate}\n"
        f"bandwidth_bytes_per_second: {bandwidth}\n"
    )


@pytest.mark.parametrize("rate", ["1e-999", "1e-304", "0.5", "1e22", "1000000000000T"])
def test_a_device_rate_beyond_the_limits_names_file_line_and_field(rate: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_device(device_text(rate), "dev.yaml")
    assert str(caught.value).startswith("dev.yaml:3: `mult_adds_per_second` must be from 1 ")
    with pytest.raises(SpecError) as caught:
        parse_device(device_text("1G", rate), "dev.yaml")
    assert str(caught.value).startswith("dev.yaml:4: `bandwidth_bytes_per_second` must be")


def test_a_device_rate_beyond_the_limits_on_the_command_line(tmp_path: Path) -> None:
    device = tmp_path / "dev.yaml"
    device.write_text(device_text("1e-999"), encoding="utf-8")
    for command in (("roofline", "mobilenet_v1"), ("table", "mobilenet_v1"),
                    ("sweep", "mobilenet_v1", "-f", "json")):  # fmt: skip
        assert_refused((*command, "--device", str(device)), 1, "dev.yaml:3", "1e21")


def test_the_slowest_and_fastest_rates_give_finite_times() -> None:
    """At the floor and the ceiling every op's time is M / rate or B / rate, finite in JSON."""
    for rate in (MIN_RATE, MAX_RATE):
        device = parse_device(device_text(str(rate), str(rate)), "dev.yaml")
        report = analyze(build_graph(load_shipped("mobilenet_v1")))
        estimate = roofline(memory_report(report), device)
        for op in estimate.ops:
            assert op.seconds == max(Fraction(op.mult_adds, rate), Fraction(op.bytes, rate))
        grid = sweep(load_shipped("mobilenet_v1"), [Fraction(1)], device=device)
        assert grid.latency is not None
        json.dumps(float(grid.latency[0, 0]), allow_nan=False)


# -- count weights ----------------------------------------------------------------------------


def test_a_count_weight_beyond_the_limit_is_refused() -> None:
    assert parse_extras(f"bn={MAX_COUNT_WEIGHT}") == {"bn": MAX_COUNT_WEIGHT}
    with pytest.raises(LimitError, match=f"at most {MAX_COUNT_WEIGHT:,}"):
        parse_extras(f"bn={MAX_COUNT_WEIGHT + 1}")


@pytest.mark.parametrize("weight", ["1" + "0" * 4299, "1" + "0" * 20, "0" * 50 + "7" * 8])
def test_a_huge_count_weight_is_one_error_line(weight: str) -> None:
    assert_refused(("table", "mobilenet_v1", "--count", f"bn={weight}"), 2, "--count", "bn")


# -- grids --------------------------------------------------------------------------------------


def fail_if_planned(monkeypatch: pytest.MonkeyPatch) -> None:
    """A grid refused before any work: planning the network would fail the test."""

    def planned(*args: object) -> None:
        raise AssertionError("the grid was computed before it was refused")

    monkeypatch.setattr(sweep_module, "make_plan", planned)


@pytest.mark.parametrize(
    "args",
    [
        ("sweep", "mobilenet_v1", "--alpha", "0.001:1:0.0000001", "--res", "1:100000:1"),
        ("sweep", "mobilenet_v1", "--alpha", "0.01:1:0.01", "--res", "1:100000:1", "-f", "csv"),
        ("fit", "mobilenet_v1", "--max-mult-adds", "300M", "--alpha", "0.00001:1:0.000001"),
        ("fit", "mobilenet_v1", "--max-mult-adds", "300M", "--res-step", "1",
         "--alpha", "0.0001:1:0.0001"),
    ],
)  # fmt: skip
def test_a_grid_beyond_the_limit_is_refused_before_any_work(
    args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_if_planned(monkeypatch)
    assert_refused(args, 2, f"more than the limit of {MAX_GRID_CELLS:,}", "STEP")


def test_a_sweep_too_large_for_a_table_is_refused_before_any_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fail_if_planned(monkeypatch)
    assert_refused(("sweep", "mobilenet_v1", "--alpha", "0.01:1:0.01", "--res", "1:1000:1"), 1,
                   "100,000 settings", "--format csv")  # fmt: skip


def test_fit_with_a_huge_input_refuses_its_default_search(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = parse_spec("input: {size: 1000000000, channels: 1}\nlayers:\n  - pool: {global: true}\n")
    fail_if_planned(monkeypatch)
    with pytest.raises(LimitError, match="31,250,000 resolutions"):  # 10**9 / 32 heights
        fit(spec, 300_000_000)


def test_the_largest_grid_is_accepted_by_the_check() -> None:
    spec = parse_spec("input: {size: 8, channels: 1}\nlayers:\n  - pool: {global: true}\n")
    alphas = [Fraction(1)] * 1000
    grid = sweep(spec, alphas, list(range(1, MAX_GRID_CELLS // 1000 + 1)))
    assert grid.valid.size == MAX_GRID_CELLS
    with pytest.raises(LimitError):
        sweep(spec, alphas, list(range(1, MAX_GRID_CELLS // 1000 + 2)))


# -- verify -------------------------------------------------------------------------------------

ONE_CONV = "input: {size: 4, channels: 3}\nlayers:\n  - conv: {out: 8}\n"


@pytest.mark.torch
def test_module_bytes_by_hand() -> None:
    """conv 3x3 3->8 + BN on 4x4, fp32: weights 216 and 4 x 8 BN values; the input (4x4x3) and
    the output (4x4x8) alive together; two more outputs inside the op."""
    pytest.importorskip("torch")
    from mbcalc.pytorch.verification import module_bytes

    report = analyze(build_graph(parse_spec(ONE_CONV)))
    weights = (3 * 3 * 3 * 8 + 4 * 8) * 4
    input_bytes, output_bytes = 4 * 4 * 3 * 4, 4 * 4 * 8 * 4
    assert module_bytes(report) == weights + input_bytes + output_bytes + 2 * output_bytes


@pytest.mark.torch
@pytest.mark.parametrize("option", [("--alpha", "3000"), ("--res", "20000")])
def test_verify_refuses_a_module_beyond_the_memory_limit(
    option: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("torch")
    import mbcalc.pytorch.verification

    def built(*args: object) -> None:
        raise AssertionError("the module was built before it was refused")

    monkeypatch.setattr(mbcalc.pytorch.verification, "Network", built)
    limit = f"{MAX_VERIFY_BYTES / 2**30:g} GiB"
    assert_refused(("verify", "mobilenet_v1", *option), 2, "GiB", limit, "--alpha or --res")


# -- 100,000 ops: linear work -----------------------------------------------------------------


def separable_spec(units: int) -> str:
    return (
        f"input: {{size: 8, channels: 8}}\nlayers:\n  - separable: {{out: 8, repeat: {units}}}\n"
        "  - pool: {global: true}\n  - fc: {out: 10}\n"
    )


def test_the_roofline_sums_the_ops_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every op's share of the time divides by one total: reading op times stays linear."""
    from mbcalc.deploy.roofline import OpTime, resolve_device
    from mbcalc.views import export

    report = analyze(build_graph(parse_spec(separable_spec(150))))
    deployment = deploy(report, device=resolve_device("jetson-nano"))
    reads = 0
    seconds = OpTime.seconds

    def counted(op: OpTime) -> Fraction:
        nonlocal reads
        reads += 1
        return seconds.fget(op)  # type: ignore[no-any-return, attr-defined]

    monkeypatch.setattr(OpTime, "seconds", property(counted))
    record = json.loads(export.to_json(report, deployment))
    ops = len(report.rows)
    assert len(record["layers"]) == ops == 302
    assert reads <= 10 * ops  # re-summing all ops for each op's share: ops**2 = 91,204


def test_the_json_report_has_one_line_per_layer_and_unit() -> None:
    """The light indentation holds exactly the data `json.dumps` gives of the record."""
    from mbcalc.core.profiles import PROFILES, count
    from mbcalc.deploy.roofline import resolve_device
    from mbcalc.views import export

    report = analyze(build_graph(load_shipped("mobilenet_v2")))
    deployment = deploy(report, device=resolve_device("jetson-nano"))
    counted = count(report, PROFILES["torch"])
    text = export.to_json(report, deployment, counted)
    record = export.report_record(report, deployment, counted)
    assert json.loads(text) == json.loads(json.dumps(record))
    lines = text.splitlines()
    for entry in (*record["layers"], *record["units"]):
        assert "    " + json.dumps(entry) in (line.rstrip(",") for line in lines)
    assert text.startswith('{\n  "schema": "mbcalc.report/1",\n')
    assert text.endswith("\n}\n")


def test_commands_run_without_the_cyclic_collector_and_restore_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc

    import mbcalc.core.report

    states: list[bool] = []
    real = mbcalc.core.report.analyze

    def watched(*args: object) -> object:
        states.append(gc.isenabled())
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(mbcalc.core.report, "analyze", watched)
    assert gc.isenabled()
    invoke_mbcalc("table", "mobilenet_v1", "-f", "json")
    assert states == [False]
    assert gc.isenabled()
