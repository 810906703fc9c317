"""Standalone norms and layer scales as PyTorch modules (`mbcalc.pytorch.network` places them).

Each takes and gives an N x C x H x W tensor and holds the parameters mbcalc counts:

- batch norm: `BatchNorm2d(C)` (scale and shift: BN params);
- layer norm over the channels at each position: `nn.LayerNorm(C)` between two permutes to
  channels-last and back, as torchvision's ConvNeXt applies it (scale and shift: params);
- group norm: `nn.GroupNorm(G, C)` (scale and shift: params);
- layer scale: `LayerScale`, a learned C x 1 x 1 tensor multiplied in (C params).
"""

from __future__ import annotations

from collections import OrderedDict

from mbcalc.core.graph import Op, OpKind
from mbcalc.pytorch.needs_torch import Tensor, nn, torch

NORM_KINDS = (OpKind.BATCH_NORM, OpKind.LAYER_NORM, OpKind.GROUP_NORM, OpKind.LAYER_SCALE)
"""The op kinds `norm_module` builds."""


class Permute(nn.Module):
    """The tensor's dimensions in the order `dims`."""

    def __init__(self, *dims: int) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: Tensor) -> Tensor:
        return x.permute(*self.dims)


class LayerScale(nn.Module):
    """x times a learned factor per channel (ConvNeXt's `layer_scale`, C x 1 x 1)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.weight


def _norm_parts(op: Op) -> dict[str, nn.Module]:
    channels = op.output[2]
    if op.kind is OpKind.BATCH_NORM:
        return {"norm": nn.BatchNorm2d(channels)}
    if op.kind is OpKind.LAYER_NORM:
        return {
            "channels_last": Permute(0, 2, 3, 1),
            "norm": nn.LayerNorm(channels),
            "channels_first": Permute(0, 3, 1, 2),
        }
    if op.kind is OpKind.GROUP_NORM:
        assert op.groups is not None
        return {"norm": nn.GroupNorm(op.groups, channels)}
    return {"scale": LayerScale(channels)}


def norm_module(op: Op, act: nn.Module | None) -> nn.Sequential:
    """The module of a norm or layer-scale op, then its activation `act` (None: none)."""
    parts = _norm_parts(op)
    if act is not None:
        parts["act"] = act
    return nn.Sequential(OrderedDict(parts))
