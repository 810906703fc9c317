"""YAML text -> plain values that remember their line, with the limits that keep loading safe.

PyYAML's own loaders forget line numbers, accept duplicate keys silently and expand aliases
without bound. Here the document is composed into PyYAML's node graph (which shares aliased
nodes rather than copying them) and walked once, so that every value keeps the line it came
from, a repeated key is refused, and an alias bomb stops at a fixed node budget.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

MAX_SPEC_BYTES = 1 << 20
"""Largest spec file read (1 MiB): real architectures need a few kilobytes."""

MAX_NODES = 100_000
"""Most YAML values a spec may expand to, aliases counted at every use."""

MAX_DEPTH = 64
"""Deepest nesting of mappings and lists in a spec."""

Scalar = str | int | float | bool | None

_MERGE_TAG = "tag:yaml.org,2002:merge"
_TAG_PREFIX = "tag:yaml.org,2002:"
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE
_PLAIN_TAGS = frozenset(_TAG_PREFIX + name for name in ("int", "float", "str"))
_CORE_NUMBER = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|0x[0-9a-fA-F]+|0o[0-7]+"
    r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)
"""The numbers of YAML 1.2's core schema; PyYAML reads YAML 1.1, whose forms differ."""
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class Value:
    """One YAML value and the 1-based line it starts on (and, in a mapping, its key's line)."""

    data: Scalar | list[Value] | dict[str, Value]
    line: int
    key_line: int | None = None


class SourceError(Exception):
    """The text is not a YAML document mbcalc can read; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.hint = hint


def read_spec_bytes(path: Path, what: str = "spec") -> str:
    """Read a spec (or device) file as UTF-8 text, refusing what cannot be one before parsing."""
    try:
        if path.is_dir():
            raise SourceError(f"is a directory, not a {what} file")
        with path.open("rb") as handle:
            raw = handle.read(MAX_SPEC_BYTES + 1)
    except FileNotFoundError:
        raise SourceError("no such file") from None
    except PermissionError:
        raise SourceError("permission denied") from None
    except OSError as exc:
        raise SourceError(f"cannot be read: {exc.strerror or exc}") from None
    except ValueError:
        raise SourceError("not a usable file name (it contains a NUL character)") from None
    if len(raw) > MAX_SPEC_BYTES:
        raise SourceError(
            f"larger than {MAX_SPEC_BYTES // 1024} KiB", hint="use `repeat` and blocks instead"
        )
    return decode_spec_bytes(raw)


def decode_spec_bytes(raw: bytes) -> str:
    """Decode UTF-8 spec bytes; binary files and bad encodings are refused with their line."""
    nul = raw.find(b"\0")
    if nul >= 0:
        raise SourceError("binary data, not YAML text", line=raw.count(b"\n", 0, nul) + 1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
            line=raw.count(b"\n", 0, exc.start) + 1,
            hint="save the spec as UTF-8",
        ) from None
    return text


_EMPTY_HINTS = {"spec": "a spec needs `input` and `layers`"}


def parse_yaml(text: str, what: str = "spec") -> Value:
    """Parse one YAML document into located values; `what` the document is names it in errors."""
    empty = SourceError(f"the {what} file is empty", hint=_EMPTY_HINTS.get(what))
    if what == "spec":
        empty = SourceError("the spec is empty", hint=_EMPTY_HINTS[what])
    if not text.strip():
        raise empty
    _refuse_unprintable(text)
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text) from None
    except yaml.YAMLError as exc:
        raise SourceError(f"YAML error: {_first_line(str(exc))}") from None
    except RecursionError:
        raise SourceError(f"nested deeper than {MAX_DEPTH} levels") from None
    if root is None:
        raise empty
    return _Walker().walk(root, 0)


def _refuse_unprintable(text: str) -> None:
    """YAML admits no control characters but tab and line breaks: name the first one."""
    found = _NON_PRINTABLE.search(text)
    if found is not None:
        char = found.group()
        raise SourceError(
            f"control character U+{ord(char):04X} is not allowed in YAML",
            line=text.count("\n", 0, found.start()) + 1,
            hint="remove it, or write it as an escape inside double quotes",
        )


def _syntax_error(exc: yaml.MarkedYAMLError, text: str) -> SourceError:
    """One line for a YAML syntax error, with PyYAML's problem and context in reading order."""
    mark = exc.problem_mark or exc.context_mark
    problem = _first_line(exc.problem or "") or "invalid YAML"
    context = _first_line(exc.context or "")
    if context.startswith("while "):
        problem = f"{problem} {context}"
    elif context:
        problem = f"{context}, {problem}"
    line = None if mark is None else mark.line + 1
    hint = None
    if line is not None and "\t" in _line_text(text, line):
        hint = "YAML indents with spaces; this line has a tab"
    elif "another document" in problem:
        hint = "a spec is one YAML document: remove the `---` line"
    elif "undefined alias" in problem:
        hint = "an alias `*name` needs an anchor `&name` earlier in the file"
    return SourceError(f"YAML syntax error: {problem}", line=line, hint=hint)


def _line_text(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0].strip()


def shorten(text: str, size: int = 40) -> str:
    return text if len(text) <= size else text[: size - 3] + "..."


