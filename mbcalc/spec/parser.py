"""Spec text -> validated, frozen spec objects (SPEC.md section 1).

Every refusal is a `SpecError` naming the file, the line and the layer, with a hint where one
helps. Nothing here knows about alpha, resolution or costs: that is the graph's job.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import ClassVar, Literal, TypeVar

from mbcalc.errors import SpecError, UnknownLayerError, number_text
from mbcalc.spec.source import SourceError, Value, number_hint, parse_yaml, read_spec_bytes

Pair = tuple[int, int]
Padding = Literal["same"] | Pair
Rounding = Literal["floor", "divisible"]
Scale = bool | Literal["up"]
"""Whether alpha scales a layer's channels; "up": only when alpha is above 1 (a last conv that
keeps its width under thinner multipliers, as in MobileNetV2)."""

T = TypeVar("T")

MAX_VALUE = 1_000_000_000
"""Largest number a spec may give a size, channel count, kernel, stride, padding or `repeat`:
far beyond any real network, and small enough that every count stays exact and printable."""

ACTIVATIONS = (
    "none", "relu", "relu6", "leaky_relu", "prelu", "elu", "gelu", "hswish", "hsigmoid",
    "sigmoid", "swish", "silu", "tanh",
)  # fmt: skip

GATES = ("sigmoid", "hsigmoid")
"""How squeeze-and-excite turns its second fc into channel weights: a sigmoid or a hard one."""


class LayerType(StrEnum):
    """The layer types of the spec language."""

    CONV = "conv"
    DEPTHWISE = "depthwise"
    POINTWISE = "pointwise"
    SEPARABLE = "separable"
    POOL = "pool"
    FC = "fc"
    BLOCK = "block"
    PARALLEL = "parallel"
    SE = "se"
    MBCONV = "mbconv"
    SOFTMAX = "softmax"


NAME_PREFIX: dict[LayerType, str] = {
    LayerType.CONV: "conv",
    LayerType.DEPTHWISE: "dw",
    LayerType.POINTWISE: "pw",
    LayerType.SEPARABLE: "sep",
    LayerType.POOL: "pool",
    LayerType.FC: "fc",
    LayerType.BLOCK: "block",
    LayerType.PARALLEL: "parallel",
    LayerType.SE: "se",
    LayerType.MBCONV: "mbconv",
    LayerType.SOFTMAX: "softmax",
}
"""Prefix of the default names: a layer is called prefix + running number within its scope."""


@dataclass(eq=False, frozen=True, kw_only=True)
class Layer:
    """What every layer has: its naming, repetition, activation and source line."""

    type: ClassVar[LayerType]
    name: str | None
    first_index: int
    repeat: int
    act: str
    line: int

    def instance_name(self, i: int) -> str:
        """The name of the i-th (0-based) repetition of this layer."""
        if self.name is None:
            return f"{NAME_PREFIX[self.type]}{self.first_index + i}"
        return self.name if self.repeat == 1 else f"{self.name}_{i + 1}"

    @property
    def label(self) -> str:
        """How errors name the layer: its first instance."""
        return self.instance_name(0)


@dataclass(eq=False, frozen=True, kw_only=True)
class Conv(Layer):
    type: ClassVar[LayerType] = LayerType.CONV
    out: int | None  # None: `expand` times the input's channels
    kernel: Pair
    stride: Pair
    padding: Padding
    groups: int
    bias: bool
    bn: bool
    scale: Scale
    expand: Fraction | None = None  # out = floor(input channels * expand)


@dataclass(eq=False, frozen=True, kw_only=True)
class Depthwise(Layer):
    type: ClassVar[LayerType] = LayerType.DEPTHWISE
    kernel: Pair
    stride: Pair
    padding: Padding
    multiplier: int
    bias: bool
    bn: bool


@dataclass(eq=False, frozen=True, kw_only=True)
class Pointwise(Layer):
    type: ClassVar[LayerType] = LayerType.POINTWISE
    out: int | None  # None: `expand` times the input's channels
    bias: bool
    bn: bool
    scale: Scale
    expand: Fraction | None = None  # out = floor(input channels * expand)


@dataclass(eq=False, frozen=True, kw_only=True)
class Separable(Layer):
    type: ClassVar[LayerType] = LayerType.SEPARABLE
    out: int
    kernel: Pair
    stride: Pair
    padding: Padding
    bn: bool
    scale: Scale


@dataclass(eq=False, frozen=True, kw_only=True)
class Pool(Layer):
    type: ClassVar[LayerType] = LayerType.POOL
    kind: Literal["avg", "max"]
    kernel: Pair | None  # None: global pooling
    stride: Pair
    padding: Padding
    ceil: bool = False  # PyTorch's ceil_mode: a last partial window counts


@dataclass(eq=False, frozen=True, kw_only=True)
class Fc(Layer):
    type: ClassVar[LayerType] = LayerType.FC
    out: int
    bias: bool
    scale: Scale


@dataclass(eq=False, frozen=True, kw_only=True)
class Softmax(Layer):
    """A softmax over the channels: shapes unchanged, free by the paper's convention."""

    type: ClassVar[LayerType] = LayerType.SOFTMAX


