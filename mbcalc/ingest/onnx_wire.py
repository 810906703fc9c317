"""An ONNX file's bytes read as protobuf wire format, its large weights left out.

`stripped_model(data, ...)` walks the ModelProto in `data` (a memory-mapped file) field by
field and returns the bytes of the same model in which every initializer holding more than
`SMALL_TENSOR` elements keeps its name, dims and data type but no payload: the copy is about the
size of the graph, never of the weights. Initializers stored outside the file
(`data_location = EXTERNAL`) are checked (the file beside the model, long enough) and never read.

The field numbers are onnx.proto's: ModelProto.graph = 7, GraphProto.node = 1,
GraphProto.initializer = 5, TensorProto.dims = 1, data_type = 2, name = 8, raw_data = 9,
external_data = 13, data_location = 14, the typed payloads 4-7, 10, 11.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SMALL_TENSOR = 4096
"""Initializers of at most this many elements keep their data (shape constants, for folding)."""

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5
_MODEL_GRAPH = 7
_GRAPH_NODE, _GRAPH_INITIALIZER = 1, 5
_TENSOR_DIMS, _TENSOR_TYPE, _TENSOR_NAME = 1, 2, 8
_TENSOR_EXTERNAL_DATA, _TENSOR_LOCATION = 13, 14
_TENSOR_PAYLOADS = frozenset({4, 5, 6, 7, 9, 10, 11})
_EXTERNAL = 1
_ITEM_BYTES = {1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2}
"""Bytes per element of TensorProto's data types (FLOAT, UINT8, ..., BFLOAT16)."""


class WireError(ValueError):
    """The bytes are not the protobuf message they should be; the text says where."""


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a message: its number, wire type, and value (an int or a byte range)."""

    number: int
    wire: int
    start: int  # where the field's key begins
    end: int  # where the field ends
    value: int  # the varint's value, or where the bytes of a length-delimited field begin


@dataclass(frozen=True, slots=True)
class ModelCounts:
    """What the walk saw: the graph's nodes and initializers (all, and those left out)."""

    nodes: int
    initializers: int
    stripped: int


def _varint(data: memoryview, pos: int, end: int) -> tuple[int, int]:
    """The varint at `pos` and the position after it."""
    result = shift = 0
    while True:
        if pos >= end:
            raise WireError(f"the data ends inside a number at byte {pos}")
        byte = data[pos]
        result |= (byte & 0x7F) << shift
        pos += 1
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError(f"a number longer than 10 bytes at byte {pos}")


