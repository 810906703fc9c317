"""A stage's copies under the depth multiplier: torchvision's rule for EfficientNet.

A stage of `count` copies has ceil(count x depth) of them, named "0", "1", … like torchvision's
`features.2.0`, `features.2.1`. The first is the stage's layers as written; the later ones have
stride 1, and take the stage's output channels as their input (as the copies follow each other).
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import TypeVar

from mbcalc.spec.model import Block, Layer, Stage, Windowed

L = TypeVar("L", bound=Layer)

ONE = (1, 1)


def stage_repeat(count: int, depth: Fraction) -> int:
    """ceil(count x depth), exactly: the copies of a stage of `count` under `depth`."""
    return -(-count * depth.numerator // depth.denominator)


def _changed(layer: L, **changes: object) -> L:
    """A copy of a frozen layer with some fields changed."""
    fields = {name: getattr(layer, name) for name in layer._fields}
    return type(layer)(**{**fields, **changes})


def _unstrided(layer: Layer) -> Layer:
    """`layer` with stride 1 in every window, nested layers included."""
    if isinstance(layer, Block):
        return _changed(layer, layers=tuple(_unstrided(inner) for inner in layer.layers))
    if isinstance(layer, Windowed) and layer.stride != ONE:
        return _changed(layer, stride=ONE)
    return layer


def stage_copies(stage: Stage, depth: Fraction) -> Iterator[Layer]:
    """The layers a stage expands to under `depth`: one per copy, named by its number (a
    stage of one unrepeated layer copies that layer; otherwise each copy is a block). Made one
    at a time, so that a planner can stop at its limit however deep the stage."""
    for number in range(stage_repeat(stage.count, depth)):
        layers = stage.layers if number == 0 else tuple(map(_unstrided, stage.layers))
        if len(layers) == 1 and layers[0].repeat == 1:
            yield _changed(layers[0], name=str(number), repeat=1)
        else:
            yield Block(
                name=str(number), prefix="block", first_index=1, repeat=1, act="none",
                line=stage.line, layers=layers, residual=False,
            )  # fmt: skip


def stage_counts(layers: tuple[Layer, ...], depth: Fraction) -> tuple[int, ...]:
    """Every stage's number of copies under `depth`, in the order written: two depths that give
    the same counts give the same network."""
    counts: list[int] = []
    for layer in layers:
        if isinstance(layer, Stage):
            counts.append(stage_repeat(layer.count, depth))
        if isinstance(layer, Block):
            counts += stage_counts(layer.layers, depth)
    return tuple(counts)
