"""The planner's rules for Swin's pieces: a space-to-depth (patch merging's gathering of
neighbours), and what attention in windows adds around qkv, the products and proj
(`mbcalc.core.token_plan` calls them).

A space-to-depth of block b puts each b x b patch of neighbours side by side in the channels:
H x W x C -> ceil(H/b) x ceil(W/b) x b*b*C, the map padded at the bottom and right to whole
patches (torchvision's `PatchMerging` pads an odd size); it moves values and costs nothing.

Attention in M x M windows, `padded` (torchvision's `shifted_window_attention`): the map is
padded with zeros at the bottom and right to whole windows before qkv (op `pad`), so qkv, the
products and proj run on ceil(H/M)*M x ceil(W/M)*M positions, and proj's output is cropped
back to H x W (op `crop`); both free. A `continuous` position bias (Swin V2) is made per block
by an MLP from the (2M-1) x (2M-1) relative offsets of a window (op `positions`, a constant
table of 2 log-spaced coordinates): `cpb_mlp.0`, a 1x1 conv 2 -> 512 with bias and ReLU, and
`cpb_mlp.2`, 512 -> heads without bias, whatever the map's size and alpha; the products read
its heads-wide table as their second input.
"""

from __future__ import annotations

from mbcalc.core.ir import (
    POINTWISE,
    SAME,
    Fixed,
    FixedSize,
    Multiple,
    SizeOf,
    StepAdder,
    Times,
    Window,
)
from mbcalc.kinds import OpKind
from mbcalc.spec import Attention, SpaceToDepth

CPB_HIDDEN = 512
"""The width of Swin V2's continuous position bias MLP (torchvision's and timm's)."""


def plan_space_to_depth(add: StepAdder, layer: SpaceToDepth, path: str, tensor: int) -> int:
    """One step: b*b times the channels on a b x b window of stride b in ceil mode (an odd
    size's last patch takes the padding)."""
    block = (layer.block, layer.block)
    window = Window(block, block, (0, 0), ceil=True)
    return add(layer, path, path, OpKind.SPACE_TO_DEPTH, (tensor,), Times(layer.block**2), window)


def pad_to_windows(add: StepAdder, layer: Attention, path: str, tensor: int) -> int:
    """The map qkv reads: `tensor` padded to whole windows where the layer is `padded`."""
    if not layer.padded:
        return tensor
    assert layer.size is not None
    return add(layer, f"{path}.pad", path, OpKind.PAD, (tensor,), SAME, Multiple(layer.size))


def crop_back(add: StepAdder, layer: Attention, path: str, proj: int, tensor: int) -> int:
    """proj's output cropped back to `tensor`'s size where the layer is `padded`."""
    if not layer.padded:
        return proj
    return add(layer, f"{path}.crop", path, OpKind.CROP, (proj,), SAME, SizeOf(tensor))


def position_mlp(add: StepAdder, layer: Attention, path: str, tensor: int) -> tuple[int, ...]:
    """A continuous position bias's table (heads wide) as the products' second input, or ().
    Its offsets are read beside `tensor`, the attention's input (they do not depend on it)."""
    if layer.position_bias != "continuous":
        return ()
    assert layer.size is not None
    rows, cols = layer.size
    offsets = FixedSize((2 * rows - 1, 2 * cols - 1))
    table = add(layer, f"{path}.positions", path, OpKind.POSITIONS, (tensor,), Fixed(2), offsets)
    hidden = add(
        layer, f"{path}.cpb_mlp.0", path, OpKind.CONV, (table,), Fixed(CPB_HIDDEN), POINTWISE,
        act="relu", groups=1, bias=True,
    )  # fmt: skip
    return (
        add(
            layer, f"{path}.cpb_mlp.2", path, OpKind.CONV, (hidden,), Fixed(layer.heads),
            POINTWISE, act="none", groups=1,
        ),
    )  # fmt: skip
