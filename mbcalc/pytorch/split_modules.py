"""A split's slices and a channel shuffle as PyTorch modules, written as torchvision's
ShuffleNetV2 writes them: `x.chunk(parts, dim=1)` (views, no copy) and `channel_shuffle`
(view, transpose, contiguous, view)."""

from __future__ import annotations

from mbcalc.pytorch.needs_torch import Tensor, nn, torch


class Slice(nn.Module):
    """Slice `index` of `parts` equal slices of the channels: a view of the input."""

    def __init__(self, parts: int, index: int) -> None:
        super().__init__()
        self.parts, self.index = parts, index

    def forward(self, x: Tensor) -> Tensor:
        return x.chunk(self.parts, dim=1)[self.index]


class ChannelShuffle(nn.Module):
    """The channels regrouped: `groups` x C/groups, transposed, flattened back."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: Tensor) -> Tensor:
        batch, channels, height, width = x.size()
        x = x.view(batch, self.groups, channels // self.groups, height, width)
        x = torch.transpose(x, 1, 2).contiguous()
        return x.view(batch, -1, height, width)
