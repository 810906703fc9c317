"""Swin's pieces as PyTorch modules (`mbcalc.pytorch.network` places them).

- `SpaceToDepth`: patch merging's gathering, torchvision's `PatchMerging` order: the map padded
  at the bottom and right to whole b x b patches, then the patches' positions side by side in
  the channels, the row offset varying fastest ((0, 0), (1, 0), (0, 1), (1, 1) for b = 2).
"""

from __future__ import annotations

from mbcalc.pytorch.needs_torch import Tensor, functional, nn, torch


class SpaceToDepth(nn.Module):
    """N x C x H x W -> N x b*b*C x ceil(H/b) x ceil(W/b)."""

    def __init__(self, block: int) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: Tensor) -> Tensor:
        b = self.block
        height, width = x.shape[-2:]
        x = functional.pad(x, (0, -width % b, 0, -height % b))
        return torch.cat([x[:, :, i::b, j::b] for j in range(b) for i in range(b)], dim=1)
