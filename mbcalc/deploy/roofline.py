"""Roofline latency: each op's time bounded by the device's compute peak or its memory bandwidth.

A device is a small YAML file: its peak mult-adds per second (optionally a lower figure for
depthwise convolution, which many libraries run far below peak), its memory bandwidth in bytes
per second, and where the figures come from. For every op, with its mult-adds M and the bytes B
it must move at the least (its inputs, its output and its weights, each once):

    time = max(M / peak, B / bandwidth)

The op is compute-bound when the first term is larger, memory-bound otherwise; its arithmetic
intensity M / B against the device's ridge point peak / bandwidth says the same. The estimate
is a lower bound: real kernels add launch overheads and reread data that does not fit caches.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import overload

from mbcalc.core.arith import Num, Real
from mbcalc.core.costs import Dims
from mbcalc.core.graph import Op, OpKind
from mbcalc.core.limits import rate_problem
from mbcalc.core.ranges import parse_count
from mbcalc.core.settings import to_fraction
from mbcalc.deploy.calibration_file import Calibration, parse_calibration
from mbcalc.deploy.memory import DType, MemoryReport, OpBytes, OpMemory
from mbcalc.errors import SpecError
from mbcalc.kinds import Bound as Bound  # noqa: PLC0414 (re-exported: its users name it here)
from mbcalc.spec.source import SourceError, Value, decode_spec_bytes, parse_yaml, read_spec_bytes

DEFAULT_DEVICE = "jetson-nano"
"""The device used when none is named: an embedded board of the kind MobileNets target."""

_FIELDS = (
    "name",
    "description",
    "dtype",
    "mult_adds_per_second",
    "depthwise_mult_adds_per_second",
    "bandwidth_bytes_per_second",
    "source",
    "calibration",
)


@dataclass(frozen=True)
class Device:
    """A device's roofline: peak compute, optional depthwise peak, memory bandwidth."""

    name: str
    description: str
    dtype: DType
    mult_adds_per_second: Fraction
    depthwise_mult_adds_per_second: Fraction | None
    bandwidth: Fraction  # bytes per second
    source: str
    calibration: Calibration | None = None  # a measured cost model: the estimate, not the bound

    @property
    def ridge(self) -> Fraction:
        """Mult-adds per byte above which an op is compute-bound."""
        return self.mult_adds_per_second / self.bandwidth

    def peak_for(self, kind: OpKind) -> Fraction:
        if kind is OpKind.DEPTHWISE and self.depthwise_mult_adds_per_second is not None:
            return self.depthwise_mult_adds_per_second
        return self.mult_adds_per_second


def number_format(dtype: DType | None, device: Device | None) -> DType:
    """The number format asked for; without one, the device's, else fp32."""
    if dtype is not None:
        return dtype
    return DType.FP32 if device is None else device.dtype


@dataclass(frozen=True, slots=True)
class OpTime:
    """One op on the roofline."""

    mult_adds: int
    bytes: int
    compute_seconds: Fraction
    memory_seconds: Fraction
    # the larger time and the intensity, computed once (an OpTime is shared by ops alike)
    _seconds: Fraction = field(init=False, repr=False, compare=False)
    _intensity: Fraction = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_seconds", max(self.compute_seconds, self.memory_seconds))
        intensity = Fraction(self.mult_adds, self.bytes) if self.bytes else Fraction(0)
        object.__setattr__(self, "_intensity", intensity)

    @property
    def seconds(self) -> Fraction:
        return self._seconds

    @property
    def bound(self) -> Bound:
        return Bound.COMPUTE if self.compute_seconds > self.memory_seconds else Bound.MEMORY

    @property
    def intensity(self) -> Fraction:
        """Mult-adds per byte moved."""
        return self._intensity

    @property
    def attained(self) -> Fraction:
        """Mult-adds per second at the roofline's time (0 for an op that takes none)."""
        return Fraction(self.mult_adds) / self.seconds if self.seconds else Fraction(0)