@dataclass(eq=False, frozen=True, kw_only=True)
class Block(Layer):
    type: ClassVar[LayerType] = LayerType.BLOCK
    layers: tuple[Layer, ...]
    residual: bool


@dataclass(eq=False, frozen=True, kw_only=True)
class Parallel(Layer):
    type: ClassVar[LayerType] = LayerType.PARALLEL
    branches: tuple[tuple[Layer, ...], ...]
    merge: Literal["concat", "add"]


@dataclass(eq=False, frozen=True, kw_only=True)
class Mbconv(Layer):
    """The inverted residual (MobileNetV2) / MBConv (MnasNet, EfficientNet) unit.

    An optional 1x1 expansion to `expanded` channels (absent where they equal the input's),
    a k x k depthwise conv with the stride, optional squeeze-and-excite, a linear 1x1
    projection to `out`, and a residual add where the stride is 1 and the input and output
    channels match. Channels: `expand` is a ratio of the unit's input channels rounded by
    `expand_rounding` (round, floor or divisible); `expanded` is absolute, scaled by alpha
    like `out`. The squeeze width is `se` times the `se_base` channels (expanded or input),
    floored and at least 1, or made divisible by `se_divisor`.
    """

    type: ClassVar[LayerType] = LayerType.MBCONV
    out: int
    expand: Fraction | None
    expanded: int | None
    expand_rounding: Literal["round", "floor", "divisible"]
    kernel: Pair
    stride: Pair
    padding: Padding
    se: Fraction | None
    se_base: Literal["expanded", "input"]
    se_divisor: int | None
    residual: Literal["auto", "always", "never"]
    bn: bool
    scale: Scale
    se_act: str = "none"  # after the squeeze-and-excite's first fc (parsed: default the unit's act)
    se_gate: str = "sigmoid"  # the activation after its second fc: one of GATES


@dataclass(eq=False, frozen=True, kw_only=True)
class Se(Layer):
    type: ClassVar[LayerType] = LayerType.SE
    squeeze: int | None
    ratio: Fraction | None
    divisor: int | None = None  # make_divisible(floor(C * ratio), divisor) instead of max(1, ...)
    gate: str = "sigmoid"  # the activation after the second fc (`act` follows the first): GATES


@dataclass(eq=False, frozen=True)
class Spec:
    """A whole architecture as written, before alpha and resolution are applied."""

    name: str
    source: str
    description: str
    input_size: Pair
    input_channels: int
    rounding: Rounding
    divisor: int
    batchnorm: bool
    layers: tuple[Layer, ...]

    def error(
        self, message: str, layer: Layer | None, path: str = "", hint: str | None = None
    ) -> SpecError:
        """A `SpecError` pointing at `layer` (named by its nesting `path`)."""
        return SpecError(
            message,
            source=self.source,
            line=None if layer is None else layer.line,
            layer=None if layer is None else (path or layer.label),
            hint=hint,
        )


def load_spec(path: Path, source: str | None = None) -> Spec:
    """Read and validate a spec file; `source` is how errors name it (default: the path)."""
    label = source if source is not None else str(path)
    try:
        text = read_spec_bytes(path)
    except SourceError as exc:
        raise SpecError(exc.message, source=label, line=exc.line, hint=exc.hint) from None
    return parse_spec(text, source=label, default_name=path.stem)


def parse_spec(text: str, *, source: str = "<spec>", default_name: str = "spec") -> Spec:
    """Validate spec text; `source` names it in errors."""
    try:
        root = parse_yaml(text)
    except SourceError as exc:
        raise SpecError(exc.message, source=source, line=exc.line, hint=exc.hint) from None
    return _SpecParser(source).spec(root, default_name)


