"""An ONNX file read into a `Network` (`read_onnx`), its weights never loaded.

The file is memory-mapped and its protobuf walked field by field (`onnx_wire`): only the graph
and the small initializers (shape constants) are copied, so a model of any size is read in
memory about the size of its graph. Then onnx parses that copy, shape inference makes every
shape static, constants are folded (`onnx_fold`) and the op table maps the nodes (`onnx_ops`).

Limits (each one refused with a `ModelImportError`):

- the file at most `MAX_FILE_BYTES` (2 GiB, protobuf's own ceiling: larger models keep their
  weights in external data files, which are checked, never read);
- at most `MAX_NODES` nodes and `MAX_INITIALIZERS` initializers;
- one graph input (besides initializers), 1 x C x H x W: a dynamic C, H or W needs
  `input_shape`, which replaces the input's dims; a dynamic batch is read as 1, a fixed batch
  other than 1 is refused (export with batch 1);
- one graph output.
"""

from __future__ import annotations

import mmap
from pathlib import Path
from typing import TYPE_CHECKING

from mbcalc.errors import ModelImportError
from mbcalc.ingest.network import Network, Node, Shape
from mbcalc.ingest.onnx_fold import Folded, fold, with_constants
from mbcalc.ingest.onnx_graph import Graph
from mbcalc.ingest.onnx_nodes import read_nodes
from mbcalc.ingest.onnx_wire import WireError, stripped_model

if TYPE_CHECKING:
    from onnx import ModelProto, ValueInfoProto

MAX_FILE_BYTES = 2**31
MAX_NODES = 100_000
MAX_INITIALIZERS = 100_000
_INPUT_HINT = "--input CxHxW"
_FOLD_TURNS = 8


MALFORMED = (IndexError, KeyError, TypeError, ValueError, AttributeError, UnicodeError)
"""What reading a model that parses as protobuf but breaks ONNX's rules (a name that is no
text, an attribute of the wrong type or missing, a node with too few inputs) raises on the
way: each becomes one line naming the file."""


def read_onnx(path: Path, *, source: str, input_shape: Shape | None = None) -> Network:
    """The network in the ONNX file at `path`; `source` names it in messages."""
    model = _parsed(path, source)
    try:
        return _network(model, source, input_shape)
    except MALFORMED as error:
        detail = str(error).splitlines()[0][:200] if str(error) else ""
        raise ModelImportError(
            f"a malformed ONNX model ({type(error).__name__}{': ' if detail else ''}{detail})",
            source=source,
            hint="onnx.checker.check_model(onnx.load(FILE)) names what is wrong",
        ) from None


def _network(model: ModelProto, source: str, input_shape: Shape | None) -> Network:
    """The network of a parsed model."""
    name = _set_input(model, source, input_shape)
    output = _single_output(model, source)
    weights = _weights(model)
    inferred, shapes, dtypes, folded = _settled(model, source)
    graph = Graph(
        nodes=[node for index, node in enumerate(inferred.graph.node) if index not in folded.nodes],
        shapes=shapes,
        values=folded.values,
        weights=weights,
        opset=_opset(inferred),
        dtypes=dtypes,
    )
    nodes = read_nodes(graph)
    _check_static(nodes, shapes, source)
    return Network(
        source=source,
        producer=_producer(inferred),
        input=name,
        input_shape=shapes[name][1:],
        output=graph.resolve(output),
        nodes=tuple(nodes),
    )


def _weights(model: ModelProto) -> dict[str, tuple[int, ...]]:
    """The dims of the model's weights: its initializers and their Identity copies (the
    exporter's for a weight it shares), not the constants folding makes."""
    weights = {tensor.name: tuple(tensor.dims) for tensor in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Identity" and node.input[0] in weights:
            weights[node.output[0]] = weights[node.input[0]]
    return weights


def _settled(
    model: ModelProto, source: str
) -> tuple[ModelProto, dict[str, tuple[int, ...]], dict[str, int], Folded]:
    """Shapes inferred and constants folded, in turns until folding finds nothing new (a
    folded Pad's pads make the shapes after it static, whose Shapes fold in the next turn)."""
    for _ in range(_FOLD_TURNS):
        inferred = _inferred(model, source)
        shapes, dtypes = _static_shapes(inferred)
        folded = fold(inferred, shapes)
        if not folded.nodes:
            break
        model = with_constants(inferred, folded)
    return inferred, shapes, dtypes, folded


def _check_static(nodes: list[Node], shapes: dict[str, tuple[int, ...]], source: str) -> None:
    """Every node's output shape is static, or the node is named as the one that is not."""
    for node in nodes:
        if node.output not in shapes:
            raise ModelImportError(
                "shape inference leaves its output's shape unknown",
                source=source,
                node=node.name,
                op=node.op,
                path=node.path,
            )


def _parsed(path: Path, source: str) -> ModelProto:
    """The model in the file, its large initializers without their data."""
    import onnx
    from google.protobuf.message import DecodeError

    stripped, problem = _stripped(_mapped(path, source), path.parent)
    if problem is not None:
        raise ModelImportError(f"not a readable ONNX model: {problem}", source=source)
    model = onnx.ModelProto()
    try:
        model.ParseFromString(stripped)
    except DecodeError as error:
        raise ModelImportError(f"not a readable ONNX model: {error}", source=source) from None
    if model.ir_version <= 0 or not model.opset_import or not model.graph.node:
        raise ModelImportError(
            "not an ONNX model: no IR version, opset or graph nodes", source=source
        )
    _check_versions(model, source)
    return model


def _check_versions(model: ModelProto, source: str) -> None:
    """The IR version and the default domain's opset are ones the installed onnx knows."""
    import onnx

    newest = onnx.defs.onnx_opset_version()
    if model.ir_version > onnx.IR_VERSION or _opset(model) > newest:
        raise ModelImportError(
            f"IR version {model.ir_version}, opset {_opset(model)}: the installed onnx "
            f"{onnx.__version__} reads up to IR version {onnx.IR_VERSION}, opset {newest}",
            source=source,
            hint="pip install -U onnx",
        )


def _stripped(data: mmap.mmap, folder: Path) -> tuple[bytes, str | None]:
    """The stripped model's bytes, or what is wrong with the file; the map closed either way
    (once the walk's views of it are gone with its traceback)."""
    stripped, problem = b"", None
    view = memoryview(data)
    try:
        stripped, _ = stripped_model(view, folder, MAX_NODES, MAX_INITIALIZERS)
    except WireError as error:
        problem = str(error)
    view.release()
    data.close()
    return stripped, problem


def _mapped(path: Path, source: str) -> mmap.mmap:
    """The file memory-mapped, once it is a non-empty file within the size limit."""
    if not path.is_file():
        what = "a directory" if path.is_dir() else "not found"
        raise ModelImportError(f"{what}: no ONNX model file there", source=source)
    size = path.stat().st_size
    if size == 0:
        raise ModelImportError("the file is empty", source=source)
    if size > MAX_FILE_BYTES:
        raise ModelImportError(
            f"the file holds {size:,} bytes, more than the {MAX_FILE_BYTES:,} an ONNX file "
            "can hold",
            source=source,
            hint="save the weights as external data",
        )
    with path.open("rb") as file:
        return mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)