def fields(data: memoryview, start: int, end: int) -> Iterator[Field]:
    """The fields of the message in `data[start:end]`, in order; a malformed one is a WireError."""
    pos = start
    while pos < end:
        key, after = _varint(data, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError(f"field number 0 at byte {pos}")
        if wire == _VARINT:
            value, stop = _varint(data, after, end)
        elif wire == _BYTES:
            length, value = _varint(data, after, end)
            stop = value + length
        elif wire in (_FIXED64, _FIXED32):
            value, stop = after, after + (8 if wire == _FIXED64 else 4)
        else:
            raise WireError(f"wire type {wire} (not one ONNX uses) at byte {pos}")
        if stop > end:
            raise WireError(f"a field runs past the end of its message at byte {pos}")
        yield Field(number, wire, pos, stop, value)
        pos = stop


def _packed_ints(data: memoryview, field: Field) -> list[int]:
    """A repeated int field's values: one varint, or a packed run of them."""
    if field.wire == _VARINT:
        return [field.value]
    values, pos = [], field.value
    while pos < field.end:
        value, pos = _varint(data, pos, field.end)
        values.append(value)
    return values


@dataclass(frozen=True, slots=True)
class _Tensor:
    """The parts of a TensorProto the walk needs."""

    name: str
    dims: tuple[int, ...]
    data_type: int
    external: dict[str, str]


def _tensor(data: memoryview, start: int, end: int) -> _Tensor:
    """Read a TensorProto's name, dims, type and external-data entries (not its payload)."""
    name, dims, data_type, external, location = "", [], 0, {}, 0
    for field in fields(data, start, end):
        if field.number == _TENSOR_NAME and field.wire == _BYTES:
            name = bytes(data[field.value : field.end]).decode("utf-8", "replace")
        elif field.number == _TENSOR_DIMS:
            dims.extend(_packed_ints(data, field))
        elif field.number == _TENSOR_TYPE and field.wire == _VARINT:
            data_type = field.value
        elif field.number == _TENSOR_LOCATION and field.wire == _VARINT:
            location = field.value
        elif field.number == _TENSOR_EXTERNAL_DATA and field.wire == _BYTES:
            key, value = _entry(data, field)
            external[key] = value
    return _Tensor(name, tuple(dims), data_type, external if location == _EXTERNAL else {})


def _entry(data: memoryview, field: Field) -> tuple[str, str]:
    """A StringStringEntryProto's key (field 1) and value (field 2)."""
    parts = {1: "", 2: ""}
    for part in fields(data, field.value, field.end):
        if part.number in parts and part.wire == _BYTES:
            parts[part.number] = bytes(data[part.value : part.end]).decode("utf-8", "replace")
    return parts[1], parts[2]


def _key(number: int, wire: int) -> bytes:
    return _encode_varint(number << 3 | wire)


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _length_delimited(number: int, body: bytes | bytearray) -> bytes:
    return _key(number, _BYTES) + _encode_varint(len(body)) + bytes(body)


def _without_payload(data: memoryview, field: Field) -> bytes:
    """The TensorProto of `field` without its data, its external-data entries and location."""
    kept = bytearray()
    for part in fields(data, field.value, field.end):
        if part.number not in _TENSOR_PAYLOADS | {_TENSOR_EXTERNAL_DATA, _TENSOR_LOCATION}:
            kept += data[part.start : part.end]
    return _length_delimited(_GRAPH_INITIALIZER, kept)


def check_external(tensor: _Tensor, folder: Path) -> None:
    """An external initializer's file lies beside the model and holds its bytes."""
    location = tensor.external.get("location", "")
    target = (folder / location).resolve()
    if not location or Path(location).is_absolute() or folder.resolve() not in target.parents:
        raise WireError(
            f"initializer '{tensor.name}' names its external data file '{location}', "
            "which is not a file beside the model"
        )
    if not target.is_file():
        raise WireError(
            f"initializer '{tensor.name}': its external data file '{location}' is missing"
        )
    offset = int(tensor.external.get("offset", "0") or 0)
    item = _ITEM_BYTES.get(tensor.data_type, 0)
    length = int(tensor.external.get("length", "0") or 0) or math.prod(tensor.dims) * item
    if target.stat().st_size < offset + length:
        raise WireError(
            f"initializer '{tensor.name}': its external data file '{location}' holds "
            f"{target.stat().st_size} bytes, fewer than offset {offset} + length {length}"
        )


def stripped_model(
    data: memoryview, folder: Path, max_nodes: int, max_initializers: int
) -> tuple[bytes, ModelCounts]:
    """The model in `data` without its large initializers' payloads, and what it holds."""
    model, graphs = bytearray(), 0
    counts = ModelCounts(0, 0, 0)
    for field in fields(data, 0, len(data)):
        if field.number == _MODEL_GRAPH and field.wire == _BYTES:
            graph, counts = _stripped_graph(data, field, folder, max_nodes, max_initializers)
            model += _length_delimited(_MODEL_GRAPH, graph)
            graphs += 1
        else:
            model += data[field.start : field.end]
    if graphs == 0:
        raise WireError("it holds no graph (field 7 of an ONNX ModelProto)")
    return bytes(model), counts


def _stripped_graph(
    data: memoryview, graph: Field, folder: Path, max_nodes: int, max_initializers: int
) -> tuple[bytearray, ModelCounts]:
    """A GraphProto's bytes with its large initializers emptied, and its counts."""
    out, nodes, initializers, stripped = bytearray(), 0, 0, 0
    for field in fields(data, graph.value, graph.end):
        if field.number == _GRAPH_NODE:
            nodes += 1
            if nodes > max_nodes:
                raise WireError(f"the graph holds more than {max_nodes:,} nodes")
        if field.number != _GRAPH_INITIALIZER or field.wire != _BYTES:
            out += data[field.start : field.end]
            continue
        initializers += 1
        if initializers > max_initializers:
            raise WireError(f"the graph holds more than {max_initializers:,} initializers")
        tensor = _tensor(data, field.value, field.end)
        if tensor.external:
            check_external(tensor, folder)
        if tensor.external or math.prod(tensor.dims) > SMALL_TENSOR:
            out += _without_payload(data, field)
            stripped += 1
        else:
            out += data[field.start : field.end]
    return out, ModelCounts(nodes, initializers, stripped)
