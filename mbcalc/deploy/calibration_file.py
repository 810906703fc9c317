"""The `calibration:` section of a device file: what was measured, how well, and the fitted model.

`mbcalc calibrate` writes it; `--device FILE` reads it back, and the latency estimate is then the
fitted model's (`mbcalc.deploy.latency_model`) rather than the roofline's bound:

    calibration:
      runtime: torch            # torch or onnxruntime
      device: cpu               # cpu or cuda
      threads: 1
      batch: 1
      networks: 374             # micro networks timed
      quality: {held_out: 75, median_error: 0.092, within_15: 0.63}
      network_overhead: 6.0e-05 # seconds per run
      classes:                  # seconds per op, per unit of work, per byte
        pointwise: {overhead: 4.7e-05, per_work: 2.8e-11, per_byte: 1.2e-10}
        ...
      parts:                    # seconds per pass, per output element
        batch_norm: {overhead: 1.1e-05, per_element: 2.6e-10}
        ...

Every class and part is required, every coefficient a finite number >= 0 (seconds); errors name
the file and the line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mbcalc.deploy.latency_model import (
    CLASS_FIELDS,
    NETWORK_TERM,
    PART_FIELDS,
    CostClass,
    CostModel,
    Part,
)
from mbcalc.errors import SpecError
from mbcalc.kinds import Runtime, Target
from mbcalc.spec.source import Value

RUNTIMES = tuple(str(runtime) for runtime in Runtime)
TARGETS = tuple(str(target) for target in Target)


@dataclass(frozen=True, slots=True)
class Quality:
    """How well a model fitted without them predicts the held-out micro networks."""

    held_out: int
    median_error: float  # median of |predicted / measured - 1|
    within_15: float  # share of them predicted within 15%


@dataclass(frozen=True, slots=True)
class Calibration:
    """A device's measured cost model, and the conditions it holds for."""

    runtime: str
    device: str
    threads: int
    batch: int
    networks: int
    quality: Quality
    model: CostModel


_KEYS = ("runtime", "device", "threads", "batch", "networks", "quality", NETWORK_TERM)
_TABLES = ("classes", "parts")


def calibration_data(calibration: Calibration) -> dict[str, Any]:
    """The section as plain data, for a YAML writer (the inverse of `parse_calibration`)."""
    coefficients = calibration.model.coefficients
    return {
        "runtime": calibration.runtime,
        "device": calibration.device,
        "threads": calibration.threads,
        "batch": calibration.batch,
        "networks": calibration.networks,
        "quality": {
            "held_out": calibration.quality.held_out,
            "median_error": calibration.quality.median_error,
            "within_15": calibration.quality.within_15,
        },
        NETWORK_TERM: coefficients[NETWORK_TERM],
        "classes": {
            str(cls): {field: coefficients[f"{cls}.{field}"] for field in CLASS_FIELDS}
            for cls in CostClass
        },
        "parts": {
            str(part): {field: coefficients[f"{part}.{field}"] for field in PART_FIELDS}
            for part in Part
        },
    }


def parse_calibration(section: Value, source: str) -> Calibration:
    """The `calibration:` mapping of a device file."""
    fields = _mapping(section, "calibration", source)
    _only(fields, (*_KEYS, *_TABLES), "calibration", source)
    present = _present(fields, section, source)
    quality = _mapping(present("quality"), "quality", source)
    _only(quality, ("held_out", "median_error", "within_15"), "quality", source)
    coefficients = {NETWORK_TERM: _seconds(present(NETWORK_TERM), NETWORK_TERM, source)}
    for table, names, columns in (
        ("classes", [str(cls) for cls in CostClass], CLASS_FIELDS),
        ("parts", [str(part) for part in Part], PART_FIELDS),
    ):
        rows = _mapping(present(table), table, source)
        _only(rows, tuple(names), table, source)
        for name in names:
            row = _mapping(_present(rows, present(table), source)(name), name, source)
            _only(row, columns, name, source)
            for column in columns:
                value = _present(row, rows[name], source)(column)
                coefficients[f"{name}.{column}"] = _seconds(value, f"{name}.{column}", source)
    stat = _present(quality, present("quality"), source)
    return Calibration(
        runtime=_choice(present("runtime"), "runtime", RUNTIMES, source),
        device=_choice(present("device"), "device", TARGETS, source),
        threads=_count(present("threads"), "threads", source),
        batch=_count(present("batch"), "batch", source),
        networks=_count(present("networks"), "networks", source),
        quality=Quality(
            held_out=_count(stat("held_out"), "held_out", source, least=0),
            median_error=_seconds(stat("median_error"), "median_error", source),
            within_15=_seconds(stat("within_15"), "within_15", source),
        ),
        model=CostModel(coefficients),
    )


def _mapping(value: Value, key: str, source: str) -> dict[str, Value]:
    if not isinstance(value.data, dict):
        raise SpecError(f"`{key}` must be a mapping", source=source, line=value.line)
    return value.data


def _only(fields: Mapping[str, Value], allowed: tuple[str, ...], where: str, source: str) -> None:
    for key, value in fields.items():
        if key not in allowed:
            raise SpecError(
                f"unknown field `{key}` in `{where}`",
                source=source,
                line=value.key_line or value.line,
                hint=f"`{where}` has {', '.join(allowed)}",
            )


def _present(fields: Mapping[str, Value], parent: Value, source: str) -> Callable[[str], Value]:
    def get(key: str) -> Value:
        value = fields.get(key)
        if value is None or value.data is None:
            hint = "`mbcalc calibrate -o FILE` writes a whole calibration"
            raise SpecError(f"missing `{key}`", source=source, line=parent.line, hint=hint)
        return value

    return get


def _seconds(value: Value, key: str, source: str) -> float:
    data = value.data
    if isinstance(data, int | float) and not isinstance(data, bool):
        number = float(data)
        if math.isfinite(number) and number >= 0:
            return number
    elif isinstance(data, str):  # YAML reads 6e-05 (no dot) as text
        try:
            number = float(data)
        except ValueError:
            pass
        else:
            if math.isfinite(number) and number >= 0:
                return number
    raise SpecError(f"`{key}` must be a number >= 0, got {data!r}", source=source, line=value.line)


def _count(value: Value, key: str, source: str, least: int = 1) -> int:
    data = value.data
    if isinstance(data, int) and not isinstance(data, bool) and least <= data <= 1_000_000:
        return data
    raise SpecError(
        f"`{key}` must be a whole number from {least} to 1,000,000, got {data!r}",
        source=source,
        line=value.line,
    )


def _choice(value: Value, key: str, allowed: tuple[str, ...], source: str) -> str:
    if isinstance(value.data, str) and value.data in allowed:
        return value.data
    raise SpecError(
        f"`{key}` must be {' or '.join(allowed)}, got {value.data!r}",
        source=source,
        line=value.line,
    )