_TYPE_NAMES = frozenset(t.value for t in LayerType)
_TOP_KEYS = ("name", "description", "input", "rounding", "divisor", "batchnorm", "layers")
_COMMON_ARGS = ("name", "repeat", "act")


def _close(word: str, choices: Iterator[str] | tuple[str, ...] | list[str]) -> str | None:
    import difflib  # only when a word is unknown

    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


def _describe_item(item: Value) -> str:
    if isinstance(item.data, dict):
        keys = ", ".join(f"`{_short(key)}`" for key in list(item.data)[:4])
        return f"a mapping with {len(item.data)} keys" + (f" ({keys})" if keys else "")
    return _describe(item)


def _item_hint(item: Value) -> str:
    """For `- conv:` followed by its arguments at the same indentation, say so."""
    if isinstance(item.data, dict):
        types = [key for key in item.data if key in _TYPE_NAMES]
        others = [key for key in item.data if key not in types]
        if len(types) == 1 and others:
            return (
                f"indent `{_short(others[0])}` under `{types[0]}:` (or use `{types[0]}: {{...}}`)"
            )
    return "write `- conv: {out: 32}`; arguments go inside the braces"


def _known(choices: tuple[str, ...]) -> str:
    return "known: " + ", ".join(choices)


def _describe(value: Value) -> str:
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
    return repr(_short(data)) if isinstance(data, str) else repr(data)


def _short(text: str, size: int = 40) -> str:
    """A user's word for a message, cut short if it is long."""
    return text if len(text) <= size else text[: size - 3] + "..."


class _Args:
    """The arguments of one layer: typed getters that record which keys were used."""

    def __init__(
        self, parser: _SpecParser, mapping: dict[str, Value], layer: str | None, line: int
    ) -> None:
        self.parser = parser
        self.mapping = mapping
        self.layer = layer
        self.line = line
        self.used: set[str] = set()

    def error(self, message: str, value: Value | None = None, hint: str | None = None) -> SpecError:
        line = self.line if value is None else value.line
        return SpecError(message, source=self.parser.source, line=line, layer=self.layer, hint=hint)

    def _get(self, key: str) -> Value | None:
        self.used.add(key)
        return self.mapping.get(key)

    def required(self, key: str, hint: str | None = None) -> Value:
        value = self._get(key)
        if value is None or value.data is None:
            raise self.error(f"missing `{key}`", value, hint=hint or f"add `{key}: <value>`")
        return value

    def int(
        self, key: str, default: builtins.int | None = None, minimum: builtins.int = 1
    ) -> builtins.int:
        value = self.required(key) if default is None else self._get(key)
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
            raise self.error(f"`{key}` must be a whole number, got {_describe(value)}", value, hint)
        if data < minimum:
            raise self.error(f"`{key}` must be at least {minimum}, got {number_text(data)}", value)
        if data > MAX_VALUE:
            raise self.error(
                f"`{key}` must be at most {MAX_VALUE:,}, got {number_text(data)}", value
            )
        return data

    def pair(self, key: str, default: builtins.int | None, minimum: builtins.int = 1) -> Pair:
        value = self.required(key) if default is None else self._get(key)
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
        value = self._get(key)
        return None if value is None else self.check_pair(key, value)

    def bool(self, key: str, default: bool) -> bool:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value.data, bool):
            raise self.error(f"`{key}` must be true or false, got {_describe(value)}", value)
        return value.data

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value.data, str) or value.data not in choices:
            hint = _close(value.data, choices) if isinstance(value.data, str) else None
            options = ", ".join(choices)
            raise self.error(
                f"`{key}` must be one of {options}; got {_describe(value)}", value, hint
            )
        return value.data

    def padding(self, default: Padding) -> Padding:
        value = self._get("padding")
        if value is None:
            return default
        if value.data == "same":
            return "same"
        if value.data == "valid":
            return (0, 0)
        if isinstance(value.data, str):
            raise self.error(
                "`padding` must be same, valid, a number or [height, width]; "
                f"got {_short(value.data)!r}",
                value,
                _close(value.data, ("same", "valid")),
            )
        return self.check_pair("padding", value, minimum=0)

    def ratio(self, key: str) -> Fraction:
        """A share in (0, 1], kept exact."""
        return self.bounded(key, 1)

    def bounded(self, key: str, upper: float) -> Fraction:
        """A number in (0, upper], kept exact: 0.25 is 1/4, not the float nearest to it."""
        value = self.required(key)
        data = value.data
        if isinstance(data, bool) or not isinstance(data, int | float):
            hint = number_hint(data) if isinstance(data, str) else None
            raise self.error(f"`{key}` must be a number, got {_describe(value)}", value, hint)
        if not math.isfinite(data) or not 0 < data <= upper:
            shown = number_text(data) if isinstance(data, int) else data
            raise self.error(f"`{key}` must be in (0, {upper:g}], got {shown}", value)
        return Fraction(repr(data)) if isinstance(data, float) else Fraction(data)

    def scale(self, default: Scale) -> Scale:
        value = self._get("scale")
        if value is None:
            return default
        if value.data == "up":
            return "up"
        if not isinstance(value.data, bool):
            raise self.error(
                f"`scale` must be true, false or up, got {_describe(value)}",
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
                    f"unknown {what} `{_short(key)}`",
                    source=self.parser.source,
                    line=value.key_line or value.line,
                    layer=self.layer,
                    hint=_close(key, allowed) or _known(allowed),
                )


