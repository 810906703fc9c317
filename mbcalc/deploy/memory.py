"""Deployment memory: activation and weight bytes per op, and the peak of one inference.

The peak comes from a liveness analysis over the graph in execution order: a tensor (the
network's input or an op's output) is allocated when it is produced and freed after its last
reader, so a residual's input or a branch's input stays alive until the merge that reads it.
While an op runs, its inputs and its output are alive together. Every op writes a new tensor
(nothing is computed in place), which makes the peak the one a plain runtime would reach, but
for a split's slices (`torch.chunk`) and a class token read out (`x[:, :, :, :1]`): views of
their input that copy nothing, hold no memory of their own, move no bytes, and keep the input
alive until their own last reader.

Weights at deployment: every conv, depthwise and fc weight and bias, plus, for each batch norm
left unfolded, its scale, shift, running mean and running variance (4 values per channel).
`fold_bn` folds each batch norm into the conv before it: its scale goes into the weights, its
shift into a bias, so a conv without a bias gains one and the batch norms disappear. A batch
norm standing alone (no conv before it, as DenseNet's) folds into a per-channel scale and shift:
its 2 values per channel stay, as params. Norms and layer scales read and write their tensor.

Attention's products hold their attention matrix (heads x N x N weights for N positions) while
they run: it counts toward the activations alive then, and is written once (by QK^T and its
softmax) and read once (by the weighted sum of V) beside the op's own input and output.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from mbcalc.core.arith import SCALAR, Arith, N, Num
from mbcalc.core.costs import Geometry, attention_span
from mbcalc.core.graph import NETWORK_INPUT, OpKind
from mbcalc.core.report import Report
from mbcalc.deploy.dtypes import DType

__all__ = [
    "DType",
    "MemoryLedger",
    "MemoryReport",
    "OpBytes",
    "OpMemory",
    "Peak",
    "live_tensors",
    "memory_report",
    "views_of",
]


def elements(shape: tuple[N, N, N]) -> N:
    """Values in a height x width x channels tensor (ints, or arrays over a grid)."""
    height, width, channels = shape
    return height * width * channels


def attention_matrix(geometry: Geometry, output: tuple[N, N, N]) -> N | int:
    """Values of the attention matrix an attend op holds while it runs (`groups`: its heads),
    0 for any other op."""
    if geometry.kind is not OpKind.ATTEND:
        return 0
    queries, keys = attention_span(geometry, output[0], output[1])
    return (geometry.groups or 1) * queries * keys


def bytes_of_weights(values: N, dtype: DType) -> N:
    """Bytes of `values` weights (kept once, whatever the batch)."""
    return values * dtype.bytes


def activation_bytes(values: N, dtype: DType, batch: int) -> N:
    """Bytes of `values` activation values per image, for a batch of `batch` images."""
    return values * (dtype.bytes * batch)


def deployed_weights(
    params: N,
    bn_params: N,
    channels: N,
    *,
    bn: bool,
    bias: bool,
    fold_bn: bool,
    alone: bool = False,
) -> tuple[N, N]:
    """(params, batch-norm values) one op keeps at deployment, from its counted params.

    Unfolded, a batch norm keeps 4 values per channel (scale, shift, running mean and variance:
    twice its `bn_params`). Folded, it disappears into the op before it, which gains a bias of
    `channels` values if it had none; `alone` (a standalone batch norm), it keeps its scale and
    shift as params.
    """
    if fold_bn and alone:
        return params + bn_params, 0
    folded_bias = channels if fold_bn and bn and not bias else 0
    return params + folded_bias, 0 if fold_bn else 2 * bn_params


class Sourced(Protocol):
    """What the liveness reads of an op: a graph `Op` or a plan `Step`."""

    @property
    def kind(self) -> OpKind: ...
    @property
    def sources(self) -> tuple[int, ...]: ...


def views_of(ops: Sequence[Sourced]) -> dict[int, int]:
    """The ops whose output is a view (a split's slices, a class token read out), each with
    the tensor it views."""
    views: dict[int, int] = {}
    for index, op in enumerate(ops):
        if op.kind is OpKind.SPLIT or op.kind is OpKind.READOUT:
            source = op.sources[0]
            views[index] = views.get(source, source)
    return views


def live_tensors(
    sources: Sequence[tuple[int, ...] | None], views: Mapping[int, int] | None = None
) -> list[tuple[int, ...]]:
    """For each op, the tensors alive while it runs (producer indices; -1 is the input).

    A tensor lives from the op that produces it to its last reader, or to the last reader of a
    view of it (`views`: view -> the tensor it views); one that nothing reads (the network's
    output) lives while its producer runs. An op whose sources are None does not run at
    inference (an auxiliary head's): it reads and makes nothing.
    """
    last_read: dict[int, int] = {}
    for index, inputs in enumerate(sources):
        for tensor in inputs or ():
            last_read[tensor] = max(last_read.get(tensor, index), index)
    for view, base in (views or {}).items():
        last_read[base] = max(last_read.get(base, base), last_read.get(view, view))
    dies_after: dict[int, list[int]] = {}
    for tensor, index in last_read.items():
        dies_after.setdefault(index, []).append(tensor)
    alive = {NETWORK_INPUT}
    result: list[tuple[int, ...]] = []
    for index in range(len(sources)):
        if sources[index] is not None:
            alive.add(index)
        result.append(tuple(sorted(alive)))
        alive.difference_update(dies_after.get(index, ()))
        if index not in last_read:
            alive.discard(index)
    return result


Liveness = tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]
"""For each op, the tensors that come alive when it runs and those freed before it runs."""


def liveness_changes(alive: Sequence[tuple[int, ...]]) -> Liveness:
    """`live_tensors` as changes from one op to the next (it depends on no setting)."""
    changes = []
    before: set[int] = set()
    for tensors in alive:
        now = set(tensors)
        changes.append((tuple(sorted(now - before)), tuple(sorted(before - now))))
        before = now
    return tuple(changes)


@dataclass(frozen=True, slots=True)
class OpBytes:
    """What one op reads, writes and keeps, for one setting (ints) or a grid (arrays)."""

    input_bytes: Num  # each input once per read
    output_bytes: Num
    weight_bytes: Num
    params: Num  # after folding, when folded
    bn_values: Num  # batch-norm values kept at deployment (0 when folded)
    alive_elements: Num  # activation values alive while the op runs


class MemoryLedger:
    """Memory of one inference, op after op in execution order: the one implementation of the
    liveness, peak and weight rules, over ints (`memory_report`) and arrays (`mbcalc.grid`).

    Each tensor's element count is held while it lives, but a view's (`views`: the ops whose
    output views another tensor); their running sum, at its largest, is the peak.
    """

    def __init__(
        self,
        liveness: Liveness,
        input_elements: Num,
        dtype: DType,
        batch: int,
        fold_bn: bool,
        ar: Arith = SCALAR,
        views: Collection[int] = (),
    ) -> None:
        self.views = frozenset(views)
        self.liveness = liveness
        self.input_elements = input_elements
        self.dtype = dtype
        self.batch = batch
        self.fold_bn = fold_bn
        self.ar = ar
        self.alive: dict[int, Num] = {}  # element counts of the tensors alive now
        self.running: Num = 0  # their sum
        self.peak_elements: Num = 0
        self.weight_values: Num = 0  # values kept at deployment, so far

    def add(
        self,
        index: int,
        sources: tuple[int, ...],
        geometry: Geometry,
        output: tuple[Num, Num, Num],
        params: Num,
        bn_params: Num,
    ) -> OpBytes:
        """Op `index` runs: it reads `sources`, writes an `output` (h, w, c) tensor and keeps
        the weights of its `params` and `bn_params`. An op that does not run at inference (an
        auxiliary head's: no sources in the liveness) reads and writes nothing."""
        born, freed = self.liveness[index]
        for tensor in born:
            if tensor == NETWORK_INPUT:
                size = self.input_elements
            else:
                assert tensor == index  # only an op's own output comes alive as it runs
                size = elements(output)
            self.alive[tensor] = size
            if tensor not in self.views:
                self.running = self.running + size
        for tensor in freed:
            size = self.alive.pop(tensor)
            if tensor not in self.views:
                self.running = self.running - size
        matrix = attention_matrix(geometry, output)
        running = self.running + matrix
        self.peak_elements = self.ar.maximum(self.peak_elements, running)
        read: Num = matrix
        moves = index not in self.views  # a view reads and writes nothing
        for source in sources if moves else ():
            read = read + self.alive[source]
        kept, bn_values = deployed_weights(
            params,
            bn_params,
            output[2],
            bn=geometry.bn,
            bias=geometry.bias,
            fold_bn=self.fold_bn,
            alone=geometry.kind is OpKind.BATCH_NORM,
        )
        self.weight_values = self.weight_values + (kept + bn_values)
        return OpBytes(
            input_bytes=activation_bytes(read, self.dtype, self.batch),
            output_bytes=activation_bytes(
                matrix + self.alive.get(index, 0) if moves else 0, self.dtype, self.batch
            ),
            weight_bytes=bytes_of_weights(kept + bn_values, self.dtype),
            params=kept,
            bn_values=bn_values,
            alive_elements=running,
        )

    @property
    def peak_bytes(self) -> Num:
        """The most activation bytes alive at once, so far."""
        return activation_bytes(self.peak_elements, self.dtype, self.batch)

    @property
    def weight_bytes(self) -> Num:
        """Bytes of every weight kept at deployment, so far."""
        return bytes_of_weights(self.weight_values, self.dtype)


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


def memory_report(
    report: Report, dtype: DType = DType.FP32, batch: int = 1, fold_bn: bool = False
) -> MemoryReport:
    """Per-op bytes, weights and the peak activation memory of one inference of `report`."""
    graph = report.graph
    views = views_of(graph.ops)
    alive = live_tensors([None if op.aux else op.sources for op in graph.ops], views)
    ledger = MemoryLedger(
        liveness_changes(alive), elements(graph.input_shape), dtype, batch, fold_bn, views=views
    )
    ops: list[OpMemory] = []
    sizes: list[int] = []
    known: dict[tuple[int, ...], OpMemory] = {}  # ops alike (a layer's repeats) share one
    for row in report.rows:
        op = row.op
        sources = () if op.aux else op.sources
        counted = ledger.add(op.index, sources, op, op.output, row.cost.params, row.cost.bn_params)
        values = (
            int(counted.input_bytes),
            int(counted.output_bytes),
            int(counted.weight_bytes),
            int(counted.params),
            int(counted.bn_values),
        )
        memory = known.get(values)
        if memory is None:
            memory = known[values] = OpMemory(*values)
        ops.append(memory)
        sizes.append(int(counted.alive_elements))
    if sizes:
        index = max(range(len(sizes)), key=sizes.__getitem__)
        peak = Peak(int(activation_bytes(sizes[index], dtype, batch)), index, alive[index])
    else:  # pragma: no cover - a spec has at least one layer
        peak = Peak(int(ledger.peak_bytes), -1, (NETWORK_INPUT,))
    return MemoryReport(report, dtype, batch, fold_bn, tuple(ops), peak)
