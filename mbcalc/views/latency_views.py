"""Measured latency: `mbcalc bench`'s report in every format, `mbcalc calibrate`'s fitted model
and the device file it writes. Formatting only: every figure comes from the measurement."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

import yaml
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from mbcalc.deploy.calibration_file import Calibration, calibration_data
from mbcalc.deploy.latency_model import CostClass, Part
from mbcalc.views.escape import for_csv_cell, for_markdown, for_terminal, visible
from mbcalc.views.fitted import KEEP, MULT_ADDS_FIT, NAME_FIT, ColumnFit, FittedTable, Give
from mbcalc.views.formats import duration, exact, percent, rate, threads
from mbcalc.views.text import multipliers

if TYPE_CHECKING:
    from mbcalc.pytorch.bench import Benchmark

BENCH_COLUMNS = ("op", "type", "mult-adds", "activations", "measured", "% measured", "estimate")
CSV_HEADER = (
    "name", "type", "mult_adds", "activations", "measured_seconds", "estimated_seconds",
)  # fmt: skip


def conditions_text(bench: Benchmark) -> str:
    c = bench.conditions
    return f"{c.runtime} on {c.target}, {threads(c.threads)}, batch {c.batch}"


def _estimate(bench: Benchmark, index: int) -> float | None:
    roofline = None if bench.deployment is None else bench.deployment.roofline
    return None if roofline is None else float(roofline.op_time(index))


def _total_estimate(bench: Benchmark) -> float | None:
    roofline = None if bench.deployment is None else bench.deployment.roofline
    return None if roofline is None else roofline.latency


def _estimate_label(bench: Benchmark) -> str:
    roofline = None if bench.deployment is None else bench.deployment.roofline
    if roofline is None:
        return ""
    kind = "calibrated" if roofline.calibrated else "roofline bound"
    return f"{kind}, {roofline.device.name}"


def bench_view(bench: Benchmark) -> RenderableType:
    """One row per op that ran: its counts, its measured time and share, the estimate."""
    report, graph = bench.report, bench.report.graph
    table = Table(
        title=f"{for_terminal(graph.spec.name)} — {multipliers(graph)}, "
        f"{graph.resolution[0]}x{graph.resolution[1]}: measured, {conditions_text(bench)}",
        header_style="bold",
    )
    for column in BENCH_COLUMNS:
        table.add_column(column, justify="left" if column in ("op", "type") else "right")
    fits = [
        ColumnFit(Give.CUT, narrowest=10),  # op
        ColumnFit(Give.CUT, narrowest=5),  # type
        MULT_ADDS_FIT,
        ColumnFit(drop=2, short="acts", name="activations"),
        KEEP,  # measured
        ColumnFit(drop=1, name="% measured"),
        KEEP,  # estimate
    ]
    measured_total = sum(bench.op_seconds.values())
    for index, row in enumerate(report.rows):
        seconds = bench.op_seconds.get(row.op.name)
        if seconds is None:
            continue
        estimate = _estimate(bench, index)
        table.add_row(
            Text(visible(row.op.name)),
            row.op.kind.value,
            exact(row.cost.mult_adds),
            exact(row.activations),
            duration(seconds),
            percent(seconds / measured_total) if measured_total else "",
            "" if estimate is None else duration(estimate),
        )
    return Group(FittedTable(table, fits, other="--format csv"), _summary(bench))


def _summary(bench: Benchmark) -> RenderableType:
    timing, total = bench.timing, bench.report.total
    lines = [
        f"measured: {duration(timing.median)} median of {timing.runs} runs "
        f"(quartiles {duration(timing.q1)} to {duration(timing.q3)}), {conditions_text(bench)}",
        f"counted: {exact(total.cost.mult_adds)} mult-adds, {exact(total.activations)} "
        f"activations, {exact(total.cost.params)} params",
    ]
    estimate = _total_estimate(bench)
    if estimate is not None:
        lines.append(
            f"estimate: {duration(estimate)} ({for_terminal(_estimate_label(bench))}), "
            f"{estimate / timing.median:.2f} x the measured median"
        )
    if bench.op_seconds:
        lines.append(
            f"ops: {duration(sum(bench.op_seconds.values()))} in all, timed one by one in a "
            "second pass (each op's median)"
        )
    return Text("\n".join(lines))


def bench_record(bench: Benchmark) -> dict[str, Any]:
    """The benchmark as JSON-ready data."""
    graph, timing = bench.report.graph, bench.timing
    c = bench.conditions
    layers = []
    for index, row in enumerate(bench.report.rows):
        layers.append(
            {
                "name": row.op.name,
                "type": row.op.kind.value,
                "mult_adds": row.cost.mult_adds,
                "activations": row.activations,
                "measured_seconds": bench.op_seconds.get(row.op.name),
                "estimated_seconds": _estimate(bench, index),
            }
        )
    total = bench.report.total
    return {
        "spec": graph.spec.name,
        "alpha": str(graph.alpha),
        "resolution": list(graph.resolution),
        "runtime": c.runtime,
        "device": c.target,
        "threads": c.threads,
        "batch": c.batch,
        "measured": {
            "median_seconds": timing.median,
            "q1_seconds": timing.q1,
            "q3_seconds": timing.q3,
            "runs": timing.runs,
        },
        "mult_adds": total.cost.mult_adds,
        "activations": total.activations,
        "params": total.cost.params,
        "estimate": None
        if _total_estimate(bench) is None
        else {"seconds": _total_estimate(bench), "on": _estimate_label(bench)},
        "layers": layers,
    }


def bench_json(bench: Benchmark) -> str:
    return json.dumps(bench_record(bench), indent=2) + "\n"


def bench_csv(bench: Benchmark) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for layer in bench_record(bench)["layers"]:
        writer.writerow([for_csv_cell(layer[key]) for key in CSV_HEADER])
    return out.getvalue()


def bench_markdown(bench: Benchmark) -> str:
    record = bench_record(bench)
    lines = [
        f"# {for_markdown(bench.report.graph.spec.name)}: measured, "
        f"{for_markdown(conditions_text(bench))}",
        "",
        f"Median {duration(bench.timing.median)} over {bench.timing.runs} runs.",
        "",
        "| op | type | mult-adds | activations | measured | estimate |",
        "|---|---|--:|--:|--:|--:|",
    ]
    for layer in record["layers"]:
        measured, estimate = layer["measured_seconds"], layer["estimated_seconds"]
        lines.append(
            f"| {for_markdown(layer['name'])} | {layer['type']} | {exact(layer['mult_adds'])} | "
            f"{exact(layer['activations'])} | {'' if measured is None else duration(measured)} | "
            f"{'' if estimate is None else duration(estimate)} |"
        )
    return "\n".join(lines) + "\n"


# -- calibrate ---------------------------------------------------------------------------------


def calibration_view(calibration: Calibration, peak: float, bandwidth: float) -> RenderableType:
    """The fitted model, one line per class and per part, in rates a person reads."""
    c = calibration.model.coefficients
    classes = Table(title="op classes")
    for column in ("op class", "overhead", "rate", "bandwidth"):
        classes.add_column(column, justify="left" if column == "op class" else "right")
    for cls in CostClass:
        per_work, per_byte = c[f"{cls}.per_work"], c[f"{cls}.per_byte"]
        classes.add_row(
            str(cls),
            duration(c[f"{cls}.overhead"]),
            rate(1 / per_work, "/s" if "pool" in str(cls) else "MAC/s") if per_work else "-",
            rate(1 / per_byte, "B/s") if per_byte else "-",
        )
    passes = Table(title="passes after an op")
    for column in ("pass", "overhead", "per element"):
        passes.add_column(column, justify="left" if column == "pass" else "right")
    for part in Part:
        passes.add_row(
            str(part), duration(c[f"{part}.overhead"]), duration(c[f"{part}.per_element"])
        )
    q = calibration.quality
    summary = Text(
        "an op's time: overhead + work / rate + bytes / bandwidth, and for each pass after it\n"
        "(its batch norm, its activation): overhead + output elements x time per element\n"
        f"network overhead {duration(calibration.model.network_overhead)} per run\n"
        f"{calibration.networks} micro networks timed; on the {q.held_out} held out of a first "
        f"fit: median error {q.median_error:.1%}, {q.within_15:.0%} within 15%\n"
        f"rate: mult-adds per second (pools: window reads per second)\n"
        f"roofline of the device file: {rate(peak, 'MAC/s')} (GEMM), "
        f"{rate(bandwidth, 'B/s')} (copy)"
    )
    return Group(
        FittedTable(classes, [NAME_FIT, KEEP, KEEP, KEEP], other=""),
        FittedTable(passes, [NAME_FIT, KEEP, KEEP], other=""),
        summary,
    )


def device_file_text(
    name: str,
    description: str,
    source: str,
    peak: float,
    bandwidth: float,
    calibration: Calibration,
) -> str:
    """A device file (as `mbcalc.deploy.roofline.parse_device` reads it) for a calibration."""
    data = {
        "name": name,
        "description": description,
        "dtype": "fp32",
        "mult_adds_per_second": float(f"{peak:.4g}"),
        "bandwidth_bytes_per_second": float(f"{bandwidth:.4g}"),
        "source": source,
        "calibration": calibration_data(calibration),
    }
    header = (
        "# A device measured by `mbcalc calibrate`: its roofline (GEMM peak, copy bandwidth) and\n"
        "# a cost model fitted to timed micro networks. Use it with --device FILE.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, width=100)