@dataclass(frozen=True)
class Roofline:
    """Each op's roofline bound on a device and, where the device is calibrated, its estimate."""

    device: Device
    memory: MemoryReport
    ops: tuple[OpTime, ...]
    estimates: tuple[float, ...] | None = None  # each op's calibrated time, in seconds
    _shares: dict[tuple[int, int], Fraction] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )  # time shares asked for so far: the repeats of a layer ask for one again and again

    @functools.cached_property
    def seconds(self) -> Fraction:
        """The network's estimated latency: its ops one after another (summed once)."""
        return repeated_sum(op.seconds for op in self.ops)

    @property
    def calibrated(self) -> bool:
        return self.estimates is not None

    @functools.cached_property
    def time(self) -> Fraction | float:
        """The network's time as reported: on a calibrated device its estimate (its ops and
        the fixed cost of a run, in float seconds), else the roofline bound (exact)."""
        if self.estimates is None or self.device.calibration is None:
            return self.seconds
        return math.fsum(self.estimates) + self.device.calibration.model.network_overhead

    @property
    def latency(self) -> float:
        """`time` in float seconds."""
        return float(self.time)

    def op_time(self, index: int) -> Fraction | float:
        """Op `index`'s time as reported: its estimate, else its bound."""
        if self.estimates is None:
            return self.ops[index].seconds
        return self.estimates[index]

    def share(self, seconds: Fraction | float) -> Fraction | float:
        """`seconds` as a share of the network's `time`."""
        if isinstance(seconds, Fraction):
            return self.time_share(seconds)
        return seconds / self.latency if self.latency else 0.0

    @functools.cached_property
    def running(self) -> tuple[OpTime, ...]:
        """The ops that run at inference: all but an auxiliary head's (training only) and a
        split's slices (views), which move nothing and take no time."""
        return tuple(op for op in self.ops if op.seconds)

    @functools.cached_property
    def memory_bound(self) -> int:
        """How many of the `running` ops are memory-bound."""
        return sum(1 for op in self.running if op.bound is Bound.MEMORY)

    def time_share(self, seconds: Fraction) -> Fraction:
        key = seconds.numerator, seconds.denominator  # hashed faster than the fraction
        share = self._shares.get(key)
        if share is None:
            total = self.seconds
            share = self._shares[key] = seconds / total if total else Fraction(0)
        return share


def repeated_sum(values: Iterable[Fraction]) -> Fraction:
    """The sum of `values`, each distinct value multiplied by its count: as exact, and far
    fewer additions of fractions when the values repeat (the ops of a repeated layer)."""
    counts = Counter((value.numerator, value.denominator) for value in values)
    return sum((Fraction(n * count, d) for (n, d), count in counts.items()), Fraction(0))


def moved_bytes(memory: OpMemory | OpBytes) -> Num:
    """The bytes an op moves at the least: each of its inputs, its output and its weights, once."""
    return memory.input_bytes + memory.output_bytes + memory.weight_bytes


@overload
def op_bounds(
    mult_adds: int, moved: int, peak: Fraction, bandwidth: Fraction
) -> tuple[Fraction, Fraction]: ...
@overload
def op_bounds(mult_adds: Num, moved: Num, peak: float, bandwidth: float) -> tuple[Real, Real]: ...
def op_bounds(
    mult_adds: Num, moved: Num, peak: Fraction | float, bandwidth: Fraction | float
) -> tuple[Fraction | Real, Fraction | Real]:
    """One op's (compute, memory) seconds: M / peak and B / bandwidth; the op takes the larger.

    `mult_adds` counts the whole batch and `moved` its inputs, output and weights in bytes.
    Exact Fractions for one setting, floats (one per setting) over a grid (`mbcalc.grid`).
    """
    if isinstance(peak, float) and isinstance(bandwidth, float):
        return mult_adds / peak, moved / bandwidth
    assert isinstance(mult_adds, int)  # the exact overload
    assert isinstance(moved, int)
    return mult_adds / peak, moved / bandwidth


def roofline(memory: MemoryReport, device: Device) -> Roofline:
    """Estimated time of every op of `memory`'s report on `device`; ops alike in peak, mult-adds
    and bytes (the repeats of a layer) share one `OpTime`."""
    ops = []
    known: dict[tuple[Fraction, int, int], OpTime] = {}
    for row, op_memory in zip(memory.report.rows, memory.ops, strict=True):
        mult_adds = row.cost.mult_adds * memory.batch
        moved = 0 if row.op.aux else int(moved_bytes(op_memory))  # an aux head does not run
        peak = device.peak_for(row.op.kind)
        time = known.get((peak, mult_adds, moved))
        if time is None:
            compute, traffic = op_bounds(mult_adds, moved, peak, device.bandwidth)
            time = known[peak, mult_adds, moved] = OpTime(mult_adds, moved, compute, traffic)
        ops.append(time)
    return Roofline(device, memory, tuple(ops), _estimates(memory, device))


def timed_ops(memory: MemoryReport) -> Iterator[tuple[int, Op, Dims, int, int]]:
    """(index, op, shapes, mult-adds per image, bytes moved) of each op of `memory`'s report
    that runs at inference: all but an auxiliary head's. What the calibrated model takes."""
    for index, (row, op_memory) in enumerate(zip(memory.report.rows, memory.ops, strict=True)):
        op = row.op
        if not op.aux:
            dims = Dims(*op.input, *op.output)
            yield index, op, dims, row.cost.mult_adds, int(moved_bytes(op_memory))


