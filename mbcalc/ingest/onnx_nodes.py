"""An ONNX graph's nodes as `Node`s: each through the decomposition patterns
(`onnx_patterns`) or the op table (`onnx_ops`). Identity, Dropout and float-to-float Cast nodes
are dropped, their outputs renamed to their inputs; a Split becomes one SLICE per output.
Shapes lose the batch dimension."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mbcalc.ingest.network import Node, NodeKind, shared_prefix
from mbcalc.ingest.onnx_graph import Graph, attributes, module_path
from mbcalc.ingest.onnx_ops import single, split_slices
from mbcalc.ingest.onnx_patterns import pattern

if TYPE_CHECKING:
    from onnx import NodeProto

_FLOATS = frozenset({1, 10, 11, 16})  # FLOAT, FLOAT16, DOUBLE, BFLOAT16
_COPIES = frozenset({"Identity", "Dropout"})


def read_nodes(graph: Graph) -> list[Node]:
    """The graph's nodes as `Node`s, in order; copies dropped, patterns fused."""
    taken: set[int] = set()
    result: list[Node] = []
    names: set[str] = set()
    for index, node in enumerate(graph.nodes):
        if index in taken:
            continue
        if _is_copy(graph, node):
            graph.alias[node.output[0]] = node.input[0]
            continue
        name = node.name if node.name and node.name not in names else f"{node.op_type}_{index}"
        names.add(name)
        slices = split_slices(graph, index) if node.op_type == "Split" else None
        if slices is not None:
            result.extend(_slices(graph, node, name, slices))
            continue
        mapped = pattern(graph, index) or single(graph, index)
        span = _pattern_nodes(graph, index, mapped.last)
        taken.update(span)
        output = graph.nodes[mapped.last].output[0]
        op = "+".join(graph.nodes[position].op_type for position in sorted(span))
        result.append(
            Node(
                name=name,
                kind=mapped.kind,
                inputs=tuple(graph.resolve(tensor) for tensor in mapped.inputs),
                output=output,
                shape=mapped.shape or graph.batchless(output) or (),
                path=_common_path([module_path(graph.nodes[at]) for at in sorted(span)]),
                op=op,
                attrs=mapped.attrs,
            )
        )
    return result


def _common_path(paths: list[str]) -> str:
    """The module holding all of a pattern's nodes: their paths' common dotted prefix."""
    return ".".join(shared_prefix([path.split(".") for path in paths]))


def _slices(
    graph: Graph, node: NodeProto, name: str, slices: list[tuple[str, int, int]]
) -> list[Node]:
    """A Split's outputs, one SLICE node each."""
    source = graph.resolve(node.input[0])
    return [
        Node(
            name=f"{name}:{number}",
            kind=NodeKind.SLICE,
            inputs=(source,),
            output=output,
            shape=graph.batchless(output) or (),
            path=module_path(node),
            op=node.op_type,
            attrs={"start": start, "stop": stop},
        )
        for number, (output, start, stop) in enumerate(slices)
    ]


def _pattern_nodes(graph: Graph, first: int, last: int) -> set[int]:
    """The nodes a pattern from `first` to `last` spans: both and those between that feed
    `last`."""
    span, stack = {first, last}, [last]
    while stack:
        for tensor in graph.nodes[stack.pop()].input:
            index = graph.producers.get(tensor)
            if index is not None and first < index < last and index not in span:
                span.add(index)
                stack.append(index)
    return span


def _is_copy(graph: Graph, node: NodeProto) -> bool:
    """Identity, Dropout (in inference) and a Cast from float to float: the same tensor."""
    if node.op_type in _COPIES:
        return True
    if node.op_type == "Cast" and not graph.is_constant(node.input[0]):
        target = attributes(node).get("to")
        return target in _FLOATS and graph.dtypes.get(graph.resolve(node.input[0])) in _FLOATS
    return False
