"""Deployment figures over a grid: peak activation bytes, weight bytes and latency (a calibrated
device's estimate, else the roofline bound).

Nothing here restates a rule: each block of settings runs the memory ledger of
`mbcalc.deploy.memory`, the roofline bounds of `mbcalc.deploy.roofline` and the calibrated model
of `mbcalc.deploy.latency_model` on arrays, op by op, exactly as `memory_report` and `roofline`
run them on the ints of one setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mbcalc.core.arith import Num
from mbcalc.core.costs import FORMULAS, Counts, Dims
from mbcalc.core.plan import OpKind, Plan, Step
from mbcalc.deploy.memory import (
    DType,
    Liveness,
    MemoryLedger,
    activation_bytes,
    attention_matrix,
    elements,
    live_tensors,
    liveness_changes,
    views_of,
)
from mbcalc.deploy.roofline import Device, moved_bytes, op_bounds
from mbcalc.grid.axes import NUMPY, Array
from mbcalc.kinds import Pair


@dataclass(frozen=True)
class GridDeployment:
    """The deployment options of a sweep, and what follows from them for every setting."""

    dtype: DType
    batch: int
    fold_bn: bool
    device: Device | None
    liveness: Liveness  # structural: the same at every setting
    peaks: dict[OpKind, float]  # the device's mult-adds per second for each op kind
    bandwidth: float
    views: frozenset[int] = frozenset()  # the ops whose output is a view (a split's slices)

    @classmethod
    def of(
        cls, plan: Plan, dtype: DType, batch: int, fold_bn: bool, device: Device | None
    ) -> GridDeployment:
        peaks = {} if device is None else {kind: float(device.peak_for(kind)) for kind in OpKind}
        bandwidth = 0.0 if device is None else float(device.bandwidth)
        views = views_of(plan.steps)
        sources = [None if step.aux else step.sources for step in plan.steps]
        liveness = liveness_changes(live_tensors(sources, views))
        return cls(dtype, batch, fold_bn, device, liveness, peaks, bandwidth, frozenset(views))

    def arrays(self, shape: tuple[int, int], dtype: type) -> dict[str, Array]:
        """The grid's deployment arrays, zeros: latency only on a device."""
        arrays: dict[str, Array] = {
            name: np.zeros(shape, dtype=dtype) for name in ("peak_bytes", "weight_bytes")
        }
        if self.device is not None:
            arrays["latency"] = np.zeros(shape, dtype=np.float64)
        return arrays

    def bound(self, plan: Plan, dims: Sequence[Dims], input_size: Pair) -> int:
        """More than any integer the deployment arithmetic reaches (added to the cost bound).

        The ledger run in Python ints at each op's largest shape (`dims`): every figure it
        keeps is a sum of products of sizes and channels, so it bounds the same figure at any
        setting; all tensors together, and every attention matrix, bound the activation memory
        alive at once.
        """
        tensors = elements((*input_size, plan.spec.input_channels))
        ledger = MemoryLedger(
            self.liveness, tensors, self.dtype, self.batch, self.fold_bn, views=self.views
        )
        moved = 0
        for step in plan.steps:
            d = dims[step.index]
            _, params, bn_params = FORMULAS[step.kind](step, d)
            output = (int(d.h_out), int(d.w_out), int(d.c_out))
            sources = () if step.aux else step.sources
            op = ledger.add(step.index, sources, step, output, int(params), int(bn_params))
            moved += int(moved_bytes(op))
            tensors += elements(output) + attention_matrix(step, output)
        return int(activation_bytes(tensors, self.dtype, self.batch)) + moved


class BlockDeployment:
    """The deployment figures of one block of settings, gathered op by op."""

    def __init__(self, options: GridDeployment, input_elements: Num, shape: tuple[int, int]):
        self.options = options
        self.ledger = MemoryLedger(
            options.liveness,
            input_elements,
            options.dtype,
            options.batch,
            options.fold_bn,
            NUMPY,
            options.views,
        )
        self.seconds: Array = np.zeros(shape, dtype=np.float64)

    def add(self, step: Step, dims: Dims, counts: Counts) -> None:
        """Op `step` runs at `dims` with its `counts` (mult-adds, params, BN params)."""
        options = self.options
        mult_adds, params, bn_params = counts
        output = (dims.h_out, dims.w_out, dims.c_out)
        sources = () if step.aux else step.sources
        op = self.ledger.add(step.index, sources, step, output, params, bn_params)
        if options.device is None or step.aux:  # an auxiliary head takes no time: it does not run
            return
        calibration = options.device.calibration
        if calibration is not None:
            estimate = calibration.model.op_seconds(
                step, dims, mult_adds, moved_bytes(op), options.batch, options.fold_bn
            )
            np.add(self.seconds, estimate, out=self.seconds, casting="unsafe")
            return
        batch_mult_adds = mult_adds * options.batch if options.batch != 1 else mult_adds
        compute, traffic = op_bounds(
            batch_mult_adds, moved_bytes(op), options.peaks[step.kind], options.bandwidth
        )
        slower = np.maximum(compute, traffic)  # Python floats when counting in Python ints
        np.add(self.seconds, slower, out=self.seconds, casting="unsafe")

    def store(self, arrays: dict[str, Array], block: Any, valid: Array) -> None:
        """Write the block's results into the grid's `arrays`, 0 where a setting is invalid."""
        calibration = None if self.options.device is None else self.options.device.calibration
        results = {
            "peak_bytes": self.ledger.peak_bytes,
            "weight_bytes": self.ledger.weight_bytes,
            "latency": self.seconds
            if calibration is None
            else self.seconds + calibration.model.network_overhead,
        }
        for name, array in arrays.items():
            array[block] = results[name]
            array[block][~valid] = 0
