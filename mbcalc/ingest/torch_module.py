"""A PyTorch module read into a `Network`: traced with `torch.export` at one input size.

The module runs in eval mode on one zero input of 1 x C x H x W. Each aten call of the exported
graph becomes a node (`mbcalc.ingest.torch_ops`), several calls that are one op become one
node (`mbcalc.ingest.torch_forms`); parameters and buffers are attributes, not tensors. Shapes
are static and without the batch; each node keeps the module path it was called in.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
import operator
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from mbcalc.errors import ModelImportError
from mbcalc.ingest.callable_ref import failure, import_torch
from mbcalc.ingest.network import Network, Node, NodeKind, Shape
from mbcalc.ingest.torch_forms import FORMS, Fused, Step, chain_kind, permutation
from mbcalc.ingest.torch_ops import OPS, SPLITS, TUPLES, VIEWS, Call, Mapped

if TYPE_CHECKING:
    from types import ModuleType

    from torch import fx, nn
    from torch.export import ExportedProgram

INPUT_HINT = "--input CxHxW sets the size it is traced at"


def read_module(module: nn.Module, input_shape: Shape, *, source: str) -> Network:
    """The network `module` computes on an input of `input_shape` (C, H, W)."""
    torch = import_torch(source)
    if len(input_shape) != 3 or min(input_shape) < 1:
        raise ModelImportError(
            f"the input must be C x H x W, not {'x'.join(map(str, input_shape)) or 'empty'}",
            source=source,
            hint=INPUT_HINT,
        )
    module.eval()
    program = _export(torch, module, input_shape, source)
    reader = _Reader(torch, program, source)
    nodes, output = reader.read()
    channels, height, width = input_shape
    return Network(
        source=source,
        producer=f"torch {torch.__version__}, torch.export",
        input=reader.input,
        input_shape=tuple(input_shape),
        output=output,
        nodes=nodes,
        notes=(f"traced in eval mode at 1x{channels}x{height}x{width}",),
    )


def _export(torch: ModuleType, module: nn.Module, shape: Shape, source: str) -> ExportedProgram:
    example = torch.zeros(1, *shape)
    try:
        with _quiet():
            program: ExportedProgram = torch.export.export(module, (example,), strict=False)
    except Exception as error:  # torch's many tracing errors: any is a failed import
        hint = None if _runs(torch, module, example) else INPUT_HINT
        name = type(module).__name__
        raise ModelImportError(
            f"torch.export cannot trace {name}: {failure(error)}", source=source, hint=hint
        ) from None
    return program


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """torch's warnings and the graph it prints on a failed trace held back: the error's first
    line is the message."""
    logger = logging.getLogger("torch")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _runs(torch: ModuleType, module: nn.Module, example: object) -> bool:
    """Whether the module runs on the example at all (if not, the input size is to blame)."""
    try:
        with torch.no_grad():
            module(example)
    except Exception:  # the user's module: any exception means it does not run
        return False
    return True


def _names(value: object) -> object:
    """An argument with each graph value replaced by its name."""
    if isinstance(value, list | tuple):
        return [_names(item) for item in value]
    name = getattr(value, "name", None)
    return name if isinstance(name, str) and hasattr(value, "meta") else value


class _Reader:
    """One exported program read into nodes, in the graph's (topological) order."""

    def __init__(self, torch: ModuleType, program: ExportedProgram, source: str) -> None:
        self.torch, self.program, self.source = torch, program, source
        self.fx: dict[str, fx.Node] = {node.name: node for node in program.graph.nodes}
        user = [spec.arg.name for spec in program.graph_signature.input_specs
                if spec.kind == spec.kind.USER_INPUT]  # fmt: skip
        self.input = str(user[0])
        weights = {
            node.name
            for node in program.graph.nodes
            if node.op in ("placeholder", "get_attr") and node.name != self.input
        }
        for node in program.graph.nodes:  # what is computed from weights alone is a weight
            if node.op == "call_function" and all(
                part.name in weights for part in node.all_input_nodes
            ):
                weights.add(node.name)
        self.weights = frozenset(weights)
        self.shapes = {name: self.shape(name) for name in self.fx if self._has_shape(name)}
        self.nodes: list[Node] = []
        self.written = {self.input}
        self.chains: dict[str, tuple[str, tuple[Step, ...]]] = {}
        self.splits: dict[str, tuple[str, list[tuple[int, int]]]] = {}
        self.tuples: dict[str, Mapped | None] = {}

    # --- what the forms read (mbcalc.ingest.torch_forms.Graph) ---------------------------------

    def op(self, name: str) -> str:
        node = self.fx[name]
        return str(node.target) if node.op == "call_function" else ""

    def args(self, name: str) -> dict[str, object]:
        node = self.fx[name]
        schema = getattr(node.target, "_schema", None)
        if schema is None:
            return {str(index): _names(value) for index, value in enumerate(node.args)}
        values: dict[str, object] = {}
        for index, argument in enumerate(schema.arguments):
            if index < len(node.args):
                values[argument.name] = _names(node.args[index])
            elif argument.name in node.kwargs:
                values[argument.name] = _names(node.kwargs[argument.name])
            elif argument.has_default_value():
                values[argument.name] = argument.default_value
        return values

    def users(self, name: str) -> list[str]:
        return [user.name for user in self.fx[name].users]

    def shape(self, name: str) -> Shape:
        value = self.fx[name].meta.get("val")
        if isinstance(value, list | tuple):
            value = value[0]
        full = tuple(int(size) for size in getattr(value, "shape", ()))
        return full if name in self.weights else full[1:]

    def is_weight(self, name: str) -> bool:
        return name in self.weights

    def share_matches(self, share: str, pool: str) -> bool:
        """Whether the buffer `share` is, for each window of `pool` (on a padded input), the
        share of the input's pixels in it (avg) or whether it holds any (max)."""
        buffers = self.program.graph_signature.inputs_to_buffers
        target = buffers.get(share)
        tensors = {**self.program.state_dict, **self.program.constants}
        if target is None or target not in tensors:
            return False
        padded, window = self.fx[pool].args[0], self.args(pool)
        pad_args = self.args(getattr(padded, "name", ""))
        height, width = self.shape(str(pad_args["self"]))[1:]
        functional = self.torch.nn.functional
        mask = functional.pad(self.torch.ones(1, 1, height, width), pad_args["pad"])
        kind = "max" if self.op(pool).startswith("aten.max") else "avg"
        pooled = getattr(functional, f"{kind}_pool2d")(
            mask, window["kernel_size"], window["stride"] or window["kernel_size"]
        )
        actual = tensors[target]
        if kind == "max":
            pooled, actual = pooled > 0, actual > 0
        return actual.shape == pooled.shape and bool(self.torch.equal(actual, pooled))

    # --- reading ---------------------------------------------------------------------------

    def read(self) -> tuple[tuple[Node, ...], str]:
        """The nodes in topological order, and the output tensor's name."""
        fused: dict[str, Fused] = {}
        inside: set[str] = set()
        for name in self.fx:
            if self.op(name) and name not in self.weights and name not in inside:
                found = next((form for form in (f(self, name) for f in FORMS) if form), None)
                if found is not None:
                    fused[found.tail] = found
                    inside |= found.inside
        output, skipped = "", self.weights | inside
        for node in self.program.graph.nodes:
            if node.op == "output":
                output = self._output(node)
            elif node.op == "call_function" and node.name not in skipped:
                if node.name in fused:
                    form = fused[node.name]
                    self._emit(form.principal, form.tail, form.mapped)
                else:
                    self._call(node.name)
        return tuple(self.nodes), output

    def _call(self, name: str) -> None:
        op = self.op(name)
        if self.fx[name].target is operator.getitem:
            self._getitem(name)
        elif op in VIEWS:
            args = self.args(name)
            source = str(args.get("self", args.get("input")))
            root, steps = self.chains.get(source, (source, ()))
            rank = len(self.shapes[source]) + 1
            step = Step(op, permutation(op, args, rank), self.shapes[name])
            self.chains[name] = (root, (*steps, step))
        elif op in SPLITS:
            self._split(name)
        else:
            handler = OPS.get(op)
            call = Call(op, self.args(name), self.shapes.get(name, ()), self.shapes, self.weights)
            mapped = handler(call) if handler is not None and name in self.shapes else None
            if op in TUPLES or not self._tensor_value(name):
                self.tuples[name] = mapped
            else:
                self._emit(name, name, mapped)

    def _split(self, name: str) -> None:
        args = self.args(name)
        source = args.get("self")
        dim = args.get("dim", 0)
        if not isinstance(source, str) or not isinstance(dim, int):
            self.tuples[name] = None
            return
        if dim % (len(self.shapes[source]) + 1) != 1:
            self.tuples[name] = None
            return
        sizes = [int(part.shape[1]) for part in self.fx[name].meta.get("val", ())]
        bounds = [sum(sizes[:index]) for index in range(len(sizes) + 1)]
        self.splits[name] = (source, list(itertools.pairwise(bounds)))

    def _getitem(self, name: str) -> None:
        whole, index = self.fx[name].args
        whole_name = str(getattr(whole, "name", ""))
        if not self.fx[name].users:
            return  # export takes every item of a split's list, read or not
        if whole_name in self.splits and isinstance(index, int):
            source, bounds = self.splits[whole_name]
            start, stop = bounds[index]
            mapped = Mapped(NodeKind.SLICE, (source,), {"start": start, "stop": stop})
            self._emit(name, name, mapped, op=self.op(whole_name))
        elif index == 0 and self.tuples.get(whole_name) is not None:
            self._emit(whole_name, name, self.tuples[whole_name])
        else:
            self._emit(name, name, None, op=self.op(whole_name), reads=whole_name)

    def _output(self, node: fx.Node) -> str:
        results = [value for value in _flat(_names(node.args)) if isinstance(value, str)]
        if len(results) != 1 or not self._tensor_value(results[0]):
            raise ModelImportError(
                f"the module gives {len(results)} outputs; mbcalc reads a network with one",
                source=self.source,
            )
        return self._tensor(results[0])

    def _tensor(self, name: str) -> str:
        """The tensor `name`, its chain of views written as a node first if it is one."""
        if name in self.chains and name not in self.written:
            root, steps = self.chains[name]
            mapped = chain_kind(self.shapes[root], steps)
            kind, attrs = (mapped.kind, mapped.attrs) if mapped else (NodeKind.UNKNOWN, {})
            self._emit(name, name, Mapped(kind, (root,), attrs))
        return name

    def _emit(
        self, name: str, output: str, mapped: Mapped | None, *, op: str = "", reads: str = ""
    ) -> None:
        """Node `name` writing `output`: `mapped`, or UNKNOWN reading the activations of the
        call `reads` (by default the node's own call)."""
        if mapped is None:
            fx_node = self.fx[reads or name]
            inputs = tuple(part.name for part in fx_node.all_input_nodes
                           if part.name not in self.weights)  # fmt: skip
            mapped = Mapped(NodeKind.UNKNOWN, inputs)
        inputs = tuple(self._tensor(source) for source in mapped.inputs)
        self.written.add(output)
        self.nodes.append(
            Node(
                name=name,
                kind=mapped.kind,
                inputs=inputs,
                output=output,
                shape=self.shapes[output],
                path=self._path(name),
                op=op or self.op(name),
                attrs=dict(mapped.attrs),
            )
        )

    def _path(self, name: str) -> str:
        stack = self.fx[name].meta.get("nn_module_stack") or {}
        entries = list(stack.values())
        return str(entries[-1][0]) if entries else ""

    def _has_shape(self, name: str) -> bool:
        """A tensor, or a tuple whose first item is one (its shape is the tuple's)."""
        value = self.fx[name].meta.get("val")
        if isinstance(value, list | tuple) and value:
            value = value[0]
        return isinstance(value, self.torch.Tensor)

    def _tensor_value(self, name: str) -> bool:
        value = self.fx[name].meta.get("val")
        return isinstance(value, self.torch.Tensor)


def _flat(value: object) -> list[object]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [item for part in value for item in _flat(part)]
    return [value]