class _SpecParser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.batchnorm = True

    def error(self, message: str, line: int | None, hint: str | None = None) -> SpecError:
        return SpecError(message, source=self.source, line=line, hint=hint)

    def spec(self, root: Value, default_name: str) -> Spec:
        if not isinstance(root.data, dict):
            raise self.error(
                f"the top level must be a mapping, got {_describe(root)}",
                root.line,
                "a spec looks like `input: {size: 224, channels: 3}` and `layers: [...]`",
            )
        top = _Args(self, root.data, None, root.line)
        top.finish(_TOP_KEYS, "key")
        name = self._text(top, "name", default_name)
        description = self._text(top, "description", "")
        size, channels = self._input(top)
        rounding = top.choice("rounding", ("floor", "divisible"), "floor")
        divisor = top.int("divisor", 8)
        self.batchnorm = top.bool("batchnorm", True)
        layers_value = top.required(
            "layers", "add `layers:` with a list such as `- conv: {out: 32}`"
        )
        layers = self.layer_list(layers_value, "")
        return Spec(
            name=name,
            source=self.source,
            description=description,
            input_size=size,
            input_channels=channels,
            rounding="floor" if rounding == "floor" else "divisible",
            divisor=divisor,
            batchnorm=self.batchnorm,
            layers=layers,
        )

    def _text(self, top: _Args, key: str, default: str) -> str:
        value = top._get(key)
        if value is None or value.data is None:
            return default
        if not isinstance(value.data, str | int | float) or isinstance(value.data, bool):
            raise top.error(f"`{key}` must be text, got {_describe(value)}", value)
        return str(value.data)

    def _input(self, top: _Args) -> tuple[Pair, int]:
        value = top.required("input", "add `input: {size: 224, channels: 3}`")
        if not isinstance(value.data, dict):
            raise top.error(
                f"`input` must be a mapping, got {_describe(value)}",
                value,
                "write `input: {size: 224, channels: 3}`",
            )
        args = _Args(self, value.data, None, value.line)
        args.finish(("size", "channels"), "key of `input`")
        size = args.pair("size", None)
        channels = args.int("channels", 3)
        return size, channels

    def layer_list(self, value: Value, scope: str, what: str = "`layers`") -> tuple[Layer, ...]:
        """The layers of `value`; `scope` prefixes their names (`block1.`) in errors."""
        enclosing = scope.removesuffix(".") or None
        if not isinstance(value.data, list):
            raise SpecError(
                f"{what} must be a list, got {_describe(value)}",
                source=self.source,
                line=value.line,
                layer=enclosing,
                hint="each item is `- type: {arguments}`",
            )
        if not value.data:
            raise SpecError(
                f"{what} is empty",
                source=self.source,
                line=value.line,
                layer=enclosing,
                hint="list at least one layer",
            )
        counters: dict[LayerType, int] = {}
        return tuple(self.layer(item, scope, counters) for item in value.data)

    def layer(self, item: Value, scope: str, counters: dict[LayerType, int]) -> Layer:
        enclosing = scope.removesuffix(".") or None
        if not isinstance(item.data, dict) or len(item.data) != 1:
            raise SpecError(
                "a layer must be a mapping with exactly one key, its type; "
                f"got {_describe_item(item)}",
                source=self.source,
                line=item.line,
                layer=enclosing,
                hint=_item_hint(item),
            )
        ((type_name, body),) = item.data.items()
        try:
            layer_type = LayerType(type_name)
        except ValueError:
            hint = _close(type_name, [t.value for t in LayerType])
            known = ", ".join(t.value for t in LayerType)
            raise UnknownLayerError(
                f"unknown layer type `{_short(type_name)}` (known: {known})",
                source=self.source,
                line=item.line,
                layer=enclosing,
                hint=hint,
            ) from None
        if body.data is None:
            body = Value({}, body.line)
        first = counters.get(layer_type, 0) + 1
        default_label = f"{NAME_PREFIX[layer_type]}{first}"
        if not isinstance(body.data, dict):
            raise SpecError(
                f"the arguments of `{type_name}` must be a mapping, got {_describe(body)}",
                source=self.source,
                line=body.line,
                layer=f"{scope}{default_label}",
                hint=f"write `- {type_name}: {{...}}`",
            )
        args = _Args(self, body.data, f"{scope}{default_label}", item.line)
        name_value = args._get("name")
        name: str | None = None
        if name_value is not None:
            if not isinstance(name_value.data, str) or not name_value.data.strip():
                raise args.error("`name` must be non-empty text", name_value)
            if not name_value.data.isprintable():
                raise args.error(
                    "`name` may not contain line breaks or control characters", name_value
                )
            if "." in name_value.data:
                raise args.error("`name` may not contain '.', which separates nesting", name_value)
            name = name_value.data
            args.layer = f"{scope}{name}"
        args.finish(_COMMON_ARGS + _ARGUMENTS[layer_type])
        repeat = args.int("repeat", 1)
        act = args.choice("act", ACTIVATIONS, self._default_act(layer_type))
        counters[layer_type] = first - 1 + repeat
        common: dict[str, object] = {
            "name": name,
            "first_index": first,
            "repeat": repeat,
            "act": act,
        }
        return _BUILDERS[layer_type](self, args, common, item.line)

    @staticmethod
    def _default_act(layer_type: LayerType) -> str:
        convolutional = (
            LayerType.CONV,
            LayerType.DEPTHWISE,
            LayerType.POINTWISE,
            LayerType.SEPARABLE,
        )
        if layer_type is LayerType.MBCONV:
            return "relu6"  # MobileNetV2's; V3 and EfficientNet name theirs
        if layer_type is LayerType.SE:
            return "relu"  # after the first fc, as Hu et al.'s squeeze-and-excite
        return "relu" if layer_type in convolutional else "none"

    def nested_layers(self, args: _Args, key: str) -> tuple[Layer, ...]:
        return self.layer_list(args.required(key), f"{args.layer}.")

    def branches(self, args: _Args) -> tuple[tuple[Layer, ...], ...]:
        value = args.required("branches")
        if not isinstance(value.data, list) or not value.data:
            raise args.error(
                "`branches` must be a non-empty list of layer lists",
                value,
                "write `branches: [[...], [...]]`; `[]` is a branch that passes its input through",
            )
        result: list[tuple[Layer, ...]] = []
        for number, branch in enumerate(value.data, start=1):
            if isinstance(branch.data, list) and not branch.data:
                result.append(())
                continue
            scope = f"{args.layer}.branch{number}."
            result.append(self.layer_list(branch, scope, f"branch {number} of `branches`"))
        return tuple(result)


