"""Attention within a partition of the map, as PyTorch modules (`mbcalc.pytorch.network`
places them): block windows (Swin, MaxViT's block attention) and grids (MaxViT's grid
attention).

A partition of an H x W map into groups of Mh x Mw positions, the map first padded with zeros
at the bottom and right up to whole windows (Hp = ceil(H / Mh) * Mh, likewise Wp):

- `block`: each group a contiguous Mh x Mw window, (Hp / Mh) x (Wp / Mw) groups;
- `grid`: each group Mh x Mw positions spread evenly over the map, Hp / Mh rows apart, the
  positions at one offset of every (Hp / Mh) x (Wp / Mw) cell, as many groups as cells.

The two differ only in which half of each split axis indexes the group (`to_windows`,
`from_windows`). Positions of a group attend to each other only; the padding is cropped after.
"""

from __future__ import annotations

from mbcalc.pytorch.needs_torch import Tensor, functional, nn, torch
from mbcalc.pytorch.token_modules import MatMul, attend_tokens

Window = tuple[int, int]
"""A partition's window, (Mh, Mw) positions."""

PARTITION_MODES = ("block", "grid")
"""The partitions `to_windows` makes."""


def pad_to_windows(x: Tensor, window: Window) -> Tensor:
    """N x C x H x W -> N x C x Hp x Wp: zeros at the bottom and right up to whole windows."""
    height, width = x.shape[-2:]
    extra_h, extra_w = -height % window[0], -width % window[1]
    if extra_h == 0 and extra_w == 0:
        return x
    return functional.pad(x, (0, extra_w, 0, extra_h))


def to_windows(x: Tensor, window: Window, mode: str) -> Tensor:
    """N x C x H x W (H, W whole windows) -> (N * groups) x (Mh * Mw) x C, positions of a
    group in row-major order."""
    batch, channels, height, width = x.shape
    rows, cols = window
    if mode == "block":  # (groups down, window row, groups across, window column)
        split = x.reshape(batch, channels, height // rows, rows, width // cols, cols)
        grouped = split.permute(0, 2, 4, 3, 5, 1)
    else:  # grid: (window row, offset down, window column, offset across)
        split = x.reshape(batch, channels, rows, height // rows, cols, width // cols)
        grouped = split.permute(0, 3, 5, 2, 4, 1)
    return grouped.reshape(-1, rows * cols, channels)


def from_windows(windows: Tensor, window: Window, mode: str, height: int, width: int) -> Tensor:
    """The inverse of `to_windows` for an H x W map: N x C x H x W."""
    rows, cols = window
    channels = windows.shape[-1]
    across = width // cols  # groups across (block) or the offsets across (grid)
    grouped = windows.reshape(-1, height // rows, across, rows, cols, channels)
    order = (0, 5, 1, 3, 2, 4) if mode == "block" else (0, 5, 3, 1, 4, 2)
    return grouped.permute(*order).reshape(-1, channels, height, width)


def relative_position_index(window: Window) -> Tensor:
    """(Mh * Mw) x (Mh * Mw): the row of the bias table for each query and key of a window,
    (dy + Mh - 1) * (2 Mw - 1) + (dx + Mw - 1) for their offset (dy, dx)."""
    rows, cols = window
    coords = torch.stack(
        torch.meshgrid(torch.arange(rows), torch.arange(cols), indexing="ij")
    ).flatten(1)
    offsets = coords[:, :, None] - coords[:, None, :]
    return (offsets[0] + rows - 1) * (2 * cols - 1) + offsets[1] + cols - 1


class PartitionAttend(nn.Module):
    """N x 3D x H x W (q, k and v of every position) -> N x D x H x W: per head and group of
    the partition, softmax(q k^T / sqrt(D / heads) + B) v, where B is a learned relative
    position bias ((2 Mh - 1)(2 Mw - 1) x heads table) where `position_bias`, else 0."""

    def __init__(self, heads: int, window: Window, mode: str, position_bias: bool) -> None:
        super().__init__()
        self.heads, self.window, self.mode = heads, window, mode
        self.scores = MatMul()  # q @ k^T
        self.weighted = MatMul()  # weights @ v
        self.relative_position_bias_table: nn.Parameter | None = None
        if position_bias:
            rows, cols = window
            table = torch.zeros((2 * rows - 1) * (2 * cols - 1), heads)
            self.relative_position_bias_table = nn.Parameter(table)
            self.register_buffer("relative_position_index", relative_position_index(window))

    def bias(self) -> Tensor | None:
        """heads x (Mh * Mw) x (Mh * Mw): the table read at every query's and key's offset."""
        if self.relative_position_bias_table is None:
            return None
        index = self.get_buffer("relative_position_index")
        return self.relative_position_bias_table[index].permute(2, 0, 1)

    def forward(self, x: Tensor) -> Tensor:
        height, width = x.shape[-2:]
        padded = pad_to_windows(x, self.window)
        groups = to_windows(padded, self.window, self.mode)  # G x P x 3D
        out = attend_tokens(groups, self.heads, (self.scores, self.weighted), self.bias())
        full = from_windows(out, self.window, self.mode, *padded.shape[-2:])
        return full[..., :height, :width]
