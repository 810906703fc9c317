"""Standalone norms and layer scales: the op each layer becomes (one step on the channels, the
size kept), the elements a counting profile prices on it, and whose params thop leaves out."""

from __future__ import annotations

from mbcalc.kinds import OpKind
from mbcalc.spec import LayerScale, Norm, Shuffle, Softmax

NORM_OPS = {"batch": OpKind.BATCH_NORM, "layer": OpKind.LAYER_NORM, "group": OpKind.GROUP_NORM}
"""The op of each norm `kind`."""

NORM_ELEMENTS = {
    OpKind.LAYER_NORM: "layer_norm",
    OpKind.GROUP_NORM: "group_norm",
    OpKind.LAYER_SCALE: "layer_scale",
}
"""The profile key (`mbcalc.core.profiles.Extra`) of each op's outputs; a batch norm's is `bn`."""

THOP_SKIPS = (OpKind.GROUP_NORM, OpKind.LAYER_SCALE, OpKind.TOKENS, OpKind.ATTEND)
"""The ops whose params thop leaves out: it has no rule for their modules (an attend op's are
a relative position bias table, or a logit scale per head)."""


def kept_shape_op(layer: Softmax | Norm | LayerScale | Shuffle) -> tuple[OpKind, int | None]:
    """(op kind, groups) of a layer that is one op keeping its input's shape: a softmax, a norm,
    a layer scale or a channel shuffle; groups are a group norm's or a shuffle's, else None."""
    if isinstance(layer, Norm):
        return NORM_OPS[layer.kind], layer.groups
    if isinstance(layer, Shuffle):
        return OpKind.SHUFFLE, layer.groups
    return OpKind.SOFTMAX if isinstance(layer, Softmax) else OpKind.LAYER_SCALE, None
