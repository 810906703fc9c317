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
    for written in network.nodes:
        node = written
        if node.kind is NodeKind.CONCAT:
            prefix = _longest_prefix(earlier, node.inputs)
            if prefix is not None:
                node = replace(node, inputs=(prefix.output, *node.inputs[len(prefix.inputs) :]))
                changed = True
            earlier.append(written)
        nodes.append(node)
    return replace(network, nodes=tuple(nodes)) if changed else network


def _longest_prefix(earlier: list[Node], inputs: tuple[str, ...]) -> Node | None:
    """The earlier concat with the most inputs that begin `inputs` (and are fewer)."""
    best: Node | None = None
    for concat in earlier:
        count = len(concat.inputs)
        longer = best is None or count > len(best.inputs)
        if 1 < count < len(inputs) and inputs[:count] == concat.inputs and longer:
            best = concat
    return best
