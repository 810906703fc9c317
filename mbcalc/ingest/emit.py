"""Imported layers written as spec YAML: named after their module paths, grouped into blocks
where consecutive layers share a module, under a header that says where they came from."""

from __future__ import annotations

import json
import re

from mbcalc.ingest.layers import Layer, Value

INDENT = "  "


def name_layers(layers: list[Layer], scope: str) -> list[tuple[str | None, Layer]]:
    """Each layer with its name relative to `scope`; runs of layers under one module become a
    block named after it."""
    grouped: list[tuple[str | None, Layer]] = []
    index = 0
    while index < len(layers):
        parts = _relative(layers[index].path, scope)
        run = index + 1
        if len(parts) >= 2:
            while run < len(layers) and _head(layers[run].path, scope) == parts[0]:
                run += 1
        if run - index >= 2:
            block_path = f"{scope}.{parts[0]}" if scope else parts[0]
            grouped.append((parts[0], Layer("block", {}, block_path, layers=layers[index:run])))
        else:
            grouped.append(("_".join(parts) or None, layers[index]))
        index = run
    return _unique(grouped)


def _relative(path: str, scope: str) -> list[str]:
    if not path:
        return []
    if scope and (path == scope or path.startswith(scope + ".")):
        path = path[len(scope) + 1 :]
    elif scope:
        return []
    return [part for part in path.split(".") if part]


def _head(path: str, scope: str) -> str | None:
    parts = _relative(path, scope)
    return parts[0] if len(parts) >= 2 else None


def _unique(named: list[tuple[str | None, Layer]]) -> list[tuple[str | None, Layer]]:
    seen: dict[str, int] = {}
    result: list[tuple[str | None, Layer]] = []
    for name, layer in named:
        unique = None
        if name is not None:
            unique = _clean(name)
            count = seen.get(unique, 0) + 1
            seen[unique] = count
            if count > 1:
                unique = f"{unique}_{count}"
        result.append((unique, layer))
    return result


def _clean(name: str) -> str:
    return "".join(c if c.isprintable() and c != "." else "_" for c in name) or "_"


def write_layers(layers: list[Layer], scope: str, depth: int) -> list[str]:
    """The YAML lines of a list of layers at `depth` levels of indentation."""
    lines: list[str] = []
    pad = INDENT * depth
    for name, layer in name_layers(layers, scope):
        args: dict[str, Value] = {} if name is None else {"name": name}
        args.update(layer.args)
        if layer.type == "block":
            lines.append(f"{pad}- block:")
            lines.extend(f"{pad}{INDENT * 2}{key}: {_value(v)}" for key, v in args.items())
            lines.append(f"{pad}{INDENT * 2}layers:")
            lines.extend(write_layers(layer.layers, layer.path, depth + 2))
        elif layer.type == "parallel":
            lines.append(f"{pad}- parallel:")
            lines.extend(f"{pad}{INDENT * 2}{key}: {_value(v)}" for key, v in args.items())
            lines.append(f"{pad}{INDENT * 2}branches:")
            for branch in layer.branches:
                if not branch:
                    lines.append(f"{pad}{INDENT * 3}- []")
                    continue
                body = write_layers(branch, layer.path, depth + 4)
                first = body[0].lstrip()
                lines.append(f"{pad}{INDENT * 3}- {first}")
                lines.extend(body[1:])
        else:
            flow = ", ".join(f"{key}: {_value(v)}" for key, v in args.items())
            lines.append(f"{pad}- {layer.type}: {{{flow}}}")
    return lines


def _value(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, str):
        return text(value)
    return repr(value) if isinstance(value, float) else str(value)


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "nan", "inf"}


def text(value: str) -> str:
    """A string as YAML: bare where it reads as that string alone, else quoted."""
    if _PLAIN.fullmatch(value) and value.lower() not in _WORDS:
        return value
    return json.dumps(value, ensure_ascii=False)


def comment_lines(text: str) -> list[str]:
    """`text` as YAML comment lines of at most ~100 columns, with no control characters."""
    clean = "".join(c if c.isprintable() else " " for c in text)
    words, lines, line = clean.split(" "), [], "#"
    for word in words:
        if len(line) + 1 + len(word) > 100 and line != "#":
            lines.append(line)
            line = "#"
        line = f"{line} {word}"
    lines.append(line)
    return lines
