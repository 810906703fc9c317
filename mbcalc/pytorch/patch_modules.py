"""MobileViT's attention over patches and its resize, as PyTorch modules
(`mbcalc.pytorch.network` places them).

- `PatchAttend`: the products of an attention with `patch: p` (partition mode "patch"): the
  map cut into p x p patches, the positions at the same offset of every patch attend to each
  other (timm's `MobileVitBlock` unfolds them into p*p sequences of (H/p)*(W/p) tokens). Where
  the map is not whole patches the keys and values are zero-padded to whole patches, so that
  every query meets ceil(H/p)*ceil(W/p) keys, as the spec language counts them.
- `Resize`: a bilinear interpolation to the op's output size (`align_corners=False`, as timm
  interpolates), run only where the size changes, as timm's MobileViT block does.
"""

from __future__ import annotations

import math

from mbcalc.kinds import Pair
from mbcalc.pytorch.needs_torch import Tensor, functional, nn
from mbcalc.pytorch.token_modules import MatMul


def _heads(x: Tensor, heads: int) -> Tensor:
    """N x (heads * d) x h x w -> N x heads x (h * w) x d."""
    batch, channels = x.shape[:2]
    return x.reshape(batch, heads, channels // heads, -1).transpose(2, 3)


class PatchAttend(nn.Module):
    """N x 3D x H x W (q, k and v of every position) -> N x D x H x W: per head and offset in
    a `patch`, softmax(q k^T / sqrt(D / heads)) v over the positions at that offset."""

    def __init__(self, heads: int, patch: Pair) -> None:
        super().__init__()
        self.heads = heads
        self.patch = patch
        self.scores = MatMul()  # q @ k^T
        self.weighted = MatMul()  # weights @ v

    def forward(self, x: Tensor) -> Tensor:
        channels, height, width = x.shape[1:]
        ph, pw = self.patch
        q, k, v = x.chunk(3, dim=1)
        k, v = (functional.pad(t, (0, -width % pw, 0, -height % ph)) for t in (k, v))
        scale = math.sqrt(channels // 3 // self.heads)
        out = q.new_zeros(q.shape)
        for row in range(ph):
            for col in range(pw):
                query = q[:, :, row::ph, col::pw]
                keys, values = (_heads(t[:, :, row::ph, col::pw], self.heads) for t in (k, v))
                scores = self.scores(_heads(query, self.heads), keys.transpose(-2, -1))
                mixed = self.weighted((scores / scale).softmax(dim=-1), values)
                out[:, :, row::ph, col::pw] = mixed.transpose(2, 3).reshape(query.shape)
        return out


class Resize(nn.Module):
    """N x C x h x w -> N x C x H x W by bilinear interpolation; the input itself where the
    sizes are equal."""

    def __init__(self, size: Pair) -> None:
        super().__init__()
        self.size = size

    def forward(self, x: Tensor) -> Tensor:
        if tuple(x.shape[2:]) == self.size:
            return x
        return functional.interpolate(x, size=self.size, mode="bilinear", align_corners=False)
