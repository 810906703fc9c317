"""Spec text -> validated, frozen spec objects (`mbcalc.spec.model`).

Every layer type is one row of `LAYERS`: the prefix of its default names, the arguments it
takes, the builder that reads them (with their defaults) into its spec object, and its default
activation. Every refusal is a `SpecError` naming the file, the line and the layer, with a hint
where one helps. Nothing here knows about alpha, resolution or costs: that is the graph's job.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from os import PathLike
from pathlib import Path
from typing import TypedDict

from mbcalc.errors import SpecError, UnknownLayerError
from mbcalc.kinds import LayerType, Pair
from mbcalc.spec.args import Args, close_match, describe, describe_item, item_hint
from mbcalc.spec.model import (
    ACTIVATIONS,
    EXPAND_ROUNDINGS,
    GATES,
    MERGES,
    POOL_KINDS,
    RESIDUALS,
    ROUNDINGS,
    SE_BASES,
    Block,
    Conv,
    Depthwise,
    Fc,
    Layer,
    Mbconv,
    Parallel,
    Pointwise,
    Pool,
    PoolKind,
    Se,
    Separable,
    Softmax,
    Spec,
)
from mbcalc.spec.record import Record
from mbcalc.spec.source import SourceError, Value, parse_yaml, read_spec_bytes, shorten


def load_spec(path: str | PathLike[str], source: str | None = None) -> Spec:
    """Read and validate a spec file; `source` is how errors name it (default: the path)."""
    path = Path(path)
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


class Common(TypedDict):
    """What every layer has, read before its own arguments."""

    name: str | None
    prefix: str
    first_index: int
    repeat: int
    act: str
    line: int


_TOP_KEYS = ("name", "description", "input", "rounding", "divisor", "batchnorm", "layers")
_COMMON_ARGS = ("name", "repeat", "act")


class _SpecParser:
    """Reads one spec document into a `Spec`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.batchnorm = True

    def error(self, message: str, line: int | None, hint: str | None = None) -> SpecError:
        return SpecError(message, source=self.source, line=line, hint=hint)

    def spec(self, root: Value, default_name: str) -> Spec:
        if not isinstance(root.data, dict):
            raise self.error(
                f"the top level must be a mapping, got {describe(root)}",
                root.line,
                "a spec looks like `input: {size: 224, channels: 3}` and `layers: [...]`",
            )
        top = Args(self.source, root.data, None, root.line)
        top.finish(_TOP_KEYS, "key")
        name = top.text("name", default_name)
        description = top.text("description", "")
        size, channels = self._input(top)
        rounding = top.choice("rounding", ROUNDINGS, "floor")
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
            rounding=rounding,
            divisor=divisor,
            batchnorm=self.batchnorm,
            layers=layers,
        )

    def _input(self, top: Args) -> tuple[Pair, int]:
        value = top.required("input", "add `input: {size: 224, channels: 3}`")
        if not isinstance(value.data, dict):
            raise top.error(
                f"`input` must be a mapping, got {describe(value)}",
                value,
                "write `input: {size: 224, channels: 3}`",
            )
        args = Args(self.source, value.data, None, value.line)
        args.finish(("size", "channels"), "key of `input`")
        size = args.pair("size", None)
        channels = args.int("channels", 3)
        return size, channels

    def layer_list(self, value: Value, scope: str, what: str = "`layers`") -> tuple[Layer, ...]:
        """The layers of `value`; `scope` prefixes their names (`block1.`) in errors."""
        enclosing = scope.removesuffix(".") or None
        if not isinstance(value.data, list):
            raise SpecError(
                f"{what} must be a list, got {describe(value)}",
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
                f"got {describe_item(item)}",
                source=self.source,
                line=item.line,
                layer=enclosing,
                hint=item_hint(item),
            )
        ((type_name, body),) = item.data.items()
        try:
            layer_type = LayerType(type_name)
        except ValueError:
            hint = close_match(type_name, [t.value for t in LayerType])
            known = ", ".join(t.value for t in LayerType)
            raise UnknownLayerError(
                f"unknown layer type `{shorten(type_name)}` (known: {known})",
                source=self.source,
                line=item.line,
                layer=enclosing,
                hint=hint,
            ) from None
        if body.data is None:
            body = Value({}, body.line)
        row = LAYERS[layer_type]
        first = counters.get(layer_type, 0) + 1
        default_label = f"{row.prefix}{first}"
        if not isinstance(body.data, dict):
            raise SpecError(
                f"the arguments of `{type_name}` must be a mapping, got {describe(body)}",
                source=self.source,
                line=body.line,
                layer=f"{scope}{default_label}",
                hint=f"write `- {type_name}: {{...}}`",
            )
        args = Args(self.source, body.data, f"{scope}{default_label}", item.line)
        name_value = args.get("name")
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
        args.finish(_COMMON_ARGS + row.arguments)
        repeat = args.int("repeat", 1)
        act = args.choice("act", ACTIVATIONS, row.act)
        counters[layer_type] = first - 1 + repeat
        common = Common(
            name=name,
            prefix=row.prefix,
            first_index=first,
            repeat=repeat,
            act=act,
            line=item.line,
        )
        return row.build(self, args, common)

    def nested_layers(self, args: Args, key: str) -> tuple[Layer, ...]:
        return self.layer_list(args.required(key), f"{args.layer}.")

    def branches(self, args: Args) -> tuple[tuple[Layer, ...], ...]:
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


