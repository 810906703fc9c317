"""The spec layers an import writes, before they are named and written as YAML, and the rules
that turn one fused op into one layer: padding, kernels, and which ops scale with alpha."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mbcalc.ingest.fuse import Op
from mbcalc.ingest.network import NodeKind, Pads

Value = int | str | bool | list[int] | float


@dataclass(slots=True)
class Layer:
    """One layer of the spec to write: its type, its arguments in writing order (no name), the
    module path it came from, and a block's layers or a parallel layer's branches."""

    type: str
    args: dict[str, Value]
    path: str
    layers: list[Layer] = field(default_factory=list)
    branches: list[list[Layer]] = field(default_factory=list)


DEFAULT_ACTS = {
    "conv": "relu", "depthwise": "relu", "separable": "relu", "mbconv": "relu6", "se": "relu",
    "fc": "none", "pool": "none", "norm": "none", "parallel": "none", "block": "none",
    "layer_scale": "none", "shuffle": "none", "softmax": "none",
}  # fmt: skip
"""The activation each layer type has when the spec names none (as the spec language says)."""


def window(size: tuple[int, ...]) -> Value:
    """A kernel, stride or grid as written: one number when square."""
    height, width = size
    return height if height == width else [height, width]


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """The padding before and after of `same` (TensorFlow's): output ceil(size / stride)."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


LOPSIDED = "lopsided"
"""What `padding` returns where no padding of the spec language gives the op's output."""


def padding(op: Op, default_same: bool) -> Value | None:
    """How the spec writes `op`'s padding: None where it is the layer type's default (`same` for
    a conv, none for a pool); `same`; [top, left]; the symmetric padding that gives the same
    output where the source's is lopsided another way; else `LOPSIDED`."""
    top, left, bottom, right = _pads(op)
    kernel, stride = kernel_of(op), stride_of(op)
    _, height, width = op.shape_in
    same = (same_pads(height, kernel[0], stride[0]), same_pads(width, kernel[1], stride[1]))
    if ((top, bottom), (left, right)) == same:
        return None if default_same else "same"
    if (top, left) == (bottom, right):
        return None if (top, left) == (0, 0) and not default_same else window((top, left))
    symmetric = _symmetric(op, kernel, stride)
    return LOPSIDED if symmetric is None else window(symmetric)


def _symmetric(op: Op, kernel: tuple[int, int], stride: tuple[int, int]) -> tuple[int, int] | None:
    """The least symmetric padding that gives `op`'s output size, if one does."""
    ceil = bool(op.node.attrs.get("ceil", False))
    found: list[int] = []
    for axis in (0, 1):
        size, out = op.shape_in[1 + axis], op.shape[1 + axis]
        options = [
            pad for pad in range(kernel[axis] + size + 1)
            if _out(size, pad, kernel[axis], stride[axis], ceil) == out
        ]  # fmt: skip
        if not options:
            return None
        found.append(options[0])
    return (found[0], found[1])


def _out(size: int, pad: int, kernel: int, stride: int, ceil: bool) -> int:
    """A window's output length with `pad` on both sides, as the spec language computes it
    (PyTorch's rule: in ceil mode a last window that would start in the padding is dropped)."""
    span = size + 2 * pad - kernel
    if not ceil:
        return span // stride + 1
    out = -(-span // stride) + 1
    return out - 1 if (out - 1) * stride >= size + pad else out


def _pads(op: Op) -> Pads:
    own = op.node.attrs.get("pads", (0, 0, 0, 0))
    assert isinstance(own, tuple)
    a, b, c, d = (x + y for x, y in zip(op.pads, own, strict=True))
    return (a, b, c, d)


def _pair(value: object) -> tuple[int, int]:
    assert isinstance(value, tuple)
    assert len(value) == 2
    return (int(value[0]), int(value[1]))


def kernel_of(op: Op) -> tuple[int, int]:
    return _pair(op.node.attrs["kernel"])


def stride_of(op: Op) -> tuple[int, int]:
    return _pair(op.node.attrs["stride"])


def is_depthwise(op: Op) -> bool:
    """A conv with one group per input channel (and `multiplier` filters each)."""
    if op.kind is not NodeKind.CONV:
        return False
    channels = op.shape_in[0]
    return op.node.attrs["groups"] == channels > 1 and op.shape[0] % channels == 0


def is_pointwise(op: Op) -> bool:
    """A 1x1 conv of stride 1 over all channels, without bias."""
    return (
        op.kind is NodeKind.CONV
        and kernel_of(op) == (1, 1)
        and stride_of(op) == (1, 1)
        and op.node.attrs["groups"] == 1
        and not op.node.attrs["bias"]
        and _pads(op) == (0, 0, 0, 0)
    )


def shortest_ratio(squeeze: int, channels: int) -> float:
    """The shortest decimal r with floor(channels * r) == squeeze: a squeeze-and-excite's
    `ratio`, exact at the imported width and scaling with alpha."""
    for digits in range(1, 12):
        scale: int = 10**digits
        numerator = -(-squeeze * scale // channels)  # ceil(squeeze / channels) in 1/scale steps
        if numerator * channels < (squeeze + 1) * scale and numerator <= scale:
            return numerator / scale
    return squeeze / channels
