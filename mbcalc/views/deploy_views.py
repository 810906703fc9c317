"""The deployment columns and summary lines of a report, for every output format.

Formatting only: every figure comes from a `Deployment`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from mbcalc.core.graph import NETWORK_INPUT
from mbcalc.core.profiles import Counted, ParamsRule, Profile
from mbcalc.kinds import Bound
from mbcalc.views.formats import (
    byte_size,
    decimal,
    duration,
    percent,
    rate,
    threads,
    unit_share,
)
from mbcalc.views.text import category_label

if TYPE_CHECKING:  # every report imports this module: the deployment code loads on demand
    from rich.text import Text

    from mbcalc.core.report import Report, UnitRow
    from mbcalc.deploy.calibration_file import Calibration
    from mbcalc.deploy.deployment import Deployment
    from mbcalc.deploy.roofline import OpTime, Roofline

MEMORY_COLUMNS = ("in", "out", "weights")
ROOFLINE_COLUMNS = ("MAC/B", "bound", "time", "% time")
MEMORY_FIELDS = ("input_bytes", "output_bytes", "weight_bytes")
ROOFLINE_FIELDS = ("bytes_moved", "intensity", "bound", "seconds", "time_share")
ESTIMATE_FIELDS = ("estimate_seconds", "estimate_time_share")


def columns(deployment: Deployment | None) -> tuple[str, ...]:
    """Headings of the columns the deployment adds to the per-op table."""
    if deployment is None:
        return ()
    memory = MEMORY_COLUMNS if deployment.show_memory else ()
    return memory + (ROOFLINE_COLUMNS if deployment.roofline is not None else ())


def column_groups(
    deployment: Deployment | None, start: int, escape: Escape
) -> list[tuple[str, range]]:
    """(title, column indices) of the memory and the roofline columns, the first at `start`;
    the device's name passed through `escape`."""
    if deployment is None:
        return []
    groups = []
    if deployment.show_memory:
        memory = deployment.memory
        title = f"memory per op ({memory.dtype.value}, batch {memory.batch})"
        groups.append((title, range(start, start + len(MEMORY_COLUMNS))))
        start += len(MEMORY_COLUMNS)
    if deployment.roofline is not None:
        roofline = deployment.roofline
        kind = "roofline, calibrated time" if roofline.calibrated else "roofline"
        title = f"{kind} per op on {escape(roofline.device.name)}"
        groups.append((title, range(start, start + len(ROOFLINE_COLUMNS))))
    return groups


def footers(deployment: Deployment | None) -> tuple[str, ...]:
    if deployment is None:
        return ()
    memory = ("", "", byte_size(deployment.memory.weight_bytes)) if deployment.show_memory else ()
    estimate = deployment.roofline
    if estimate is None:
        return memory
    return (*memory, "", "", duration(estimate.latency), "100.00%")


def _bound(time: OpTime) -> Text:
    from rich.text import Text

    return Text(time.bound.value, style="yellow" if time.bound is Bound.MEMORY else "cyan")


def op_cells(deployment: Deployment | None, index: int) -> list[str | Text]:
    """The deployment cells of op `index`."""
    if deployment is None:
        return []
    cells: list[str | Text] = []
    if deployment.show_memory:
        memory = deployment.memory.ops[index]
        cells += [
            byte_size(memory.input_bytes),
            byte_size(memory.output_bytes),
            byte_size(memory.weight_bytes),
        ]
    estimate = deployment.roofline
    if estimate is not None:
        time = estimate.ops[index]
        seconds = estimate.op_time(index)
        cells += [
            f"{float(time.intensity):.1f}",
            _bound(time),
            duration(float(seconds)),
            percent(estimate.share(seconds)),
        ]
    return cells


def unit_cells(deployment: Deployment | None, unit: UnitRow) -> list[str | Text]:
    """A multi-op unit's row: its total time and share; no memory sums."""
    if deployment is None:
        return []
    cells: list[str | Text] = ["", "", ""] if deployment.show_memory else []
    estimate = deployment.roofline
    if estimate is not None:
        seconds = _sum([estimate.op_time(i) for i in unit.unit.ops])
        from rich.text import Text

        share = Text(unit_share(estimate.share(seconds)), style="bold")
        cells += ["", "", Text(duration(float(seconds)), style="bold"), share]
    return cells


