"""Random MobileViT-like networks for property tests: attention over patches inside blocks
resized to whole multiples, around a local conv and a fusion conv."""

from __future__ import annotations

from hypothesis import strategies as st

from mbcalc import Spec
from tests.helpers.strategies import Layer, spec_of

sides = st.one_of(st.integers(1, 3), st.lists(st.integers(1, 3), min_size=2, max_size=2))


@st.composite
def patch_networks(draw: st.DrawFn) -> Spec:
    """A stem conv, then one or two MobileViT-like blocks: the input concatenated with a local
    3x3 conv, a 1x1 conv to the transformer width, a block with `multiple` (or without) of
    pre-norm patch attention and a layer norm, a 1x1 conv back; a fusion conv. Build at every
    alpha >= 1/4 and every resolution."""
    width = draw(st.integers(4, 12))
    layers: list[Layer] = [{"conv": {"out": width, "stride": draw(st.integers(1, 2))}}]
    for _ in range(draw(st.integers(1, 2))):
        dim = draw(st.integers(4, 16))
        attention = {"heads": draw(st.integers(1, 4)), "patch": draw(sides)}
        norm: Layer = {"norm": {"kind": "layer"}}
        encoder: Layer = {"block": {"residual": True, "layers": [norm, {"attention": attention}]}}
        inner = [encoder, norm]
        transformer: Layer = {"block": {"layers": inner}}
        if draw(st.booleans()):
            transformer["block"]["multiple"] = draw(sides)
        branch: list[Layer] = [
            {"conv": {"out": width, "act": "swish"}},
            {"pointwise": {"out": dim, "bn": False, "act": "none"}},
            transformer,
            {"pointwise": {"out": width, "act": "swish"}},
        ]
        layers.append({"parallel": {"merge": "concat", "branches": [[], branch]}})
        layers.append({"conv": {"out": width, "act": "swish"}})
    height = draw(st.integers(1, 12))
    size = [height, draw(st.integers(-(-height // 2), 2 * height))]
    return spec_of(layers, size, 3, draw(st.sampled_from(["floor", "divisible"])), 4)
