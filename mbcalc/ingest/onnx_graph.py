"""An ONNX graph as the op table reads it: its unfolded nodes in order, what is known of each
tensor (static shape, folded value, weight dims), who reads it, and a node's attributes and
module path."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mbcalc.ingest.network import NodeKind, Shape
from mbcalc.ingest.onnx_fold import Array

if TYPE_CHECKING:
    from onnx import NodeProto


@dataclass
class Graph:
    """What the op table reads: the unfolded nodes in order and what is known of each tensor."""

    nodes: list[NodeProto]
    shapes: dict[str, tuple[int, ...]]  # ONNX shapes, with the batch
    values: dict[str, Array]  # folded constants
    weights: dict[str, tuple[int, ...]]  # the dims of the model's initializers (its weights)
    opset: int
    dtypes: dict[str, int] = field(default_factory=dict)
    alias: dict[str, str] = field(default_factory=dict)
    consumers: dict[str, list[int]] = field(default_factory=dict)
    producers: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for index, node in enumerate(self.nodes):
            for name in node.input:
                self.consumers.setdefault(name, []).append(index)
            self.producers.update(dict.fromkeys(node.output, index))

    def resolve(self, name: str) -> str:
        """The tensor a name stands for once dropped copies are renamed away."""
        while name in self.alias:
            name = self.alias[name]
        return name

    def is_constant(self, name: str) -> bool:
        name = self.resolve(name)
        return name in self.values or name in self.weights

    def only_consumer(self, tensor: str) -> int | None:
        """The index of the one node reading `tensor`, if exactly one does."""
        readers = self.consumers.get(tensor, [])
        return readers[0] if len(readers) == 1 else None

    def value(self, node: NodeProto, position: int) -> Array | None:
        """The folded value of the node's input at `position`, if there is one."""
        if position >= len(node.input) or not node.input[position]:
            return None
        return self.values.get(self.resolve(node.input[position]))

    def batchless(self, name: str) -> Shape | None:
        shape = self.shapes.get(self.resolve(name))
        return None if shape is None or not shape else tuple(shape[1:])


def attributes(node: NodeProto) -> dict[str, object]:
    """The node's attributes as Python values (strings decoded)."""
    from onnx import helper

    result: dict[str, object] = {}
    for attr in node.attribute:
        value = helper.get_attribute_value(attr)
        result[attr.name] = value.decode() if isinstance(value, bytes) else value
    return result


def module_path(node: NodeProto) -> str:
    """The module that made the node: from the dynamo exporter's name scopes or the
    TorchScript exporter's node name ("/ops.4/conv/Conv" -> "ops.4.conv")."""
    for prop in node.metadata_props:
        if prop.key == "pkg.torch.onnx.name_scopes":
            scopes = [part.strip(" '\"") for part in prop.value.strip("[]").split(",")]
            return scopes[-2] if len(scopes) >= 2 else ""
    if node.name.startswith("/"):
        return ".".join(part for part in node.name[1:].split("/")[:-1] if part)
    return ""


@dataclass(frozen=True, slots=True)
class Mapped:
    """One op (or pattern) mapped: kind, attrs, the feature inputs, the last node's index."""

    kind: NodeKind
    attrs: dict[str, object]
    inputs: tuple[str, ...]
    last: int
    shape: Shape | None = None  # the output's (C, H, W) where the last node's is H x W x C


Found = tuple[NodeKind, dict[str, object]] | None


def given(node: NodeProto, position: int) -> bool:
    """The node has its optional input at `position`."""
    return position < len(node.input) and node.input[position] != ""


def feature_inputs(graph: Graph, node: NodeProto) -> tuple[str, ...]:
    """The node's inputs that are neither weights nor folded constants."""
    return tuple(name for name in node.input if name and not graph.is_constant(name))