def _width(a: Args) -> tuple[int | None, Fraction | None]:
    """`out` channels, or `expand`: a multiple of the input's (MobileNetV3's 6 x last width)."""
    if "expand" not in a.mapping:
        return a.int("out"), None
    if "out" in a.mapping:
        raise a.error("give `out` or `expand`, not both", a.mapping["expand"])
    return None, a.multiple("expand")


def _conv(p: _SpecParser, a: Args, common: Common) -> Layer:
    out, expand = _width(a)
    return Conv(
        **common,
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


def _depthwise(p: _SpecParser, a: Args, common: Common) -> Layer:
    return Depthwise(
        **common,
        kernel=a.pair("kernel", 3),
        stride=a.pair("stride", 1),
        padding=a.padding("same"),
        multiplier=a.int("multiplier", 1),
        bias=a.bool("bias", False),
        bn=a.bool("bn", p.batchnorm),
    )


def _pointwise(p: _SpecParser, a: Args, common: Common) -> Layer:
    out, expand = _width(a)
    return Pointwise(
        **common,
        out=out,
        expand=expand,
        bias=a.bool("bias", False),
        bn=a.bool("bn", p.batchnorm),
        scale=a.scale(True),
    )


def _separable(p: _SpecParser, a: Args, common: Common) -> Layer:
    return Separable(
        **common,
        out=a.int("out"),
        kernel=a.pair("kernel", 3),
        stride=a.pair("stride", 1),
        padding=a.padding("same"),
        bn=a.bool("bn", p.batchnorm),
        scale=a.scale(True),
    )


def _pool(p: _SpecParser, a: Args, common: Common) -> Layer:
    kind: PoolKind = a.choice("kind", POOL_KINDS, "avg")
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
        **common,
        kind=kind,
        kernel=kernel,
        stride=stride,
        padding=a.padding((0, 0)),
        ceil=a.bool("ceil", False),
    )


def _fc(p: _SpecParser, a: Args, common: Common) -> Layer:
    return Fc(
        **common,
        out=a.int("out"),
        bias=a.bool("bias", True),
        scale=a.scale(False),
    )


def _softmax(p: _SpecParser, a: Args, common: Common) -> Layer:
    return Softmax(**common)


def _block(p: _SpecParser, a: Args, common: Common) -> Layer:
    residual = a.bool("residual", False)
    if not residual and common["act"] != "none":
        raise a.error(
            "`act` on a block follows its residual add, and this block has none",
            a.mapping["act"],
            "put `act` on the block's last layer, or add `residual: true`",
        )
    layers = p.nested_layers(a, "layers")
    return Block(**common, layers=layers, residual=residual)


def _parallel(p: _SpecParser, a: Args, common: Common) -> Layer:
    merge = a.choice("merge", MERGES, "concat")
    return Parallel(
        **common,
        branches=p.branches(a),
        merge=merge,
    )


def _se(p: _SpecParser, a: Args, common: Common) -> Layer:
    has_squeeze, has_ratio = "squeeze" in a.mapping, "ratio" in a.mapping
    if has_squeeze == has_ratio:
        raise a.error(
            "give exactly one of `squeeze` and `ratio`",
            hint="`squeeze: 8` sets the width; `ratio: 0.25` takes a share of the channels",
        )
    if "divisor" in a.mapping and not has_ratio:
        raise a.error("`divisor` rounds a `ratio`", a.mapping["divisor"], "give `ratio` too")
    return Se(
        **common,
        squeeze=a.int("squeeze") if has_squeeze else None,
        ratio=a.ratio("ratio") if has_ratio else None,
        divisor=a.int("divisor") if "divisor" in a.mapping else None,
        gate=a.choice("gate", GATES, "sigmoid"),
    )