def _sum(times: list[Fraction | float]) -> Fraction | float:
    """Op times added up: exact where they are the roofline's fractions."""
    if all(isinstance(time, Fraction) for time in times):
        return sum((time for time in times if isinstance(time, Fraction)), Fraction(0))
    return math.fsum(float(time) for time in times)


def calibration_text(calibration: Calibration) -> str:
    """One line: what a calibration was measured on, and how well it predicts."""
    return (
        f"calibrated: {calibration.runtime} on {calibration.device}, "
        f"{threads(calibration.threads)}, batch {calibration.batch}; held-out median error "
        f"{calibration.quality.median_error:.1%}"
    )


def _latency_text(estimate: Roofline) -> str:
    """The summary's latency: a calibrated estimate beside the bound, or the bound alone."""
    memory_bound = f"{estimate.memory_bound} of {len(estimate.running)} ops memory-bound"
    calibration = estimate.device.calibration
    if calibration is None:
        return (
            f"{duration(float(estimate.seconds))} estimated (roofline lower bound); {memory_bound}"
        )
    return (
        f"{duration(estimate.latency)} estimated ({calibration_text(calibration)}); roofline lower "
        f"bound {duration(float(estimate.seconds))}; {memory_bound}"
    )


def _op_name(report: Report, tensor: int) -> str:
    return "input" if tensor == NETWORK_INPUT else report.graph.ops[tensor].name


Escape = Callable[[str], str]
"""How a view makes user text (op and device names) safe for its medium."""


def summary_rows(deployment: Deployment | None, escape: Escape) -> list[tuple[str, str]]:
    """(label, text) lines for the summary under the table, user text passed through `escape`."""
    if deployment is None:
        return []
    memory = deployment.memory
    report = memory.report
    peak = memory.peak
    folded = "folded into the convs" if memory.fold_bn else f"{memory.bn_values:,} BN values"
    rows = [
        (
            "weights",
            f"{byte_size(memory.weight_bytes)} at {memory.dtype.value}: {memory.params:,} params, "
            f"{folded}",
        ),
        (
            "peak memory",
            f"{byte_size(peak.bytes)} of activations (batch {memory.batch}) while "
            f"{escape(_op_name(report, peak.op))} runs; alive: "
            + ", ".join(escape(_op_name(report, tensor)) for tensor in peak.tensors),
        ),
    ]
    estimate = deployment.roofline
    if estimate is not None:
        device = estimate.device
        depthwise = ""
        if device.depthwise_mult_adds_per_second is not None:
            slower = rate(float(device.depthwise_mult_adds_per_second), "MAC/s")
            depthwise = f" ({slower} depthwise)"
        rows += [
            (
                "device",
                f"{escape(device.name)}: {rate(float(device.mult_adds_per_second), 'MAC/s')}"
                f"{depthwise}, {rate(float(device.bandwidth), 'B/s')}, "
                f"ridge {float(device.ridge):.1f} MAC/B — {escape(device.source)}",
            ),
            ("latency", _latency_text(estimate)),
        ]
        for row in deployment.by_category():
            label = category_label(row.category)
            rows.append(
                (
                    "",
                    f"{label}: {percent(estimate.share(row.seconds))} of the time, "
                    f"{percent(report.share(row.mult_adds))} of the mult-adds",
                )
            )
    return rows


# -- json, csv ---------------------------------------------------------------------------------


def layer_fields(deployment: Deployment | None, index: int) -> dict[str, Any]:
    """Additions to one `layers` entry of the JSON report."""
    if deployment is None:
        return {}
    fields: dict[str, Any] = {}
    if deployment.show_memory:
        memory = deployment.memory.ops[index]
        fields["memory"] = {
            "input_bytes": memory.input_bytes,
            "output_bytes": memory.output_bytes,
            "weight_bytes": memory.weight_bytes,
        }
    estimate = deployment.roofline
    if estimate is not None:
        time = estimate.ops[index]
        fields["roofline"] = {
            "bytes_moved": time.bytes,
            "intensity": decimal(time.intensity),
            "bound": time.bound.value,
            "seconds": float(time.seconds),
            "time_share": decimal(estimate.time_share(time.seconds)),
        }
        if estimate.estimates is not None:
            seconds = estimate.estimates[index]
            fields["estimate"] = {
                "seconds": seconds,
                "time_share": decimal(estimate.share(seconds)),
            }
    return fields


