"""torchvision's Swin Transformers (V1 T/S/B, V2 T/S/B) as shipped specs, against their
modules' formulas.

Every figure is recomputed here from torchvision/models/swin_transformer.py's modules: the
patch embedding (conv 4x4/4 with bias, LayerNorm), per block two LayerNorms, qkv and proj
(Linear with bias), the window products, the MLP (Linear 4C, Linear C, with biases), per V1
block a relative position bias table of (2M-1)^2 x heads, per V2 block a logit scale per head
and the continuous position bias MLP (Linear(2, 512) with bias, ReLU, Linear(512, heads)
without), the patch mergings (LayerNorm(4C) and Linear 4C -> 2C without bias; V2 the Linear
then LayerNorm(2C)), the final LayerNorm and the head.

What torchvision's GFLOPS count, found by reproducing them (Swin_*_Weights' `_ops`):

- the window products count: 2 * Np * M*M * D per block (Np positions of the map padded to
  whole M x M windows, each attending to the M*M of its window); without them Swin-T would be
  4.350 G, not 4.491;
- qkv and proj run on the padded map too (`shifted_window_attention` pads its input before the
  qkv Linear and crops after proj); at the published sizes every stage's map is a whole number
  of windows (224: 56, 28, 14, 7 with M = 7; 256: 64, 32, 16, 8 with M = 8), so padding only
  matters at other sizes (Swin-T at 160: 40, 20, 10, 5 are padded to 42, 21, 14, 7);
- V2's position-bias MLP counts, once per block whatever the resolution: (2M-1)^2 positions x
  (2 x 512 + 512 x heads); without it Swin-V2-T would be 5.921 G, not 5.940;
- the cyclic shift, its mask, the bias's gathering and addition, softmax, the cosine
  normalisation and the logit scale's multiplication, layer norms, GELU and the residual adds
  do not count (torchvision's figures are multiply-accumulates of convolutions, linear layers
  and matrix products). torchvision does not shrink a window to a smaller map: it pads the map
  to one whole window (a 3x3 map under M = 7 is 49 queries of 49 keys), and drops the shift
  where one window covers the padded map (free either way).

Params: every trainable tensor, V2's k bias included (it is held at zero, but is part of the
qkv Linear's bias).
"""

from __future__ import annotations

import pytest

from mbcalc import Settings, analyze, build_graph
from mbcalc.spec.zoo import load_shipped

# embedding width, blocks per stage, heads per stage, window, V2: torchvision's swin_* builders
SWINS = {
    "swin_t": (96, (2, 2, 6, 2), (3, 6, 12, 24), 7, False),
    "swin_s": (96, (2, 2, 18, 2), (3, 6, 12, 24), 7, False),
    "swin_b": (128, (2, 2, 18, 2), (4, 8, 16, 32), 7, False),
    "swin_v2_t": (96, (2, 2, 6, 2), (3, 6, 12, 24), 8, True),
    "swin_v2_s": (96, (2, 2, 18, 2), (3, 6, 12, 24), 8, True),
    "swin_v2_b": (128, (2, 2, 18, 2), (4, 8, 16, 32), 8, True),
}
CPB_HIDDEN = 512  # ShiftedWindowAttentionV2's cpb_mlp width


def padded(side: int, window: int) -> int:
    return -(-side // window) * window


def swin_by_formula(name: str, side: int, products: bool = True) -> tuple[int, int]:
    """(mult-adds, params) of torchvision's SwinTransformer at side x side from its modules'
    formulas; `products` False leaves the window products out."""
    embed, depths, heads, window, v2 = SWINS[name]
    h = w = side // 4
    c = embed
    mult_adds, params = h * w * 3 * 16 * c, 3 * 16 * c + c + 2 * c
    for stage, (depth, head_count) in enumerate(zip(depths, heads, strict=True)):
        if stage:  # patch merging: 2x2 neighbours (an odd side padded by one), norm, Linear
            h, w = -(-h // 2), -(-w // 2)
            mult_adds += h * w * 4 * c * 2 * c
            params += 4 * c * 2 * c + (2 * 2 * c if v2 else 2 * 4 * c)
            c *= 2
        positions = padded(h, window) * padded(w, window)
        table = (2 * window - 1) ** 2
        block = positions * c * 3 * c + positions * c * c + 2 * h * w * c * 4 * c
        block += 2 * positions * window * window * c if products else 0
        block_params = 3 * c * c + 3 * c + c * c + c + 2 * (4 * c * c) + 4 * c + c + 2 * 2 * c
        if v2:
            block += table * (2 * CPB_HIDDEN + CPB_HIDDEN * head_count)
            block_params += head_count + 2 * CPB_HIDDEN + CPB_HIDDEN + CPB_HIDDEN * head_count
        else:
            block_params += table * head_count
        mult_adds += depth * block
        params += depth * block_params
    return mult_adds + c * 1000, params + 2 * c + c * 1000 + 1000


@pytest.mark.parametrize("name", SWINS)
@pytest.mark.parametrize("side", [224, 256, 160, 96])
def test_a_swin_spec_is_its_formula(name: str, side: int) -> None:
    total = analyze(build_graph(load_shipped(name), Settings(res=side))).total.cost
    assert (total.mult_adds, total.params, total.bn_params) == (*swin_by_formula(name, side), 0)


def test_swin_t_by_hand() -> None:
    # 224: 56x56x96, 28x28x192, 14x14x384, 7x7x768, every map whole 7x7 windows
    embed = 56 * 56 * 48 * 96
    stage1 = 2 * (56 * 56 * (96 * 288 + 96 * 96 + 2 * 96 * 384) + 2 * 56 * 56 * 49 * 96)
    merge2 = 28 * 28 * 384 * 192
    stage2 = 2 * (28 * 28 * (192 * 576 + 192 * 192 + 2 * 192 * 768) + 2 * 28 * 28 * 49 * 192)
    merge3 = 14 * 14 * 768 * 384
    stage3 = 6 * (14 * 14 * (384 * 1152 + 384 * 384 + 2 * 384 * 1536) + 2 * 14 * 14 * 49 * 384)
    merge4 = 7 * 7 * 1536 * 768
    stage4 = 2 * (7 * 7 * (768 * 2304 + 768 * 768 + 2 * 768 * 3072) + 2 * 7 * 7 * 49 * 768)
    head = 768 * 1000
    total = embed + stage1 + merge2 + stage2 + merge3 + stage3 + merge4 + stage4 + head
    assert round(total / 1e9, 3) == 4.491  # torchvision's Swin_T_Weights.IMAGENET1K_V1
    assert swin_by_formula("swin_t", 224) == (total, 28_288_354)


def test_torchvisions_figures_count_the_products_and_the_position_bias_mlp() -> None:
    assert round(swin_by_formula("swin_t", 224, products=False)[0] / 1e9, 3) == 4.350
    v2_t, _ = swin_by_formula("swin_v2_t", 256)
    cpb = sum(
        depth * 15 * 15 * (2 * 512 + 512 * heads)
        for depth, heads in zip((2, 2, 6, 2), (3, 6, 12, 24), strict=True)
    )
    assert round(v2_t / 1e9, 3) == 5.94  # torchvision's Swin_V2_T_Weights.IMAGENET1K_V1
    assert round((v2_t - cpb) / 1e9, 3) == 5.921