Builder = Callable[[_SpecParser, _Args, dict[str, object], int], Layer]


def _width(a: _Args) -> tuple[int | None, Fraction | None]:
    """`out` channels, or `expand`: a multiple of the input's (MobileNetV3's 6 x last width)."""
    if "expand" not in a.mapping:
        return a.int("out"), None
    if "out" in a.mapping:
        raise a.error("give `out` or `expand`, not both", a.mapping["expand"])
    return None, a.multiple("expand")


def _conv(p: _SpecParser, a: _Args, common: dict[str, object], line: int) -> Layer:
    out, expand = _width(a)
    return Conv(
        **common,  # type: ignore[arg-type]
        line=line,
        out=out,
        expand=expand,
        kernel=a.pair("kernel", 3),
        stride=a.pair("stride", 1),
        padding=a.padding("same"),
        groups=a.int("groups", 1),
        bias=a.bool("bias", False),
        bn=a.bool("bn", p.batchnorm),
        scale=a.scale(True),
    )


def _depthwise(p: _SpecParser, a: _Args, common: dict[str, object], line: int) -> Layer:
    return Depthwise(
        **common,  # type: ignore[arg-type]
        line=line,
        kernel=a.pair("kernel", 3),
        stride=a.pair("stride", 1),
        padding=a.padding("same"),
        multiplier=a.int("multiplier", 1),
        bias=a.bool("bias", False),
        bn=a.bool("bn", p.batchnorm),
    )


