"""The number types of mbcalc's arithmetic, and the few operations that differ between them.

Shape rules, cost formulas and deployment figures are written once over `Num`: an exact Python
int for one setting (`mbcalc table`: numpy is never imported), or a numpy integer array with one
value per setting (`mbcalc.grid`). The array types are named for the type checker only, so the
one-setting path stays free of numpy at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeAlias, TypeVar

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    IntArray: TypeAlias = npt.NDArray[np.int64]
    """One integer per setting: int64, or an object array of Python ints where int64 could
    overflow (the same operators, exact)."""

    BoolArray: TypeAlias = npt.NDArray[np.bool_]
    FloatArray: TypeAlias = npt.NDArray[np.float64]

Num: TypeAlias = "int | IntArray"
"""An int (one setting) or an integer array (one value per setting)."""

Mask: TypeAlias = "bool | BoolArray"
"""A condition: a bool (one setting) or one per setting."""

Real: TypeAlias = "float | FloatArray"
"""A float or one float per setting (seconds over a grid)."""

N = TypeVar("N", int, "int | IntArray")
"""`int` through and through for one setting; `Num` where arrays may appear."""


class Arith(Protocol):
    """The elementwise operations whose spelling differs between ints and arrays."""

    def maximum(self, a: N, b: N) -> N: ...
    def minimum(self, a: N, b: N) -> N: ...
    def where(self, cond: Mask, yes: N, no: N) -> N: ...


class _Scalar:
    """`Arith` on Python ints and bools (one setting)."""

    def maximum(self, a: N, b: N) -> N:
        return a if a >= b else b

    def minimum(self, a: N, b: N) -> N:
        return a if a <= b else b

    def where(self, cond: Mask, yes: N, no: N) -> N:
        return yes if cond else no


SCALAR: Arith = _Scalar()
