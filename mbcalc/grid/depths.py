"""The depth axis of a grid: which depths give the same network, and their rows put together.

Depth changes only how many copies each stage has (ceil(n x depth), `mbcalc.spec.stage`), so the
depths of a sweep fall into few groups with the same copy counts; each group's network is
planned and evaluated once over alpha x resolution, and each depth's rows are that group's.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from mbcalc.core.exact import exact_text
from mbcalc.core.settings import Res
from mbcalc.errors import SettingsError
from mbcalc.grid.axes import Array
from mbcalc.grid.counting import GridCount
from mbcalc.spec import MAX_VALUE, Spec
from mbcalc.spec.stage import stage_counts

STACKED = (
    "mult_adds", "params", "bn_params", "activations", "valid", "peak_bytes", "weight_bytes",
    "latency",
)  # fmt: skip
"""The arrays of a grid, one row per (depth, alpha), that each depth's grid contributes."""


def check_depths(depths: Sequence[Fraction]) -> None:
    """Refuse an empty depth axis or a depth outside (0, MAX_VALUE]."""
    if not depths:
        raise SettingsError("the sweep needs at least one depth")
    for depth in depths:
        if not 0 < depth <= MAX_VALUE:
            raise SettingsError(f"depth must be in (0, {MAX_VALUE:,}], got {exact_text(depth)}")


def own_axes(
    spec: Spec, heights: Sequence[Res] | None, depths: Sequence[Fraction] | None
) -> tuple[Sequence[Res] | None, Sequence[Fraction]]:
    """A grid's heights and depths, the spec's own `defaults:` where none are given (no
    heights: the spec's default resolution, else its input size; depth 1 without either)."""
    res, depth = spec.defaults.res, spec.defaults.depth
    own_heights = [res] if heights is None and res is not None else heights
    return own_heights, [depth or Fraction(1)] if depths is None else depths


def depth_groups(spec: Spec, depths: Sequence[Fraction]) -> dict[tuple[int, ...], Fraction]:
    """One depth for each distinct vector of stage copy counts, in the order first met."""
    groups: dict[tuple[int, ...], Fraction] = {}
    for depth in depths:
        groups.setdefault(stage_counts(spec.layers, depth), depth)
    return groups


def stack_rows(parts: Sequence[Array | None]) -> Array | None:
    """Each depth's rows, one after another (None where the grids hold no such array)."""
    if parts[0] is None:
        return None
    arrays = [part for part in parts if part is not None]
    dtype = object if any(array.dtype == object for array in arrays) else None
    return np.concatenate([array.astype(dtype) if dtype else array for array in arrays])


def stack_counts(parts: Sequence[GridCount | None]) -> GridCount | None:
    """Each depth's totals under a counting profile, rows one after another."""
    first = parts[0]
    if first is None:
        return None
    counts = [part for part in parts if part is not None]
    keys = dict.fromkeys(key for part in counts for key in part.extras)
    extras = {
        key: _stacked([part.extras.get(key, np.zeros_like(part.params)) for part in counts])
        for key in keys
    }
    operations = _stacked([part.operations for part in counts])
    return GridCount(first.profile, operations, extras, _stacked([p.params for p in counts]))


def _stacked(arrays: list[Array]) -> Array:
    stacked = stack_rows(arrays)
    assert stacked is not None
    return stacked
