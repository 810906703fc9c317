"""Constant folding: the values an exported graph computes from constants alone.

Exporters compute a Pad's pads, a Reshape's target or a Clip's bounds with small subgraphs
(Shape, Gather, Concat, ConstantOfShape, Slice, Cast, ...). `fold(model, shapes)` runs every
node whose inputs are all known, in order, with onnx's reference implementation of its op:
Constant nodes, initializers that kept their data (the small ones, `onnx_wire.SMALL_TENSOR`),
and the Shape of a tensor whose shape is static are known; a large initializer never is, so
nothing is folded through one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from mbcalc.ingest.onnx_wire import SMALL_TENSOR

if TYPE_CHECKING:
    from onnx import ModelProto, NodeProto, TensorProto

Array = NDArray[np.generic]
_NEVER_FOLDED = frozenset({"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                           "Multinomial", "Bernoulli", "Dropout"})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Folded:
    """The known values by tensor name, and the nodes (by index) that computed them."""

    values: dict[str, Array]
    nodes: frozenset[int]


def fold(model: ModelProto, shapes: dict[str, tuple[int, ...]]) -> Folded:
    """Fold the graph of `model` (an onnx.ModelProto); `shapes` are its static tensor shapes."""
    from onnx import numpy_helper

    graph = model.graph
    opsets = {entry.domain or "": entry.version for entry in model.opset_import}
    values: dict[str, Array] = {
        tensor.name: numpy_helper.to_array(tensor)
        for tensor in graph.initializer
        if _holds_data(tensor)
    }
    folded: set[int] = set()
    for index, node in enumerate(graph.node):
        result = _value_of(node, values, shapes, opsets)
        if result is not None:
            values.update(result)
            folded.add(index)
    return Folded(values, frozenset(folded))


def _holds_data(tensor: TensorProto) -> bool:
    """An initializer that kept its payload (not an emptied large one, not external)."""
    fields = ("raw_data", "float_data", "int32_data", "int64_data", "double_data", "uint64_data")
    if any(len(getattr(tensor, name)) for name in fields):
        return True
    return 0 in tensor.dims  # an empty tensor holds no data and needs none


def _value_of(
    node: NodeProto,
    values: dict[str, Array],
    shapes: dict[str, tuple[int, ...]],
    opsets: dict[str, int],
) -> dict[str, Array] | None:
    """The node's outputs when all its inputs are known and they are small, else None."""
    op, inputs = node.op_type, [name for name in node.input if name]
    if node.domain not in ("", "ai.onnx") or op in _NEVER_FOLDED:
        return None
    if op == "Shape":
        return _shape_of(node, shapes)
    if not all(name in values for name in inputs):
        return None
    from onnx.reference import ReferenceEvaluator

    try:
        evaluator = ReferenceEvaluator(node, opsets=opsets)
        feeds = {name: values[name] for name in inputs}
        outputs = evaluator.run(None, feeds)
    except Exception:  # an op the reference cannot run here stays a node: the op table decides
        return None
    names = list(node.output)
    arrays = [np.asarray(output) for output in outputs]
    if any(array.size > SMALL_TENSOR for array in arrays):
        return None
    return dict(zip(names, arrays, strict=False))


def _shape_of(node: NodeProto, shapes: dict[str, tuple[int, ...]]) -> dict[str, Array] | None:
    """A Shape node's output when its input's shape is static (with its start/end)."""
    shape = shapes.get(node.input[0])
    if shape is None:
        return None
    attrs = {attr.name: attr.i for attr in node.attribute}
    start, end = attrs.get("start", 0), attrs.get("end", len(shape))
    return {node.output[0]: np.array(shape[start:end], dtype=np.int64)}


def with_constants(model: ModelProto, folded: Folded) -> ModelProto:
    """The model with its folded nodes replaced by initializers holding their values (shape
    inference then sees a Pad's pads or a Reshape's target), inferred shapes forgotten."""
    from onnx import ModelProto as Model
    from onnx import numpy_helper

    result = Model()
    result.CopyFrom(model)
    graph = result.graph
    needed = {name for node in graph.node for name in node.input} | {
        value.name for value in graph.output
    }
    kept = [node for index, node in enumerate(graph.node) if index not in folded.nodes]
    made = [
        output
        for index, node in enumerate(graph.node)
        if index in folded.nodes
        for output in node.output
        if output in needed
    ]
    del graph.node[:]
    graph.node.extend(kept)
    graph.initializer.extend(numpy_helper.from_array(folded.values[name], name) for name in made)
    del graph.value_info[:]
    return result