def _core_scalar(text: str) -> Scalar:
    """A plain scalar as YAML 1.2 reads it: `010` is 10, `1e5` a float, while YAML 1.1's
    `0b101`, `1:20` (sexagesimal) and `1_000` are text, as is a number beyond a float's range.
    ValueError for a number too long."""
    if not _CORE_NUMBER.fullmatch(text):
        return text
    if text.startswith("0x"):
        return int(text, 16)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if re.fullmatch(r"[-+]?[0-9]+", text):
        return int(text, 10)
    value = float(text if text[-1].isdigit() or text[-1] == "." else text.replace(".", ""))
    mantissa = text.lower().partition("e")[0]
    if (math.isinf(value) and re.search(r"[0-9]", mantissa)) or (
        value == 0 and re.search(r"[1-9]", mantissa)
    ):
        return text  # a number beyond a float (1e-999, 1e999): kept as written, for exact readers
    return value


_YAML_1_1_NUMBER = (
    r"[-+]?(0b[01_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(:[0-5]?[0-9])*(\.[0-9_]*)?|\.[0-9_]+)"
)
"""YAML 1.1's numbers, for hints only: compiled (and cached by `re`) when a hint is needed."""


def number_hint(text: str) -> str | None:
    """For text that YAML 1.1 reads as a number (`0b101`, `1:20`, `1_000`), how to write it."""
    if not re.fullmatch(_YAML_1_1_NUMBER, text):
        return None
    value = yaml.load(text, Loader=_Loader)  # what YAML 1.1 makes of it
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return f"mbcalc reads YAML 1.2, where `{text}` is text: write {value}"


_Resolve = Callable[[type[yaml.Node], str, tuple[bool, bool]], str]
"""PyYAML's `resolve`: the tag a plain scalar of this text gets."""


class _Walker:
    """Turns a composed node graph into `Value`s, counting every node it expands."""

    def __init__(self) -> None:
        self.nodes = 0
        self.constructor = yaml.SafeLoader("")
        self.open: set[int] = set()
        """The collections being walked: meeting one again means an anchor holds itself."""

    def walk(self, node: yaml.Node, depth: int) -> Value:
        line = node.start_mark.line + 1
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise SourceError(
                f"expands to more than {MAX_NODES:,} YAML values",
                line=line,
                hint="aliases are counted at every use: are anchors nested in anchors?",
            )
        if depth > MAX_DEPTH:
            raise SourceError(
                f"nested deeper than {MAX_DEPTH} levels",
                line=line,
                hint="use `repeat` rather than blocks within blocks",
            )
        if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            return Value(self._scalar(node), line)
        if id(node) in self.open:
            raise SourceError(
                "an anchor is used inside its own value",
                line=line,
                hint="an alias `*a` cannot stand within the value its anchor `&a` names",
            )
        self.open.add(id(node))
        if isinstance(node, yaml.MappingNode):
            value = Value(self._mapping(node, depth), line)
        else:
            value = Value([self.walk(item, depth + 1) for item in node.value], line)
        self.open.discard(id(node))
        return value

    def _scalar(self, node: yaml.Node) -> Scalar:
        try:
            if self._implicit(node):
                data = _core_scalar(node.value)
            else:
                data = self.constructor.construct_object(node)
        except yaml.MarkedYAMLError as exc:
            raise SourceError(
                f"unreadable value: {_first_line(exc.problem or str(exc))}",
                line=node.start_mark.line + 1,
                hint="mbcalc reads plain YAML: numbers, text, true/false, lists and mappings",
            ) from None
        except (ValueError, TypeError, LookupError, AttributeError, ArithmeticError):
            # `!!int abc`, `!!bool maybe`, an integer of more digits than Python converts ...
            tag = str(node.tag).removeprefix(_TAG_PREFIX)
            raise SourceError(
                f"cannot read {shorten(str(node.value))!r} as {tag}",
                line=node.start_mark.line + 1,
            ) from None
        if isinstance(data, str):
            try:
                data.encode("utf-8")
            except UnicodeEncodeError:
                raise SourceError(
                    "text with an unpaired surrogate escape", line=node.start_mark.line + 1
                ) from None
            return data
        if isinstance(data, int | float | bool) or data is None:
            return data
        if isinstance(data, bytes):
            raise SourceError(
                "binary data (`!!binary`) is not a spec value", line=node.start_mark.line + 1
            )
        return str(data)

    def _implicit(self, node: yaml.Node) -> bool:
        """Whether `node` is a plain scalar whose tag YAML resolved (no `!!int` written)."""
        if not isinstance(node, yaml.ScalarNode) or node.style or node.tag not in _PLAIN_TAGS:
            return False
        resolve: _Resolve = self.constructor.resolve  # typed here: PyYAML's stubs leave it bare
        return bool(node.tag == resolve(yaml.ScalarNode, node.value, (True, False)))

    def _mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, Value]:
        own: dict[str, Value] = {}
        merged: dict[str, Value] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.update(self._merge_sources(value_node, depth))
                continue
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise SourceError("mapping keys must be names, got a list or mapping", line=line)
            key = self._scalar(key_node)
            if not isinstance(key, str):
                raise SourceError(
                    f"mapping keys must be names, got {shorten(key_node.value) or 'nothing'}",
                    line=line,
                    hint="quote a key that YAML reads as a number or true/false",
                )
            if key in own:
                raise SourceError(
                    f"duplicate key '{shorten(key)}' (first given on line {own[key].key_line})",
                    line=line,
                    hint="YAML keeps only one of them; remove or rename the other",
                )
            value = self.walk(value_node, depth + 1)
            own[key] = Value(value.data, value.line, line)
        return {**merged, **own}

    def _merge_sources(self, node: yaml.Node, depth: int) -> dict[str, Value]:
        value = self.walk(node, depth + 1)
        sources = value.data if isinstance(value.data, list) else [value]
        merged: dict[str, Value] = {}
        for source in reversed(sources):
            if not isinstance(source.data, dict):
                raise SourceError("`<<` merges mappings only", line=source.line)
            merged.update(source.data)
        return merged
