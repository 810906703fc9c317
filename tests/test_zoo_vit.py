"""torchvision's vision transformers as shipped specs, against their modules' formulas.

ViT-B/16, B/32, L/16, L/32 and H/14 (Dosovitskiy et al. 2020, Table 1, as
torchvision/models/vision_transformer.py builds them): every figure is recomputed here from
the modules' textbook formulas (conv_proj, class token, position embedding, per encoder layer
two layer norms, in_proj, the attention products, out_proj and the MLP, the final layer norm
and the head). torchvision's published figures are checked in tests/test_zoo_published.py.
"""

from __future__ import annotations

import pytest

from mbcalc import Settings, analyze, build_graph
from mbcalc.spec.zoo import load_shipped

VITS = {  # patch, width, layers, heads, MLP width: Dosovitskiy et al., Table 1
    "vit_b_16": (16, 768, 12, 12, 3072),
    "vit_b_32": (32, 768, 12, 12, 3072),
    "vit_l_16": (16, 1024, 24, 16, 4096),
    "vit_l_32": (32, 1024, 24, 16, 4096),
    "vit_h_14": (14, 1280, 32, 16, 5120),
}


def vit_by_formula(patch: int, d: int, layers: int, mlp: int, side: int) -> tuple[int, int]:
    """(mult-adds, params) of torchvision's VisionTransformer from its modules' formulas."""
    grid = (side // patch) ** 2
    n = grid + 1  # the class token
    embed = (grid * 3 * patch * patch * d, 3 * patch * patch * d + d + d + n * d)
    attention = (n * d * 3 * d + 2 * n * n * d + n * d * d, 3 * d * d + 3 * d + d * d + d)
    ffn = (2 * n * d * mlp, d * mlp + mlp + mlp * d + d)
    per_layer_params = attention[1] + ffn[1] + 2 * 2 * d  # two layer norms
    head = (d * 1000, d * 1000 + 1000)
    mult_adds = embed[0] + layers * (attention[0] + ffn[0]) + head[0]
    params = embed[1] + layers * per_layer_params + 2 * d + head[1]
    return mult_adds, params


@pytest.mark.parametrize("name", VITS)
@pytest.mark.parametrize("side", [224, 384])
def test_a_vit_spec_is_its_formula(name: str, side: int) -> None:
    patch, width, layers, _, mlp = VITS[name]
    total = analyze(build_graph(load_shipped(name), Settings(res=side))).total.cost
    assert (total.mult_adds, total.params, total.bn_params) == (
        *vit_by_formula(patch, width, layers, mlp, side),
        0,
    )


def test_vit_b_16s_published_figure_includes_the_attention_products() -> None:
    mult_adds, _ = vit_by_formula(16, 768, 12, 3072, 224)
    products = 12 * 2 * 197 * 197 * 768
    assert round(mult_adds / 1e9, 3) == 17.564  # torchvision's ViT_B_16_Weights.IMAGENET1K_V1
    assert round((mult_adds - products) / 1e9, 3) != 17.564