def _estimates(memory: MemoryReport, device: Device) -> tuple[float, ...] | None:
    """Each op's time by the device's calibrated model (0 for an auxiliary head's, which does
    not run at inference), or None on a device with none."""
    if device.calibration is None:
        return None
    model = device.calibration.model
    times = [0.0] * len(memory.ops)
    for index, op, dims, mult_adds, moved in timed_ops(memory):
        times[index] = float(
            model.op_seconds(op, dims, mult_adds, moved, memory.batch, memory.fold_bn)
        )
    return tuple(times)


# -- device files ----------------------------------------------------------------------------


def _devices_dir() -> Path:
    return Path(__file__).resolve().parent / "devices"


def shipped_devices() -> list[str]:
    """Names of the device profiles that ship with mbcalc."""
    return sorted(path.stem for path in _devices_dir().glob("*.yaml"))


def resolve_device(argument: str) -> Device:
    """A --device argument: the name of a shipped profile, or a path to a YAML file."""
    shipped = _devices_dir() / f"{argument}.yaml"
    if "/" not in argument and not argument.endswith((".yaml", ".yml")) and shipped.is_file():
        return parse_device(shipped.read_text(encoding="utf-8"), f"{argument}.yaml")
    path = Path(argument)
    try:
        text = read_spec_bytes(path, "device")
    except SourceError as error:
        hint = None
        if not path.suffix:
            hint = f"shipped devices: {', '.join(shipped_devices())}; see `mbcalc devices`"
        raise SpecError(error.message, source=argument, line=error.line, hint=hint) from None
    return parse_device(text, argument)


def parse_device(text: str, source: str) -> Device:
    """Validate a device file's text; errors name the file and the line."""
    try:
        root = parse_yaml(decode_spec_bytes(text.encode("utf-8")), "device")
    except SourceError as error:
        raise SpecError(error.message, source=source, line=error.line, hint=error.hint) from None
    if not isinstance(root.data, dict):
        raise SpecError("a device file must be a mapping", source=source, line=root.line)
    fields = root.data
    for key, value in fields.items():
        if key not in _FIELDS:
            raise SpecError(
                f"unknown field `{key}`",
                source=source,
                line=value.line,
                hint=f"a device has {', '.join(_FIELDS)}",
            )

    def text_of(key: str, required: bool) -> str:
        value = fields.get(key)
        if value is None or value.data is None:
            if required:
                raise SpecError(f"missing `{key}`", source=source, line=root.line)
            return ""
        if not isinstance(value.data, str):
            raise SpecError(f"`{key}` must be text", source=source, line=value.line)
        if required and not value.data.strip():
            raise SpecError(f"`{key}` must not be empty", source=source, line=value.line)
        return value.data

    dtype_text = text_of("dtype", False) or "fp32"
    try:
        dtype = DType(dtype_text)
    except ValueError:
        line = fields["dtype"].line
        raise SpecError(
            f"`dtype` must be fp32, fp16 or int8, got {dtype_text!r}", source=source, line=line
        ) from None
    depthwise = fields.get("depthwise_mult_adds_per_second")
    return Device(
        name=text_of("name", True),
        description=text_of("description", False),
        dtype=dtype,
        mult_adds_per_second=_rate(fields, "mult_adds_per_second", source, root.line),
        depthwise_mult_adds_per_second=None
        if depthwise is None
        else _rate(fields, "depthwise_mult_adds_per_second", source, root.line),
        bandwidth=_rate(fields, "bandwidth_bytes_per_second", source, root.line),
        source=text_of("source", True),
        calibration=None
        if fields.get("calibration") is None
        else parse_calibration(fields["calibration"], source),
    )


def _rate(fields: dict[str, Value], key: str, source: str, line: int) -> Fraction:
    """A rate within `mbcalc.core.limits`: a number, or a count with a unit such as 236G or 4.8T."""
    value = fields.get(key)
    if value is None or value.data is None:
        raise SpecError(f"missing `{key}`", source=source, line=line, hint="e.g. 236G or 4.8T")
    data = value.data
    rate: Fraction | None = None
    if isinstance(data, int | float) and not isinstance(data, bool) and math.isfinite(data):
        rate = Fraction(repr(data)) if isinstance(data, float) else Fraction(data)
    elif isinstance(data, str):
        try:
            rate = Fraction(parse_count(data, key))
        except ValueError:
            with contextlib.suppress(ValueError):
                rate = to_fraction(data)  # 2.36e11: YAML reads an exponent without a dot as text
    problem = rate_problem(Fraction(0) if rate is None else rate)
    if rate is None or problem is not None:
        raise SpecError(f"`{key}` {problem}", source=source, line=value.line)
    return rate
