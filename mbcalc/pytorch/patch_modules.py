"""MobileViT's attention over patches and its resize, as PyTorch modules
(`mbcalc.pytorch.network` places them).

- `PatchAttend`: the products of an attention with `patch: p` (partition mode "patch"): the
  map cut into p x p patches, the positions at the same offset of every patch attend to each
  other (timm's `MobileVitBlock` unfolds them into p*p sequences of (H/p)*(W/p) tokens): the
  grid partition of `mbcalc.pytorch.partition_modules` with (H/p) x (W/p) windows. A map
  that is not whole patches is zero-padded to whole patches, as the spec language counts it
  (ceil(H/p)*p * ceil(W/p)*p queries, each seeing ceil(H/p)*ceil(W/p) keys), the padding
  cropped off.
- `Resize`: a bilinear interpolation to the op's output size (`align_corners=False`, as timm
  interpolates), run only where the size changes, as timm's MobileViT block does.
"""

from __future__ import annotations

from mbcalc.kinds import Pair
from mbcalc.pytorch.needs_torch import Tensor, functional, nn
from mbcalc.pytorch.partition_modules import from_windows, pad_to_windows, to_windows
from mbcalc.pytorch.token_modules import MatMul, attend_tokens


class PatchAttend(nn.Module):
    """N x 3D x H x W (q, k and v of every position) -> N x D x H x W: per head, attention
    among the positions at each offset of a `patch`, the map zero-padded to whole patches (the
    padding cropped off the output). Each offset's positions, spread evenly over the map, are
    a window of `mbcalc.pytorch.partition_modules`'s grid partition."""

    def __init__(self, heads: int, patch: Pair) -> None:
        super().__init__()
        self.heads, self.patch = heads, patch
        self.scores = MatMul()  # q @ k^T
        self.weighted = MatMul()  # weights @ v

    def forward(self, x: Tensor) -> Tensor:
        height, width = x.shape[-2:]
        padded = pad_to_windows(x, self.patch)
        size = (padded.shape[2], padded.shape[3])
        window = (size[0] // self.patch[0], size[1] // self.patch[1])  # an offset's positions
        groups = to_windows(padded, window, "grid")
        out = attend_tokens(groups, self.heads, (self.scores, self.weighted))
        return from_windows(out, window, "grid", *size)[..., :height, :width]


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
