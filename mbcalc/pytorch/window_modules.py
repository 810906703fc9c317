"""Swin's pieces as PyTorch modules (`mbcalc.pytorch.network` places them).

- `SpaceToDepth`: patch merging's gathering, torchvision's `PatchMerging` order: the map padded
  at the bottom and right to whole b x b patches, then the patches' positions side by side in
  the channels, the row offset varying fastest ((0, 0), (1, 0), (0, 1), (1, 1) for b = 2).
- `Pad` and `Crop`: zeros at the bottom and right up to whole windows, and the map's
  top-left part back (torchvision's `shifted_window_attention` pads before qkv, crops after
  proj).
- `Positions`: a window's (2M_h-1) x (2M_w-1) relative offsets as Swin V2's log-spaced
  coordinates, sign(x) * log2(|x| + 1) / 3 with x the offset scaled to [-8, 8] (a 1-wide
  window's offsets are 0), a constant the position-bias MLP reads.
- `WindowAttend`: attention in M_h x M_w windows on the qkv projection's output, as
  `shifted_window_attention` computes it: the map padded to whole windows where it is not
  already, rolled back by half a window where `shift` (unless one window covers the padded
  map), each window's tokens attending to each other per head (q k^T / sqrt(d), or Swin V2's
  cosine similarity times a learned logit scale per head, at most 100), plus the position bias
  (a learned table of (2M_h-1)(2M_w-1) x heads, or 16 * sigmoid of the MLP's table) gathered by
  offset, minus 100 between tokens from regions the roll brought together; softmax, the
  weighted sum of v, then the windows put back, rolled forward and cropped. Both products are
  `MatMul` modules, as in `mbcalc.pytorch.token_modules`.
"""

from __future__ import annotations

import math

from mbcalc.core.graph import Op, OpKind
from mbcalc.pytorch.needs_torch import Tensor, functional, nn, torch
from mbcalc.pytorch.partition_modules import (
    from_windows,
    pad_to_windows,
    relative_position_index,
    to_windows,
)
from mbcalc.pytorch.token_modules import MatMul


class SpaceToDepth(nn.Module):
    """N x C x H x W -> N x b*b*C x ceil(H/b) x ceil(W/b)."""

    def __init__(self, block: int) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: Tensor) -> Tensor:
        b = self.block
        x = pad_to_windows(x, (b, b))
        return torch.cat([x[:, :, i::b, j::b] for j in range(b) for i in range(b)], dim=1)


class Pad(nn.Module):
    """Zeros at the bottom and right up to `size` (height, width): the map padded to whole
    windows, as planned."""

    def __init__(self, size: tuple[int, int]) -> None:
        super().__init__()
        self.size = size

    def forward(self, x: Tensor) -> Tensor:
        height, width = x.shape[-2:]
        return functional.pad(x, (0, self.size[1] - width, 0, self.size[0] - height))


class Crop(nn.Module):
    """The top-left `size` (height, width) of the map."""

    def __init__(self, size: tuple[int, int]) -> None:
        super().__init__()
        self.size = size

    def forward(self, x: Tensor) -> Tensor:
        return x[:, :, : self.size[0], : self.size[1]].contiguous()


def log_spaced(offsets: Tensor, window: int) -> Tensor:
    """Swin V2's coordinates of window offsets -(M-1) ... M-1: scaled to [-8, 8], then
    sign(x) * log2(|x| + 1) / 3."""
    scaled = offsets * 8 / max(window - 1, 1)
    return torch.sign(scaled) * torch.log2(scaled.abs() + 1) / 3


