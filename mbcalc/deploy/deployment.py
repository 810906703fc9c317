"""The deployment view of a report: memory and, on a device, its time (the roofline bound, or a
calibrated device's estimate). Data only."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from mbcalc.core.by_type import Category, categorized
from mbcalc.core.limits import check_batch
from mbcalc.core.report import Report
from mbcalc.deploy.memory import DType, MemoryReport, memory_report
from mbcalc.deploy.roofline import Device, Roofline, number_format, repeated_sum, roofline


@dataclass(frozen=True, slots=True)
class CategoryTime:
    """One layer type's share of the mult-adds and of the estimated time."""

    category: Category
    mult_adds: int
    seconds: Fraction | float  # exact on the roofline, float from a calibrated model


@dataclass(frozen=True)
class Deployment:
    """Memory of a report at a number format, batch and folding; roofline time on a device."""

    memory: MemoryReport
    roofline: Roofline | None
    show_memory: bool

    def by_category(self, estimated: bool = True) -> tuple[CategoryTime, ...]:
        """Mult-adds and time per layer type, the slowest first: on a calibrated device the
        estimate's time, unless `estimated` is False (then, as elsewhere, the roofline bound)."""
        if self.roofline is None:
            return ()
        roofline = self.roofline
        estimates = roofline.estimates if estimated else None
        mult_adds: dict[Category, int] = {}
        times: dict[Category, list[Any]] = {}  # Fractions on the roofline, floats estimated
        # Merges cost no mult-adds, but moving their tensors takes time.
        ops = categorized(self.memory.report)
        for index, (row, category) in enumerate(ops):
            mult_adds[category] = mult_adds.get(category, 0) + row.cost.mult_adds
            time = roofline.ops[index].seconds if estimates is None else estimates[index]
            times.setdefault(category, []).append(time)
        total = repeated_sum if estimates is None else math.fsum
        rows = [CategoryTime(cat, ma, total(times[cat])) for cat, ma in mult_adds.items()]
        rows.sort(key=lambda row: -row.seconds)
        return tuple(rows)


@dataclass(frozen=True, slots=True)
class DeploymentVersus:
    """A deployment's figures as ratios of another's (None where the other has none)."""

    peak: Fraction
    weights: Fraction
    latency: Fraction | float | None


def deployment_versus(deployment: Deployment, first: Deployment) -> DeploymentVersus:
    memory, base = deployment.memory, first.memory
    latency = None
    if deployment.roofline is not None and first.roofline is not None and first.roofline.time:
        latency = deployment.roofline.time / first.roofline.time
    return DeploymentVersus(
        peak=Fraction(memory.peak.bytes, base.peak.bytes or 1),
        weights=Fraction(memory.weight_bytes, base.weight_bytes or 1),
        latency=latency,
    )


def deploy(
    report: Report,
    dtype: DType | None = None,
    batch: int = 1,
    fold_bn: bool = False,
    device: Device | None = None,
    show_memory: bool = True,
) -> Deployment:
    """Memory (and roofline time when `device` is given) of `report`.

    The number format defaults to the device's, or fp32 without a device.
    """
    check_batch(batch)
    memory = memory_report(report, number_format(dtype, device), batch, fold_bn)
    return Deployment(memory, None if device is None else roofline(memory, device), show_memory)
