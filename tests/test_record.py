"""`Record` behaves as the frozen, keyword-only, identity-compared dataclass it replaces.

Each check runs the standard library's `dataclass` on the same declarations and compares.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from typing import ClassVar

import pytest

from mbcalc.spec import Se, parse_spec
from mbcalc.spec.record import Record


class Base(Record):
    kind: ClassVar[str] = "base"
    name: str | None
    line: int


class Left(Base):
    kernel: tuple[int, int]


class Right(Base):
    out: int | None
    ratio: Fraction | None = None


class Both(Right, Left):
    groups: int


@dataclasses.dataclass(eq=False, frozen=True, kw_only=True)
class DataBase:
    kind: ClassVar[str] = "base"
    name: str | None
    line: int


@dataclasses.dataclass(eq=False, frozen=True, kw_only=True)
class DataLeft(DataBase):
    kernel: tuple[int, int]


@dataclasses.dataclass(eq=False, frozen=True, kw_only=True)
class DataRight(DataBase):
    out: int | None
    ratio: Fraction | None = None


@dataclasses.dataclass(eq=False, frozen=True, kw_only=True)
class DataBoth(DataRight, DataLeft):
    groups: int


def both() -> Both:
    return Both(name="c1", line=3, kernel=(3, 3), out=8, groups=2)


def test_fields_and_repr_follow_dataclass_order_under_multiple_inheritance() -> None:
    record, data = both(), DataBoth(name="c1", line=3, kernel=(3, 3), out=8, groups=2)
    assert Both._fields == tuple(field.name for field in dataclasses.fields(DataBoth))
    assert repr(record) == repr(data).replace("DataBoth(", "Both(")
    assert record.ratio is None
    assert record.kind == "base"


def test_a_record_is_frozen_as_a_dataclass_is() -> None:
    record = both()
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.out = 9  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del record.line
    assert record.out == 8


def test_fields_are_keyword_only_and_each_required_one_must_be_given() -> None:
    with pytest.raises(TypeError):
        Left("c1", 3, (3, 3))  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="missing fields: kernel"):
        Left(name="c1", line=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected fields: stride"):
        Left(name="c1", line=3, kernel=(1, 1), stride=(1, 1))  # type: ignore[call-arg]


def test_records_compare_by_identity() -> None:
    first, second = both(), both()
    assert first == first  # noqa: PLR0124
    assert first != second
    assert hash(first) != hash(second)


def test_spec_layers_are_records_shown_as_dataclasses_show_them() -> None:
    text = "input: {size: 32, channels: 3}\nlayers:\n  - conv: {out: 8, stride: 2}\n"
    spec = parse_spec(text + "  - se: {ratio: 0.25}\n")
    conv, se = spec.layers
    assert isinstance(conv, Record)
    assert repr(conv) == (
        "Conv(name=None, prefix='conv', first_index=1, repeat=1, act='relu', line=3, "
        "kernel=(3, 3), stride=(2, 2), padding='same', out=8, bias=False, bn=True, scale=True, "
        "expand=None, groups=1)"
    )
    assert isinstance(se, Se)
    assert (se.squeeze, se.ratio, se.divisor, se.gate) == (None, Fraction(1, 4), None, "sigmoid")
