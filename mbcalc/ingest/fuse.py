"""A network's nodes fused into the ops a spec layer stands for: a pad, conv, batch norm and
activation become one conv; an activation joins the linear, pool, norm or merge before it; free
nodes (identities, flattens) vanish into the tensor they pass on.

A node fuses into its producer only where the producer's output has no other reader, so that no
tensor another op reads is lost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from mbcalc.errors import ModelImportError
from mbcalc.ingest.network import Network, Node, NodeKind, Pads, Shape

_ALIASES = (NodeKind.IDENTITY, NodeKind.FLATTEN)
_TAKES_ACT = (
    NodeKind.CONV, NodeKind.LINEAR, NodeKind.POOL, NodeKind.GLOBAL_POOL, NodeKind.ADAPTIVE_POOL,
    NodeKind.BATCH_NORM, NodeKind.LAYER_NORM, NodeKind.GROUP_NORM, NodeKind.ADD, NodeKind.CONCAT,
    NodeKind.LAYER_SCALE, NodeKind.SHUFFLE, NodeKind.SOFTMAX,
)  # fmt: skip


@dataclass(slots=True)
class Op:
    """One spec-level op: a node with what fused into it."""

    node: Node
    inputs: tuple[str, ...]
    output: str
    shape_in: Shape
    pads: Pads = (0, 0, 0, 0)  # an explicit pad fused in front (a conv's or a pool's)
    bn: bool = False
    act: str = "none"
    names: list[str] = field(default_factory=list)  # every node fused in
    paths: list[str] = field(default_factory=list)  # their module paths

    @property
    def kind(self) -> NodeKind:
        return self.node.kind

    @property
    def shape(self) -> Shape:
        return self.node.shape

    @property
    def path(self) -> str:
        return self.node.path

    def attr(self, key: str) -> object:
        return self.node.attrs[key]


def refusal(op: Op, source: str, message: str, hint: str | None = None) -> ModelImportError:
    """The error that names `op`'s node, its op type and module path."""
    return ModelImportError(
        message,
        source=source,
        node=op.node.name,
        op=op.node.op or op.kind.value,
        path=op.node.path,
        hint=hint,
    )


@dataclass(frozen=True, slots=True)
class Fused:
    """A network's ops in topological order, with the tensors' readers."""

    ops: tuple[Op, ...]
    input: str
    output: str
    readers: dict[str, list[Op]]  # per tensor, one entry per input slot that reads it
    producer: dict[str, Op]


def fuse(network: Network) -> Fused:
    """The network's ops, each node fused into its producer where a spec layer holds both."""
    alias, read_count = _aliases(network)

    def real(tensor: str) -> str:
        return alias.get(tensor, tensor)

    ops: list[Op] = []
    producer: dict[str, Op] = {}
    readers: dict[str, list[Op]] = {}
    output = real(network.output)
    for node in network.nodes:
        if node.output in alias:
            continue
        inputs = tuple(real(tensor) for tensor in node.inputs)
        before = producer.get(inputs[0]) if len(inputs) == 1 else None
        if (
            before is not None
            and read_count[inputs[0]] == 1
            and inputs[0] != output
            and _fuses(before, node)
        ):
            _absorb(before, node)
            del producer[inputs[0]]
            producer[node.output] = before
            continue
        shape_in = (
            producer[inputs[0]].shape if inputs and inputs[0] in producer else network.input_shape
        )
        op = Op(node, inputs, node.output, shape_in, names=[node.name], paths=[node.path])
        ops.append(op)
        producer[node.output] = op
        for tensor in inputs:
            readers.setdefault(tensor, []).append(op)
    return Fused(
        ops=tuple(ops), input=network.input, output=output, readers=readers, producer=producer
    )


def _aliases(network: Network) -> tuple[dict[str, str], Counter[str]]:
    """The tensors free nodes pass on, each to the tensor it is; and how many input slots read
    each real tensor. A node reading a tensor nothing wrote is refused."""
    alias: dict[str, str] = {}
    known = {network.input}
    counts: Counter[str] = Counter()
    for node in network.nodes:
        inputs = [alias.get(tensor, tensor) for tensor in node.inputs]
        missing = [tensor for tensor in inputs if tensor not in known]
        if missing or not inputs:
            raise ModelImportError(
                f"reads the tensor '{missing[0]}', which nothing before it writes"
                if missing
                else "reads no tensor",
                source=network.source, node=node.name, op=node.op, path=node.path,
            )  # fmt: skip
        known.add(node.output)
        if node.kind in _ALIASES and len(inputs) == 1:
            alias[node.output] = inputs[0]
        else:
            counts.update(inputs)
    return alias, counts


def _fuses(before: Op, node: Node) -> bool:
    """Whether `node`, the only reader of `before`'s output, joins it."""
    if node.kind is NodeKind.ACT:
        return before.kind in _TAKES_ACT and before.act == "none"
    if node.kind is NodeKind.BATCH_NORM:
        return before.kind is NodeKind.CONV and not before.bn and before.act == "none"
    if before.kind is NodeKind.PAD and before.act == "none":
        value = before.attr("value")
        if node.kind is NodeKind.CONV:
            return value == 0
        if node.kind is NodeKind.POOL:
            return value == (0 if node.attrs["pool"] == "avg" else float("-inf"))
    return False


def _absorb(before: Op, node: Node) -> None:
    """`node` joins `before`, whose output it alone read: `before` now writes `node`'s output."""
    before.names.append(node.name)
    before.paths.append(node.path)
    before.output = node.output
    if node.kind is NodeKind.ACT:
        before.act = str(node.attrs["act"])
    elif node.kind is NodeKind.BATCH_NORM:
        before.bn = True
    else:  # `before` is a pad: it becomes the conv or pool it pads
        pads = before.node.attrs["pads"]
        assert isinstance(pads, tuple)
        before.pads = _add(before.pads, pads)
        before.node = node


def _add(first: Iterable[int], second: Iterable[int]) -> Pads:
    a, b, c, d = (x + y for x, y in zip(first, second, strict=True))
    return (a, b, c, d)
