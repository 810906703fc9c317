"""Frozen record classes that cost nothing to declare.

`dataclass` compiles each class's methods from source when its module is imported, about half a
millisecond a class: a dozen of them are a noticeable share of the start-up of `mbcalc table`.
A `Record` subclass gets the same keyword-only, frozen, identity-compared behaviour from
methods shared by all records, and type checkers see it as a dataclass (`dataclass_transform`).
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any, ClassVar, dataclass_transform


def _is_class_var(annotation: object) -> bool:
    """Whether an annotation (text, as `from __future__ import annotations` leaves it) is a
    `ClassVar`, which declares no field."""
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar[", "typing.ClassVar["))
    return getattr(annotation, "__origin__", None) is ClassVar


@dataclass_transform(kw_only_default=True, frozen_default=True, eq_default=False)
class Record:
    """Base of frozen records: keyword-only fields (annotations; a class attribute is a
    default) in the order a dataclass gives them, immutable, compared by identity, and shown
    as a dataclass shows itself."""

    _fields: ClassVar[tuple[str, ...]] = ()
    _required: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields: dict[str, None] = {}  # a field keeps the place of its first declaration
        for klass in reversed(cls.__mro__):
            for name, annotation in vars(klass).get("__annotations__", {}).items():
                if not _is_class_var(annotation):
                    fields[name] = None
        cls._fields = tuple(fields)
        cls._required = frozenset(name for name in fields if not hasattr(cls, name))

    def __init__(self, **values: object) -> None:
        unknown = values.keys() - self._fields
        missing = self._required - values.keys()
        if unknown or missing:
            problem = "unexpected" if unknown else "missing"
            names = ", ".join(sorted(unknown or missing))
            raise TypeError(f"{type(self).__qualname__}() got {problem} fields: {names}")
        self.__dict__.update(values)

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__qualname__}({fields})"
