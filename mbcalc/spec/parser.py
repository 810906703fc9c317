"""Spec text -> validated, frozen spec objects (`mbcalc.spec.model`).

Every layer type is one row of `LAYERS` (`mbcalc.spec.layer_types`), which says how its
arguments are read. Every refusal is a `SpecError` naming the file, the line and the layer, with
a hint where one helps. Nothing here knows about alpha, resolution or costs: that is the
graph's job.
"""

from __future__ import annotations

import dataclasses
from os import PathLike
from pathlib import Path

from mbcalc.errors import SpecError, UnknownLayerError
from mbcalc.kinds import LayerType, Pair
from mbcalc.spec.args import Args, close_match, describe, describe_item, item_hint
from mbcalc.spec.defaults import NO_DEFAULTS
from mbcalc.spec.derived import DERIVED_KEYS, base_file, base_text, read_defaults
from mbcalc.spec.layer_types import LAYERS, Common
from mbcalc.spec.model import (
    ACTIVATIONS,
    ROUNDINGS,
    Layer,
    Spec,
)
from mbcalc.spec.source import SourceError, Value, parse_yaml, read_spec_bytes, shorten


def load_spec(path: str | PathLike[str], source: str | None = None) -> Spec:
    """Read and validate a spec file; `source` is how errors name it (default: the path)."""
    path = Path(path)
    label = source if source is not None else str(path)
    try:
        text = read_spec_bytes(path)
    except SourceError as exc:
        raise SpecError(exc.message, source=label, line=exc.line, hint=exc.hint) from None
    return parse_spec(text, source=label, default_name=path.stem, path=path)


def parse_spec(
    text: str,
    *,
    source: str = "<spec>",
    default_name: str = "spec",
    path: Path | None = None,
    chain: tuple[Path, ...] = (),
) -> Spec:
    """Validate spec text; `source` names it in errors. `path`, the file it was read from,
    places a `base:` file; `chain` holds the specs whose bases led here."""
    try:
        root = parse_yaml(text)
    except SourceError as exc:
        raise SpecError(exc.message, source=source, line=exc.line, hint=exc.hint) from None
    if path is not None:
        chain = (*chain, path.resolve())
    return _SpecParser(source, path, chain).spec(root, default_name)


_TOP_KEYS = (
    "name", "description", "input", "rounding", "divisor", "batchnorm", "layers", "defaults",
)  # fmt: skip
_COMMON_ARGS = ("name", "repeat", "act")


class _SpecParser:
    """Reads one spec document into a `Spec`."""

    def __init__(self, source: str, path: Path | None = None, chain: tuple[Path, ...] = ()) -> None:
        self.source = source
        self.batchnorm = True
        self.path = path
        self.chain = chain

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
        if "base" in root.data:
            return self.derived(top, default_name)
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
            defaults=read_defaults(top, NO_DEFAULTS),
        )

    def derived(self, top: Args, default_name: str) -> Spec:
        """A spec with a `base`: the base's, with this one's name, description and defaults."""
        top.finish(DERIVED_KEYS, "key of a spec with a `base`")
        folder = None if self.path is None else self.path.parent
        path, label = base_file(top, folder, self.chain)
        base = parse_spec(
            base_text(path, label), source=label, default_name=path.stem, path=path,
            chain=self.chain,
        )  # fmt: skip
        return dataclasses.replace(
            base,
            name=top.text("name", default_name),
            description=top.text("description", base.description),
            defaults=read_defaults(top, base.defaults),
        )

    def _input(self, top: Args) -> tuple[Pair, int]:
        example = "input: {size: 224, channels: 3}"
        value = top.required("input", f"add `{example}`")
        args = top.section("input", value, ("size", "channels"), example)
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
