"""The few elementwise operations that differ between Python ints and numpy arrays.

Shape and rounding rules are written once against this namespace: `SCALAR` evaluates them for
one setting with exact ints (no numpy import), `mbcalc.grid.sweep` passes numpy's for many at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Num = Any
"""An int (one setting) or a numpy integer array (one value per setting)."""


@dataclass(frozen=True)
class Arith:
    maximum: Callable[[Num, Num], Num]
    minimum: Callable[[Num, Num], Num]
    where: Callable[[Num, Num, Num], Num]


SCALAR = Arith(maximum=max, minimum=min, where=lambda cond, yes, no: yes if cond else no)