def _pointwise(p: _SpecParser, a: _Args, common: dict[str, object], line: int) -> Layer:
    out, expand = _width(a)
    return Pointwise(
        **common,  # type: ignore[arg-type]
        line=line,
        out=out,
        expand=expand,
        bias=a.bool("bias", False),
        bn=a.bool("bn", p.batchnorm),
        scale=a.scale(True),
    )


def _separable(p: _SpecParser, a: _Args, common: dict[str, object], line: int) -> Layer:
    return Separable(
        **common,  # type: ignore[arg-type]
        line=line,
        out=a.int("out"),
        kernel=a.pair("kernel", 3),
        stride=a.pair("stride", 1),
        padding=a.padding("same"),
        bn=a.bool("bn", p.batchnorm),
        scale=a.scale(True),
    )


def _pool(p: _SpecParser, a: _Args, common: dict[str, object], line: int) -> Layer:
    kind = a.choice("kind", ("avg", "max"), "avg")
    is_global = a.bool("global", False)
    if is_global:
        extra = [key for key in ("kernel", "stride", "padding") if key in a.mapping]
        if extra:
            raise a.error(
                f"`global: true` pools the whole input and takes no `{extra[0]}`",
                a.mapping[extra[0]],
                f"remove `{extra[0]}` or `global`",
            )
        kernel: Pair | None = None
        stride: Pair = (1, 1)
        if "ceil" in a.mapping:
            raise a.error("`global: true` takes no `ceil`", a.mapping["ceil"], "remove `ceil`")
    else:
        if "kernel" not in a.mapping:
            raise a.error("missing `kernel`", hint="add `kernel: <size>` or `global: true`")
        kernel = a.pair("kernel", None)
        stride = a.optional_pair("stride") or kernel
    return Pool(
        **common,  # type: ignore[arg-type]
        line=line,
        kind="avg" if kind == "avg" else "max",
        kernel=kernel,
        stride=stride,
        padding=a.padding((0, 0)),
        ceil=a.bool("ceil", False),
    )


def _fc(p: _SpecParser, a: _Args, common: dict[str, object], line: int) -> Layer:
    return Fc(
        **common,  # type: ignore[arg-type]
        line=line,
        out=a.int("out"),
        bias=a.bool("bias", True),
        scale=a.scale(False),
    )


def _softmax(p: _SpecParser, a: _Args, common: dict[str, object], line: int) -> Layer:
    return Softmax(**common, line=line)  # type: ignore[arg-type]


def _block(p: _SpecParser, a: _Args, common: dict[str, object], line: int) -> Layer:
    residual = a.bool("residual", False)
    if not residual and common["act"] != "none":
        raise a.error(
            "`act` on a block follows its residual add, and this block has none",
            a.mapping["act"],
            "put `act` on the block's last layer, or add `residual: true`",
        )
    layers = p.nested_layers(a, "layers")
    return Block(**common, line=line, layers=layers, residual=residual)  # type: ignore[arg-type]


def _parallel(p: _SpecParser, a: _Args, common: dict[str, object], line: int) -> Layer:
    merge = a.choice("merge", ("concat", "add"), "concat")
    return Parallel(
        **common,  # type: ignore[arg-type]
        line=line,
        branches=p.branches(a),
        merge="concat" if merge == "concat" else "add",
    )


def _se(p: _SpecParser, a: _Args, common: dict[str, object], line: int) -> Layer:
    has_squeeze, has_ratio = "squeeze" in a.mapping, "ratio" in a.mapping
    if has_squeeze == has_ratio:
        raise a.error(
            "give exactly one of `squeeze` and `ratio`",
            hint="`squeeze: 8` sets the width; `ratio: 0.25` takes a share of the channels",
        )
    if "divisor" in a.mapping and not has_ratio:
        raise a.error("`divisor` rounds a `ratio`", a.mapping["divisor"], "give `ratio` too")
    return Se(
        **common,  # type: ignore[arg-type]
        line=line,
        squeeze=a.int("squeeze") if has_squeeze else None,
        ratio=a.ratio("ratio") if has_ratio else None,
        divisor=a.int("divisor") if "divisor" in a.mapping else None,
        gate=a.choice("gate", GATES, "sigmoid"),
    )


