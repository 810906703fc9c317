"""Concatenations of a growing list made nested: DenseNet as torchvision writes it concatenates
all earlier features afresh for every layer (`cat(x0, f1)`, then `cat(x0, f1, f2)` ...), so the
same tensors are read by many concats and the graph nests no branches. A concat whose inputs
begin with all the inputs of an earlier one reads that one's output in their place
(`cat(cat(x0, f1), f2)`): the same tensor, the same counts, and a graph the spec language
writes (a parallel layer with an empty branch per dense layer)."""

from __future__ import annotations

from dataclasses import replace

from mbcalc.ingest.network import Network, Node, NodeKind


def nested_concats(network: Network) -> Network:
    """`network` with each concat that repeats an earlier one's inputs reading its output."""
    earlier: list[Node] = []
    nodes: list[Node] = []
    changed = False
    for node in network.nodes:
        if node.kind is NodeKind.CONCAT:
            prefix = _longest_prefix(earlier, node.inputs)
            if prefix is not None:
                node = replace(node, inputs=(prefix.output, *node.inputs[len(prefix.inputs) :]))
                changed = True
            earlier.append(node if prefix is None else _as_written(node, prefix))
        nodes.append(node)
    return replace(network, nodes=tuple(nodes)) if changed else network


def _longest_prefix(earlier: list[Node], inputs: tuple[str, ...]) -> Node | None:
    """The earlier concat with the most inputs that begin `inputs` (and are fewer)."""
    best: Node | None = None
    for concat in earlier:
        count = len(concat.inputs)
        if 1 < count < len(inputs) and inputs[:count] == concat.inputs:
            if best is None or count > len(best.inputs):
                best = concat
    return best


def _as_written(node: Node, prefix: Node) -> Node:
    """`node` with the inputs it was written with (the prefix's, then its own), so that a later
    concat that repeats them all finds it."""
    return replace(node, inputs=(*prefix.inputs, *node.inputs[1:]))