def layer_field_texts(deployment: Deployment) -> Callable[[int], str]:
    """`layer_fields` of an op (by index) as `json.dumps` writes them, written once for all
    the ops alike (the same bytes, one shared `OpTime` and the same estimate)."""
    import json

    memory = deployment.memory.ops if deployment.show_memory else None
    estimate = deployment.roofline
    known: dict[tuple[object, ...], str] = {}

    def text(index: int) -> str:
        key: tuple[object, ...] = () if estimate is None else (id(estimate.ops[index]),)
        if estimate is not None and estimate.estimates is not None:
            key += (estimate.estimates[index],)  # ops alike on the roofline may differ here
        if memory is not None:
            op = memory[index]
            key += (op.input_bytes, op.output_bytes, op.weight_bytes)
        found = known.get(key)
        if found is None:
            found = known[key] = json.dumps(layer_fields(deployment, index))
        return found

    return text


def total_fields(deployment: Deployment | None) -> dict[str, Any]:
    """Additions to `total` of the JSON report."""
    if deployment is None:
        return {}
    memory = deployment.memory
    report = memory.report
    fields: dict[str, Any] = {
        "memory": {
            "dtype": memory.dtype.value,
            "batch": memory.batch,
            "fold_bn": memory.fold_bn,
            "weight_bytes": memory.weight_bytes,
            "deployed_params": memory.params,
            "bn_values": memory.bn_values,
            "peak_bytes": memory.peak.bytes,
            "peak_op": _op_name(report, memory.peak.op),
            "peak_alive": [_op_name(report, tensor) for tensor in memory.peak.tensors],
        }
    }
    estimate = deployment.roofline
    if estimate is not None:
        device = estimate.device
        fields["roofline"] = {
            "device": device.name,
            "mult_adds_per_second": float(device.mult_adds_per_second),
            "depthwise_mult_adds_per_second": None
            if device.depthwise_mult_adds_per_second is None
            else float(device.depthwise_mult_adds_per_second),
            "bandwidth_bytes_per_second": float(device.bandwidth),
            "ridge": decimal(device.ridge),
            "source": device.source,
            "seconds": float(estimate.seconds),
            "by_type": _by_type(deployment, estimated=False),
        }
        calibration = device.calibration
        if calibration is not None:
            fields["estimate"] = {
                "seconds": estimate.latency,
                "runtime": calibration.runtime,
                "device": calibration.device,
                "threads": calibration.threads,
                "batch": calibration.batch,
                "held_out_median_error": calibration.quality.median_error,
                "by_type": _by_type(deployment, estimated=True),
            }
    return fields


def _by_type(deployment: Deployment, estimated: bool) -> list[dict[str, Any]]:
    """Each layer type's share of the mult-adds and of the time: the calibrated estimate's
    (`estimated`) or the roofline bound's."""
    roofline, report = deployment.roofline, deployment.memory.report
    assert roofline is not None
    return [
        {
            "type": category_label(row.category),
            "mult_adds_share": decimal(report.share(row.mult_adds)),
            "time_share": decimal(
                roofline.share(row.seconds)
                if estimated
                else roofline.time_share(Fraction(row.seconds))
            ),
        }
        for row in deployment.by_category(estimated)
    ]


def csv_header(deployment: Deployment | None) -> tuple[str, ...]:
    if deployment is None:
        return ()
    memory = MEMORY_FIELDS if deployment.show_memory else ()
    estimate = deployment.roofline
    roofline = () if estimate is None else ROOFLINE_FIELDS
    calibrated = ESTIMATE_FIELDS if estimate is not None and estimate.calibrated else ()
    return memory + roofline + calibrated


def csv_cells(deployment: Deployment | None, index: int) -> list[Any]:
    fields = layer_fields(deployment, index)
    cells: list[Any] = []
    if "memory" in fields:
        cells += [fields["memory"][key] for key in MEMORY_FIELDS]
    if "roofline" in fields:
        cells += [fields["roofline"][key] for key in ROOFLINE_FIELDS]
    if "estimate" in fields:
        cells += [fields["estimate"][key.removeprefix("estimate_")] for key in ESTIMATE_FIELDS]
    return cells


# -- compare -------------------------------------------------------------------------------

COMPARE_FIELDS = ("peak_bytes", "weight_bytes", "latency_seconds")