def _mbconv(p: _SpecParser, a: _Args, common: dict[str, object], line: int) -> Layer:
    if "expand" in a.mapping and "expanded" in a.mapping:
        raise a.error(
            "give `expand` (a ratio of the input channels) or `expanded` (channels), not both",
            a.mapping["expanded"],
        )
    if "expand_rounding" in a.mapping and "expand" not in a.mapping:
        raise a.error("`expand_rounding` rounds an `expand` ratio", a.mapping["expand_rounding"])
    for key in ("se_base", "se_divisor", "se_act", "se_gate"):
        if key in a.mapping and "se" not in a.mapping:
            raise a.error(f"`{key}` shapes a squeeze-and-excite: give `se` too", a.mapping[key])
    rounding = a.choice("expand_rounding", ("round", "floor", "divisible"), "round")
    base = a.choice("se_base", ("expanded", "input"), "expanded")
    residual = a.choice("residual", ("auto", "always", "never"), "auto")
    return Mbconv(
        **common,  # type: ignore[arg-type]
        line=line,
        out=a.int("out"),
        expand=a.multiple("expand") if "expand" in a.mapping else None,
        expanded=a.int("expanded") if "expanded" in a.mapping else None,
        expand_rounding=rounding,  # type: ignore[arg-type]
        kernel=a.pair("kernel", 3),
        stride=a.pair("stride", 1),
        padding=a.padding("same"),
        se=a.ratio("se") if "se" in a.mapping else None,
        se_base=base,  # type: ignore[arg-type]
        se_divisor=a.int("se_divisor") if "se_divisor" in a.mapping else None,
        residual=residual,  # type: ignore[arg-type]
        bn=a.bool("bn", p.batchnorm),
        scale=a.scale(True),
        se_act=a.choice("se_act", ACTIVATIONS, str(common["act"])),
        se_gate=a.choice("se_gate", GATES, "sigmoid"),
    )


_ARGUMENTS: dict[LayerType, tuple[str, ...]] = {
    LayerType.CONV: (
        "out",
        "expand",
        "kernel",
        "stride",
        "padding",
        "groups",
        "bias",
        "bn",
        "scale",
    ),
    LayerType.DEPTHWISE: ("kernel", "stride", "padding", "multiplier", "bias", "bn"),
    LayerType.POINTWISE: ("out", "expand", "bias", "bn", "scale"),
    LayerType.SEPARABLE: ("out", "kernel", "stride", "padding", "bn", "scale"),
    LayerType.POOL: ("kind", "kernel", "stride", "padding", "global", "ceil"),
    LayerType.FC: ("out", "bias", "scale"),
    LayerType.SOFTMAX: (),
    LayerType.BLOCK: ("layers", "residual"),
    LayerType.PARALLEL: ("branches", "merge"),
    LayerType.SE: ("squeeze", "ratio", "divisor", "gate"),
    LayerType.MBCONV: (
        "out",
        "expand",
        "expanded",
        "expand_rounding",
        "kernel",
        "stride",
        "padding",
        "se",
        "se_base",
        "se_divisor",
        "se_act",
        "se_gate",
        "residual",
        "bn",
        "scale",
    ),
}
"""The arguments each layer type takes, besides `name`, `repeat` and `act`."""

_BUILDERS: dict[LayerType, Builder] = {
    LayerType.CONV: _conv,
    LayerType.DEPTHWISE: _depthwise,
    LayerType.POINTWISE: _pointwise,
    LayerType.SEPARABLE: _separable,
    LayerType.POOL: _pool,
    LayerType.FC: _fc,
    LayerType.SOFTMAX: _softmax,
    LayerType.BLOCK: _block,
    LayerType.PARALLEL: _parallel,
    LayerType.SE: _se,
    LayerType.MBCONV: _mbconv,
}


def walk_layers(layers: tuple[Layer, ...]) -> Iterator[Layer]:
    """Every layer of a spec, nested ones included, in the order written."""
    for layer in layers:
        yield layer
        if isinstance(layer, Block):
            yield from walk_layers(layer.layers)
        elif isinstance(layer, Parallel):
            for branch in layer.branches:
                yield from walk_layers(branch)
