"""Fused ops nested the way the spec language nests layers: a sequence, where each fork of a
tensor and the merge that joins its paths again (an add, a concatenation, a product) become one
parallel item whose branches are sequences too.

The spec language writes series-parallel graphs only; a graph whose paths cross between
branches (a tensor read both inside a branch and after the merge) is refused, naming an op that
no nesting can place.
"""

from __future__ import annotations

from dataclasses import dataclass

from mbcalc.errors import ModelImportError
from mbcalc.ingest.fuse import Fused, Op, refusal
from mbcalc.ingest.network import Node, NodeKind

MERGES = (NodeKind.ADD, NodeKind.CONCAT, NodeKind.MUL)
"""The ops that join branches."""


@dataclass(frozen=True, slots=True)
class Par:
    """Branches from one tensor, joined by `merge` (an op of `MERGES`), in its input order."""

    branches: tuple[Seq, ...]
    merge: Op


Item = Op | Par
Seq = tuple[Item, ...]


def nest(fused: Fused, source: str) -> Seq:
    """The ops from the network's input to its output as nested sequences."""
    order: dict[int, float] = {id(op): index for index, op in enumerate(fused.ops)}
    nesting = _Nesting(fused, order, source)
    tree = nesting.sequence(fused.input, fused.output, set(order))
    unplaced = [op for op in fused.ops if id(op) not in nesting.placed]
    if unplaced:
        op = unplaced[0]
        raise refusal(
            op,
            source,
            "its output does not lead to the network's output, or the graph's branches cross "
            "(a tensor read inside one branch and again after the merge): the spec language "
            "nests branches and cannot write it",
        )
    return tree


class _Nesting:
    def __init__(self, fused: Fused, order: dict[int, float], source: str) -> None:
        self.fused, self.order, self.source = fused, order, source
        self.placed: set[int] = set()
        self.by_id = {id(op): op for op in fused.ops}

    def sequence(self, start: str, stop: str, region: set[int]) -> Seq:
        """The ops of `region` from tensor `start` to tensor `stop`, in order."""
        items: list[Item] = []
        tensor = start
        while tensor != stop:
            readers = [op for op in self.fused.readers.get(tensor, []) if id(op) in region]
            if not readers:
                raise self._dead_end(tensor, stop)
            first = readers[0]
            if len(readers) == 1 and first.inputs == (tensor,):
                self._place(first)
                items.append(first)
                tensor = first.output
                continue
            merge = self._merge(tensor, region)
            reach = self._reachable(tensor, region)
            branches = [
                self.sequence(tensor, end, inside)
                for end, inside in self._branch_ends(tensor, merge, reach)
            ]
            self._place(merge)
            items.append(Par(tuple(branches), merge))
            tensor = merge.output
        return tuple(items)

    def _branch_ends(self, tensor: str, merge: Op, reach: set[int]) -> list[tuple[str, set[int]]]:
        """Each branch's last tensor and ops. An exporter may flatten nested concatenations
        into one (`cat(a, cat(b, c))` as `Concat(a, b, c)`): consecutive inputs of a concat whose
        paths share ops are joined again by a concat of their own, as the spec nests them."""
        ends = [
            (source, self._reaching(source, reach) if source != tensor else set())
            for source in merge.inputs
        ]
        if merge.kind is not NodeKind.CONCAT:
            return ends
        groups: list[list[tuple[str, set[int]]]] = []
        for end in ends:
            if groups and end[1] and any(end[1] & other for _, other in groups[-1]):
                groups[-1].append(end)
            else:
                groups.append([end])
        return [group[0] if len(group) == 1 else self._joined(merge, group) for group in groups]

    def _joined(self, merge: Op, group: list[tuple[str, set[int]]]) -> tuple[str, set[int]]:
        """A concat of the group's tensors, read by `merge` in their place."""
        sources = [source for source, _ in group]
        shapes = [self.fused.producer[source].shape for source in sources]
        channels = sum(shape[0] for shape in shapes)
        output = f"{merge.output}#{len(self.by_id)}"
        node = Node(
            f"{merge.node.name}#{len(self.by_id)}", NodeKind.CONCAT, tuple(sources), output,
            (channels, *shapes[0][1:]), merge.path, merge.node.op,
        )  # fmt: skip
        joined = Op(node, tuple(sources), output, shapes[0])
        for source in sources:
            self.fused.readers[source] = [
                joined if reader is merge else reader for reader in self.fused.readers[source]
            ]
        self.fused.producer[output] = joined
        self.fused.readers[output] = [merge]
        self.by_id[id(joined)] = joined
        self.order[id(joined)] = self.order[id(merge)] - 0.5
        inside = set().union(*(ops for _, ops in group))
        return output, inside | {id(joined)}

    def _place(self, op: Op) -> None:
        """Mark `op` placed; an op two branches both hold is a graph no nesting writes."""
        if id(op) in self.placed:
            raise refusal(
                op,
                self.source,
                "its output is read both inside a branch and after the merge of that branch: "
                "the spec language nests branches and cannot write it",
            )
        self.placed.add(id(op))

    def _merge(self, tensor: str, region: set[int]) -> Op:
        """The first op where every path from `tensor` within `region` has met again."""
        reach = self._reachable(tensor, region)
        open_paths = len([op for op in self.fused.readers.get(tensor, []) if id(op) in region])
        for op in sorted((self.by_id[i] for i in reach), key=lambda op: self.order[id(op)]):
            open_paths -= sum(
                1 for source in op.inputs if source == tensor or self._in(source, reach)
            )
            if open_paths == 0 and op.kind in MERGES:
                return op
            if open_paths <= 0:
                break
            open_paths += len(
                [reader for reader in self.fused.readers.get(op.output, []) if id(reader) in reach]
            )
        first = self.fused.readers[tensor][0]
        raise refusal(
            first,
            self.source,
            "its input is read by several ops whose paths do not meet again at one add, "
            "concatenation or product: the spec language cannot nest them",
        )

    def _in(self, tensor: str, ops: set[int]) -> bool:
        maker = self.fused.producer.get(tensor)
        return maker is not None and id(maker) in ops

    def _reachable(self, tensor: str, region: set[int]) -> set[int]:
        """The ops of `region` that read `tensor` or what it leads to."""
        found: set[int] = set()
        stack = [tensor]
        while stack:
            for op in self.fused.readers.get(stack.pop(), []):
                if id(op) in region and id(op) not in found:
                    found.add(id(op))
                    stack.append(op.output)
        return found

    def _reaching(self, tensor: str, within: set[int]) -> set[int]:
        """The ops of `within` that write `tensor` or what leads to it."""
        found: set[int] = set()
        stack = [tensor]
        while stack:
            op = self.fused.producer.get(stack.pop())
            if op is not None and id(op) in within and id(op) not in found:
                found.add(id(op))
                stack.extend(op.inputs)
        return found

    def _dead_end(self, tensor: str, stop: str) -> ModelImportError:
        op = self.fused.producer.get(tensor)
        if op is None:
            return ModelImportError(
                "the network's input does not lead to its output", source=self.source
            )
        return refusal(
            op,
            self.source,
            "its output leads nowhere within its branch: the spec language cannot write it",
        )
