"""Typed reading of one mapping of a spec (a layer's arguments, the top level, `input`).

Each getter checks its value against the spec language's limits and records the key as used;
every refusal is a `SpecError` naming the file, the line and the layer.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Iterable
from fractions import Fraction
from typing import TypeVar

from mbcalc.errors import SpecError, number_text
from mbcalc.kinds import LayerType, Padding, Pair, Scale
from mbcalc.spec.model import MAX_VALUE
from mbcalc.spec.source import Value, number_hint, shorten

Choice = TypeVar("Choice", bound=str)


def close_match(word: str, choices: Iterable[str]) -> str | None:
    """A hint naming the choice nearest to a misspelt `word`, if one is near."""
    import difflib  # only when a word is unknown

    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


def known(choices: tuple[str, ...]) -> str:
    """A hint listing every choice."""
    return "known: " + ", ".join(choices)


def describe(value: Value) -> str:
    """How a message names a value the user wrote."""
    data = value.data
    if isinstance(data, dict):
        return "a mapping"
    if isinstance(data, list):
        return "a list"
    if data is None:
        return "nothing"
    if isinstance(data, bool):
        return "true" if data else "false"
    if isinstance(data, int):
        return number_text(data)
    return repr(shorten(data)) if isinstance(data, str) else repr(data)


_TYPE_NAMES = frozenset(t.value for t in LayerType)


def describe_item(item: Value) -> str:
    """How a message names a list item that is not a layer."""
    if isinstance(item.data, dict):
        keys = ", ".join(f"`{shorten(key)}`" for key in list(item.data)[:4])
        return f"a mapping with {len(item.data)} keys" + (f" ({keys})" if keys else "")
    return describe(item)


def item_hint(item: Value) -> str:
    """For `- conv:` followed by its arguments at the same indentation, say so."""
    if isinstance(item.data, dict):
        types = [key for key in item.data if key in _TYPE_NAMES]
        others = [key for key in item.data if key not in types]
        if len(types) == 1 and others:
            return (
                f"indent `{shorten(others[0])}` under `{types[0]}:` (or use `{types[0]}: {{...}}`)"
            )
    return "write `- conv: {out: 32}`; arguments go inside the braces"


class Args:
    """The arguments of one layer: typed getters that record which keys were used."""

    def __init__(
        self, source: str, mapping: dict[str, Value], layer: str | None, line: int
    ) -> None:
        self.source = source
        self.mapping = mapping
        self.layer = layer
        self.line = line
        self.used: set[str] = set()

    def error(self, message: str, value: Value | None = None, hint: str | None = None) -> SpecError:
        line = self.line if value is None else value.line
        return SpecError(message, source=self.source, line=line, layer=self.layer, hint=hint)

    def get(self, key: str) -> Value | None:
        self.used.add(key)
        return self.mapping.get(key)

    def required(self, key: str, hint: str | None = None) -> Value:
        value = self.get(key)
        if value is None or value.data is None:
            raise self.error(f"missing `{key}`", value, hint=hint or f"add `{key}: <value>`")
        return value

    def section(self, key: str, value: Value, keys: tuple[str, ...], example: str) -> Args:
        """The mapping `value` (of `key`, written as `example`) as arguments of its own, whose
        keys must be among `keys`."""
        if not isinstance(value.data, dict):
            raise self.error(
                f"`{key}` must be a mapping, got {describe(value)}", value, f"write `{example}`"
            )
        args = Args(self.source, value.data, None, value.line)
        args.finish(keys, f"key of `{key}`")
        return args

    def int(
        self, key: str, default: builtins.int | None = None, minimum: builtins.int = 1
    ) -> builtins.int:
        value = self.required(key) if default is None else self.get(key)
        if value is None:
            assert default is not None
            return default
        return self.check_int(key, value, minimum)

    def check_int(self, key: str, value: Value, minimum: builtins.int = 1) -> builtins.int:
        data = value.data
        if isinstance(data, bool) or not isinstance(data, int):
            hint = (
                (number_hint(data) if isinstance(data, str) else None)
                or "write it without quotes or a decimal point"
                if isinstance(data, str | float)
                else None
            )
            raise self.error(f"`{key}` must be a whole number, got {describe(value)}", value, hint)
        if data < minimum:
            raise self.error(f"`{key}` must be at least {minimum}, got {number_text(data)}", value)
        if data > MAX_VALUE:
            raise self.error(
                f"`{key}` must be at most {MAX_VALUE:,}, got {number_text(data)}", value
            )
        return data

    def pair(self, key: str, default: builtins.int | None, minimum: builtins.int = 1) -> Pair:
        value = self.required(key) if default is None else self.get(key)
        if value is None:
            assert default is not None
            return (default, default)
        return self.check_pair(key, value, minimum)

    def check_pair(self, key: str, value: Value, minimum: builtins.int = 1) -> Pair:
        if isinstance(value.data, list):
            if len(value.data) != 2:
                raise self.error(f"`{key}` must be one number or [height, width]", value)
            first, second = value.data
            return (self.check_int(key, first, minimum), self.check_int(key, second, minimum))
        number = self.check_int(key, value, minimum)
        return (number, number)

    def optional_pair(self, key: str) -> Pair | None:
        value = self.get(key)
        return None if value is None else self.check_pair(key, value)

    def bool(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value.data, bool):
            raise self.error(f"`{key}` must be true or false, got {describe(value)}", value)
        return value.data

    def text(self, key: str, default: str) -> str:
        """Text, or a number taken as text (a spec named `2024`)."""
        value = self.get(key)
        if value is None or value.data is None:
            return default
        if not isinstance(value.data, str | int | float) or isinstance(value.data, bool):
            raise self.error(f"`{key}` must be text, got {describe(value)}", value)
        return str(value.data)

    def choice(self, key: str, choices: tuple[Choice, ...], default: Choice) -> Choice:
        value = self.get(key)
        if value is None:
            return default
        for choice in choices:
            if value.data == choice:
                return choice
        hint = close_match(value.data, choices) if isinstance(value.data, str) else None
        options = ", ".join(choices)
        raise self.error(f"`{key}` must be one of {options}; got {describe(value)}", value, hint)

    def padding(self, default: Padding) -> Padding:
        value = self.get("padding")
        if value is None:
            return default
        if value.data == "same":
            return "same"
        if value.data == "valid":
            return (0, 0)
        if isinstance(value.data, str):
            raise self.error(
                "`padding` must be same, valid, a number or [height, width]; "
                f"got {shorten(value.data)!r}",
                value,
                close_match(value.data, ("same", "valid")),
            )
        return self.check_pair("padding", value, minimum=0)

    def ratio(self, key: str, usage: str | None = None) -> Fraction:
        """A share in (0, 1], kept exact; `usage` (what the key means, with an example) is the
        hint beside a value that is no number."""
        return self.bounded(key, 1, usage)

    def bounded(self, key: str, upper: float, usage: str | None = None) -> Fraction:
        """A number in (0, upper], kept exact: 0.25 is 1/4, not the float nearest to it."""
        value = self.required(key, usage)
        data = value.data
        if isinstance(data, bool) or not isinstance(data, int | float):
            hint = number_hint(data) if isinstance(data, str) else None
            raise self.error(
                f"`{key}` must be a number, got {describe(value)}", value, hint or usage
            )
        if not math.isfinite(data) or not 0 < data <= upper:
            shown = number_text(data) if isinstance(data, int) else data
            raise self.error(f"`{key}` must be in (0, {upper:g}], got {shown}", value)
        return Fraction(repr(data)) if isinstance(data, float) else Fraction(data)

    def scale(self, default: Scale) -> Scale:
        value = self.get("scale")
        if value is None:
            return default
        if value.data == "up":
            return "up"
        if not isinstance(value.data, bool):
            raise self.error(
                f"`scale` must be true, false or up, got {describe(value)}",
                value,
                "`up` scales the channels only when alpha is above 1",
            )
        return value.data

    def multiple(self, key: str) -> Fraction:
        """A positive number such as an expansion ratio (6, 4.5, 0.5), kept exact."""
        return self.bounded(key, 1024)

    def finish(self, allowed: tuple[str, ...], what: str = "argument") -> None:
        """Refuse a key not in `allowed`: called before the values are read, so that a
        misspelt key is named as such rather than reported as a missing one."""
        for key, value in self.mapping.items():
            if key not in allowed:
                raise SpecError(
                    f"unknown {what} `{shorten(key)}`",
                    source=self.source,
                    line=value.key_line or value.line,
                    layer=self.layer,
                    hint=close_match(key, allowed) or known(allowed),
                )
