"""The planner's rules for Swin's pieces: a space-to-depth (patch merging's gathering of
neighbours) and attention in shifted windows (`mbcalc.core.token_plan` hooks the latter in).

A space-to-depth of block b puts each b x b patch of neighbours side by side in the channels:
H x W x C -> ceil(H/b) x ceil(W/b) x b*b*C, the map padded at the bottom and right to whole
patches (torchvision's `PatchMerging` pads an odd size); it moves values and costs nothing.
"""

from __future__ import annotations

from mbcalc.core.ir import Times, Window
from mbcalc.core.token_plan import StepAdder
from mbcalc.kinds import OpKind
from mbcalc.spec import SpaceToDepth


def plan_space_to_depth(add: StepAdder, layer: SpaceToDepth, path: str, tensor: int) -> int:
    """One step: b*b times the channels on a b x b window of stride b in ceil mode (an odd
    size's last patch takes the padding)."""
    block = (layer.block, layer.block)
    window = Window(block, block, (0, 0), ceil=True)
    return add(layer, path, path, OpKind.SPACE_TO_DEPTH, (tensor,), Times(layer.block**2), window)
