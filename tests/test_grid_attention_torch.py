"""Block and grid attention as PyTorch runs them: the partition module mbcalc.torch builds
against a straightforward reference written here (each group's positions gathered by their
coordinates, the relative position bias read entry by entry), with the same weights, and
`mbcalc verify` on partitioned attention at sizes that need padding (MaxViT-T:
tests/test_verify.py)."""

from __future__ import annotations

import math
from itertools import product

import pytest

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")

from torch import Tensor  # noqa: E402 - after the skip: the whole module needs PyTorch

from mbcalc import Settings, analyze, build_graph, parse_spec  # noqa: E402
from mbcalc.pytorch import partition_modules, verify  # noqa: E402


def group_positions(
    height: int, width: int, window: tuple[int, int], mode: str
) -> list[list[tuple[int, int]]]:
    """Each group's (row, column) positions on the map padded to whole windows, row-major:
    a block's Mh x Mw contiguous positions, or a grid's Mh x Mw positions Hp / Mh apart."""
    rows, cols = window
    padded_h, padded_w = math.ceil(height / rows) * rows, math.ceil(width / cols) * cols
    cells_h, cells_w = padded_h // rows, padded_w // cols
    if mode == "block":
        return [
            [(a * rows + i, b * cols + j) for i, j in product(range(rows), range(cols))]
            for a, b in product(range(cells_h), range(cells_w))
        ]
    return [
        [(i * cells_h + a, j * cells_w + b) for i, j in product(range(rows), range(cols))]
        for a, b in product(range(cells_h), range(cells_w))
    ]


def reference_attend(
    qkv: Tensor, heads: int, window: tuple[int, int], mode: str, table: Tensor
) -> Tensor:
    """1 x 3D x H x W -> 1 x D x H x W: per group and head, softmax(q k^T / sqrt(d) + B) v,
    B[i, j] = table[(dy + Mh - 1) * (2 Mw - 1) + dx + Mw - 1] for the offset (dy, dx) of
    query i and key j in their window; zeros where a window runs past the map."""
    _, three_d, height, width = qkv.shape
    d = three_d // 3
    head = d // heads
    rows, cols = window
    padded = torch.zeros(three_d, math.ceil(height / rows) * rows, math.ceil(width / cols) * cols)
    padded[:, :height, :width] = qkv[0]
    out = torch.zeros(d, *padded.shape[1:])
    for positions in group_positions(height, width, window, mode):
        tokens = torch.stack([padded[:, y, x] for y, x in positions])  # P x 3D
        for h in range(heads):
            q, k, v = (
                tokens[:, part * d + h * head : part * d + (h + 1) * head] for part in range(3)
            )
            bias = torch.tensor(
                [
                    [
                        float(table[(iq // cols - ik // cols + rows - 1) * (2 * cols - 1)
                                    + iq % cols - ik % cols + cols - 1, h])
                        for ik in range(len(positions))
                    ]
                    for iq in range(len(positions))
                ]
            )  # fmt: skip
            weights = torch.softmax(q @ k.T / math.sqrt(head) + bias, dim=-1)
            for index, (y, x) in enumerate(positions):
                out[h * head : (h + 1) * head, y, x] = weights[index] @ v
    result: Tensor = out[:, :height, :width].unsqueeze(0)
    return result


@pytest.mark.parametrize("mode", ["block", "grid"])
@pytest.mark.parametrize(
    ("height", "width", "window", "heads"),
    [(6, 6, (3, 3), 2), (4, 6, (2, 3), 1), (5, 7, (2, 3), 2), (2, 2, (3, 3), 1)],
)
def test_partition_attention_is_the_reference(
    mode: str, height: int, width: int, window: tuple[int, int], heads: int
) -> None:
    torch.manual_seed(0)
    module = partition_modules.PartitionAttend(heads, window, mode, position_bias=True)
    table = module.relative_position_bias_table
    assert table is not None
    with torch.no_grad():
        table.copy_(torch.randn_like(table))
        qkv = torch.randn(1, 3 * 4 * heads, height, width)
        torch.testing.assert_close(module(qkv), reference_attend(qkv, heads, window, mode, table))


@pytest.mark.parametrize("mode", ["block", "grid"])
def test_windows_round_trip(mode: str) -> None:
    x = torch.arange(2 * 3 * 6 * 9.0).reshape(2, 3, 6, 9)
    windows = partition_modules.to_windows(x, (2, 3), mode)
    assert windows.shape == (2 * 9, 6, 3)
    torch.testing.assert_close(partition_modules.from_windows(windows, (2, 3), mode, 6, 9), x)


@pytest.mark.parametrize("partition", ["window: 3", "grid: [2, 3]", "window: 4"])
@pytest.mark.parametrize("size", [6, 7, 2])
def test_partitioned_attention_verifies(partition: str, size: int) -> None:
    spec = parse_spec(
        "input: {size: 8, channels: 8}\nlayers:\n"
        "  - block:\n      residual: true\n      layers:\n"
        "        - norm: {kind: layer}\n"
        f"        - attention: {{heads: 2, {partition}, position_bias: relative}}\n"
    )
    result = verify(analyze(build_graph(spec, Settings(res=size))))
    assert result.ok, result.verdict
