"""Tokens, self-attention's products and the readout as PyTorch modules
(`mbcalc.pytorch.network` places them).

A row of T tokens of C features is an N x C x 1 x T tensor, so that the per-position modules
(a 1x1 `Conv2d` is a per-token linear layer, the layer norm between permutes, the activations)
run on tokens unchanged:

- `Tokens`: the map's positions flattened to one row (torchvision's ViT `_process_input`), a
  learned class token put first, a learned position embedding (C per token) added;
- `Attend`: multi-head self-attention's products on the qkv projection's output, split into
  `heads`: softmax(q k^T / sqrt(d)) v, each product an explicit matrix product (`MatMul`), so
  that the counters that trace matrix products see both;
- `ClassToken`: the row's first token, a view.
"""

from __future__ import annotations

import math

from mbcalc.pytorch.needs_torch import Tensor, nn, torch


class Tokens(nn.Module):
    """N x C x H x W -> N x C x 1 x (H*W + extra): a class token first where `class_token`,
    a position embedding for `positions` tokens added where given."""

    def __init__(self, channels: int, class_token: bool, positions: int | None) -> None:
        super().__init__()
        self.class_token = nn.Parameter(torch.zeros(1, channels, 1)) if class_token else None
        self.position = (
            None if positions is None else nn.Parameter(torch.zeros(1, channels, positions))
        )

    def forward(self, x: Tensor) -> Tensor:
        tokens = x.flatten(2)
        if self.class_token is not None:
            tokens = torch.cat([self.class_token.expand(x.shape[0], -1, -1), tokens], dim=2)
        if self.position is not None:
            tokens = tokens + self.position
        return tokens.unsqueeze(2)


class MatMul(nn.Module):
    """a @ b: one of attention's products, a module so that hooks see its operands."""

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        return a @ b


def attend_tokens(
    tokens: Tensor, heads: int, products: tuple[MatMul, MatMul], bias: Tensor | None = None
) -> Tensor:
    """B x T x 3D (q, k and v of T tokens) -> B x T x D: per head,
    softmax(q k^T / sqrt(D / heads) + bias) v, by the two `products` (q @ k^T, weights @ v);
    `bias` (heads x T x T) where given."""
    batch, count, channels = tokens.shape
    head = channels // 3 // heads
    q, k, v = (
        part.reshape(batch, count, heads, head).transpose(1, 2) for part in tokens.chunk(3, dim=-1)
    )
    scores, weighted = products
    logits = scores(q, k.transpose(-2, -1)) / math.sqrt(head)
    if bias is not None:
        logits = logits + bias
    out: Tensor = weighted(logits.softmax(dim=-1), v)  # B x heads x T x head
    return out.transpose(1, 2).reshape(batch, count, channels // 3)


class Attend(nn.Module):
    """N x 3D x H x W (q, k and v of every position) -> N x D x H x W: per head,
    softmax(q k^T / sqrt(D / heads)) v over all H*W positions."""

    def __init__(self, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.scores = MatMul()  # q @ k^T
        self.weighted = MatMul()  # weights @ v

    def forward(self, x: Tensor) -> Tensor:
        batch, channels, height, width = x.shape
        tokens = x.flatten(2).transpose(1, 2)  # N x T x 3D
        out = attend_tokens(tokens, self.heads, (self.scores, self.weighted))
        return out.transpose(1, 2).reshape(batch, channels // 3, height, width)


class ClassToken(nn.Module):
    """N x C x H x W -> N x C x 1 x 1: the first position (a row's class token), a view."""

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(2)[:, :, :1].unsqueeze(-1)
