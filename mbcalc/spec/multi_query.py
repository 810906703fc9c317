"""The `attention` layer's multi-query arguments (MobileNetV4's Mobile MQA): `kv_heads`,
`head_width`, `kv_stride` and `bias`, read and checked against `heads`."""

from __future__ import annotations

from typing import TypedDict

from mbcalc.kinds import Pair
from mbcalc.spec.args import Args

MULTI_QUERY_ARGUMENTS = ("kv_heads", "head_width", "kv_stride", "bias")


class MultiQuery(TypedDict):
    kv_heads: int | None  # None: one key and value head per query head
    head_width: int | None  # None: the width over the heads, whole heads at every alpha
    kv_stride: Pair
    bias: bool


def multi_query_args(a: Args, heads: int, partition: str | None) -> MultiQuery:
    """The arguments as `Attention` fields; `kv_heads` must divide `heads`, and below `heads`
    needs `head_width` (a shared head's width is not the input's over the heads). Attention
    partitioned by `partition` (`window`, `grid`, `patch`) takes none of them."""
    given = [key for key in MULTI_QUERY_ARGUMENTS[:3] if key in a.mapping]
    if partition is not None and given:
        raise a.error(
            f"`{given[0]}` is multi-query attention's, which attends over the whole map",
            a.mapping[given[0]],
            f"remove `{given[0]}` or `{partition}`",
        )
    kv_heads = None if a.get("kv_heads") is None else a.int("kv_heads")
    head_width = None if a.get("head_width") is None else a.int("head_width")
    if kv_heads is not None:
        if heads % kv_heads:
            raise a.error(
                f"`kv_heads` ({kv_heads}) must divide `heads` ({heads})",
                a.mapping["kv_heads"],
                "each key and value head serves the same number of query heads",
            )
        if kv_heads < heads and head_width is None:
            raise a.error(
                "`kv_heads` below `heads` needs `head_width`",
                a.mapping["kv_heads"],
                "add `head_width: 64`, the width of each head",
            )
    return MultiQuery(
        kv_heads=kv_heads,
        head_width=head_width,
        kv_stride=a.pair("kv_stride", 1),
        bias=a.bool("bias", True),
    )
