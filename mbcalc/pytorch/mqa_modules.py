"""Multi-query attention's products as a PyTorch module (`mbcalc.pytorch.network` places it
on an attention step with separate q, k and v sources).

`MultiQueryAttend` takes q (N x heads*d x H x W) and k, v (N x kv_heads*d x h x w, from the
map down-sampled by the key and value stride, or from the whole map): each key and value head
serves heads / kv_heads query heads; per head softmax(q k^T / sqrt(d)) v, each product an
explicit matrix product (`MatMul`), so that `mbcalc verify` and the counters that trace matrix
products see both. MobileNetV4's Mobile MQA (timm's MultiQueryAttention2d) has one key and
value head.
"""

from __future__ import annotations

import math

from mbcalc.pytorch.needs_torch import Tensor, nn
from mbcalc.pytorch.token_modules import MatMul


class MultiQueryAttend(nn.Module):
    """(q, k, v) -> N x heads*d x H x W, the heads of q grouped over the key and value heads."""

    def __init__(self, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.scores = MatMul()  # q @ k^T
        self.weighted = MatMul()  # weights @ v

    def forward(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        batch, width, height, breadth = q.shape
        head = width // self.heads
        kv_heads = k.shape[1] // head
        # N x kv_heads x heads/kv_heads x positions x d: the query heads a kv head serves
        queries = q.reshape(batch, kv_heads, self.heads // kv_heads, head, -1).transpose(-1, -2)
        keys, values = (t.reshape(batch, kv_heads, 1, head, -1) for t in (k, v))
        weights = self.scores(queries, keys) / math.sqrt(head)
        out: Tensor = self.weighted(weights.softmax(dim=-1), values.transpose(-1, -2))
        return out.transpose(-1, -2).reshape(batch, width, height, breadth)
