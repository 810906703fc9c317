"""MobileViT's attention over patches and its resize, as PyTorch modules
(`mbcalc.pytorch.network` places them).

- `PatchAttend`: the products of an attention with `patch: p` (partition mode "patch"): the
  map cut into p x p patches, the positions at the same offset of every patch attend to each
  other (timm's `MobileVitBlock` unfolds them into p*p sequences of (H/p)*(W/p) tokens), by
  `mbcalc.pytorch.token_modules.Attend` on each offset's positions. A map that is not whole
  patches is zero-padded to whole patches, as the spec language counts it (ceil(H/p)*p *
  ceil(W/p)*p queries, each seeing ceil(H/p)*ceil(W/p) keys), and the padding cropped off.
- `Resize`: a bilinear interpolation to the op's output size (`align_corners=False`, as timm
  interpolates), run only where the size changes, as timm's MobileViT block does.
"""

from __future__ import annotations

from mbcalc.kinds import Pair
from mbcalc.pytorch.needs_torch import Tensor, functional, nn
from mbcalc.pytorch.token_modules import Attend


class PatchAttend(nn.Module):
    """N x 3D x H x W (q, k and v of every position) -> N x D x H x W: `Attend` among the
    positions at each offset of a `patch`, the map zero-padded to whole patches (the padding
    cropped off the output)."""

    def __init__(self, heads: int, patch: Pair) -> None:
        super().__init__()
        self.patch = patch
        self.attend = Attend(heads)

    def forward(self, x: Tensor) -> Tensor:
        batch, channels, height, width = x.shape
        ph, pw = self.patch
        x = functional.pad(x, (0, -width % pw, 0, -height % ph))
        rows, cols = x.shape[2] // ph, x.shape[3] // pw
        # one map of rows x cols positions per offset in the patch
        offsets = x.reshape(batch, channels, rows, ph, cols, pw).permute(0, 3, 5, 1, 2, 4)
        out = self.attend(offsets.reshape(batch * ph * pw, channels, rows, cols))
        out = out.reshape(batch, ph, pw, -1, rows, cols).permute(0, 3, 4, 1, 5, 2)
        cropped: Tensor = out.reshape(batch, -1, rows * ph, cols * pw)[:, :, :height, :width]
        return cropped


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