def _graph_inputs(model: ModelProto) -> list[ValueInfoProto]:
    initializers = {tensor.name for tensor in model.graph.initializer}
    return [value for value in model.graph.input if value.name not in initializers]


def _set_input(model: ModelProto, source: str, input_shape: Shape | None) -> str:
    """Check the one input is 1 x C x H x W (or make it so with `input_shape`); its name."""
    inputs = _graph_inputs(model)
    if len(inputs) != 1:
        names = ", ".join(f"'{value.name}'" for value in inputs)
        raise ModelImportError(
            f"the graph has {len(inputs)} inputs ({names}); mbcalc reads networks of one image "
            "input",
            source=source,
        )
    value = inputs[0]
    dims = value.type.tensor_type.shape.dim
    shown = " x ".join(
        dim.dim_param or (str(dim.dim_value) if dim.dim_value else "?") for dim in dims
    )
    if not value.type.HasField("tensor_type") or len(dims) != 4:
        raise ModelImportError(
            f"input '{value.name}' has shape ({shown}), not N x C x H x W", source=source
        )
    if input_shape is not None:
        for dim, size in zip(dims, (1, *input_shape), strict=True):
            dim.Clear()
            dim.dim_value = size
        return value.name
    if dims[0].HasField("dim_value") and dims[0].dim_value != 1:
        raise ModelImportError(
            f"input '{value.name}' has batch {dims[0].dim_value}",
            source=source,
            hint="export the model with batch 1",
        )
    if not all(dim.HasField("dim_value") and dim.dim_value > 0 for dim in dims[1:]):
        raise ModelImportError(
            f"input '{value.name}' has dynamic dims ({shown})", source=source, hint=_INPUT_HINT
        )
    dims[0].Clear()
    dims[0].dim_value = 1
    return value.name


def _single_output(model: ModelProto, source: str) -> str:
    outputs = model.graph.output
    if len(outputs) != 1:
        names = ", ".join(f"'{value.name}'" for value in outputs)
        raise ModelImportError(
            f"the graph has {len(outputs)} outputs ({names})",
            source=source,
            hint="export one output",
        )
    return str(outputs[0].name)


def _inferred(model: ModelProto, source: str) -> ModelProto:
    """The model with every tensor's shape inferred; onnx's objections as one line."""
    import onnx

    try:
        return onnx.shape_inference.infer_shapes(
            model, check_type=True, strict_mode=True, data_prop=True
        )
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelImportError(f"onnx rejects the model: {first}", source=source) from None


def _static_shapes(model: ModelProto) -> tuple[dict[str, tuple[int, ...]], dict[str, int]]:
    """Every tensor whose shape inference made static: its dims, and every tensor's data type."""
    shapes: dict[str, tuple[int, ...]] = {}
    dtypes: dict[str, int] = {}
    graph = model.graph
    for value in [*graph.input, *graph.value_info, *graph.output]:
        tensor = value.type.tensor_type
        dtypes[value.name] = tensor.elem_type
        dims = tensor.shape.dim
        if tensor.HasField("shape") and all(dim.HasField("dim_value") for dim in dims):
            shapes[value.name] = tuple(dim.dim_value for dim in dims)
    for initializer in graph.initializer:
        shapes[initializer.name] = tuple(initializer.dims)
        dtypes[initializer.name] = initializer.data_type
    return shapes, dtypes


def _opset(model: ModelProto) -> int:
    return next(
        (entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")), 0
    )


def _producer(model: ModelProto) -> str:
    made_by = " ".join(part for part in (model.producer_name, model.producer_version) if part)
    return f"{made_by or 'unknown producer'}, onnx opset {_opset(model)}"