def compare_lines(
    arguments: list[str], deployments: list[Deployment], escape: Escape
) -> list[tuple[str, str]]:
    """One line per compared column: peak memory, weights and latency, against the first.

    The device's name is passed through `escape`; the `arguments` are returned as given.
    """
    from mbcalc.deploy.deployment import deployment_versus

    lines = []
    first = deployments[0] if deployments else None
    for k, (argument, deployment) in enumerate(zip(arguments, deployments, strict=True)):
        memory, estimate = deployment.memory, deployment.roofline
        against = None if k == 0 or first is None else deployment_versus(deployment, first)
        peak, weights = byte_size(memory.peak.bytes), byte_size(memory.weight_bytes)
        if against is not None:
            peak += f" (x{float(against.peak):.2f})"
            weights += f" (x{float(against.weights):.2f})"
        text = f"peak activations {peak} · weights {weights} at {memory.dtype.value}"
        if estimate is not None:
            latency = duration(estimate.latency)
            if against is not None and against.latency is not None:
                latency += f" (x{float(against.latency):.2f})"
            text += f" · {latency} on {escape(estimate.device.name)}"
        lines.append((argument, text))
    return lines


def compare_fields(deployment: Deployment, first: Deployment) -> dict[str, Any]:
    """The `deployment` object of one compared column in the JSON comparison."""
    from mbcalc.deploy.deployment import deployment_versus

    against = deployment_versus(deployment, first)
    estimate = deployment.roofline
    return {
        "dtype": deployment.memory.dtype.value,
        "batch": deployment.memory.batch,
        "fold_bn": deployment.memory.fold_bn,
        "peak_bytes": deployment.memory.peak.bytes,
        "weight_bytes": deployment.memory.weight_bytes,
        "device": None if estimate is None else estimate.device.name,
        "latency_seconds": None if estimate is None else estimate.latency,
        "vs_first": {
            "peak": decimal(against.peak),
            "weights": decimal(against.weights),
            "latency": None if against.latency is None else decimal(against.latency),
        },
    }


def compare_csv_cells(deployment: Deployment | None) -> list[Any]:
    if deployment is None:
        return []
    estimate = deployment.roofline
    latency = None if estimate is None else estimate.latency
    return [deployment.memory.peak.bytes, deployment.memory.weight_bytes, latency]


# -- counting profiles -------------------------------------------------------------------------


def profile_rows(counted: Counted | None) -> list[tuple[str, str]]:
    """Summary lines stating the counting profile in force and what it counts."""
    if counted is None:
        return []
    profile = counted.profile
    rows = [("profile", f"{profile.name}: {profile.description}")]
    if profile.flops_per_mult_add != 1 or counted.extras:
        unit = "FLOPs" if profile.flops_per_mult_add == 2 else "operations"
        base = f"{counted.mult_adds:,} mult-adds"
        if profile.flops_per_mult_add != 1:
            base += f" x {profile.flops_per_mult_add}"
        parts = [base] + [f"{ops:,} {extra}" for extra, ops in counted.extras.items()]
        rows.append(("counted", f"{counted.operations:,} {unit} = " + " + ".join(parts)))
    if profile.params is not ParamsRule.PAPER:
        rows.append(("params counted", f"{counted.params:,} ({PARAMS_TEXT[profile.params]})"))
    return rows


PARAMS_TEXT = {
    ParamsRule.PAPER: "weights and biases",
    ParamsRule.TORCH: "weights, biases and batch norm scale and shift, as PyTorch counts",
    ParamsRule.KERAS: "PyTorch's, and batch norm running mean and variance, as Keras counts",
    ParamsRule.THOP: "PyTorch's, less group norms', layer scales' and tokens', as thop counts",
}


def profile_record(counted: Counted) -> dict[str, Any]:
    return profile_fields(counted.profile)


def profile_fields(profile: Profile) -> dict[str, Any]:
    """A counting profile as JSON: its name, what it counts and which parameters."""
    return {
        "name": profile.name,
        "description": profile.description,
        "flops_per_mult_add": profile.flops_per_mult_add,
        "extras": {str(extra): cost for extra, cost in profile.extras.items()},
        "params_rule": profile.params.value,
    }


def counted_record(counted: Counted) -> dict[str, Any]:
    return {
        "operations": counted.operations,
        "extras": {str(extra): ops for extra, ops in counted.extras.items()},
        "params": counted.params,
    }