class Positions(nn.Module):
    """-> 1 x 2 x (2M_h-1) x (2M_w-1): each offset's (row, column) coordinates."""

    table: Tensor

    def __init__(self, window: tuple[int, int]) -> None:
        super().__init__()
        rows, cols = (torch.arange(1 - m, m, dtype=torch.float32) for m in window)
        grid = torch.stack(torch.meshgrid(rows, cols, indexing="ij"))
        table = torch.stack([log_spaced(grid[0], window[0]), log_spaced(grid[1], window[1])])
        self.register_buffer("table", table.unsqueeze(0), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.table


def region_mask(size: tuple[int, int], window: tuple[int, int], shift: tuple[int, int]) -> Tensor:
    """windows x T x T: -100 between a window's tokens from different regions of the rolled
    map (bands [0, H-M), [H-M, H-s), [H-s, H) in each direction that has a shift), else 0."""
    labels = torch.zeros(size)
    for dim, (length, m, s) in enumerate(zip(size, window, shift, strict=True)):
        if s:
            band = torch.zeros(length)
            band[length - m : length - s], band[length - s :] = 1, 2
            labels += band.view((-1, 1) if dim == 0 else (1, -1)) * (3 if dim == 0 else 1)
    tokens = to_windows(labels[None, None], window, "block").squeeze(-1)  # windows x T
    return (tokens[:, :, None] != tokens[:, None, :]).float() * -100.0


class WindowAttend(nn.Module):
    """N x 3D x H x W (q, k and v of every position), and Swin V2's bias table
    (1 x heads x (2M_h-1) x (2M_w-1)) where given -> N x D x H x W."""

    index: Tensor

    def __init__(
        self, heads: int, window: tuple[int, int], shift: bool, table: bool, cosine: bool
    ) -> None:
        super().__init__()
        self.heads, self.window, self.shift = heads, window, shift
        offsets = (2 * window[0] - 1) * (2 * window[1] - 1)
        self.table = nn.Parameter(torch.zeros(offsets, heads)) if table else None
        self.logit_scale = (
            nn.Parameter(torch.full((heads, 1, 1), math.log(10.0))) if cosine else None
        )
        self.register_buffer("index", relative_position_index(window), persistent=False)
        self.scores = MatMul()  # q @ k^T
        self.weighted = MatMul()  # weights @ v

    def forward(self, qkv: Tensor, mlp_table: Tensor | None = None) -> Tensor:
        height, width = qkv.shape[-2:]
        x = pad_to_windows(qkv, self.window)
        size = (x.shape[-2], x.shape[-1])
        shift = self._shift(size)
        x = torch.roll(x, (-shift[0], -shift[1]), (2, 3))
        tokens = to_windows(x, self.window, "block")  # B x T x 3D
        attn = self._logits(tokens) + self._bias(mlp_table)  # B x heads x T x T
        if any(shift):
            mask = region_mask(size, self.window, shift).to(attn)
            windows = mask.shape[0]
            attn = (attn.view(-1, windows, *attn.shape[1:]) + mask[None, :, None]).flatten(0, 1)
        v = self._heads(tokens.chunk(3, dim=-1)[2])
        out = self.weighted(attn.softmax(dim=-1), v).transpose(1, 2).flatten(2)  # B x T x D
        out = torch.roll(from_windows(out, self.window, "block", *size), shift, (2, 3))
        return out[:, :, :height, :width]

    def _shift(self, size: tuple[int, int]) -> tuple[int, int]:
        """Half a window along each side where `shift`, unless one window covers that side."""
        rows, cols = self.window
        if not self.shift:
            return 0, 0
        return rows // 2 if rows < size[0] else 0, cols // 2 if cols < size[1] else 0

    def _heads(self, part: Tensor) -> Tensor:
        """B x T x D -> B x heads x T x D/heads."""
        batch, tokens, width = part.shape
        return part.reshape(batch, tokens, self.heads, width // self.heads).transpose(1, 2)

    def _logits(self, tokens: Tensor) -> Tensor:
        q, k, _ = (self._heads(part) for part in tokens.chunk(3, dim=-1))
        if self.logit_scale is None:
            logits: Tensor = self.scores(q / math.sqrt(q.shape[-1]), k.transpose(-2, -1))
            return logits
        cosine = self.scores(
            functional.normalize(q, dim=-1), functional.normalize(k, dim=-1).transpose(-2, -1)
        )
        scaled: Tensor = cosine * torch.clamp(self.logit_scale, max=math.log(100.0)).exp()
        return scaled

    def _bias(self, mlp_table: Tensor | None) -> Tensor | float:
        """heads x T x T: the table's entry for each (query, key) offset, per head."""
        if mlp_table is not None:
            table = 16 * torch.sigmoid(mlp_table.flatten(2)[0].T)  # offsets x heads
        elif self.table is not None:
            table = self.table
        else:
            return 0.0
        return table[self.index].permute(2, 0, 1)


WINDOW_KINDS = (OpKind.SPACE_TO_DEPTH, OpKind.PAD, OpKind.CROP, OpKind.POSITIONS)


def window_module(op: Op) -> nn.Module:
    """The module of a space-to-depth, pad, crop or positions op, for its planned shapes."""
    size = (op.output[0], op.output[1])
    if op.kind is OpKind.SPACE_TO_DEPTH:
        assert op.kernel is not None
        return SpaceToDepth(op.kernel[0])
    if op.kind is OpKind.PAD:
        return Pad(size)
    if op.kind is OpKind.CROP:
        return Crop(size)
    return Positions(((size[0] + 1) // 2, (size[1] + 1) // 2))  # a (2M-1) x (2M-1) table


def window_attend(op: Op) -> WindowAttend:
    """An attend op in contiguous windows (`kernel`), its flags as planned (no activation
    follows the products)."""
    assert op.kernel is not None
    assert op.act == "none"
    return WindowAttend(op.groups or 1, op.kernel, op.shift, op.bias, op.cosine)