SE_USAGE = (
    "`se` is the squeeze ratio of the expanded channels, in (0, 1], e.g. `se: 0.25`; leave it "
    "out for no squeeze-and-excite, or give the width to a separate `se` layer: "
    "`se: {squeeze: 16}`"
)
"""What an mbconv's `se` takes, beside a value that is no number."""


def _mbconv(p: _SpecParser, a: Args, common: Common) -> Layer:
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
    rounding = a.choice("expand_rounding", EXPAND_ROUNDINGS, "round")
    base = a.choice("se_base", SE_BASES, "expanded")
    residual = a.choice("residual", RESIDUALS, "auto")
    return Mbconv(
        **common,
        out=a.int("out"),
        expand=a.multiple("expand") if "expand" in a.mapping else None,
        expanded=a.int("expanded") if "expanded" in a.mapping else None,
        expand_rounding=rounding,
        kernel=a.pair("kernel", 3),
        stride=a.pair("stride", 1),
        padding=a.padding("same"),
        se=a.ratio("se", SE_USAGE) if "se" in a.mapping else None,
        se_base=base,
        se_divisor=a.int("se_divisor") if "se_divisor" in a.mapping else None,
        residual=residual,
        bn=a.bool("bn", p.batchnorm),
        scale=a.scale(True),
        se_act=a.choice("se_act", ACTIVATIONS, common["act"]),
        se_gate=a.choice("se_gate", GATES, "sigmoid"),
    )


Builder = Callable[[_SpecParser, Args, Common], Layer]


class LayerRow(Record):
    """One layer type of the spec language."""

    prefix: str  # of its default names: prefix + running number within the scope
    arguments: tuple[str, ...]  # the keys it takes besides `name`, `repeat` and `act`
    build: Builder  # reads them, with their defaults, into the layer's spec object
    act: str = "none"  # the activation after it when the spec names none


_WINDOW = ("kernel", "stride", "padding")
_SE = ("se", "se_base", "se_divisor", "se_act", "se_gate")

LAYERS: dict[LayerType, LayerRow] = {
    LayerType.CONV: LayerRow(
        prefix="conv",
        arguments=("out", "expand", *_WINDOW, "groups", "bias", "bn", "scale"),
        build=_conv,
        act="relu",
    ),
    LayerType.DEPTHWISE: LayerRow(
        prefix="dw", arguments=(*_WINDOW, "multiplier", "bias", "bn"), build=_depthwise, act="relu"
    ),
    LayerType.POINTWISE: LayerRow(
        prefix="pw",
        arguments=("out", "expand", "bias", "bn", "scale"),
        build=_pointwise,
        act="relu",
    ),
    LayerType.SEPARABLE: LayerRow(
        prefix="sep", arguments=("out", *_WINDOW, "bn", "scale"), build=_separable, act="relu"
    ),
    LayerType.POOL: LayerRow(
        prefix="pool", arguments=("kind", *_WINDOW, "global", "ceil"), build=_pool
    ),
    LayerType.FC: LayerRow(prefix="fc", arguments=("out", "bias", "scale"), build=_fc),
    LayerType.BLOCK: LayerRow(prefix="block", arguments=("layers", "residual"), build=_block),
    LayerType.PARALLEL: LayerRow(
        prefix="parallel", arguments=("branches", "merge"), build=_parallel
    ),
    # `act` follows the first fc, as in Hu et al.'s squeeze-and-excite
    LayerType.SE: LayerRow(
        prefix="se", arguments=("squeeze", "ratio", "divisor", "gate"), build=_se, act="relu"
    ),
    # MobileNetV2's activation; V3 and EfficientNet name theirs
    LayerType.MBCONV: LayerRow(
        prefix="mbconv",
        arguments=(
            "out",
            "expand",
            "expanded",
            "expand_rounding",
            *_WINDOW,
            *_SE,
            "residual",
            "bn",
            "scale",
        ),
        build=_mbconv,
        act="relu6",
    ),
    LayerType.SOFTMAX: LayerRow(prefix="softmax", arguments=(), build=_softmax),
}
"""Every layer type of the spec language."""
