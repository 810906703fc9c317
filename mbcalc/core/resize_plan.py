"""The planner's rule for a block with `multiple`: its layers run on the map resized up to
whole multiples of `multiple`, and their output is resized back to the block's input size
(timm's MobileViT block interpolates a map that is not whole patches before unfolding it).
Both resizes are `resize` steps, free, at every setting: where the size already fits they
change nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from mbcalc.core.ir import SAME, Multiple, SizeOf, StepAdder
from mbcalc.kinds import OpKind
from mbcalc.spec import Block, Layer

Sequencer = Callable[[Iterable[Layer], str, int], int]
"""The planner's `sequence` (`mbcalc.core.plan`): plans layers in a scope, returns the output."""


def resized(add: StepAdder, sequence: Sequencer, layer: Block, path: str, tensor: int) -> int:
    """The steps of `layer` (whose `multiple` is set) on `tensor`; returns its output."""
    assert layer.multiple is not None
    up = add(
        layer, f"{path}.resize", path, OpKind.RESIZE, (tensor,), SAME, Multiple(layer.multiple)
    )
    inner = sequence(layer.layers, f"{path}.", up)
    return add(layer, f"{path}.restore", path, OpKind.RESIZE, (inner,), SAME, SizeOf(tensor))
