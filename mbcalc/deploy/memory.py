"""Deployment memory: activation and weight bytes per op, and the peak of one inference.

The peak comes from a liveness analysis over the graph in execution order: a tensor (the
network's input or an op's output) is allocated when it is produced and freed after its last
reader, so a residual's input or a branch's input stays alive until the merge that reads it.
While an op runs, its inputs and its output are alive together. Every op writes a new tensor
(nothing is computed in place), which makes the peak the one a plain runtime would reach.

Weights at deployment: every conv, depthwise and fc weight and bias, plus, for each batch norm
left unfolded, its scale, shift, running mean and running variance (4 values per channel).
`fold_bn` folds each batch norm into the conv before it: its scale goes into the weights, its
shift into a bias, so a conv without a bias gains one and the batch norms disappear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mbcalc.core.arith import Num
from mbcalc.core.graph import NETWORK_INPUT, Graph, Op
from mbcalc.core.report import Report
from mbcalc.deploy.dtypes import DType

__all__ = ["DType", "MemoryReport", "OpMemory", "Peak", "live_tensors", "memory_report"]


def elements(shape: tuple[Num, Num, Num]) -> Num:
    """Values in a height x width x channels tensor (ints, or numpy arrays in the sweep)."""
    height, width, channels = shape
    return height * width * channels


def bytes_of_weights(values: Num, dtype: DType) -> Num:
    """Bytes of `values` weights (kept once, whatever the batch)."""
    return values * dtype.bytes


def activation_bytes(values: Num, dtype: DType, batch: int) -> Num:
    """Bytes of `values` activation values per image, for a batch of `batch` images."""
    return values * (dtype.bytes * batch)


def deployed_weights(
    params: Num, bn_params: Num, channels: Num, *, bn: bool, bias: bool, fold_bn: bool
) -> tuple[Num, Num]:
    """(params, batch-norm values) one op keeps at deployment, from its counted params.

    Unfolded, a batch norm keeps 4 values per channel (scale, shift, running mean and variance:
    twice its `bn_params`). Folded, it disappears into the op before it, which gains a bias of
    `channels` values if it had none. Generic over ints and numpy arrays (`mbcalc.grid.sweep`).
    """
    folded_bias = channels if fold_bn and bn and not bias else 0
    return params + folded_bias, 0 if fold_bn else 2 * bn_params


def live_tensors(sources: Sequence[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """For each op, the tensors alive while it runs (producer indices; -1 is the input).

    A tensor lives from the op that produces it to its last reader; one that nothing reads
    (the network's output) lives while its producer runs.
    """
    last_read: dict[int, int] = {}
    for index, inputs in enumerate(sources):
        for tensor in inputs:
            last_read[tensor] = max(last_read.get(tensor, index), index)
    dies_after: dict[int, list[int]] = {}
    for tensor, index in last_read.items():
        dies_after.setdefault(index, []).append(tensor)
    alive = {NETWORK_INPUT}
    result: list[tuple[int, ...]] = []
    for index in range(len(sources)):
        alive.add(index)
        result.append(tuple(sorted(alive)))
        alive.difference_update(dies_after.get(index, ()))
        if index not in last_read:
            alive.discard(index)
    return result


@dataclass(frozen=True, slots=True)
class OpMemory:
    """Bytes one op reads, writes and keeps as weights."""

    input_bytes: int
    output_bytes: int
    weight_bytes: int
    params: int  # after folding, when folded
    bn_values: int  # batch-norm values kept at deployment (0 when folded)


@dataclass(frozen=True, slots=True)
class Peak:
    """The most activation memory alive at once, and the op running then."""

    bytes: int
    op: int
    tensors: tuple[int, ...]


@dataclass(frozen=True)
class MemoryReport:
    """Memory of one network at one setting, number format and batch size."""

    report: Report
    dtype: DType
    batch: int
    fold_bn: bool
    ops: tuple[OpMemory, ...]
    peak: Peak

    @property
    def weight_bytes(self) -> int:
        return sum(op.weight_bytes for op in self.ops)

    @property
    def params(self) -> int:
        return sum(op.params for op in self.ops)

    @property
    def bn_values(self) -> int:
        return sum(op.bn_values for op in self.ops)


def tensor_bytes(graph: Graph, tensor: int, dtype: DType, batch: int) -> int:
    shape = graph.input_shape if tensor == NETWORK_INPUT else graph.ops[tensor].output
    return int(activation_bytes(elements(shape), dtype, batch))


def op_memory(
    graph: Graph, op: Op, params: int, bn_params: int, dtype: DType, batch: int, fold_bn: bool
) -> OpMemory:
    """The bytes of one op; `params` and `bn_params` are its counts from the report."""
    deployed, bn_values = deployed_weights(
        params, bn_params, op.output[2], bn=op.bn, bias=op.bias, fold_bn=fold_bn
    )
    return OpMemory(
        input_bytes=sum(tensor_bytes(graph, source, dtype, batch) for source in op.sources),
        output_bytes=int(activation_bytes(elements(op.output), dtype, batch)),
        weight_bytes=int(bytes_of_weights(deployed + bn_values, dtype)),
        params=deployed,
        bn_values=bn_values,
    )


def memory_report(
    report: Report, dtype: DType = DType.FP32, batch: int = 1, fold_bn: bool = False
) -> MemoryReport:
    """Per-op bytes, weights and the peak activation memory of one inference of `report`."""
    graph = report.graph
    ops = tuple(
        op_memory(graph, row.op, row.cost.params, row.cost.bn_params, dtype, batch, fold_bn)
        for row in report.rows
    )
    alive = live_tensors([op.sources for op in graph.ops])
    sizes = [
        sum(tensor_bytes(graph, tensor, dtype, batch) for tensor in tensors) for tensors in alive
    ]
    if sizes:
        index = max(range(len(sizes)), key=sizes.__getitem__)
        peak = Peak(sizes[index], index, alive[index])
    else:  # pragma: no cover - a spec has at least one layer
        peak = Peak(tensor_bytes(graph, NETWORK_INPUT, dtype, batch), -1, (NETWORK_INPUT,))
    return MemoryReport(report, dtype, batch, fold_bn, ops, peak)
