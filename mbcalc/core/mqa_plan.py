"""The planner's rule for multi-query attention (MobileNetV4's Mobile MQA, timm's
MultiQueryAttention2d): an `attention` layer with `kv_heads`, `head_width` or `kv_stride`.

q, k and v are separate 1x1 projections: q from the input, to `heads` heads; k and v each from
the input down-sampled by its own depthwise 3x3 conv of stride `kv_stride` with a batch norm
(where the stride is above 1), to `kv_heads` heads. Each head is `head_width` wide (given, or
the input's width over the heads, whole heads at every alpha); heads and `head_width` are not
scaled by alpha. The products attend each of the H x W queries to the keys of the down-sampled
map; the output projection maps the heads back to the input's width.
"""

from __future__ import annotations

from mbcalc.core.ir import (
    KEEP,
    ONE_PER_CHANNEL,
    POINTWISE,
    SAME,
    ChannelRule,
    Fixed,
    Heads,
    Like,
    Partition,
    StepAdder,
    Window,
)
from mbcalc.kinds import OpKind
from mbcalc.spec import Attention

KV_KERNEL = 3
"""The key and value down-sampling conv's kernel (timm's `dw_kernel_size`)."""


def is_multi_query(layer: Attention) -> bool:
    """Whether the layer takes the multi-query form (separate q, k and v projections)."""
    return layer.kv_heads is not None or layer.head_width is not None or layer.kv_stride != (1, 1)


def plan_multi_query(add: StepAdder, layer: Attention, path: str, tensor: int) -> int:
    """query.proj, key and value (down_conv, proj), the products (`groups`: the query heads),
    output.proj; returns the output projection, with the layer's act."""
    kv_heads = layer.kv_heads or layer.heads
    queries = _width(layer, layer.heads)
    q = _projection(add, layer, f"{path}.query.proj", path, tensor, queries)
    k = _key_or_value(add, layer, f"{path}.key", path, tensor, _width(layer, kv_heads))
    v = _key_or_value(add, layer, f"{path}.value", path, tensor, _width(layer, kv_heads))
    strided = layer.kv_stride != (1, 1)
    keys_seen = Partition("strided", stride=layer.kv_stride) if strided else KEEP
    attend = add(
        layer, f"{path}.attend", path, OpKind.ATTEND, (q, k, v), SAME, keys_seen,
        act="none", groups=layer.heads,
    )  # fmt: skip
    return add(
        layer, f"{path}.output.proj", path, OpKind.CONV, (attend,), Like(tensor), POINTWISE,
        groups=1, bias=layer.bias,
    )  # fmt: skip


def _width(layer: Attention, heads: int) -> ChannelRule:
    """`heads` heads of `head_width`, else of the input's width over the layer's heads."""
    if layer.head_width is None:
        return Heads(layer.heads, 1)  # kv_heads equals heads here (mbcalc.spec.multi_query)
    return Fixed(heads * layer.head_width)


def _projection(
    add: StepAdder, layer: Attention, name: str, unit: str, tensor: int, width: ChannelRule
) -> int:
    return add(
        layer, name, unit, OpKind.CONV, (tensor,), width, POINTWISE,
        act="none", groups=1, bias=layer.bias,
    )  # fmt: skip


def _key_or_value(
    add: StepAdder, layer: Attention, name: str, unit: str, tensor: int, width: ChannelRule
) -> int:
    """The down-sampling depthwise conv with its batch norm (stride above 1), the projection."""
    if layer.kv_stride != (1, 1):
        window = Window((KV_KERNEL, KV_KERNEL), layer.kv_stride, (KV_KERNEL // 2, KV_KERNEL // 2))
        tensor = add(
            layer, f"{name}.down_conv", unit, OpKind.DEPTHWISE, (tensor,), ONE_PER_CHANNEL,
            window, act="none", bn=True,
        )  # fmt: skip
    return _projection(add, layer, f"{name}.proj", unit, tensor, width)
